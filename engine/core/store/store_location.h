#pragma once

// Where a run store lives: a SQLite file (a path, or sqlite:///path as SQLAlchemy and Optuna write
// it) or a PostgreSQL server (postgresql://user@host:port/database). Every command that takes a
// store path takes either.

#include <string>

namespace tunelab {

// Whether `location` names a database server (postgresql:// or postgres://) rather than a file.
bool isServerLocation(const std::string& location);
// The file a SQLite location names: `location` itself, or what follows "sqlite:///" (so
// sqlite:////tmp/runs.sqlite is /tmp/runs.sqlite and sqlite:///runs.sqlite is relative).
std::string sqliteFilePath(const std::string& location);
// `location` as messages show it: a server URL without its password.
std::string displayedLocation(const std::string& location);

} // namespace tunelab
