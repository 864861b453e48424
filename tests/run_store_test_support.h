#pragma once

// Helpers shared by the run store suites: where a test's store lives (a SQLite file, or a database
// on the PostgreSQL server of the `_postgres` runs), raw access to it, and event builders.

#include "store/run_store.h"

#include <QtCore/QDateTime>
#include <QtCore/QFile>
#include <QtCore/QMap>
#include <QtCore/QProcess>
#include <QtCore/QRandomGenerator>
#include <QtCore/QScopeGuard>
#include <QtCore/QSet>
#include <QtCore/QTemporaryDir>
#include <QtCore/QThread>
#include <QtTest/QtTest>

#include <sqlite3.h>

#ifdef TUNELAB_TEST_HAVE_POSTGRES
#include <libpq-fe.h>
#endif

#include <cmath>
#include <memory>
#include <random>
#include <thread>

#include <cerrno>
#include <sys/wait.h>
#include <unistd.h>

Q_DECLARE_METATYPE(tunelab::RunStatus)

namespace tunelab::test {

// Whether this run of the suite keeps its stores on a PostgreSQL server (TUNELAB_TEST_STORE=postgres,
// set by the `_postgres` tests) rather than in SQLite files.
inline bool storeOnServer() {
    return qgetenv("TUNELAB_TEST_STORE") == "postgres";
}

inline bool isServerUrl(const QString& location) {
    return location.startsWith(QLatin1String("postgresql://"));
}

// Where a test's store lives. `skip` says why there is none to test against (the suite runs against a
// server that is not there); `failure` says why one could not be made on a server that is there.
struct StoreLocation {
    QString location;
    QString skip;
    QString failure;
};

#ifdef TUNELAB_TEST_HAVE_POSTGRES
// The server's notices ("database ... does not exist, skipping") are no part of a test's output.
inline void ignoreServerNotice(void*, const char*) {}

// A fresh database on the test server for each (folder, file name) a test asks for, and the same one
// when it asks again, so that a test reopening "its file" reopens its database.
inline StoreLocation serverStoreLocation(const QTemporaryDir& dir, const QString& fileName) {
    static QMap<QString, QString> made; // folder/file name -> database URL
    static int counter = 0;
    const QString key = dir.path() + QLatin1Char('/') + fileName;
    if (made.contains(key))
        return {made.value(key), {}, {}};
    const QByteArray urlFile = qgetenv("TUNELAB_TEST_POSTGRES_URL_FILE");
    QFile file(QString::fromLocal8Bit(urlFile));
    if (urlFile.isEmpty() || !file.open(QIODevice::ReadOnly))
        return {{},
                QStringLiteral("no PostgreSQL server: no URL file at \"%1\" (TUNELAB_TEST_POSTGRES_URL_FILE)")
                    .arg(QString::fromLocal8Bit(urlFile)),
                {}};
    const QString adminUrl = QString::fromUtf8(file.readAll()).trimmed();
    if (!adminUrl.contains(QLatin1String("/postgres?")))
        return {{}, {}, QStringLiteral("the server URL \"%1\" names no `postgres` database").arg(adminUrl)};
    PGconn* admin = PQconnectdb(adminUrl.toUtf8().constData());
    const auto finish = qScopeGuard([admin] { PQfinish(admin); });
    if (PQstatus(admin) != CONNECTION_OK)
        return {{},
                QStringLiteral("no PostgreSQL server: %1: %2")
                    .arg(adminUrl, QString::fromUtf8(PQerrorMessage(admin)).simplified()),
                {}};
    PQsetNoticeProcessor(admin, ignoreServerNotice, nullptr);
    const QString database = QStringLiteral("t%1_%2").arg(QCoreApplication::applicationPid()).arg(++counter);
    // A test process that died before may have left a database under a name this one reuses.
    PQclear(PQexec(admin, QStringLiteral("DROP DATABASE IF EXISTS %1").arg(database).toUtf8().constData()));
    PGresult* created =
        PQexec(admin, QStringLiteral("CREATE DATABASE %1").arg(database).toUtf8().constData());
    const bool ok = PQresultStatus(created) == PGRES_COMMAND_OK;
    const QString error = QString::fromUtf8(PQresultErrorMessage(created)).trimmed();
    PQclear(created);
    if (!ok)
        return {{}, {}, QStringLiteral("CREATE DATABASE %1: %2").arg(database, error)};
    QString url = adminUrl;
    url.replace(QLatin1String("/postgres?"), QStringLiteral("/%1?").arg(database));
    made.insert(key, url);
    return {url, {}, {}};
}
#endif

// The store a test opens as `fileName` in `dir`: that file, or on the server runs a database of its own.
inline StoreLocation makeStoreLocation(const QTemporaryDir& dir, const QString& fileName) {
    if (!storeOnServer())
        return {dir.filePath(fileName), {}, {}};
#ifdef TUNELAB_TEST_HAVE_POSTGRES
    return serverStoreLocation(dir, fileName);
#else
    return {{}, QStringLiteral("no PostgreSQL server: this test was built without libpq"), {}};
#endif
}

inline QString storeLocation(const QTemporaryDir& dir, const QString& fileName) {
    return makeStoreLocation(dir, fileName).location;
}

} // namespace tunelab::test

