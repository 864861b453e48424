// Settings that ask for more of the machine than it has are refused with the numbers, in the study
// file and at the runner, instead of hanging or aborting the process.
#include "common/machine_limits.h"
#include "study/study.h"

#include <QtTest>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace tunelab;

class TestMachineLimits : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void parallel_data() {
        QTest::addColumn<qint64>("parallel");
        QTest::addColumn<bool>("forced");
        QTest::addColumn<QString>("expected"); // empty: accepted
        const qint64 perCore = qint64(kParallelPerCore) * machineCores();
        QTest::newRow("one") << qint64(1) << false << "";
        QTest::newRow("four per core") << perCore << false << "";
        QTest::newRow("past four per core") << perCore + 1 << false << "trials per core on this machine's";
        QTest::newRow("forced past four per core") << perCore + 1 << true << "";
        QTest::newRow("a million, forced") << qint64(1000000) << true << "is more than the 1024 trials";
        QTest::newRow("zero") << qint64(0) << false << "parallel must be at least 1";
    }

    void parallel() {
        QFETCH(qint64, parallel);
        QFETCH(bool, forced);
        QFETCH(QString, expected);
        const QString problem = QString::fromStdString(parallelProblem(parallel, forced));
        if (expected.isEmpty())
            QVERIFY2(problem.isEmpty(), qPrintable(problem));
        else
            QVERIFY2(problem.contains(expected), qPrintable(problem));
    }

    void threads() {
        QVERIFY(threadsProblem(0).empty());
        QVERIFY(threadsProblem(machineCores()).empty());
        QVERIFY(threadsProblem(machineCores() + 1).find("is more than this machine's") != std::string::npos);
        QVERIFY(!threadsProblem(-1).empty());
    }

    // A network that cannot fit is refused with the numbers before anything is allocated; the limit
    // follows the process's own address-space limit (ulimit -v).
    void aNetworkTooLargeForThisProcessIsRefused() {
        QVERIFY(trainingMemoryProblem(1000, uint64_t{1} << 30).empty());
        const std::string problem = trainingMemoryProblem(900000000, uint64_t{6} << 30);
        QVERIFY2(problem.find("900000000 parameters need about 14.4 GB") != std::string::npos,
                 problem.c_str());
        QVERIFY2(problem.find("more than the 6.4 GB this process may use") != std::string::npos,
                 problem.c_str());
        const pid_t child = fork();
        if (child == 0) {
            rlimit limit{uint64_t{4} << 30, uint64_t{4} << 30};
            setrlimit(RLIMIT_AS, &limit);
            _exit(processMemoryLimit() <= (uint64_t{4} << 30) ? 0 : 1);
        }
        int status = 0;
        QCOMPARE(waitpid(child, &status, 0), child);
        QVERIFY(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }

    void aStudyFileCannotAskForAMillionTrialsAtOnce() {
        const auto parsed =
            parseStudySpec("{\"name\": \"s\", \"space\": {\"parameters\": [{\"path\": \"x\", \"kind\": "
                           "\"float\", \"low\": 0, "
                           "\"high\": 1}]}, \"objective\": {\"metric\": \"value\"}, \"parallel\": 1000000}");
        QVERIFY(!parsed.ok());
        QVERIFY2(parsed.error().find(
                     "parallel: expected a positive number of trials of at most 1024, got 1000000") !=
                     std::string::npos,
                 parsed.error().c_str());
    }
};

QTEST_GUILESS_MAIN(TestMachineLimits)
#include "tst_machine_limits.moc"
