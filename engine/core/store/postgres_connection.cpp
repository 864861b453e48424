#include "store/postgres_connection.h"

#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <utility>
#include <vector>

#ifdef TUNELAB_HAVE_POSTGRES
#include <libpq-fe.h>
#endif

namespace tunelab::sql {

std::string postgresParameters(const std::string& sql) {
    std::string translated;
    translated.reserve(sql.size() + 16);
    int nextIndex = 1;
    char quote = 0; // inside '...' or "..."
    for (size_t i = 0; i < sql.size(); ++i) {
        const char c = sql[i];
        if (quote) {
            translated += c;
            if (c == quote)
                quote = 0; // a doubled quote closes and reopens: the same text
            continue;
        }
        if (c == '\'' || c == '"') {
            quote = c;
            translated += c;
            continue;
        }
        if (c != '?') {
            translated += c;
            continue;
        }
        size_t end = i + 1;
        while (end < sql.size() && std::isdigit(static_cast<unsigned char>(sql[end])))
            ++end;
        if (end > i + 1) {
            translated += '$' + sql.substr(i + 1, end - i - 1);
            i = end - 1;
        } else {
            translated += '$' + std::to_string(nextIndex++);
        }
    }
    return translated;
}

std::string redactedUrl(const std::string& url) {
    const auto scheme = url.find("://");
    if (scheme == std::string::npos)
        return url;
    std::string shown = url;
    // user:password@host
    const auto hostStart = scheme + 3;
    const auto at = shown.find('@', hostStart);
    const auto slash = shown.find('/', hostStart);
    const auto colon = shown.find(':', hostStart);
    if (at != std::string::npos && (slash == std::string::npos || at < slash) && colon != std::string::npos &&
        colon < at)
        shown = shown.substr(0, colon + 1) + "***" + shown.substr(at);
    // ?password=... among the URL's parameters
    const auto query = shown.find('?');
    for (auto key = query; key != std::string::npos; key = shown.find('&', key + 1)) {
        if (shown.compare(key + 1, 9, "password=") != 0)
            continue;
        const auto value = key + 10;
        const auto end = shown.find('&', value);
        shown.replace(value, (end == std::string::npos ? shown.size() : end) - value, "***");
    }
    return shown;
}

#ifndef TUNELAB_HAVE_POSTGRES

bool postgresAvailable() {
    return false;
}

Result<std::unique_ptr<Connection>> postgresConnection(const std::string& url) {
    return Result<std::unique_ptr<Connection>>::failure(
        redactedUrl(url) + ": this TuneLab was built without PostgreSQL support (libpq was not found when it "
                           "was built); use a SQLite store file, or build TuneLab with libpq-dev installed");
}

#else

namespace {

// Parameter types TuneLab sends; the rest (text, NULL) the server infers from where they go.
constexpr Oid kByteaType = 17;
constexpr Oid kInt8Type = 20;
constexpr Oid kFloat8Type = 701;

struct ResultDeleter {
    void operator()(PGresult* result) const { PQclear(result); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

// SQLSTATE classes: https://www.postgresql.org/docs/current/errcodes-appendix.html
Outcome outcomeOfState(const char* state) {
    if (!state)
        return Outcome::Failed;
    const std::string code = state;
    if (code == "40001" || code == "40P01" || code == "55P03")
        return Outcome::Busy; // serialization failure, deadlock, lock not available
    if (code.rfind("08", 0) == 0 || code == "57P01" || code == "57P02" || code == "57P03")
        return Outcome::Disconnected; // connection exceptions, the server shutting down
    if (code.rfind("53", 0) == 0 || code.rfind("58", 0) == 0 || code == "25006")
        return Outcome::StorageFailure; // insufficient resources, system errors, a read-only transaction
    return Outcome::Failed;
}

std::string trimmed(const char* message) {
    std::string text = message ? message : "";
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
        text.pop_back();
    return text;
}

void ignoreNotice(void*, const char*) {}

// Every session, after connecting and reconnecting. A process that hangs (stopped, swapping) in the
// middle of a transaction would hold its row locks and block every other worker: the server ends
// such a session after 15 s, and a statement waits at most 5 s for a lock (the writer retries).
void configureSession(PGconn* connection) {
    PQsetNoticeProcessor(connection, ignoreNotice, nullptr);
    PQclear(PQexec(connection, "SET idle_in_transaction_session_timeout = 15000; SET lock_timeout = 5000"));
}

class PostgresConnection final : public Connection {
public:
    PostgresConnection(PGconn* connection, std::string url)
        : m_connection(connection)
        , m_url(std::move(url)) {
        configureSession(m_connection);
    }
    ~PostgresConnection() override { PQfinish(m_connection); }

    Dialect dialect() const override { return Dialect::Postgres; }

    Outcome exec(const std::string& sql, std::string& error) override {
        const bool endsTransaction = startsWith(sql, "COMMIT") ||
                                     (startsWith(sql, "ROLLBACK") && sql.find(" TO ") == std::string::npos);
        if (endsTransaction && m_transactionLost) {
            // The server discarded the transaction with the connection.
            m_transactionLost = false;
            m_inTransaction = false;
            if (startsWith(sql, "ROLLBACK"))
                return Outcome::Ok;
            error = "the connection to the server was lost; the transaction was not committed";
            return m_last = Outcome::Disconnected;
        }
        if (!usable(error))
            return m_last;
        ResultPtr result(PQexec(m_connection, sql.c_str()));
        const Outcome outcome = finish(result.get(), error);
        if (outcome == Outcome::Ok && startsWith(sql, "COMMIT") &&
            std::strcmp(PQcmdStatus(result.get()), "ROLLBACK") == 0) {
            error = "the transaction was rolled back by the server";
            return m_last = Outcome::Failed;
        }
        return outcome;
    }

    std::unique_ptr<StatementBackend> prepare(const std::string& sql) override;

    Outcome lastOutcome() const override { return m_last; }
    int64_t changes() const override { return m_changes; }
    // A failed statement leaves the transaction aborted but recoverable by ROLLBACK TO a savepoint;
    // only a lost connection loses it for good.
    bool transactionLost() const override { return m_transactionLost; }
    bool statementFailureKeepsTransaction() const override { return false; }

    // Whether a statement may run now; reconnects a dropped connection outside a transaction.
    bool usable(std::string& error) {
        if (PQstatus(m_connection) == CONNECTION_OK)
            return true;
        if (m_inTransaction) {
            m_transactionLost = true;
            error = "the connection to the server was lost";
            m_last = Outcome::Disconnected;
            return false;
        }
        // A server that is down is asked again at most every two seconds, so that the readers of a
        // window do not wait for a connection attempt at every call.
        const auto now = std::chrono::steady_clock::now();
        if (now < m_nextReconnect) {
            error = "cannot reach the server: " + m_reconnectError;
            m_last = Outcome::Disconnected;
            return false;
        }
        PQreset(m_connection);
        if (PQstatus(m_connection) != CONNECTION_OK) {
            m_reconnectError = trimmed(PQerrorMessage(m_connection));
            m_nextReconnect = std::chrono::steady_clock::now() + std::chrono::seconds(2);
            error = "cannot reach the server: " + m_reconnectError;
            m_last = Outcome::Disconnected;
            return false;
        }
        configureSession(m_connection);
        ++m_generation; // prepared statements went with the old session
        return true;
    }

    // Records how a command ended; returns its outcome.
    Outcome finish(PGresult* result, std::string& error) {
        const ExecStatusType status = result ? PQresultStatus(result) : PGRES_FATAL_ERROR;
        if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
            const char* tuples = PQcmdTuples(result);
            m_changes = tuples && *tuples ? std::strtoll(tuples, nullptr, 10) : 0;
            noteTransaction();
            return m_last = Outcome::Ok;
        }
        error = trimmed(result ? PQresultErrorMessage(result) : PQerrorMessage(m_connection));
        if (error.empty())
            error = trimmed(PQerrorMessage(m_connection));
        m_last = PQstatus(m_connection) == CONNECTION_BAD
                     ? Outcome::Disconnected
                     : outcomeOfState(result ? PQresultErrorField(result, PG_DIAG_SQLSTATE) : nullptr);
        if (PQstatus(m_connection) == CONNECTION_BAD && m_inTransaction)
            m_transactionLost = true;
        else
            noteTransaction();
        return m_last;
    }

    PGconn* raw() const { return m_connection; }
    uint64_t generation() const { return m_generation; }
    std::string nextStatementName() { return "tunelab_" + std::to_string(++m_statementCount); }

private:
    static bool startsWith(const std::string& text, const char* prefix) { return text.rfind(prefix, 0) == 0; }
    void noteTransaction() {
        const auto status = PQtransactionStatus(m_connection);
        m_inTransaction = status == PQTRANS_INTRANS || status == PQTRANS_INERROR;
        if (!m_inTransaction)
            m_transactionLost = false;
    }

    PGconn* m_connection;
    std::string m_url;
    Outcome m_last = Outcome::Ok;
    int64_t m_changes = 0;
    bool m_inTransaction = false;
    bool m_transactionLost = false;
    uint64_t m_generation = 0;
    uint64_t m_statementCount = 0;
    std::chrono::steady_clock::time_point m_nextReconnect; // no attempt before it, after a failed one
    std::string m_reconnectError;
};

// Runs once as a one-off statement (parse, bind and execute in one round trip); a statement run a
// second time is prepared on the server, so later runs only bind and execute.
class PostgresStatement final : public StatementBackend {
public:
    PostgresStatement(PostgresConnection& connection, const std::string& sql)
        : m_connection(&connection)
        , m_sql(postgresParameters(sql)) {}
    ~PostgresStatement() override {
        if (!m_preparedName.empty() && m_preparedGeneration == m_connection->generation() &&
            PQstatus(m_connection->raw()) == CONNECTION_OK &&
            PQtransactionStatus(m_connection->raw()) != PQTRANS_INERROR) {
            ResultPtr ignored(PQexec(m_connection->raw(), ("DEALLOCATE " + m_preparedName).c_str()));
        }
    }

