// The command objective on a loaded machine: a command that prints its result and exits while the
// evaluating thread is descheduled keeps its result. The test owns `poll` (the engine library is
// linked statically), so it can hold the thread after a poll that found nothing, as a busy
// scheduler would, and the race happens every time instead of once in a few hundred trials.

#include "study/command_objective.h"

#include <QtTest/QtTest>

#include <atomic>
#include <chrono>
#include <thread>

#include <dlfcn.h>
#include <poll.h>

using namespace tunelab;

namespace {

std::atomic<int> g_holdAfterEmptyPollMs{0};

class QuietReporter : public TrialReporter {
public:
    bool report(int, double) override { return false; }
    bool stopRequested() const override { return false; }
    bool paused() const override { return false; }
};

TrialOutcome evaluate(const std::string& command) {
    CommandObjective objective({command, 0.0});
    TrialTask task;
    task.params = {{"x", ParamValue{"0.5"}}};
    QuietReporter reporter;
    return objective.evaluate(task, reporter);
}

} // namespace

// Every poll of this process comes here; with a hold set, a poll that timed out without an event
// returns only after the hold, like a thread that lost its core right after the poll.
extern "C" int poll(struct pollfd* fds, nfds_t count, int timeout) {
    using PollFunction = int (*)(struct pollfd*, nfds_t, int);
    static const auto realPoll = reinterpret_cast<PollFunction>(dlsym(RTLD_NEXT, "poll"));
    const int ready = realPoll(fds, count, timeout);
    const int hold = g_holdAfterEmptyPollMs.load();
    if (ready == 0 && hold > 0 && timeout > 0)
        std::this_thread::sleep_for(std::chrono::milliseconds(hold));
    return ready;
}

class TestCommandObjective : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void cleanup() { g_holdAfterEmptyPollMs = 0; }

    void resultPrintedWhileTheThreadWasDescheduledIsKept_data() {
        QTest::addColumn<QString>("command");
        QTest::addColumn<int>("holdMs");
        // The command answers after the first poll (50 ms) timed out and exits during the hold.
        QTest::newRow("quiet machine") << "sleep 0.1; echo 0.25" << 0;
        QTest::newRow("descheduled after an empty poll") << "sleep 0.1; echo 0.25" << 400;
        QTest::newRow("descheduled, answer on stdin") << "sleep 0.1; cat; echo; echo 0.25" << 400;
    }
    void resultPrintedWhileTheThreadWasDescheduledIsKept() {
        QFETCH(QString, command);
        QFETCH(int, holdMs);
        g_holdAfterEmptyPollMs = holdMs;
        const TrialOutcome outcome = evaluate(command.toStdString());
        QVERIFY2(outcome.state == TrialState::Complete, outcome.message.c_str());
        QCOMPARE(outcome.value, 0.25);
    }

    void aBackgroundProcessHoldingThePipesDoesNotHoldTheTrial() {
        // The shell exits at once; what it started keeps stdout open for a minute. The trial ends
        // with the shell (the group is killed), with what was printed before.
        QElapsedTimer clock;
        clock.start();
        const TrialOutcome outcome = evaluate("echo 0.5; sleep 60 &");
        QVERIFY2(outcome.state == TrialState::Complete, outcome.message.c_str());
        QCOMPARE(outcome.value, 0.5);
        QVERIFY2(clock.elapsed() < 30000, qPrintable(QString::number(clock.elapsed())));
    }
};

QTEST_GUILESS_MAIN(TestCommandObjective)
#include "tst_command_objective.moc"