// Declares `const QString var`, the store location for `fileName` in `dir`; skips the test, saying
// why, when the suite runs against a server that is not there, and fails it when no database could
// be made on one that is.
#define TUNELAB_STORE_LOCATION(var, dir, fileName)                                                           \
    const ::tunelab::test::StoreLocation var##Made = ::tunelab::test::makeStoreLocation(dir, fileName);      \
    if (!var##Made.skip.isEmpty())                                                                           \
        QSKIP(qPrintable(var##Made.skip));                                                                   \
    if (!var##Made.failure.isEmpty())                                                                        \
        QFAIL(qPrintable(var##Made.failure));                                                                \
    const QString var = var##Made.location

// Skips the rest of a test on the server runs: what follows checks the SQLite file itself.
#define TUNELAB_SKIP_ON_SERVER(reason)                                                                       \
    do {                                                                                                     \
        if (::tunelab::test::storeOnServer())                                                                \
            QSKIP("a SQLite file's own behavior, not a server's: " reason);                                  \
    } while (false)

namespace tunelab::test {

// A connection of the test's own to the store's file or database, so assertions see what another
// process would see. The SQL it runs must mean the same to SQLite and PostgreSQL.
class RawDb {
public:
    explicit RawDb(const QString& location) {
#ifdef TUNELAB_TEST_HAVE_POSTGRES
        if (isServerUrl(location)) {
            m_server = PQconnectdb(location.toUtf8().constData());
            if (PQstatus(m_server) != CONNECTION_OK)
                qWarning("postgres: %s", PQerrorMessage(m_server));
            PQsetNoticeProcessor(m_server, ignoreServerNotice, nullptr);
            return;
        }
#endif
        sqlite3_open_v2(location.toUtf8().constData(), &m_db, SQLITE_OPEN_READWRITE, nullptr);
        sqlite3_busy_timeout(m_db, 5000);
    }
    ~RawDb() {
#ifdef TUNELAB_TEST_HAVE_POSTGRES
        if (m_server) {
            PQfinish(m_server);
            return;
        }
#endif
        sqlite3_close_v2(m_db);
    }
    RawDb(const RawDb&) = delete;
    RawDb& operator=(const RawDb&) = delete;

    bool exec(const QString& sql) {
#ifdef TUNELAB_TEST_HAVE_POSTGRES
        if (m_server) {
            PGresult* result = PQexec(m_server, sql.toUtf8().constData());
            const ExecStatusType status = PQresultStatus(result);
            const bool ok = status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
            if (!ok)
                qWarning("postgres: %s", PQresultErrorMessage(result));
            PQclear(result);
            return ok;
        }
#endif
        char* message = nullptr;
        const int rc = sqlite3_exec(m_db, sql.toUtf8().constData(), nullptr, nullptr, &message);
        if (rc != SQLITE_OK)
            qWarning("sqlite: %s", message ? message : sqlite3_errstr(rc));
        sqlite3_free(message);
        return rc == SQLITE_OK;
    }
    // The first column of the first row, as text (NULL as an empty string); "<none>" without rows,
    // "<error: ...>" on failure.
    QString text(const QString& sql) {
#ifdef TUNELAB_TEST_HAVE_POSTGRES
        if (m_server) {
            PGresult* result = PQexec(m_server, sql.toUtf8().constData());
            QString value = QStringLiteral("<none>");
            if (PQresultStatus(result) != PGRES_TUPLES_OK)
                value = QStringLiteral("<error: %1>")
                            .arg(QString::fromUtf8(PQresultErrorMessage(result)).trimmed());
            else if (PQntuples(result) > 0 && !PQgetisnull(result, 0, 0))
                value = QString::fromUtf8(PQgetvalue(result, 0, 0));
            else if (PQntuples(result) > 0)
                value = QString();
            PQclear(result);
            return value;
        }
#endif
        sqlite3_stmt* statement = nullptr;
        if (sqlite3_prepare_v2(m_db, sql.toUtf8().constData(), -1, &statement, nullptr) != SQLITE_OK)
            return QStringLiteral("<error: %1>").arg(QString::fromUtf8(sqlite3_errmsg(m_db)));
        QString value = QStringLiteral("<none>");
        const int rc = sqlite3_step(statement);
        if (rc == SQLITE_ROW)
            value = QString::fromUtf8(reinterpret_cast<const char*>(sqlite3_column_text(statement, 0)));
        else if (rc != SQLITE_DONE)
            value = QStringLiteral("<error: %1>").arg(QString::fromUtf8(sqlite3_errmsg(m_db)));
        sqlite3_finalize(statement);
        return value;
    }
    qint64 number(const QString& sql) {
        return text(sql).toLongLong();
    }

private:
    sqlite3* m_db = nullptr;
#ifdef TUNELAB_TEST_HAVE_POSTGRES
    PGconn* m_server = nullptr;
#endif
};

inline std::unique_ptr<RunStore> openStore(const QString& location) {
    auto opened = RunStore::open(location.toStdString());
    if (!opened) {
        qWarning("%s", opened.error().c_str());
        return nullptr;
    }
    return opened.take();
}

inline RunEvent startedEvent(RunId id, const std::string& device) {
    RunEvent event;
    event.kind = RunEventKind::Started;
    event.runId = id;
    event.device = device;
    return event;
}

inline RunEvent stepsEvent(RunId id, std::vector<StepRecord> steps) {
    RunEvent event;
    event.kind = RunEventKind::Steps;
    event.runId = id;
    event.steps = std::move(steps);
    return event;
}

inline RunEvent epochEvent(RunId id, const EpochRecord& epoch) {
    RunEvent event;
    event.kind = RunEventKind::Epoch;
    event.runId = id;
    event.epoch = epoch;
    return event;
}

inline RunEvent finishedEvent(RunId id, const RunSummary& summary,
                              std::shared_ptr<const std::vector<char>> model) {
    RunEvent event;
    event.kind = RunEventKind::Finished;
    event.runId = id;
    event.summary = summary;
    event.model = std::move(model);
    return event;
}

inline std::vector<StepRecord> makeSteps(int64_t first, int count, int32_t epoch) {
    std::vector<StepRecord> steps;
    for (int64_t step = first; step < first + count; ++step)
        steps.push_back({step, epoch, 1.0f / float(step), 0.001f * float(step), float(step) * 0.25f});
    return steps;
}

// QCOMPARE on RunStatus itself would find tunelab::toString by ADL and delete[] its static
// string when a comparison fails; compare the names instead.
inline QString name(RunStatus status) {
    return QString::fromUtf8(toString(status));
}

inline QString statusOf(const RunStore& store, RunId id) {
    const auto record = store.run(id);
    return record ? name(record->status) : QStringLiteral("<no such run>");
}

inline double nowSeconds() {
    return QDateTime::currentMSecsSinceEpoch() / 1000.0;
}

inline QString hostName() {
    char name[256] = {};
    gethostname(name, sizeof name - 1);
    return QString::fromUtf8(name);
}

// A pid that certainly belonged to a process which has exited (and been reaped) by now.
// A plain fork, not a QProcess: the child exits at once, so even ThreadSanitizer follows it.
inline qint64 deadPid() {
    const pid_t child = fork();
    if (child == 0)
        _exit(0);
    if (child < 0)
        return 0;
    int status = 0;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    return child;
}

// Writes a version-1 store by hand (the schema TuneLab 1 created) holding one completed run with
// `steps` step rows, so migrations can be tested on a real older file.
inline bool createVersion1Store(const QString& path, int steps) {
    sqlite3* db = nullptr;
    if (sqlite3_open_v2(path.toUtf8().constData(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
                        nullptr) != SQLITE_OK) {
        sqlite3_close_v2(db);
        return false;
    }
    QString sql =
        QStringLiteral(
            "PRAGMA journal_mode=WAL;"
            "BEGIN;"
            "CREATE TABLE schema_meta(key TEXT PRIMARY KEY, value);"
            "CREATE TABLE runs(id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT, status TEXT, spec_json TEXT,"
            " device TEXT, created_at REAL, started_at REAL, finished_at REAL, epochs INTEGER, steps INTEGER,"
            " train_seconds REAL, steps_per_second REAL, train_loss REAL, val_loss REAL, val_accuracy REAL,"
            " val_mae REAL, best_epoch INTEGER, error TEXT, model BLOB, owner_pid INTEGER, owner_host TEXT);"
            "CREATE INDEX runs_status ON runs(status);"
            "CREATE TABLE step_metrics(run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
            " step INTEGER NOT NULL, epoch INTEGER, train_loss REAL, learning_rate REAL, grad_norm REAL,"
            " PRIMARY KEY(run_id, step)) WITHOUT ROWID;"
            "CREATE TABLE epoch_metrics(run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
            " epoch INTEGER NOT NULL, step INTEGER, train_loss REAL, val_loss REAL, val_accuracy REAL,"
            " val_mae REAL, learning_rate REAL, seconds REAL, PRIMARY KEY(run_id, epoch)) WITHOUT ROWID;"
            "INSERT INTO schema_meta VALUES('schema_version', 1);"
            "INSERT INTO runs(name, status, spec_json, created_at, epochs, steps, val_loss, best_epoch)"
            " VALUES('old run', 'completed', '{\"old\": true}', 1.5, 1, %1, 0.25, 1);"
            "INSERT INTO epoch_metrics(run_id, epoch, step, val_loss) VALUES(1, 1, %1, 0.25);")
            .arg(steps);
    for (int step = 1; step <= steps; ++step)
        sql +=
            QStringLiteral("INSERT INTO step_metrics(run_id, step, epoch, train_loss) VALUES(1, %1, 1, %2);")
                .arg(step)
                .arg(1.0 / step);
    sql += QStringLiteral("COMMIT;");
    char* message = nullptr;
    const int rc = sqlite3_exec(db, sql.toUtf8().constData(), nullptr, nullptr, &message);
    if (rc != SQLITE_OK)
        qWarning("sqlite: %s", message ? message : sqlite3_errstr(rc));
    sqlite3_free(message);
    sqlite3_close_v2(db);
    return rc == SQLITE_OK;
}

inline Assignment assignment(std::initializer_list<std::pair<const std::string, std::string>> values) {
    Assignment params;
    for (const auto& [name, json] : values)
        params[name] = ParamValue{json};
    return params;
}

inline QString name(TrialState state) {
    return QString::fromUtf8(toString(state));
}

// The values store_crash_writer writes; keep in step with it.
constexpr int kCrashTrialEpochs = 3; // intermediate values of the trial in "trial" mode
constexpr int kCrashStepsPerRun = 3 * 4 * 25;
constexpr int kCrashEpochs = 3;
constexpr int kCrashModelBytes = 64 * 1024;

} // namespace tunelab::test
