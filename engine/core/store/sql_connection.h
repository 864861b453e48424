#pragma once

// Private to the run store's .cpp files: one database connection and its statements, whatever the
// database behind them (a SQLite file, a PostgreSQL server). The run store writes its SQL once, in
// the subset both understand (`?` or `?N` parameters, INSERT ... ON CONFLICT, RETURNING), and asks
// the connection for the few words that differ (how a write transaction starts, row locks).

#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace tunelab::sql {

enum class Dialect { Sqlite, Postgres };

// How the last call on a connection ended, in the terms the writer acts on.
enum class Outcome {
    Ok,
    Busy,           // another writer holds the lock, or the server chose this transaction to abort: retry
    Disconnected,   // the server went away; the connection reconnects on its next use: retry
    StorageFailure, // the store cannot take the write (disk full, I/O error, read-only)
    Failed,         // the statement was refused (a constraint, bad SQL): retrying cannot help
};

// One prepared statement of a connection; see Statement.
class StatementBackend {
public:
    virtual ~StatementBackend() = default;
    virtual bool valid() const = 0;
    virtual const std::string& error() const = 0;
    // Ready to bind and run again; reset() also forgets the last error, rewind() keeps it.
    virtual void reset() = 0;
    virtual void rewind() = 0;
    virtual void bindNull(int index) = 0;
    virtual void bindReal(int index, double value) = 0;
    virtual void bindInteger(int index, int64_t value) = 0;
    virtual void bindText(int index, const std::string& text) = 0;
    // Borrowed until reset() or the next run.
    virtual void bindBlob(int index, const std::vector<char>& bytes) = 0;
    // True while a row is available; afterwards error() says whether the statement failed.
    virtual bool next() = 0;
    // Whether the last execution ran to its end without an error.
    virtual bool succeeded() const = 0;
    virtual bool isNull(int column) const = 0;
    virtual double real(int column) const = 0;
    virtual int64_t integer(int column) const = 0; // a boolean column reads as 0 or 1
    virtual std::string text(int column) const = 0;
    virtual std::vector<char> blob(int column) const = 0;
};

class Connection {
public:
    virtual ~Connection() = default;
    virtual Dialect dialect() const = 0;
    // Runs SQL that returns no rows (several statements separated by ';' are allowed).
    virtual Outcome exec(const std::string& sql, std::string& error) = 0;
    virtual std::unique_ptr<StatementBackend> prepare(const std::string& sql) = 0;
    // How the last statement that failed on this connection failed.
    virtual Outcome lastOutcome() const = 0;
    // Rows changed by the last INSERT, UPDATE or DELETE.
    virtual int64_t changes() const = 0;
    // Whether an open transaction is gone or unusable after a failure (nothing of it can commit).
    virtual bool transactionLost() const = 0;
    // Whether one failed statement leaves the rest of the transaction usable. PostgreSQL aborts the
    // whole transaction instead, so there every write runs inside its own savepoint.
    virtual bool statementFailureKeepsTransaction() const = 0;

    // The words that differ between the databases.
    // Starts a transaction that will write: on SQLite it takes the file's write lock at once.
    std::string beginWrite() const { return dialect() == Dialect::Sqlite ? "BEGIN IMMEDIATE" : "BEGIN"; }
    // Starts a transaction whose reads all see one snapshot.
    std::string beginRead() const {
        return dialect() == Dialect::Sqlite ? "BEGIN" : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
    }
    // Appended to a SELECT whose rows the transaction will change: locks them (PostgreSQL), or
    // nothing where the write transaction already holds the whole file (SQLite).
    std::string lockRows() const { return dialect() == Dialect::Sqlite ? "" : " FOR UPDATE"; }
    // The same, skipping rows another transaction has locked: rows a live process is changing, which
    // a sweep for dead processes' rows must not wait for.
    std::string lockRowsSkipLocked() const {
        return dialect() == Dialect::Sqlite ? "" : " FOR UPDATE SKIP LOCKED";
    }
};

// Empty text reads back the same as NULL; binding NULL keeps a column free for COALESCE.
inline const std::string* textOrNull(const std::string& text) {
    return text.empty() ? nullptr : &text;
}

// One statement. run() binds ?1, ?2, ... in order, executes and resets, so a reused statement
// never keeps a transaction or a borrowed buffer alive. Reads bind(), then step with next() and let
// the destructor (or reset()) finish the statement.
class Statement {
public:
    Statement() = default;
    Statement(Connection& db, const std::string& sql)
        : m_backend(db.prepare(sql)) {}
    explicit Statement(std::unique_ptr<StatementBackend> backend)
        : m_backend(std::move(backend)) {}

    bool valid() const { return m_backend && m_backend->valid(); }
    const std::string& error() const {
        static const std::string kNotPrepared = "the statement was not prepared";
        return m_backend ? m_backend->error() : kNotPrepared;
    }
    void reset() {
        if (m_backend)
            m_backend->reset();
    }

    template <typename... Values> Statement& bind(const Values&... values) {
        if (!m_backend)
            return *this;
        int index = 0;
        (bindOne(++index, values), ...);
        return *this;
    }
    bool next() { return m_backend && m_backend->next(); }

    // Binds, executes a statement that returns no rows and resets it; true on success.
    template <typename... Values> bool run(const Values&... values) {
        if (!valid())
            return false;
        bind(values...);
        while (m_backend->next()) {
        }
        const bool ok = m_backend->succeeded();
        m_backend->rewind(); // error() still says why it failed
        return ok;
    }

    bool isNull(int column) const { return m_backend->isNull(column); }
    double real(int column, double ifNull) const {
        return m_backend->isNull(column) ? ifNull : m_backend->real(column);
    }
    int64_t integer(int column) const { return m_backend->integer(column); }
    std::string text(int column) const { return m_backend->text(column); }
    std::vector<char> blob(int column) const { return m_backend->blob(column); }

private:
    void bindOne(int index, std::nullptr_t) { m_backend->bindNull(index); }
    // NaN means "no value": stored as NULL, so it reads back as NaN and SQL aggregates skip it.
    void bindOne(int index, double value) {
        if (std::isnan(value))
            m_backend->bindNull(index);
        else
            m_backend->bindReal(index, value);
    }
    void bindOne(int index, float value) { bindOne(index, static_cast<double>(value)); }
    void bindOne(int index, int32_t value) { m_backend->bindInteger(index, value); }
    void bindOne(int index, int64_t value) { m_backend->bindInteger(index, value); }
    void bindOne(int index, std::optional<int64_t> value) {
        if (value)
            m_backend->bindInteger(index, *value);
        else
            m_backend->bindNull(index);
    }
    void bindOne(int index, const char* text) { m_backend->bindText(index, text); }
    void bindOne(int index, const std::string& text) { m_backend->bindText(index, text); }
    void bindOne(int index, const std::string* text) {
        if (text)
            m_backend->bindText(index, *text);
        else
            m_backend->bindNull(index);
    }
    // Borrowed, not copied (a model can be megabytes): only for run(), which resets before returning.
    void bindOne(int index, const std::vector<char>* bytes) {
        if (bytes)
            m_backend->bindBlob(index, *bytes);
        else
            m_backend->bindNull(index);
    }

    std::unique_ptr<StatementBackend> m_backend;
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
    Lease get(Connection& db, const std::string& sql) {
        auto found = m_statements.find(sql);
        if (found == m_statements.end() || !found->second->valid()) {
            auto statement = std::make_unique<Statement>(db, sql);
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

} // namespace tunelab::sql
