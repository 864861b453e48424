// Population-based training's study file and its planner: which member trains next, from where,
// with which hyperparameters, on histories built by hand.

#include "run_store_test_support.h"
#include "search/search_space.h"
#include "store/run_store.h"
#include "study/population.h"
#include "study/study.h"
#include "study/study_runner.h"

#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <chrono>
#include <mutex>
#include <thread>

#include <map>
#include <set>
#include <string>

using namespace tunelab;

namespace {

const char* const kExperiment =
    "{\"data\": {\"kind\": \"blobs\"}, \"model\": {\"layers\": [{\"type\": \"linear\", \"out_features\": 8},"
    " {\"type\": \"relu\"}, {\"type\": \"dropout\", \"p\": 0.1}, {\"type\": \"linear\", \"out_features\": "
    "3}]},"
    " \"optimizer\": {\"type\": \"sgd\", \"lr\": 0.01, \"momentum\": 0.5}, \"training\": {\"epochs\": 6}}";

const char* const kSpace =
    "{\"parameters\": [{\"path\": \"optimizer.lr\", \"kind\": \"float\", \"low\": 0.001, \"high\": 0.5, "
    "\"log\": true},"
    " {\"path\": \"training.batch_size\", \"kind\": \"int\", \"low\": 2, \"high\": 64},"
    " {\"path\": \"model.layers[2].p\", \"kind\": \"categorical\", \"choices\": [0.0, 0.1, 0.2, 0.3]}]}";

std::string studyText(const std::string& population, const std::string& extra = {},
                      const std::string& space = kSpace) {
    return std::string("{\"name\": \"pbt\", \"experiment\": ") + kExperiment + ", \"space\": " + space +
           ", \"population\": " + population + extra + "}";
}

std::string joined(const Result<StudySpec>& result) {
    std::string text;
    if (result.ok())
        return text;
    for (const auto& error : result.errors())
        text += error + "\n";
    return text;
}

SearchSpace space() {
    return parseSearchSpace(kSpace).take();
}

Assignment params(double lr, int batch = 16, const char* p = "0.1") {
    Assignment assignment;
    assignment["optimizer.lr"] = ParamValue{QByteArray::number(lr, 'g', 17).toStdString()};
    assignment["training.batch_size"] = ParamValue{std::to_string(batch)};
    assignment["model.layers[2].p"] = ParamValue{p};
    return assignment;
}

// One stretch of one member: epochs startEpoch+1 .. startEpoch+values.size() with these values.
TrialRecord stretch(int64_t number, int member, int64_t parent, int startEpoch, TrialState state,
                    std::vector<double> values, double lr = 0.01) {
    TrialRecord trial;
    trial.number = number;
    trial.member = member;
    trial.parentNumber = parent;
    trial.startEpoch = startEpoch;
    trial.state = state;
    trial.params = params(lr);
    for (size_t i = 0; i < values.size(); ++i)
        trial.intermediate[startEpoch + 1 + static_cast<int>(i)] = values[i];
    trial.value = values.empty() ? kNoValue : values.back();
    return trial;
}

struct Planner {
    SearchSpace searchSpace = space();
    PopulationSettings settings;
    PopulationPlanner planner;
    explicit Planner(int size = 4)
        : settings(makeSettings(size))
        , planner(settings, searchSpace, ObjectiveSpec{}, 6, 7) {}
    static PopulationSettings makeSettings(int size) {
        PopulationSettings settings;
        settings.size = size;
        settings.interval = 2;
        return settings;
    }
    PopulationStep next(const std::map<int64_t, TrialRecord>& trials) const {
        const int64_t number = trials.empty() ? 0 : trials.rbegin()->first + 1;
        return planner.next(trials, number, [](int64_t trial) { return params(0.001 * (trial + 1)); });
    }
};

// Four members that each finished their first stretch (epochs 1-2) with these last values.
std::map<int64_t, TrialRecord> firstStretches(const std::vector<double>& finals) {
    std::map<int64_t, TrialRecord> trials;
    for (int m = 0; m < static_cast<int>(finals.size()); ++m)
        trials[m] = stretch(m, m, -1, 0, TrialState::Complete, {finals[m] + 0.5, finals[m]}, 0.01 * (m + 1));
    return trials;
}

// Training without a network: a member's loss falls each epoch by a rate that is best at a learning
// rate of 0.1, from where its parent's run left it. Runs are real rows of the store, so the runner's
// lineage (which run a stretch continues) is checked against what each stretch was handed.
class FakeTraining : public TrialObjective {
public:
    explicit FakeTraining(RunStore& store)
        : m_store(store) {}

