// Nothing lost, nothing crashes: the real tunelab-cli on a real store file, killed with SIGKILL at
// random points of train, study run and race, given a read-only store, a store with damaged pages,
// and a store shared by several processes at once. Each case checks what the store kept and what the
// user was told. The kill points are drawn from a seed printed at the start; TUNELAB_FAULT_SEED=N
// replays a run.

#include "fault_injection_support.h"

#include <sys/stat.h>

using namespace tunelab;
using namespace tunelab::test;

namespace {

CliResult runCli(const QStringList& arguments) {
    return runCliFor(arguments, kHangMs);
}

// A folder with the experiment, study and race files, and the store path inside it.
struct Workspace {
    QTemporaryDir dir;
    QString db;
    Workspace() {
        db = dir.filePath("runs.sqlite");
        writeFile(dir, "experiment.json", faultExperiment());
        writeFile(dir, "study.json", faultStudy("fault-study"));
        writeFile(dir, "race.json", faultRace());
    }
    QString file(const QString& name) const { return dir.filePath(name); }
};

} // namespace

class TestFaultInjection : public QObject {
    Q_OBJECT

private:
    QRandomGenerator m_random;
    std::unique_ptr<Workspace> m_template; // a store with finished runs and a study, closed
    QMap<RunId, KeptRun> m_kept;           // the finished runs of the current kill series

    // After a fault: the store is sound, every finished run is whole and as it was, and no run
    // reads as running. Returns the number of runs.
    int verifyStore(const QString& path) {
        const auto problems = RunStore::checkFile(path.toStdString());
        if (!problems.ok() || !problems.value().empty()) {
            QTest::qFail(qPrintable("the store is not sound: " +
                                    QString::fromStdString(problems.ok() ? problems.value().front()
                                                                         : problems.error())),
                         __FILE__, __LINE__);
            return -1;
        }
        auto store = openStore(path); // what the next command does: runs of dead processes end
        if (!store) {
            QTest::qFail("the store does not open after the kill", __FILE__, __LINE__);
            return -1;
        }
        QSet<RunId> seen;
        for (const RunRecord& run : store->listRuns()) {
            seen.insert(run.id);
            const QString status = name(run.status);
            const QString where = QStringLiteral("run %1 (%2)").arg(run.id).arg(status);
            if (status != "completed") {
                if (status != "interrupted" || m_kept.contains(run.id)) {
                    QTest::qFail(qPrintable(where + " should be completed or interrupted"), __FILE__,
                                 __LINE__);
                    return -1;
                }
                continue;
            }
            KeptRun kept{status, run.summary.epochs, store->stepCount(run.id), run.summary.valLoss,
                         store->model(run.id).size()};
            const bool whole = kept.epochs == kFaultEpochs &&
                               store->epochs(run.id).size() == size_t(kFaultEpochs) && kept.steps > 0 &&
                               kept.steps == run.summary.steps && run.hasModel && kept.modelBytes > 0;
            if (!whole || (m_kept.contains(run.id) && !(m_kept.value(run.id) == kept))) {
                QTest::qFail(qPrintable(where + " is not whole or changed"), __FILE__, __LINE__);
                return -1;
            }
            m_kept.insert(run.id, kept);
        }
        for (auto it = m_kept.cbegin(); it != m_kept.cend(); ++it) {
            if (!seen.contains(it.key())) {
                QTest::qFail(qPrintable(QStringLiteral("finished run %1 was lost").arg(it.key())), __FILE__,
                             __LINE__);
                return -1;
            }
        }
        return int(seen.size());
    }

    // What the user is told after the kills: store check says ok, an interrupted run says so.
    void verifyTold(const QString& db) {
        const CliResult check = runCli({"store", "check", "--db", db});
        QCOMPARE(check.exitCode, 0);
        QVERIFY2(check.out.contains(": ok"), qPrintable(check.out + check.err));
        const CliResult list = runCli({"runs", "list", "--db", db});
        QCOMPARE(list.exitCode, 0);
        QVERIFY(!list.out.contains("running") && !list.out.contains("queued"));
        RawDb raw(db);
        const qint64 interrupted = raw.number("SELECT count(*) FROM runs WHERE status = 'interrupted'");
        QCOMPARE(qint64(list.out.count("interrupted")), interrupted);
    }

