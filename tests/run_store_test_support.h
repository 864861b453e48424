#pragma once

// Helpers shared by the run store suites: raw SQLite access and event builders.

#include "engine/run_store.h"

#include <QtCore/QDateTime>
#include <QtCore/QFile>
#include <QtCore/QMap>
#include <QtCore/QProcess>
#include <QtCore/QRandomGenerator>
#include <QtCore/QSet>
#include <QtCore/QTemporaryDir>
#include <QtCore/QThread>
#include <QtTest/QtTest>

#include <sqlite3.h>

#include <cmath>
#include <memory>
#include <random>
#include <thread>

#include <unistd.h>

Q_DECLARE_METATYPE(tunelab::RunStatus)

namespace tunelab::test {

// A connection of the test's own, so assertions see what another process would see.
class RawDb {
public:
    explicit RawDb(const QString& path) {
        sqlite3_open_v2(path.toUtf8().constData(), &m_db, SQLITE_OPEN_READWRITE, nullptr);
        sqlite3_busy_timeout(m_db, 5000);
    }
    ~RawDb() { sqlite3_close_v2(m_db); }
    RawDb(const RawDb&) = delete;
    RawDb& operator=(const RawDb&) = delete;

    bool exec(const QString& sql) {
        char* message = nullptr;
        const int rc = sqlite3_exec(m_db, sql.toUtf8().constData(), nullptr, nullptr, &message);
        if (rc != SQLITE_OK)
            qWarning("sqlite: %s", message ? message : sqlite3_errstr(rc));
        sqlite3_free(message);
        return rc == SQLITE_OK;
    }
    // The first column of the first row, as text; "<none>" without rows, "<error: ...>" on failure.
    QString text(const QString& sql) {
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
    qint64 number(const QString& sql) { return text(sql).toLongLong(); }

private:
    sqlite3* m_db = nullptr;
};

inline std::unique_ptr<RunStore> openStore(const QString& path) {
    auto opened = RunStore::open(path.toStdString());
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
inline qint64 deadPid() {
    QProcess process;
    process.start(QStringLiteral("/bin/sh"), {QStringLiteral("-c"), QStringLiteral("exit 0")});
    if (!process.waitForStarted())
        return 0;
    const qint64 pid = process.processId();
    process.waitForFinished();
    return pid;
}

// The values store_crash_writer writes; keep in step with it.
constexpr int kCrashStepsPerRun = 3 * 4 * 25;
constexpr int kCrashEpochs = 3;
constexpr int kCrashModelBytes = 64 * 1024;

} // namespace tunelab::test