    bool valid() const override { return true; }
    const std::string& error() const override { return m_error; }
    void reset() override {
        rewind();
        m_error.clear();
    }
    void rewind() override {
        m_result.reset();
        m_executed = false;
        m_row = -1;
        m_ok = false;
        m_values.clear();
        m_types.clear();
        m_formats.clear();
        m_lengths.clear();
        m_blobs.clear();
    }
    void bindNull(int index) override { slot(index, 0, 0).second = true; }
    void bindReal(int index, double value) override {
        char text[32];
        if (std::isinf(value))
            std::snprintf(text, sizeof text, "%s", value > 0 ? "Infinity" : "-Infinity");
        else
            std::snprintf(text, sizeof text, "%.17g", value);
        slot(index, kFloat8Type, 0).first = text;
    }
    void bindInteger(int index, int64_t value) override {
        slot(index, kInt8Type, 0).first = std::to_string(value);
    }
    void bindText(int index, const std::string& text) override { slot(index, 0, 0).first = text; }
    void bindBlob(int index, const std::vector<char>& bytes) override {
        slot(index, kByteaType, 1);
        m_blobs[static_cast<size_t>(index - 1)] = &bytes;
    }

    bool next() override {
        if (!m_executed)
            execute();
        if (!m_ok)
            return false;
        return ++m_row < PQntuples(m_result.get());
    }
    bool succeeded() const override { return m_executed && m_ok; }
    bool isNull(int column) const override { return PQgetisnull(m_result.get(), m_row, column) != 0; }
    double real(int column) const override {
        return std::strtod(PQgetvalue(m_result.get(), m_row, column), nullptr);
    }
    int64_t integer(int column) const override {
        const char* value = PQgetvalue(m_result.get(), m_row, column);
        if (value[0] == 't' && value[1] == 0)
            return 1;
        if (value[0] == 'f' && value[1] == 0)
            return 0;
        return std::strtoll(value, nullptr, 10);
    }
    std::string text(int column) const override {
        return std::string(PQgetvalue(m_result.get(), m_row, column),
                           static_cast<size_t>(PQgetlength(m_result.get(), m_row, column)));
    }
    std::vector<char> blob(int column) const override {
        if (isNull(column))
            return {};
        size_t length = 0;
        unsigned char* bytes = PQunescapeBytea(
            reinterpret_cast<const unsigned char*>(PQgetvalue(m_result.get(), m_row, column)), &length);
        if (!bytes)
            return {};
        std::vector<char> copy(reinterpret_cast<const char*>(bytes),
                               reinterpret_cast<const char*>(bytes) + length);
        PQfreemem(bytes);
        return copy;
    }

private:
    // The parameter at `index` (1-based), its type and format set; its text and whether it is NULL.
    std::pair<std::string, bool>& slot(int index, Oid type, int format) {
        const auto at = static_cast<size_t>(index - 1);
        if (m_values.size() <= at) {
            m_values.resize(at + 1);
            m_types.resize(at + 1, 0);
            m_formats.resize(at + 1, 0);
            m_blobs.resize(at + 1, nullptr);
        }
        m_values[at] = {std::string(), false};
        m_types[at] = type;
        m_formats[at] = format;
        m_blobs[at] = nullptr;
        return m_values[at];
    }