    // Kills `arguments` after a random number (0..maxLines) of progress lines, `kills` times; a
    // process that ends before its point must end well. `afterEach` checks more after each.
    void killSeries(const QString& db, const QStringList& arguments, const QRegularExpression& progress,
                    int maxLines, int kills, const std::function<void()>& afterEach) {
        for (int i = 0; i < kills; ++i) {
            const int point = int(m_random.bounded(maxLines + 1));
            CliChild child(arguments);
            const bool reached = point == 0 || child.waitForLines(progress, point);
            if (reached)
                child.killHard();
            else
                QCOMPARE(child.finish(), 0);
            qInfo("%s: %s after %d progress lines", qPrintable(arguments.first()),
                  reached ? "killed" : "finished first", point);
            QVERIFY(verifyStore(db) >= 0);
            afterEach();
            if (QTest::currentTestFailed())
                return;
        }
    }

    static void copyTemplate(const Workspace& from, const QString& to) {
        QFile::remove(to);
        QVERIFY(QFile::copy(from.db, to));
        ::chmod(to.toLocal8Bit().constData(), 0644);
    }

private Q_SLOTS:
    void initTestCase() {
        bool fromEnvironment = false;
        const quint32 seed = quint32(qEnvironmentVariableIntValue("TUNELAB_FAULT_SEED", &fromEnvironment));
        const quint32 used = fromEnvironment ? seed : QRandomGenerator::global()->generate();
        qInfo("fault injection seed %u (replay with TUNELAB_FAULT_SEED=%u)", used, used);
        m_random.seed(used);

        m_template = std::make_unique<Workspace>();
        QCOMPARE(
            runCli({"train", m_template->file("experiment.json"), "--db", m_template->db, "--threads", "1"})
                .exitCode,
            0);
        QCOMPARE(
            runCli({"study", "run", m_template->file("study.json"), "--trials", "2", "--db", m_template->db})
                .exitCode,
            0);
        RawDb raw(m_template->db);
        QCOMPARE(raw.number("SELECT count(*) FROM runs WHERE status = 'completed'"), qint64(3));
        QCOMPARE(raw.number("PRAGMA freelist_count"), qint64(0)); // every page past the first holds data
    }
    void init() { m_kept.clear(); }

    void killedTrainKeepsWhatFinished() {
        Workspace space;
        QVERIFY(openStore(space.db));
        const QStringList arguments{"train", space.file("experiment.json"), "--db", space.db, "--threads",
                                    "1"};
        int processes = 0;
        killSeries(space.db, arguments,
                   QRegularExpression("^(run \\d+ started|epoch \\d+/|run \\d+ (completed|stored))"),
                   kFaultEpochs + 3, 6, [&] {
                       ++processes;
                       RawDb raw(space.db);
                       // One run per process at most: a killed run is never recorded twice.
                       QVERIFY(raw.number("SELECT count(*) FROM runs") <= processes);
                   });
        if (QTest::currentTestFailed())
            return;
        verifyTold(space.db);
    }

    void killedStudyRunContinuesWithoutGaps() {
        Workspace space;
        QCOMPARE(runCli({"study", "create", space.file("study.json"), "--db", space.db}).exitCode, 0);
        constexpr int kTrials = 8;
        const QStringList arguments{"study",     "run", "fault-study", "--trials", QString::number(kTrials),
                                    "--threads", "1",   "--db",        space.db};
        QMap<qint64, double> complete; // trial number -> value, once complete
        const auto verifyTrials = [&] {
            auto store = openStore(space.db);
            QVERIFY(store);
            const auto study = store->findStudy("fault-study");
            QVERIFY(study);
            QSet<qint64> numbers;
            for (const TrialRecord& trial : store->trials(study->id)) {
                QVERIFY2(!numbers.contains(trial.number), "a trial number appears twice");
                numbers.insert(trial.number);
                if (trial.state == TrialState::Complete) {
                    QVERIFY(!complete.contains(trial.number) || complete.value(trial.number) == trial.value);
                    complete.insert(trial.number, trial.value);
                    QCOMPARE(statusOf(*store, trial.runId), "completed");
                }
            }
            for (auto it = complete.cbegin(); it != complete.cend(); ++it)
                QVERIFY2(numbers.contains(it.key()), "a complete trial was lost");
            QVERIFY(numbers.isEmpty() ||
                    *std::max_element(numbers.cbegin(), numbers.cend()) == numbers.size() - 1);
        };
        killSeries(space.db, arguments, QRegularExpression("^trial \\d+ (started|complete)"), 4, 5,
                   verifyTrials);
        if (QTest::currentTestFailed())
            return;

        // The next run re-queues what the kills left running and fills the budget.
        CliChild last(arguments);
        QCOMPARE(last.finish(), 0);
        verifyTrials();
        QVERIFY(verifyStore(space.db) >= 0);
        QCOMPARE(complete.size(), kTrials);
        QCOMPARE(complete.firstKey(), qint64(0));
        QCOMPARE(complete.lastKey(), qint64(kTrials - 1));
        const CliResult status = runCli({"study", "status", "fault-study", "--json", "--db", space.db});
        QCOMPARE(status.exitCode, 0);
        QCOMPARE(status.json()["complete"].toInt(), kTrials);
        QCOMPARE(status.json()["running"].toInt(), 0);
        QCOMPARE(status.json()["waiting"].toInt(), 0);
        verifyTold(space.db);
    }