    TrialOutcome evaluate(const TrialTask& task, TrialReporter& reporter) override {
        TrialOutcome outcome;
        const RunId run = m_store.createRun(task.runName, "{}").value();
        m_store.setTrialRun(task.trialId, run);
        double loss = 1.0;
        int epoch = 0;
        {
            std::lock_guard<std::mutex> lock(m_mutex);
            if (task.resumeRun > 0) {
                const auto parent = m_ends.find(task.resumeRun);
                if (parent == m_ends.end()) {
                    outcome.message = "continued a run that never finished";
                    return outcome;
                }
                epoch = parent->second.first;
                loss = parent->second.second;
            }
            m_starts[task.number] = {epoch, loss};
        }
        const double lr = task.params.at("optimizer.lr").toDouble();
        const double rate = 0.5 / (1.0 + std::pow(std::log10(lr / 0.1), 2));
        while (epoch < task.lastEpoch) {
            std::this_thread::sleep_for(std::chrono::milliseconds(1 + task.number % 3));
            loss *= 1.0 - rate;
            reporter.report(++epoch, loss);
        }
        std::lock_guard<std::mutex> lock(m_mutex);
        m_ends[run] = {epoch, loss};
        outcome.state = TrialState::Complete;
        outcome.value = loss;
        return outcome;
    }

    // Where each trial started: its first epoch - 1 and the loss it continued from.
    std::map<int64_t, std::pair<int, double>> starts() const {
        std::lock_guard<std::mutex> lock(m_mutex);
        return m_starts;
    }

private:
    RunStore& m_store;
    mutable std::mutex m_mutex;
    std::map<RunId, std::pair<int, double>> m_ends;
    std::map<int64_t, std::pair<int, double>> m_starts;
};

} // namespace

