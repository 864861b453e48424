#pragma once

// Private to the run store's .cpp files: the store's schema, one list of migrations for every
// database that holds a store (a SQLite file, a PostgreSQL server).

#include "store/sql_connection.h"

#include <string>
#include <vector>

namespace tunelab {

// Migration N takes the schema from version N-1 to N; entry 0 is the empty store. Written in
// SQLite's words; postgresDdl() says them in PostgreSQL's.
const std::vector<std::vector<const char*>>& storeMigrations();
// The tables that migrations 1..version create.
std::vector<std::string> tablesOfVersion(int version);
// The schema version a store records (0 when it records none yet), read through `db`; -1 when the
// read fails, with the reason in `error`.
int readSchemaVersion(sql::Statement select, std::string& error);
constexpr const char* kSchemaVersionQuery = "SELECT value FROM schema_meta WHERE key = 'schema_version'";

// What a store says when its schema is newer than this TuneLab's, or a table of its version is gone.
std::string newerSchemaMessage(const std::string& where, int version);
std::string missingTableMessage(const std::string& where, const std::string& table);
// One migration statement for PostgreSQL: 64-bit integers and doubles, identity keys, BYTEA.
std::string postgresDdl(const std::string& sqliteDdl);

} // namespace tunelab