    void killedRaceKeepsWhatFinished() {
        Workspace space;
        QVERIFY(openStore(space.db));
        const QStringList arguments{"race", space.file("race.json"), "--db", space.db, "--threads", "1"};
        const QRegularExpression progress("^(started \\S+ as run|\\S+ completed after)");
        int processes = 0;
        for (int i = 0; i < 5 && !QTest::currentTestFailed(); ++i) {
            qint64 before = 0;
            {
                RawDb raw(space.db);
                before = raw.number("SELECT count(*) FROM epoch_metrics");
            }
            CliChild child(arguments);
            ++processes;
            // Half the points are lines on stdout, half are epochs committed to the store.
            bool reached = false;
            const int point = int(m_random.bounded(1, 7));
            if (m_random.bounded(2) == 0) {
                reached = child.waitForLines(progress, point);
            } else {
                RawDb raw(space.db);
                const int epochs = point * 3;
                QElapsedTimer clock;
                clock.start();
                while (child.running() && clock.elapsed() < kHangMs &&
                       raw.number("SELECT count(*) FROM epoch_metrics") - before < epochs)
                    child.waitBriefly(25);
                reached = child.running();
            }
            if (reached)
                child.killHard();
            else
                QCOMPARE(child.finish(), 0);
            qInfo("race: %s at progress point %d", reached ? "killed" : "finished first", point);
            const int runs = verifyStore(space.db);
            QVERIFY(runs >= 0 && runs <= 3 * processes);
        }
        if (!QTest::currentTestFailed())
            verifyTold(space.db);
    }

    void readOnlyStoreIsReadAndNeverWritten_data() {
        QTest::addColumn<int>("folderMode");
        QTest::addColumn<int>("fileMode");
        QTest::addColumn<QString>("reason");
        QTest::newRow("read-only folder") << 0555 << 0666 << "its folder is read-only";
        QTest::newRow("read-only file") << 0777 << 0444 << "the file is read-only";
    }
    void readOnlyStoreIsReadAndNeverWritten() {
        QFETCH(int, folderMode);
        QFETCH(int, fileMode);
        QFETCH(QString, reason);
        Workspace space;
        ::chmod(space.dir.path().toLocal8Bit().constData(), 0755);
        QVERIFY(QDir(space.dir.path()).mkdir("store"));
        const QString folder = space.file("store");
        const QString db = folder + "/runs.sqlite";
        copyTemplate(*m_template, db);
        ::chmod(db.toLocal8Bit().constData(), mode_t(fileMode));
        ::chmod(folder.toLocal8Bit().constData(), mode_t(folderMode));
        const QByteArray before = fileBytes(db);

        struct Case {
            QStringList arguments;
            bool writes;
        };
        const QList<Case> cases{
            {{"runs", "list"}, false},
            {{"runs", "show", "1"}, false},
            {{"study", "status", "fault-study"}, false},
            {{"store", "check"}, false},
            {{"train", space.file("experiment.json"), "--epochs", "1"}, true},
            {{"study", "run", "fault-study", "--trials", "3"}, true},
        };
        for (const Case& c : cases) {
            const CliResult result = runCliAs(c.arguments + QStringList{"--db", db}, becomeNobody);
            const QString what = c.arguments.join(' ') + ": " + result.err;
            if (c.writes) {
                QVERIFY2(result.exitCode == 2, qPrintable(what));
                QVERIFY2(result.err.contains("cannot write into this run store") &&
                             result.err.contains(reason),
                         qPrintable(what));
            } else {
                QVERIFY2(result.exitCode == 0, qPrintable(what));
                QVERIFY2(!result.out.isEmpty(), qPrintable(what));
            }
        }
        ::chmod(folder.toLocal8Bit().constData(), 0755);
        QCOMPARE(fileBytes(db), before);
    }

