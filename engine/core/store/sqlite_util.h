#pragma once

// Small RAII helpers over SQLite's C API for the engine's .cpp files (not a public header).

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

// Empty text reads back the same as NULL; binding NULL keeps a column free for COALESCE.
inline const std::string* textOrNull(const std::string& text) {
    return text.empty() ? nullptr : &text;
}

// One prepared statement. run() binds ?1, ?2, ... in order, executes and resets, so a reused
// statement never keeps a transaction or a borrowed buffer alive. Reads bind(), then step with
// next() and let the destructor finish the statement.
class Statement {
public:
    Statement() = default;
    Statement(sqlite3* db, const char* sql)
        : m_db(db) {
        sqlite3_stmt* statement = nullptr;
        m_rc = sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &statement, nullptr);
        m_statement.reset(statement);
        if (m_rc != SQLITE_OK)
            m_error = sqlite3_errmsg(db);
    }

    bool valid() const { return m_statement != nullptr; }
    const std::string& error() const { return m_error; }

    // Ready to bind and run again; ends the read it was stepping through.
    void reset() {
        if (!valid())
            return;
        sqlite3_reset(m_statement.get());
        sqlite3_clear_bindings(m_statement.get());
        m_rc = SQLITE_OK;
        m_error.clear();
    }

    template <typename... Values> Statement& bind(const Values&... values) {
        int index = 0;
        (bindOne(++index, values), ...);
        return *this;
    }

    // True while a row is available; afterwards error() says whether the statement failed.
    bool next() {
        if (!valid())
            return false;
        m_rc = sqlite3_step(m_statement.get());
        if (m_rc != SQLITE_ROW && m_rc != SQLITE_DONE)
            m_error = sqlite3_errmsg(m_db);
        return m_rc == SQLITE_ROW;
    }

    // Binds, executes a statement that returns no rows and resets it; true on success.
    template <typename... Values> bool run(const Values&... values) {
        bind(values...);
        next();
        sqlite3_reset(m_statement.get());
        sqlite3_clear_bindings(m_statement.get());
        return m_rc == SQLITE_DONE;
    }

    bool isNull(int column) const { return sqlite3_column_type(m_statement.get(), column) == SQLITE_NULL; }
    double real(int column, double ifNull) const {
        return isNull(column) ? ifNull : sqlite3_column_double(m_statement.get(), column);
    }
    int64_t integer(int column) const { return sqlite3_column_int64(m_statement.get(), column); }
    std::string text(int column) const {
        const auto* data = reinterpret_cast<const char*>(sqlite3_column_text(m_statement.get(), column));
        return data ? std::string(data, sqlite3_column_bytes(m_statement.get(), column)) : std::string();
    }
    std::vector<char> blob(int column) const {
        const auto* data = static_cast<const char*>(sqlite3_column_blob(m_statement.get(), column));
        return data ? std::vector<char>(data, data + sqlite3_column_bytes(m_statement.get(), column))
                    : std::vector<char>();
    }

private:
    void bindOne(int index, std::nullptr_t) { sqlite3_bind_null(m_statement.get(), index); }
    // NaN means "no value": stored as NULL, so it reads back as NaN and SQL aggregates skip it.
    void bindOne(int index, double value) {
        if (std::isnan(value))
            sqlite3_bind_null(m_statement.get(), index);
        else
            sqlite3_bind_double(m_statement.get(), index, value);
    }
    void bindOne(int index, float value) { bindOne(index, static_cast<double>(value)); }
    void bindOne(int index, int32_t value) { sqlite3_bind_int64(m_statement.get(), index, value); }
    void bindOne(int index, int64_t value) { sqlite3_bind_int64(m_statement.get(), index, value); }
    void bindOne(int index, std::optional<int64_t> value) {
        if (value)
            bindOne(index, *value);
        else
            bindOne(index, nullptr);
    }
    void bindOne(int index, const char* text) {
        sqlite3_bind_text(m_statement.get(), index, text, -1, SQLITE_TRANSIENT);
    }
    void bindOne(int index, const std::string& text) {
        sqlite3_bind_text(m_statement.get(), index, text.data(), static_cast<int>(text.size()),
                          SQLITE_TRANSIENT);
    }
    void bindOne(int index, const std::string* text) {
        if (text)
            bindOne(index, *text);
        else
            bindOne(index, nullptr);
    }
    // Borrowed, not copied (a model can be megabytes): only for run(), which resets before returning.
    void bindOne(int index, const std::vector<char>* bytes) {
        if (!bytes)
            bindOne(index, nullptr);
        else if (bytes->empty())
            sqlite3_bind_zeroblob(m_statement.get(), index, 0);
        else
            sqlite3_bind_blob64(m_statement.get(), index, bytes->data(), bytes->size(), SQLITE_STATIC);
    }

    struct Finalizer {
        void operator()(sqlite3_stmt* statement) const { sqlite3_finalize(statement); }
    };

    sqlite3* m_db = nullptr;
    std::unique_ptr<sqlite3_stmt, Finalizer> m_statement;
    int m_rc = SQLITE_OK;
    std::string m_error;
};

// Prepared statements of one connection kept for reuse, by SQL text: preparing costs more than
// running a small statement, and a study runs the same few for every trial. Not thread-safe: each
// cache belongs to whoever may use its connection. A lease resets its statement when it goes, so
// a cached read never holds a snapshot open and a cached write never keeps its bindings.
class StatementCache {
public:
    class Lease {
    public:
        explicit Lease(Statement& statement)
            : m_statement(&statement) {}
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;
        ~Lease() { m_statement->reset(); }
        Statement& operator*() const { return *m_statement; }
        Statement* operator->() const { return m_statement; }

    private:
        Statement* m_statement;
    };

    // The statement for `sql` on `db`, prepared on first use. A statement that failed to prepare
    // is not kept, so its error is reported again next time.
    Lease get(sqlite3* db, const std::string& sql) {
        auto found = m_statements.find(sql);
        if (found == m_statements.end() || !found->second->valid()) {
            auto statement = std::make_unique<Statement>(db, sql.c_str());
            if (!statement->valid()) {
                m_failed = std::move(statement);
                return Lease(*m_failed);
            }
            found = m_statements.insert_or_assign(sql, std::move(statement)).first;
        }
        return Lease(*found->second);
    }

private:
    std::unordered_map<std::string, std::unique_ptr<Statement>> m_statements;
    std::unique_ptr<Statement> m_failed; // the last statement that did not prepare, for its error
};

} // namespace tunelab::sqlite
