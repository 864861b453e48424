#include "window/run_session.h"

#include "charts/loss_chart_view.h"
#include "runs/runs_table_model.h"
#include "spec/spec.h"
#include "store/run_store.h"
#include "study_test_support.h"
#include "window/metric_charts.h"

#include <QElapsedTimer>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include <sqlite3.h>

#include <memory>

using namespace tunelab;
using namespace tunelab::test;

namespace {

// A second connection to the store's file, as another process would hold it.
class LockHolder {
public:
    explicit LockHolder(const std::string& path) {
        sqlite3_open_v2(path.c_str(), &m_db, SQLITE_OPEN_READWRITE, nullptr);
        sqlite3_busy_timeout(m_db, 5000); // the store's writer may be committing right now
    }
    ~LockHolder() {
        release();
        sqlite3_close_v2(m_db);
    }
    LockHolder(const LockHolder&) = delete;
    LockHolder& operator=(const LockHolder&) = delete;
    bool lock() {
        return m_locked = sqlite3_exec(m_db, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr) == SQLITE_OK;
    }
    void release() {
        if (m_locked)
            sqlite3_exec(m_db, "COMMIT", nullptr, nullptr, nullptr);
        m_locked = false;
    }

private:
    sqlite3* m_db = nullptr;
    bool m_locked = false;
};

ExperimentSpec longExperiment() {
    ExperimentSpec spec = tinyBlobsExperiment("long", 3);
    spec.training.epochs = 100000;
    spec.training.batchSize = 8;
    return spec;
}

} // namespace

class TestRunSession : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void init() {
        m_dir = std::make_unique<QTemporaryDir>();
        auto opened = RunStore::open(m_dir->filePath(QStringLiteral("runs.sqlite")).toStdString());
        QVERIFY2(opened.ok(), opened.error().c_str());
        m_store = opened.take();
        m_runs = std::make_unique<RunsTableModel>();
        m_charts = std::make_unique<MetricCharts>();
        m_session = std::make_unique<RunSession>(m_runs.get(), m_charts.get());
        m_session->setRunStore(m_store.get());
    }

    void cleanup() {
        m_session.reset(); // stops and joins the runs before the store goes
        m_charts.reset();
        m_runs.reset();
        m_store.reset();
        m_dir.reset();
    }

    // A run started through the session reaches the runs table and the chart from the queue, and
    // its end is reported once.
    void runIsDrainedIntoTheTableAndCharts() {
        QSignalSpy finished(m_session.get(), &RunSession::runFinished);
        QSignalSpy states(m_session.get(), &RunSession::stateChanged);
        const auto started = m_session->start(tinyBlobsExperiment("tiny", 1));
        QVERIFY2(started.ok(), started.error().c_str());
        const RunId id = started.value();
        QVERIFY(m_session->isRunning());
        QCOMPARE(m_session->currentRunId(), id);
        QVERIFY(m_runs->contains(id));
        QVERIFY(finished.wait(30000));
        QCOMPARE(finished.count(), 1);
        QCOMPARE(finished.first().first().toLongLong(), qint64(id));
        QVERIFY(!m_session->isRunning());
        QCOMPARE(m_session->lastStatus(), RunStatus::Completed);
        QCOMPARE(m_runs->runAt(m_runs->rowForRun(id)).status, RunStatus::Completed);
        m_store->flush();
        QCOMPARE(size_t(m_charts->stepLossChart()->pointCount(id)), m_store->steps(id).size());
        QVERIFY(states.last().first().toString().startsWith(QStringLiteral("Completed")));
    }

    void stopTakesEffectWithinABoundedTime() {
        QSignalSpy finished(m_session.get(), &RunSession::runFinished);
        QVERIFY(m_session->start(longExperiment()).ok());
        QTRY_VERIFY_WITH_TIMEOUT(m_charts->stepLossChart()->pointCount(m_session->currentRunId()) > 0, 60000);
        QElapsedTimer clock;
        clock.start();
        m_session->stop();
        QVERIFY(m_session->stopRequested());
        QVERIFY(finished.wait(60000));
        // Unstopped, the run would train for minutes; the bound tells the two apart on a busy machine.
        QVERIFY2(clock.elapsed() < 30000, qPrintable(QString::number(clock.elapsed())));
        QCOMPARE(m_session->lastStatus(), RunStatus::Stopped);
    }

    // Selecting a running run while another process holds the store's write lock returns at once;
    // its curve is completed from the store once the lock goes, without a gap or a repeat.
    void showingARunningRunNeverWaitsForTheStore() {
        QVERIFY(m_session->start(longExperiment()).ok());
        const RunId id = m_session->currentRunId();
        QTRY_VERIFY_WITH_TIMEOUT(m_store->stepCount(id) > 0, 60000);

        LockHolder holder(m_store->path());
        QVERIFY(holder.lock());
        // Training goes on; its points queue up behind the lock.
        const qsizetype beforeLock = m_charts->stepLossChart()->pointCount(id);
        QTRY_VERIFY_WITH_TIMEOUT(m_charts->stepLossChart()->pointCount(id) > beforeLock, 60000);
        QElapsedTimer clock;
        clock.start();
        m_session->showRuns({id});
        // Waiting for the store would take its 5 s busy timeout at least.
        QVERIFY2(clock.elapsed() < 4000, qPrintable(QString::number(clock.elapsed())));
        QCOMPARE(m_session->pendingReloads(), 1);
        QTest::qWait(200); // the GUI timer goes on while the store waits
        QCOMPARE(m_session->pendingReloads(), 1);

        QSignalSpy reloaded(m_session.get(), &RunSession::chartsReloaded);
        holder.release();
        QVERIFY(reloaded.wait(15000));
        QCOMPARE(m_session->pendingReloads(), 0);

        QSignalSpy finished(m_session.get(), &RunSession::runFinished);
        m_session->stop();
        QVERIFY(finished.wait(60000));
        m_store->flush();
        // Every step once, in order.
        const auto steps = m_store->steps(id);
        QCOMPARE(size_t(m_charts->stepLossChart()->pointCount(id)), steps.size());
    }

    void destructorStopsRunningRuns() {
        QVERIFY(m_session->start(longExperiment()).ok());
        const RunId id = m_session->currentRunId();
        QTRY_VERIFY_WITH_TIMEOUT(m_store->stepCount(id) > 0, 60000);
        QElapsedTimer clock;
        clock.start();
        m_session.reset();
        QVERIFY2(clock.elapsed() < 30000, qPrintable(QString::number(clock.elapsed())));
        m_store->flush();
        QCOMPARE(QByteArray(toString(m_store->run(id)->status)), QByteArray("stopped"));
    }

private:
    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<RunStore> m_store;
    std::unique_ptr<RunsTableModel> m_runs;
    std::unique_ptr<MetricCharts> m_charts;
    std::unique_ptr<RunSession> m_session;
};

QTEST_MAIN(TestRunSession)
#include "tst_run_session.moc"
