// Several machines, simulated: three hosts (network namespaces with host names of their own,
// tests/netns/hosts.sh) on a private subnet, a PostgreSQL server on host 1, and TuneLab on the other
// two, reaching the server over TCP as machines of a cluster would. Workers on two hosts finish one
// study; a host cut off the network mid-trial loses its trial to the other host (failed as stale,
// retried) and, back on the network, cannot count its late result twice; one run is trained by
// processes on two hosts. Skips, saying why, where namespaces cannot be made (not root) or there is
// no PostgreSQL server.

#include "cli_test_support.h"
#include "run_store_test_support.h"
#include "study_cli_test_support.h"

#include <QtCore/QElapsedTimer>
#include <QtCore/QSet>
#include <QtTest/QtTest>

#include <unistd.h>

using namespace tunelab;
using namespace tunelab::test;

namespace {

const QString hostsScript = QStringLiteral(TUNELAB_SOURCE_DIR "/tests/netns/hosts.sh");
const QString serverScript = QStringLiteral(TUNELAB_SOURCE_DIR "/tests/postgres/postgres_server.sh");

// A study whose trials each train for a second or two, with a short grace period.
QByteArray slowStudy(const QByteArray& name, int trials, const QByteArray& experiment = "experiment.json") {
    return R"({"name": ")" + name + R"(", "experiment": ")" + experiment + R"(",
      "space": {"parameters": [{"path": "optimizer.lr", "kind": "float", "low": 0.001, "high": 0.1, "log": true}]},
      "sampler": {"type": "random", "seed": 2}, "pruner": "none",
      "budget": {"trials": )" +
           QByteArray::number(trials) + R"(}, "heartbeat": {"grace_seconds": 3}})";
}

} // namespace

class TestMultiHost : public QObject {
    Q_OBJECT

private:
    QString m_hosts = QString("tlh%1").arg(::getpid() % 100000);
    QTemporaryDir m_folder;
    QString m_serverDir;
    QString m_url;      // the server's URL on the simulated network (10.231.0.1)
    QString m_localUrl; // the same database through its Unix socket, for this test's checks
    bool m_started = false;

    // Runs `arguments` on simulated host `host` (1, 2 or 3).
    QStringList onHost(int host, const QStringList& arguments) const {
        return QStringList{"run", m_hosts, QString::number(host)} + arguments;
    }
    CliResult cliOnHost(int host, const QStringList& arguments, int timeoutMs = 120000) const {
        QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
        environment.insert("OPENBLAS_NUM_THREADS", "1");
        return runProgramFor(hostsScript, onHost(host, QStringList{TUNELAB_CLI} + arguments), timeoutMs,
                             environment);
    }
    void startOnHost(QProcess& process, int host, const QStringList& arguments,
                     const QMap<QString, QString>& variables = {}) const {
        QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
        environment.insert("OPENBLAS_NUM_THREADS", "1");
        for (auto it = variables.begin(); it != variables.end(); ++it)
            environment.insert(it.key(), it.value());
        process.setProcessEnvironment(environment);
        process.start(hostsScript, onHost(host, QStringList{TUNELAB_CLI} + arguments));
    }
    // The first column of every row of `sql`, as text.
    QStringList column(const QString& sql) {
        RawDb db(m_localUrl);
        const QString joined = db.text("SELECT string_agg(v::text, E'\\n') FROM (" + sql + ") AS q(v)");
        return joined.isEmpty() ? QStringList() : joined.split('\n');
    }
    // Waits until the query's first value reads `expected`, at most `seconds`.
    bool waitFor(const QString& sql, const QString& expected, double seconds) {
        QElapsedTimer timer;
        timer.start();
        while (timer.elapsed() < seconds * 1000) {
            const QStringList values = column(sql);
            if (!values.isEmpty() && values.first() == expected)
                return true;
            QThread::msleep(100);
        }
        return false;
    }

private Q_SLOTS:
    void initTestCase() {
#ifndef TUNELAB_TEST_HAVE_POSTGRES
        QSKIP("this build has no PostgreSQL client (libpq-dev)");
#endif
        QVERIFY(m_folder.isValid());
        const CliResult hosts = runProgramFor(hostsScript, {"start", m_hosts, "3"}, 30000);
        if (hosts.exitCode != 0)
            QSKIP(qPrintable("no simulated hosts: " + hosts.err.trimmed()));
        m_started = true;
        m_serverDir = QString("/tmp/%1-postgres").arg(m_hosts);
        const CliResult server = runProgramFor(
            hostsScript, onHost(1, {serverScript, "start", m_serverDir, "5432", "10.231.0.1"}), 60000);
        QVERIFY2(server.exitCode == 0, qPrintable(server.err));
        QFile url(m_serverDir + "/url");
        if (!url.open(QIODevice::ReadOnly))
            QSKIP(qPrintable("no PostgreSQL server here: " + server.err.trimmed()));
        m_url = QString::fromUtf8(url.readAll()).trimmed();
        QCOMPARE(m_url, QString("postgresql://tunelab@10.231.0.1:5432/postgres"));
        m_localUrl = QString("postgresql://tunelab@/postgres?host=%1&port=5432").arg(m_serverDir);
        writeFile(m_folder, "experiment.json", moonsExperiment(1000, 60, 16));
    }

