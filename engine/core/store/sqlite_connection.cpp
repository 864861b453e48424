#include "store/sqlite_connection.h"

#include <utility>

namespace tunelab::sql {

namespace {

Outcome outcomeOf(int code) {
    switch (code & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
        return Outcome::Ok;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return Outcome::Busy;
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_NOMEM:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_NOLFS:
        return Outcome::StorageFailure;
    default:
        return Outcome::Failed;
    }
}

} // namespace

class SqliteStatement final : public StatementBackend {
public:
    SqliteStatement(sqlite3* db, const std::string& sql)
        : m_db(db) {
        sqlite3_stmt* statement = nullptr;
        m_rc = sqlite3_prepare_v3(db, sql.c_str(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                                  &statement, nullptr);
        m_statement.reset(statement);
        if (m_rc != SQLITE_OK)
            m_error = sqlite3_errmsg(db);
    }

    bool valid() const override { return m_statement != nullptr; }
    const std::string& error() const override { return m_error; }
    void reset() override {
        if (!valid())
            return;
        sqlite3_reset(m_statement.get());
        sqlite3_clear_bindings(m_statement.get());
        m_rc = SQLITE_OK;
        m_error.clear();
    }
    void rewind() override {
        if (!valid())
            return;
        sqlite3_reset(m_statement.get());
        sqlite3_clear_bindings(m_statement.get());
    }
    void bindNull(int index) override { sqlite3_bind_null(m_statement.get(), index); }
    void bindReal(int index, double value) override { sqlite3_bind_double(m_statement.get(), index, value); }
    void bindInteger(int index, int64_t value) override {
        sqlite3_bind_int64(m_statement.get(), index, value);
    }
    void bindText(int index, const std::string& text) override {
        sqlite3_bind_text(m_statement.get(), index, text.data(), static_cast<int>(text.size()),
                          SQLITE_TRANSIENT);
    }
    void bindBlob(int index, const std::vector<char>& bytes) override {
        if (bytes.empty())
            sqlite3_bind_zeroblob(m_statement.get(), index, 0);
        else
            sqlite3_bind_blob64(m_statement.get(), index, bytes.data(), bytes.size(), SQLITE_STATIC);
    }
    bool next() override {
        if (!valid())
            return false;
        m_rc = sqlite3_step(m_statement.get());
        if (m_rc != SQLITE_ROW && m_rc != SQLITE_DONE)
            m_error = sqlite3_errmsg(m_db);
        return m_rc == SQLITE_ROW;
    }
    bool succeeded() const override { return m_rc == SQLITE_DONE; }
    bool isNull(int column) const override {
        return sqlite3_column_type(m_statement.get(), column) == SQLITE_NULL;
    }
    double real(int column) const override { return sqlite3_column_double(m_statement.get(), column); }
    int64_t integer(int column) const override { return sqlite3_column_int64(m_statement.get(), column); }
    std::string text(int column) const override {
        const auto* data = reinterpret_cast<const char*>(sqlite3_column_text(m_statement.get(), column));
        return data ? std::string(data, sqlite3_column_bytes(m_statement.get(), column)) : std::string();
    }
    std::vector<char> blob(int column) const override {
        const auto* data = static_cast<const char*>(sqlite3_column_blob(m_statement.get(), column));
        return data ? std::vector<char>(data, data + sqlite3_column_bytes(m_statement.get(), column))
                    : std::vector<char>();
    }

private:
    struct Finalizer {
        void operator()(sqlite3_stmt* statement) const { sqlite3_finalize(statement); }
    };

    sqlite3* m_db = nullptr;
    std::unique_ptr<sqlite3_stmt, Finalizer> m_statement;
    int m_rc = SQLITE_OK;
    std::string m_error;
};

namespace {

class SqliteConnection final : public Connection {
public:
    explicit SqliteConnection(sqlite::Database db)
        : m_db(std::move(db)) {}

    sqlite3* handle() const { return m_db.get(); }

    Dialect dialect() const override { return Dialect::Sqlite; }
    Outcome exec(const std::string& sql, std::string& error) override {
        return outcomeOf(sqlite::exec(m_db.get(), sql.c_str(), error));
    }
    std::unique_ptr<StatementBackend> prepare(const std::string& sql) override {
        return std::make_unique<SqliteStatement>(m_db.get(), sql);
    }
    Outcome lastOutcome() const override { return outcomeOf(sqlite3_errcode(m_db.get())); }
    int64_t changes() const override { return sqlite3_changes(m_db.get()); }
    // SQLite rolls a transaction back by itself after a disk-full or I/O error.
    bool transactionLost() const override { return sqlite3_get_autocommit(m_db.get()) != 0; }
    bool statementFailureKeepsTransaction() const override { return true; }

private:
    sqlite::Database m_db;
};

} // namespace

} // namespace tunelab::sql

namespace tunelab::sqlite {

Statement::Statement(sqlite3* db, const std::string& sql)
    : sql::Statement(std::make_unique<sql::SqliteStatement>(db, sql)) {}

} // namespace tunelab::sqlite

namespace tunelab::sql {

std::unique_ptr<Connection> sqliteConnection(sqlite::Database db) {
    return std::make_unique<SqliteConnection>(std::move(db));
}

sqlite3* sqliteHandle(Connection& connection) {
    auto* sqlite = dynamic_cast<SqliteConnection*>(&connection);
    return sqlite ? sqlite->handle() : nullptr;
}

} // namespace tunelab::sql