    void execute() {
        m_executed = true;
        m_row = -1;
        const int count = static_cast<int>(m_values.size());
        std::vector<const char*> values(m_values.size());
        m_lengths.assign(m_values.size(), 0);
        for (size_t i = 0; i < m_values.size(); ++i) {
            if (m_values[i].second) {
                values[i] = nullptr;
            } else if (m_blobs[i]) {
                // An empty vector's data() may be null, which libpq would send as NULL.
                static const char kNoBytes = 0;
                values[i] = m_blobs[i]->empty() ? &kNoBytes : m_blobs[i]->data();
                m_lengths[i] = static_cast<int>(m_blobs[i]->size());
            } else {
                values[i] = m_values[i].first.c_str();
            }
        }
        if (!m_connection->usable(m_error)) {
            m_ok = false;
            return;
        }
        PGconn* raw = m_connection->raw();
        if (!m_preparedName.empty() && m_preparedGeneration != m_connection->generation())
            m_preparedName.clear(); // the server that knew it is gone
        ++m_runs;
        if (m_preparedName.empty() && m_runs >= 2) {
            const std::string name = m_connection->nextStatementName();
            ResultPtr prepared(PQprepare(raw, name.c_str(), m_sql.c_str(), count, m_types.data()));
            if (prepared && PQresultStatus(prepared.get()) == PGRES_COMMAND_OK) {
                m_preparedName = name;
                m_preparedGeneration = m_connection->generation();
            } else {
                m_ok = m_connection->finish(prepared.get(), m_error) == Outcome::Ok;
                return;
            }
        }
        if (m_preparedName.empty())
            m_result.reset(PQexecParams(raw, m_sql.c_str(), count, m_types.data(), values.data(),
                                        m_lengths.data(), m_formats.data(), 0));
        else
            m_result.reset(PQexecPrepared(raw, m_preparedName.c_str(), count, values.data(), m_lengths.data(),
                                          m_formats.data(), 0));
        m_ok = m_connection->finish(m_result.get(), m_error) == Outcome::Ok;
    }