    void cleanupTestCase() {
        if (!m_serverDir.isEmpty())
            runProgramFor(serverScript, {"stop", m_serverDir}, 60000);
        if (m_started)
            runProgramFor(hostsScript, {"stop", m_hosts}, 30000);
    }

    // The simulated hosts are machines of their own: the test itself cannot reach the server's address.
    void hostsReachTheServerOverTheirNetwork() {
        const CliResult created =
            cliOnHost(2, {"study", "create", writeFile(m_folder, "two.json", slowStudy("two-hosts", 6)),
                          "--storage", m_url});
        QVERIFY2(created.exitCode == 0, qPrintable(created.err));
        QCOMPARE(column("SELECT name FROM studies"), QStringList{"two-hosts"});
    }

    void workersOnTwoHostsFinishOneStudy() {
        QProcess second, third;
        startOnHost(second, 2, {"worker", "--storage", m_url, "--study", "two-hosts", "--threads", "1"});
        startOnHost(third, 3, {"worker", "--storage", m_url, "--study", "two-hosts", "--threads", "1"});
        QVERIFY(second.waitForFinished(180000));
        QVERIFY(third.waitForFinished(180000));
        QVERIFY2(second.exitCode() == 0, second.readAllStandardError().constData());
        QVERIFY2(third.exitCode() == 0, third.readAllStandardError().constData());
        const QString trials = "SELECT %1 FROM trials t JOIN studies s ON s.id = t.study_id"
                               " WHERE s.name = 'two-hosts'";
        QCOMPARE(column(trials.arg("count(*)")), QStringList{"6"});
        QCOMPARE(column(trials.arg("count(DISTINCT number)") + " AND t.state = 'complete'"),
                 QStringList{"6"});
        const QStringList owners = column(trials.arg("DISTINCT owner_host") + " ORDER BY 1");
        QCOMPARE(owners, (QStringList{m_hosts + "-2", m_hosts + "-3"}));
    }

