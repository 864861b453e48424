#pragma once

// Private to the run store's .cpp files: a PostgreSQL connection behind the run store's connection
// interface (libpq). A connection that the server drops reconnects on its next use, except inside
// a transaction: that transaction is lost, and its statements fail until the caller rolls it back.

#include "common/result.h"
#include "store/sql_connection.h"

#include <memory>
#include <string>

namespace tunelab::sql {

// Whether this TuneLab was built with PostgreSQL support (libpq).
bool postgresAvailable();
// Connects to the server that `url` names (postgresql://user@host:port/database?options).
Result<std::unique_ptr<Connection>> postgresConnection(const std::string& url);
// `sql` with SQLite's `?` and `?N` parameters written as PostgreSQL's `$N` (quoted text untouched).
std::string postgresParameters(const std::string& sql);
// `url` without its password, for messages and the store's path().
std::string redactedUrl(const std::string& url);

} // namespace tunelab::sql