    PostgresConnection* m_connection;
    std::string m_sql;
    std::string m_preparedName;
    uint64_t m_preparedGeneration = 0;
    int m_runs = 0;
    ResultPtr m_result;
    bool m_executed = false;
    bool m_ok = false;
    int m_row = -1;
    std::string m_error;
    std::vector<std::pair<std::string, bool>> m_values; // text, is NULL
    std::vector<Oid> m_types;
    std::vector<int> m_formats;
    std::vector<int> m_lengths;
    std::vector<const std::vector<char>*> m_blobs;
};

std::unique_ptr<StatementBackend> PostgresConnection::prepare(const std::string& sql) {
    return std::make_unique<PostgresStatement>(*this, sql);
}

} // namespace

bool postgresAvailable() {
    return true;
}

Result<std::unique_ptr<Connection>> postgresConnection(const std::string& url) {
    // The URL's own settings come last, so they win over these defaults. A server cut off by the
    // network (not closed) is noticed within about 30 s: TCP keepalives probe an idle connection and
    // data left unacknowledged for 30 s fails, so the writer reconnects instead of waiting for ever.
    const char* keywords[] = {"connect_timeout",
                              "application_name",
                              "keepalives",
                              "keepalives_idle",
                              "keepalives_interval",
                              "keepalives_count",
                              "tcp_user_timeout",
                              "dbname",
                              nullptr};
    const char* values[] = {"10", "tunelab", "1", "10", "5", "3", "30000", url.c_str(), nullptr};
    PGconn* connection = PQconnectdbParams(keywords, values, 1);
    if (!connection)
        return Result<std::unique_ptr<Connection>>::failure(redactedUrl(url) + ": out of memory");
    if (PQstatus(connection) != CONNECTION_OK) {
        const std::string message = trimmed(PQerrorMessage(connection));
        PQfinish(connection);
        return Result<std::unique_ptr<Connection>>::failure(redactedUrl(url) +
                                                            ": cannot connect: " + message);
    }
    return Result<std::unique_ptr<Connection>>(std::make_unique<PostgresConnection>(connection, url));
}

#endif

} // namespace tunelab::sql
