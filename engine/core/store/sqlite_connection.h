#pragma once

// Private to the run store's .cpp files: a SQLite connection behind the run store's connection
// interface.

#include "store/sql_connection.h"
#include "store/sqlite_util.h"

#include <memory>

namespace tunelab::sql {

std::unique_ptr<Connection> sqliteConnection(sqlite::Database db);
// The SQLite handle behind a connection that sqliteConnection() made; nullptr for another database.
sqlite3* sqliteHandle(Connection& connection);

} // namespace tunelab::sql
