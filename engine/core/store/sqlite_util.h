#pragma once

// Small RAII helpers over SQLite's C API for the engine's .cpp files (not a public header).

#include "store/sql_connection.h"

#include <sqlite3.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace tunelab::sqlite {

struct DatabaseCloser {
    void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
using Database = std::unique_ptr<sqlite3, DatabaseCloser>;

// Runs SQL that returns no rows. Returns the primary result code; `error` gets SQLite's message.
inline int exec(sqlite3* db, const char* sql, std::string& error) {
    char* message = nullptr;
    const int rc = sqlite3_exec(db, sql, nullptr, nullptr, &message);
    if (rc != SQLITE_OK)
        error = message ? message : sqlite3_errstr(rc);
    sqlite3_free(message);
    return rc & 0xff;
}

// A statement on a SQLite connection, with the statement interface of every store connection
// (sql_connection.h): run() binds ?1, ?2, ... in order, executes and resets; reads bind(), then
// step with next().
class Statement : public sql::Statement {
public:
    Statement() = default;
    Statement(sqlite3* db, const std::string& sql);
};

} // namespace tunelab::sqlite