class TestPopulation : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void aStudyFileSetsUpThePopulation() {
        const auto parsed = parseStudySpec(studyText("{\"size\": 4, \"interval\": 2}"));
        QVERIFY2(parsed.ok(), joined(parsed).c_str());
        const StudySpec& spec = parsed.value();
        QVERIFY(isPopulationStudy(spec));
        QCOMPARE(spec.population.size, 4);
        QCOMPARE(spec.population.interval, 2);
        QCOMPARE(spec.population.quantile, 0.25);
        QCOMPARE(spec.sampler.type, std::string("random"));
        QCOMPARE(spec.pruner.type, std::string("none"));
        QCOMPARE(spec.budget.trials, int64_t{12}); // 4 members x 3 stretches of 2 of the 6 epochs
        // Written and read back alike.
        const auto again = parseStudySpec(studySpecToJson(spec));
        QVERIFY2(again.ok(), joined(again).c_str());
        QCOMPARE(again.value().population.size, 4);
        QCOMPARE(again.value().budget.trials, int64_t{12});
        QCOMPARE(studySpecToJson(again.value()), studySpecToJson(spec));
    }

    void aStudyFileThatCannotWorkIsRefused_data() {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("message");
        QTest::newRow("one member") << QString::fromStdString(studyText("{\"size\": 1}"))
                                    << "population.size: expected a whole number of members from 2 to 256";
        QTest::newRow("no size") << QString::fromStdString(studyText("{\"interval\": 2}"))
                                 << "population.size: missing";
        QTest::newRow("unknown key") << QString::fromStdString(studyText("{\"size\": 4, \"every\": 2}"))
                                     << "population.every: unknown key";
        QTest::newRow("as long as training")
            << QString::fromStdString(studyText("{\"size\": 4, \"interval\": 6}"))
            << "population.interval: 6 epochs is not shorter than the training (6 epochs)";
        QTest::newRow("quantile above a half")
            << QString::fromStdString(studyText("{\"size\": 4, \"quantile\": 0.6}"))
            << "population.quantile: expected a fraction from 0.01 to 0.5";
        QTest::newRow("a pruner") << QString::fromStdString(
                                         studyText("{\"size\": 4}", ", \"pruner\": \"median\""))
                                  << "pruner: a population study stops no member early";
        QTest::newRow("a width") << QString::fromStdString(studyText(
                                        "{\"size\": 4}", {},
                                        "{\"parameters\": [{\"path\": \"model.layers[0].out_features\", "
                                        "\"kind\": \"int\", \"low\": 4,"
                                        " \"high\": 16}]}"))
                                 << "space: parameters[0] (model.layers[0].out_features): members of a "
                                    "population copy each other's "
                                    "weights";
        QTest::newRow("a layer with weights among the choices")
            << QString::fromStdString(studyText(
                   "{\"size\": 4}", {},
                   "{\"parameters\": [{\"path\": \"model.layers[1]\", \"kind\": \"categorical\","
                   " \"choices\": [{\"type\": \"relu\"}, {\"type\": \"linear\", \"out_features\": 8}]}]}"))
            << "space: parameters[0] (model.layers[1]): members of a population copy each other's weights";
        QTest::newRow("two objectives")
            << QString::fromStdString(
                   studyText("{\"size\": 4}",
                             ", \"objectives\": [{\"metric\": \"val_loss\"}, {\"metric\": \"parameters\"}]"))
            << "population: a population is ranked by one objective";
    }

    void aStudyFileThatCannotWorkIsRefused() {
        QFETCH(QString, text);
        QFETCH(QString, message);
        const auto parsed = parseStudySpec(text.toStdString());
        QVERIFY(!parsed.ok());
        QVERIFY2(joined(parsed).find(message.toStdString()) != std::string::npos, joined(parsed).c_str());
    }

    void anActivationMayBeSearched() {
        // Swapping one activation for another keeps every weight: a population may search it.
        const auto parsed = parseStudySpec(studyText(
            "{\"size\": 4}", {},
            "{\"parameters\": [{\"path\": \"model.layers[1]\", \"kind\": \"categorical\", \"choices\":"
            " [{\"type\": \"relu\"}, {\"type\": \"gelu\"}, {\"type\": \"tanh\"}]}]}"));
        QVERIFY2(parsed.ok(), joined(parsed).c_str());
    }

    void newMembersStartFromScratchFirst() {
        Planner planner;
        std::map<int64_t, TrialRecord> trials;
        for (int m = 0; m < 4; ++m) {
            const PopulationStep step = planner.next(trials);
            QCOMPARE(step.kind, PopulationStep::Kind::Train);
            QCOMPARE(step.lineage.member, m);
            QCOMPARE(step.lineage.parentNumber, int64_t{-1});
            QCOMPARE(step.lineage.startEpoch, 0);
            trials[m] = stretch(m, m, -1, 0, TrialState::Running, {});
        }
        // Every member is training: nothing to start until one finishes.
        QCOMPARE(planner.next(trials).kind, PopulationStep::Kind::Wait);
        QCOMPARE(planner.planner.lastEpochOf(trials[0]), 2);
    }

    void theWorstQuantileCopiesTheBest() {
        Planner planner;
        auto trials = firstStretches({0.1, 0.4, 0.2, 0.3});
        // Member 0 goes on as itself; so do 2 and 3; member 1, the worst of four, copies member 0.
        std::map<int, PopulationStep> steps;
        for (int i = 0; i < 4; ++i) {
            const PopulationStep step = planner.next(trials);
            QCOMPARE(step.kind, PopulationStep::Kind::Train);
            const int64_t number = trials.rbegin()->first + 1;
            steps[step.lineage.member] = step;
            trials[number] = stretch(number, step.lineage.member, step.lineage.parentNumber,
                                     step.lineage.startEpoch, TrialState::Running, {});
        }
        QCOMPARE(steps.size(), size_t{4});
        for (const int kept : {0, 2, 3}) {
            QCOMPARE(steps[kept].lineage.parentNumber, int64_t{kept});
            QCOMPARE(steps[kept].lineage.startEpoch, 2);
            QVERIFY(steps[kept].params == trials[kept].params);
        }
        QCOMPARE(steps[1].lineage.parentNumber, int64_t{0});
        QCOMPARE(steps[1].lineage.startEpoch, 2);
        QVERIFY(steps[1].params != trials[0].params); // explored
        // Maximizing turns the ranking around: member 1 leads, member 0 copies it.
        ObjectiveSpec accuracy;
        accuracy.metric = "val_accuracy";
        accuracy.direction = ObjectiveDirection::Maximize;
        PopulationPlanner maximizing(planner.settings, planner.searchSpace, accuracy, 6, 7);
        const PopulationStep first =
            maximizing.next(firstStretches({0.1, 0.4, 0.2, 0.3}), 4, [](int64_t) { return params(0.1); });
        QCOMPARE(first.lineage.member, 0);
        QCOMPARE(first.lineage.parentNumber, int64_t{1});
    }

    void aMemberWaitsForTheOthersToCatchUp() {
        Planner planner;
        auto trials = firstStretches({0.1, 0.4, 0.2, 0.3});
        trials[4] = stretch(4, 0, 0, 2, TrialState::Complete, {0.09, 0.08}); // member 0 reached epoch 4
        trials[5] = stretch(5, 1, 0, 2, TrialState::Running, {});
        trials[6] = stretch(6, 2, 2, 2, TrialState::Running, {});
        trials[7] = stretch(7, 3, 3, 2, TrialState::Running, {});
        QCOMPARE(planner.next(trials).kind, PopulationStep::Kind::Wait);
        trials[5].state = TrialState::Complete;
        trials[5].intermediate = {{3, 0.2}, {4, 0.15}};
        trials[6].state = TrialState::Complete;
        trials[6].intermediate = {{3, 0.2}, {4, 0.19}};
        QCOMPARE(planner.next(trials).kind, PopulationStep::Kind::Wait); // member 3 still trains to epoch 4
        trials[7].state = TrialState::Complete;
        trials[7].intermediate = {{3, 0.3}, {4, 0.25}};
        const PopulationStep step = planner.next(trials);
        QCOMPARE(step.kind, PopulationStep::Kind::Train);
        QCOMPARE(step.lineage.member, 0);
        QCOMPARE(step.lineage.startEpoch, 4);
    }

    void aFailedStretchRestartsFromTheBestAndThreeInARowGiveUp() {
        Planner planner;
        auto trials = firstStretches({0.1, 0.4, 0.2, 0.3});
        trials[4] = stretch(4, 3, 3, 2, TrialState::Failed, {});
        const PopulationStep restart = planner.next(trials);
        QCOMPARE(restart.lineage.member, 3);
        QCOMPARE(restart.lineage.parentNumber, int64_t{0});
        QCOMPARE(restart.lineage.startEpoch, 2);
        trials[5] = stretch(5, 3, 0, 2, TrialState::Failed, {});
        trials[6] = stretch(6, 3, 0, 2, TrialState::Failed, {});
        // Member 3 is given up; the others go on and are no longer held back by it.
        const PopulationStep next = planner.next(trials);
        QCOMPARE(next.kind, PopulationStep::Kind::Train);
        QVERIFY(next.lineage.member != 3);
    }

    void thePopulationEndsWhenEveryMemberHasTrainedEveryEpoch() {
        Planner planner(2);
        std::map<int64_t, TrialRecord> trials;
        trials[0] = stretch(0, 0, -1, 0, TrialState::Complete, {0.5, 0.4});
        trials[1] = stretch(1, 1, -1, 0, TrialState::Complete, {0.6, 0.5});
        trials[2] = stretch(2, 0, 0, 2, TrialState::Complete, {0.3, 0.2});
        trials[3] = stretch(3, 1, 1, 2, TrialState::Complete, {0.3, 0.25});
        trials[4] = stretch(4, 0, 2, 4, TrialState::Complete, {0.15, 0.1});
        trials[5] = stretch(5, 1, 3, 4, TrialState::Running, {});
        QCOMPARE(planner.next(trials).kind, PopulationStep::Kind::Wait);
        trials[5].state = TrialState::Complete;
        trials[5].intermediate = {{5, 0.2}, {6, 0.12}};
        const PopulationStep done = planner.next(trials);
        QCOMPARE(done.kind, PopulationStep::Kind::Done);
        QVERIFY2(done.reason.find("trained its 6 epochs") != std::string::npos, done.reason.c_str());
    }

    void theRunnerTrainsAPopulationThreeAtATime() {
        QTemporaryDir dir;
        auto store = RunStore::open(dir.filePath("runs.sqlite").toStdString()).take();
        auto spec = parseStudySpec(studyText("{\"size\": 4, \"interval\": 2}", ", \"parallel\": 3"));
        QVERIFY2(spec.ok(), joined(spec).c_str());
        const StudyId id = store->createStudy("pbt", studySpecToJson(spec.value())).value();
        FakeTraining training(*store);
        StudyRunner runner(*store, id, training);
        const auto summary = runner.run();
        QVERIFY2(summary.ok(), summary.error().c_str());
        QVERIFY2(summary.value().endReason.find("trained its 6 epochs") != std::string::npos,
                 summary.value().endReason.c_str());
        const auto trials = store->trials(id, true);
        QCOMPARE(trials.size(), size_t{12});
        std::map<int64_t, TrialRecord> byNumber;
        for (const TrialRecord& trial : trials)
            byNumber[trial.number] = trial;
        const auto starts = training.starts();
        int exploits = 0;
        for (const TrialRecord& trial : trials) {
            QVERIFY2(trial.state == TrialState::Complete, trial.message.c_str());
            // Each stretch was handed the run of the trial it continues, at the epoch that trial ended.
            QCOMPARE(starts.at(trial.number).first, trial.startEpoch);
            if (trial.parentNumber < 0) {
                QCOMPARE(trial.startEpoch, 0);
                continue;
            }
            const TrialRecord& parent = byNumber.at(trial.parentNumber);
            QCOMPARE(starts.at(trial.number).second, parent.value);
            QCOMPARE(trial.startEpoch, parent.intermediate.rbegin()->first);
            exploits += parent.member != trial.member;
        }
        QCOMPARE(exploits, 2); // the worst of four at each of the two boundaries
        // Copying the best makes the population's best better than its best member trained alone.
        double bestAlone = INFINITY;
        for (const TrialRecord& trial : trials)
            if (trial.parentNumber < 0) {
                double loss = trial.value;
                const double lr = trial.params.at("optimizer.lr").toDouble();
                for (int epoch = 2; epoch < 6; ++epoch)
                    loss *= 1.0 - 0.5 / (1.0 + std::pow(std::log10(lr / 0.1), 2));
                bestAlone = std::min(bestAlone, loss);
            }
        QVERIFY(summary.value().best->value <= bestAlone);
    }

    void aMemberWhoseProcessDiedDoesNotHoldThePopulationBack() {
        QTemporaryDir dir;
        const QString path = dir.filePath("runs.sqlite");
        auto store = RunStore::open(path.toStdString()).take();
        auto spec = parseStudySpec(studyText("{\"size\": 4, \"interval\": 2}", ", \"parallel\": 2"));
        QVERIFY(spec.ok());
        const StudyId id = store->createStudy("pbt", studySpecToJson(spec.value())).value();
        // Member 0's first stretch is running in another process (a stand-in that dies later).
        QProcess other;
        other.start("sleep", {"30"});
        QVERIFY(other.waitForStarted());
        const auto held = store->createTrial(id, params(0.1), TrialState::Running,
                                             RunStore::TrialOwner::ThisProcess, TrialLineage{0, -1, 0});
        QVERIFY(held.ok());
        QFile stat(QString("/proc/%1/stat").arg(other.processId()));
        QVERIFY(stat.open(QIODevice::ReadOnly));
        const QString started =
            QString::fromLatin1(stat.readAll()).section(')', 1).split(' ', Qt::SkipEmptyParts)[19];
        {
            tunelab::test::RawDb raw(path);
            QVERIFY(raw.exec(QString("UPDATE trials SET owner_pid = %1, owner_started = %2 WHERE id = %3")
                                 .arg(other.processId())
                                 .arg(started)
                                 .arg(held.value().id)));
        }
        FakeTraining training(*store);
        StudyRunner runner(*store, id, training);
        QVERIFY(runner.start().ok());
        // The other members train their first stretch and wait at epoch 2 for member 0.
        QTest::qWait(1500);
        QVERIFY(!runner.finished());
        QCOMPARE(store->trials(id).size(), size_t{4});
        other.kill();
        other.waitForFinished();
        QTRY_VERIFY_WITH_TIMEOUT(runner.finished(), 20000);
        runner.wait();
        const auto trials = store->trials(id, true);
        QCOMPARE(trials.size(), size_t{12});
        for (const TrialRecord& trial : trials)
            QVERIFY2(trial.state == TrialState::Complete, trial.message.c_str());
        QCOMPARE(trials.front().requeues, 1);
    }

    void exploringMovesEachHyperparameterWithinItsRange() {
        Planner planner;
        const Assignment start = params(0.4, 3, "0.3");
        bool lrUp = false, lrDown = false;
        for (uint64_t key = 0; key < 200; ++key) {
            const Assignment explored = planner.planner.explore(start, key);
            QCOMPARE(explored.size(), size_t{3});
            const double lr = explored.at("optimizer.lr").toDouble();
            QVERIFY(lr >= 0.001 && lr <= 0.5);
            lrUp = lrUp || std::abs(lr - 0.48) < 1e-9;
            lrDown = lrDown || std::abs(lr - 0.32) < 1e-9;
            const int64_t batch = explored.at("training.batch_size").toInt();
            QVERIFY(batch >= 2 && batch <= 64);
            const std::string p = explored.at("model.layers[2].p").json;
            QVERIFY(p == "0.0" || p == "0.1" || p == "0.2" || p == "0.3");
            QVERIFY(explored == planner.planner.explore(start, key)); // one key, one result
        }
        QVERIFY(lrUp && lrDown); // x1.2 and x0.8 both happen
        // With resampling certain, every value is drawn afresh from the space.
        PopulationSettings resampling = planner.settings;
        resampling.resampleProbability = 1.0;
        PopulationPlanner drawing(resampling, planner.searchSpace, ObjectiveSpec{}, 6, 7);
        std::set<std::string> lrs;
        for (uint64_t key = 0; key < 20; ++key)
            lrs.insert(drawing.explore(start, key).at("optimizer.lr").json);
        QVERIFY(lrs.size() > 15);
    }
};

QTEST_GUILESS_MAIN(TestPopulation)
#include "tst_population.moc"