    void damagedPagesAreReportedNeverCrash_data() {
        QTest::addColumn<int>("pages"); // how many whole pages get random bytes
        QTest::newRow("one page") << 1;
        QTest::newRow("two pages") << 2;
        QTest::newRow("three pages") << 3;
    }
    void damagedPagesAreReportedNeverCrash() {
        QFETCH(int, pages);
        Workspace space;
        copyTemplate(*m_template, space.db);
        QByteArray bytes = fileBytes(space.db);
        const int pageSize = 4096;
        const int pageCount = int(bytes.size() / pageSize);
        QVERIFY(pageCount > 4);
        QStringList damaged;
        for (int i = 0; i < pages; ++i) {
            const int page = int(m_random.bounded(2, pageCount + 1)); // 1-based; page 1 is the header
            for (int at = (page - 1) * pageSize; at < page * pageSize; ++at)
                bytes[at] = char(m_random.bounded(256));
            damaged << QString::number(page);
        }
        qInfo("random bytes over page(s) %s of %d", qPrintable(damaged.join(", ")), pageCount);
        {
            QFile file(space.db);
            QVERIFY(file.open(QIODevice::WriteOnly));
            file.write(bytes);
        }

        const CliResult check = runCli({"store", "check", "--db", space.db});
        QCOMPARE(check.exitCode, 4);
        QVERIFY2(check.err.contains("is damaged"), qPrintable(check.err));
        const CliResult train = runCli({"train", space.file("experiment.json"), "--db", space.db});
        QCOMPARE(train.exitCode, 2);
        // Whether the damage stops the first read or only the check, the message says what to do.
        QVERIFY2(train.err.contains("is damaged") && train.err.contains("will not write into it") &&
                     train.err.contains("store check --db") && train.err.contains(".recover"),
                 qPrintable(train.err));
        // Readers read what they can or say why not; none ends on a signal or hangs.
        for (const QStringList& reader :
             {QStringList{"runs", "list"}, QStringList{"runs", "show", "1"},
              QStringList{"study", "status", "fault-study"}, QStringList{"study", "list"}}) {
            const CliResult result = runCli(reader + QStringList{"--db", space.db});
            const QString what =
                reader.join(' ') + " exited " + QString::number(result.exitCode) + ": " + result.err;
            QVERIFY2(result.exitCode >= 0, qPrintable(what)); // -1: killed by a signal or hung
            QVERIFY2(result.exitCode == 0 ||
                         (result.err.contains(space.db) && result.err.contains("damaged")),
                     qPrintable(what));
        }
        QCOMPARE(fileBytes(space.db), bytes); // nothing wrote into the damaged file
    }

    void sharedStoreLosesNothing() {
        Workspace space;
        QCOMPARE(runCli({"study", "create", space.file("study.json"), "--db", space.db}).exitCode, 0);
        constexpr int kTrials = 6;
        std::vector<std::unique_ptr<CliChild>> writers;
        for (int i = 0; i < 2; ++i)
            writers.push_back(std::make_unique<CliChild>(
                QStringList{"train", space.file("experiment.json"), "--db", space.db, "--threads", "1"}));
        for (int i = 0; i < 2; ++i)
            writers.push_back(std::make_unique<CliChild>(QStringList{
                "study", "run", "fault-study", "--trials", QString::number(kTrials), "--db", space.db}));
        // Readers in a loop while any writer runs.
        int reads = 0;
        const auto anyRunning = [&] {
            return std::any_of(writers.begin(), writers.end(), [](const auto& w) { return w->running(); });
        };
        while (anyRunning() || reads < 2) {
            const QStringList reader =
                reads % 2 == 0 ? QStringList{"runs", "list"} : QStringList{"study", "status", "fault-study"};
            const CliResult result = runCli(reader + QStringList{"--db", space.db});
            QVERIFY2(result.exitCode == 0, qPrintable(reader.join(' ') + ": " + result.err));
            QVERIFY2(!result.err.contains("locked"), qPrintable(result.err));
            ++reads;
        }
        for (auto& writer : writers) {
            QCOMPARE(writer->finish(), 0);
            QVERIFY2(!writer->output().contains("locked") && !writer->output().contains("busy"),
                     qPrintable(writer->output()));
        }
        qInfo("%d reads while 4 writers shared the store", reads);

        RawDb raw(space.db);
        QCOMPARE(raw.number("SELECT count(*) FROM runs"), qint64(2 + kTrials));
        QCOMPARE(raw.number("SELECT count(*) FROM runs WHERE status = 'completed'"), qint64(2 + kTrials));
        QCOMPARE(raw.number("SELECT count(DISTINCT number) FROM trials WHERE state = 'complete'"),
                 qint64(kTrials));
        QCOMPARE(raw.number("SELECT count(*) FROM trials"), qint64(kTrials));
        QCOMPARE(raw.number("SELECT max(number) FROM trials"), qint64(kTrials - 1));
        QCOMPARE(raw.number("SELECT count(DISTINCT run_id) FROM trials"), qint64(kTrials));
        QVERIFY(verifyStore(space.db) == 2 + kTrials);
    }
};

QTEST_GUILESS_MAIN(TestFaultInjection)
#include "tst_fault_injection.moc"
