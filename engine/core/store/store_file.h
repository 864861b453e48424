#pragma once

// Private to the run store's .cpp files: opening and checking the store's SQLite file.

#include "common/result.h"
#include "store/sqlite_util.h"

#include <string>

namespace tunelab {

// The message for a failed SQLite call, naming the file; a file that is not SQLite at all says so.
std::string sqliteFailure(sqlite3* db, const std::string& path, const std::string& error);

} // namespace tunelab