    // Host 3 leaves the network in the middle of a trial: host 2's worker fails that trial as stale
    // after the grace period and retries it. Back on the network, host 3's late result is refused
    // (the trial keeps its end) and the study holds each trial number once.
    void aHostCutOffLosesItsTrialToTheOthers() {
        // Trials of a few seconds, so that host 3 is cut off well inside its trial.
        writeFile(m_folder, "slow-experiment.json", moonsExperiment(1000, 150, 16));
        const QString study =
            writeFile(m_folder, "cut.json", slowStudy("cut-off", 4, "slow-experiment.json"));
        QVERIFY(cliOnHost(2, {"study", "create", study, "--storage", m_url}).exitCode == 0);
        const QString running = "SELECT count(*) FROM trials t JOIN studies s ON s.id = t.study_id"
                                " WHERE s.name = 'cut-off' AND t.state = 'running'";
        QProcess third;
        startOnHost(
            third, 3,
            {"worker", "--storage", m_url, "--study", "cut-off", "--threads", "1", "--max-trials", "1"});
        QVERIFY(waitFor(running, "1", 60));
        QCOMPARE(runProgramFor(hostsScript, {"cut", m_hosts, "3"}, 10000).exitCode, 0);

        QProcess second;
        startOnHost(second, 2, {"worker", "--storage", m_url, "--study", "cut-off", "--threads", "1"});
        QVERIFY(second.waitForFinished(180000));
        QVERIFY2(second.exitCode() == 0, second.readAllStandardError().constData());
        QCOMPARE(runProgramFor(hostsScript, {"mend", m_hosts, "3"}, 10000).exitCode, 0);
        QVERIFY(third.waitForFinished(180000));
        const QString thirdErr = QString::fromUtf8(third.readAllStandardError());
        qInfo("host 3's worker, back on the network, exited with %d", third.exitCode());

        const QString trials = "SELECT %1 FROM trials t JOIN studies s ON s.id = t.study_id"
                               " WHERE s.name = 'cut-off'";
        QCOMPARE(column(trials.arg("count(*)")), QStringList{"5"}); // 4 and the retry of the lost one
        QCOMPARE(column(trials.arg("count(DISTINCT number)")), QStringList{"5"});
        QCOMPARE(column(trials.arg("count(*)") + " AND t.state = 'complete'"), QStringList{"4"});
        const QStringList stale = column(trials.arg("t.message") + " AND t.state = 'failed'");
        QCOMPARE(stale.size(), 1);
        QVERIFY2(stale.first().startsWith("stale: ") && stale.first().contains(m_hosts + "-3"),
                 qPrintable(stale.first()));
        QCOMPARE(column(trials.arg("owner_host") + " AND t.state = 'failed'"), QStringList{m_hosts + "-3"});
        QVERIFY2(thirdErr.contains("already ended as failed"), qPrintable(thirdErr));
    }

    // Rank 0 on host 2 and rank 1 on host 3, joined by torchrun's variables: one run, recorded once.
    void oneRunTrainedOnTwoHosts() {
        const QString spec = writeFile(m_folder, "together.json", moonsExperiment(1000, 4, 20));
        QMap<QString, QString> variables{
            {"WORLD_SIZE", "2"}, {"MASTER_ADDR", "10.231.0.2"}, {"MASTER_PORT", "29400"}};
        QProcess first, second;
        variables["RANK"] = "1";
        startOnHost(second, 3, {"train", spec, "--storage", m_url, "--threads", "1"}, variables);
        variables["RANK"] = "0";
        startOnHost(first, 2, {"train", spec, "--storage", m_url, "--threads", "1", "--json"}, variables);
        QVERIFY(first.waitForFinished(120000));
        QVERIFY(second.waitForFinished(120000));
        QVERIFY2(first.exitCode() == 0, first.readAllStandardError().constData());
        QVERIFY2(second.exitCode() == 0, second.readAllStandardError().constData());
        const QStringList runs = column("SELECT owner_host || ' ' || status || ' ' || error FROM runs"
                                        " WHERE name = 'moons-study' AND error LIKE '%processes%'");
        QCOMPARE(runs.size(), 1);
        QVERIFY2(runs.first().startsWith(m_hosts + "-2 completed trained by 2 processes"),
                 qPrintable(runs.first()));
    }
};

QTEST_GUILESS_MAIN(TestMultiHost)
#include "tst_multi_host.moc"
