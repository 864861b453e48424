#include "search/pareto.h"
#include "search/samplers.h"

#include "sampler_test_support.h"

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <set>

using namespace tunelab;
using namespace tunelab::test;

namespace {

using Objectives = std::vector<double> (*)(const Assignment&);

// NSGA-II with a small population, so that a short study runs through several generations.
constexpr int kSmallPopulation = 10;

std::unique_ptr<Sampler> makeNamed(const QString& type, uint64_t seed, const SearchSpace& space) {
    SamplerSettings settings;
    settings.type = type.toStdString();
    settings.seed = seed;
    auto made = makeSampler(settings, space);
    if (!made.ok())
        qFatal("%s", made.error().c_str());
    return made.take();
}

std::unique_ptr<Sampler> makeWithSmallPopulation(const QString& type, uint64_t seed,
                                                 const SearchSpace& space) {
    if (type != "nsga2")
        return makeNamed(type, seed, space);
    NsgaIISettings settings;
    settings.seed = seed;
    settings.populationSize = kSmallPopulation;
    return std::make_unique<NsgaIISampler>(settings);
}

Assignment suggestOrFail(Sampler& sampler, const SearchSpace& space, int64_t trial,
                         const std::vector<FinishedTrial>& history) {
    auto suggested = sampler.suggest(space, trial, history);
    if (!suggested)
        qFatal("no suggestion for trial %lld", static_cast<long long>(trial));
    return *suggested;
}

FinishedTrial trialWith(int64_t number, const Assignment& assignment, std::vector<double> values,
                        TrialState state = TrialState::Complete, double violation = 0.0) {
    FinishedTrial trial;
    trial.number = number;
    trial.assignment = assignment;
    trial.value = values.empty() ? 0.0 : values[0];
    trial.values = std::move(values);
    trial.state = state;
    trial.violation = violation;
    return trial;
}

std::vector<double> unitPoint(const Assignment& a, size_t dimensions) {
    std::vector<double> x;
    for (size_t i = 0; i < dimensions; ++i)
        x.push_back(a.at("x" + std::to_string(i)).toDouble());
    return x;
}

std::vector<double> zdt1(const Assignment& a) {
    const std::vector<double> x = unitPoint(a, 10);
    double sum = 0.0;
    for (size_t i = 1; i < x.size(); ++i)
        sum += x[i];
    const double g = 1.0 + 9.0 * sum / 9.0;
    return {x[0], g * (1.0 - std::sqrt(x[0] / g))};
}

// Two made-up objectives over the mixed space that pull the learning rate opposite ways.
std::vector<double> mixedObjectives(const Assignment& a) {
    const double lr = std::log10(a.at("optimizer.lr").toDouble());
    double loss = std::pow(lr + 2.0, 2.0) + a.at("optimizer.weight_decay").toDouble();
    loss += a.at("optimizer.type").json == "\"sgd\"" ? 0.0 : 0.5;
    const double cost = std::pow(lr + 4.0, 2.0) + a.at("training.batch_size").toDouble() / 256.0;
    return {loss, cost};
}

std::vector<double> conditionalObjectives(const Assignment& a) {
    const double lr = std::log10(a.at("optimizer.lr").toDouble());
    double loss = std::pow(lr + 2.0, 2.0);
    loss += a.count("optimizer.momentum") ? std::fabs(a.at("optimizer.momentum").toDouble() - 0.9) : 0.6;
    return {loss, std::pow(lr + 3.0, 2.0)};
}

std::vector<FinishedTrial> runStudy(Sampler& sampler, const SearchSpace& space, int trials,
                                    Objectives objectives) {
    std::vector<FinishedTrial> history;
    for (int trial = 0; trial < trials; ++trial) {
        const Assignment a = suggestOrFail(sampler, space, trial, history);
        history.push_back(trialWith(trial, a, objectives(a)));
    }
    return history;
}

double finalHypervolume(const std::vector<FinishedTrial>& history, const ObjectivePoint& reference) {
    std::vector<ObjectivePoint> points;
    for (const auto& trial : history)
        points.push_back(trial.values);
    return hypervolume(points, reference);
}

SearchSpace unitBox(int dimensions) {
    std::string json = R"({"parameters": [)";
    for (int i = 0; i < dimensions; ++i)
        json += (i == 0 ? "" : ", ") + std::string(R"({"path": "x)") + std::to_string(i) +
                R"(", "kind": "float", "low": 0, "high": 1})";
    return parse((json + "]}").c_str());
}

void addSamplerRows() {
    QTest::addColumn<QString>("type");
    QTest::newRow("nsga2") << "nsga2";
    QTest::newRow("motpe") << "motpe";
}

} // namespace

class TestMultiObjectiveSamplers : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void makeSamplerKnowsThem_data() { addSamplerRows(); }
    void makeSamplerKnowsThem() {
        QFETCH(QString, type);
        const std::string name = type.toStdString();
        QVERIFY(std::find(samplerNames().begin(), samplerNames().end(), name) != samplerNames().end());
        const SearchSpace space = unitBox(3);
        QCOMPARE(int(suggestOrFail(*makeNamed(type, 1, space), space, 0, {}).size()), 3);
    }

    void suggestionsAreDeterministic_data() { addSamplerRows(); }
    void suggestionsAreDeterministic() {
        QFETCH(QString, type);
        const SearchSpace space = parse(kMixedSpace);
        auto first = makeWithSmallPopulation(type, 42, space);
        const std::vector<FinishedTrial> history = runStudy(*first, space, 40, mixedObjectives);
        std::vector<Assignment> forward;
        for (int64_t trial = 40; trial < 50; ++trial)
            forward.push_back(suggestOrFail(*first, space, trial, history));
        // A second instance, asked in reverse order with the history shuffled, as a resumed or
        // parallel study might.
        std::vector<FinishedTrial> shuffled = history;
        std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(3));
        auto second = makeWithSmallPopulation(type, 42, space);
        for (int64_t trial = 49; trial >= 40; --trial)
            QVERIFY(suggestOrFail(*second, space, trial, shuffled) ==
                    forward[static_cast<size_t>(trial - 40)]);
        // Another seed gives other values.
        auto other = makeWithSmallPopulation(type, 43, space);
        int same = 0;
        for (int64_t trial = 40; trial < 50; ++trial)
            same += suggestOrFail(*other, space, trial, history) == forward[static_cast<size_t>(trial - 40)]
                        ? 1
                        : 0;
        QVERIFY(same < 3);
    }

    void valuesAreValidForEveryKind_data() { addSamplerRows(); }
    void valuesAreValidForEveryKind() {
        QFETCH(QString, type);
        const SearchSpace space = parse(kMixedSpace);
        auto sampler = makeWithSmallPopulation(type, 3, space);
        std::vector<FinishedTrial> history;
        for (int trial = 0; trial < 80; ++trial) {
            const Assignment a = suggestOrFail(*sampler, space, trial, history);
            verifyMixedAssignment(a);
            if (QTest::currentTestFailed())
                return;
            // Pruned and failed trials join the history too.
            const TrialState state = trial % 7 == 3   ? TrialState::Pruned
                                     : trial % 7 == 5 ? TrialState::Failed
                                                      : TrialState::Complete;
            history.push_back(trialWith(trial, a, mixedObjectives(a), state));
        }
    }

    void conditionsHold_data() { addSamplerRows(); }
    void conditionsHold() {
        QFETCH(QString, type);
        const SearchSpace space = parse(kConditionalSpace);
        auto sampler = makeWithSmallPopulation(type, 11, space);
        std::vector<FinishedTrial> history;
        int sgd = 0;
        for (int trial = 0; trial < 120; ++trial) {
            const Assignment a = suggestOrFail(*sampler, space, trial, history);
            const bool isSgd = a.at("optimizer.type").json == "\"sgd\"";
            QCOMPARE(a.count("optimizer.momentum") == 1, isSgd);
            QCOMPARE(int(a.size()), isSgd ? 3 : 2);
            if (isSgd) {
                ++sgd;
                const double momentum = a.at("optimizer.momentum").toDouble();
                QVERIFY(momentum >= 0.0 && momentum <= 0.99);
            }
            const double lr = a.at("optimizer.lr").toDouble();
            QVERIFY(lr >= 1e-4 && lr <= 0.1);
            history.push_back(trialWith(trial, a, conditionalObjectives(a)));
        }
        // Both kinds of trial stay in the search: each wins one of the objectives somewhere.
        QVERIFY2(sgd > 10 && sgd < 110, qPrintable(QString::number(sgd)));
    }

    void nsga2ChoosesParentsAmongFeasibleCompleteTrials_data() {
        QTest::addColumn<QString>("variant");
        QTest::addColumn<QString>("expected");
        // Trials of choice "b" dominate those of choice "a" in both objectives, but they are
        // infeasible, or never finished; only with neither do children take "b".
        QTest::newRow("b infeasible") << "infeasible"
                                      << "a";
        QTest::newRow("b failed") << "failed"
                                  << "a";
        QTest::newRow("b pruned") << "pruned"
                                  << "a";
        QTest::newRow("b running") << "running"
                                   << "a";
        QTest::newRow("b feasible and complete") << "complete"
                                                 << "b";
        QTest::newRow("single objective, b better") << "single objective"
                                                    << "b";
    }
    void nsga2ChoosesParentsAmongFeasibleCompleteTrials() {
        QFETCH(QString, variant);
        QFETCH(QString, expected);
        const SearchSpace space = parse(R"({"parameters": [
            {"path": "group", "kind": "categorical", "choices": ["a", "b"]},
            {"path": "x", "kind": "float", "low": 0, "high": 1}]})");
        NsgaIISettings settings;
        settings.seed = 5;
        settings.populationSize = 5;
        settings.mutationProbability = 0.0; // children only recombine their parents
        NsgaIISampler sampler(settings);
        std::vector<FinishedTrial> history;
        for (int trial = 0; trial < 10; ++trial) {
            const double x = 0.1 * trial;
            const bool b = trial % 2 == 1;
            Assignment a = {{"group", ParamValue{b ? "\"b\"" : "\"a\""}},
                            {"x", ParamValue{QByteArray::number(x).toStdString()}}};
            TrialState state = TrialState::Complete;
            double violation = 0.0;
            if (b && variant == "infeasible")
                violation = 1.0;
            else if (b && variant == "failed")
                state = TrialState::Failed;
            else if (b && variant == "pruned")
                state = TrialState::Pruned;
            else if (b && variant == "running")
                state = TrialState::Running;
            history.push_back(trialWith(
                trial, a, b ? std::vector<double>{x, 1.0 - x} : std::vector<double>{10.0 + x, 11.0 - x},
                state, violation));
            if (variant == "single objective")
                history.back().values.clear();
        }
        for (int64_t trial = 10; trial < 40; ++trial) {
            const Assignment child = suggestOrFail(sampler, space, trial, history);
            QCOMPARE(QString::fromStdString(child.at("group").json), "\"" + expected + "\"");
        }
    }

    void fewCompleteTrialsDrawAtRandom_data() { addSamplerRows(); }
    void fewCompleteTrialsDrawAtRandom() {
        QFETCH(QString, type);
        const SearchSpace space = parse(kMixedSpace);
        auto sampler = makeNamed(type, 9, space);
        RandomSampler random(9);
        // Generation 0 of NSGA-II and the startup trials of MOTPE are RandomSampler's draws.
        for (int64_t trial = 0; trial < 10; ++trial)
            QVERIFY(suggestOrFail(*sampler, space, trial, {}) == suggestOrFail(random, space, trial, {}));
        // Later ones too while fewer than two trials (NSGA-II) or fewer than the startup trials
        // (MOTPE) are complete.
        std::vector<FinishedTrial> history;
        const Assignment first = suggestOrFail(random, space, 0, {});
        history.push_back(trialWith(0, first, mixedObjectives(first)));
        for (int64_t trial = 1; trial < 60; ++trial)
            history.push_back(trialWith(trial, first, mixedObjectives(first), TrialState::Failed));
        for (int64_t trial = 60; trial < 120; trial += 7)
            QVERIFY(suggestOrFail(*sampler, space, trial, history) ==
                    suggestOrFail(random, space, trial, {}));
    }

    void improveOnZdt1OverRandom_data() {
        QTest::addColumn<QString>("type");
        QTest::addColumn<double>("margin");
        // ZDT1's hypervolume against (1.1, 11): about 9.4 for random search after 300 trials and 11.77
        // for the Pareto front. With the default population of 50, NSGA-II has run 5 generations.
        QTest::newRow("nsga2") << "nsga2" << 0.4;
        QTest::newRow("motpe") << "motpe" << 1.2;
    }
    void improveOnZdt1OverRandom() {
        QFETCH(QString, type);
        QFETCH(double, margin);
        const SearchSpace space = unitBox(10);
        const ObjectivePoint reference = {1.1, 11.0};
        RandomSampler random(1);
        const double randomVolume = finalHypervolume(runStudy(random, space, 300, zdt1), reference);
        auto sampler = makeNamed(type, 1, space);
        const double volume = finalHypervolume(runStudy(*sampler, space, 300, zdt1), reference);
        QVERIFY2(volume > randomVolume + margin,
                 qPrintable(QString("%1 vs %2").arg(volume).arg(randomVolume)));
    }

    void singleObjectiveHistoryWorks_data() {
        QTest::addColumn<QString>("type");
        QTest::addColumn<double>("share");
        // The largest share of random search's best value the sampler may reach. NSGA-II's
        // mutations redraw a third of the parameters of a child here, so it gains on random
        // search slowly with a single objective.
        QTest::newRow("nsga2") << "nsga2" << 0.9;
        QTest::newRow("motpe") << "motpe" << 0.5;
    }
    void singleObjectiveHistoryWorks() {
        QFETCH(QString, type);
        QFETCH(double, share);
        const SearchSpace space = unitBox(3);
        auto sampler = makeWithSmallPopulation(type, 4, space);
        RandomSampler random(4);
        // A bowl at (0.3, 0.3, 0.3); the history leaves `values` empty, as a single-objective study does.
        auto bowl = [](const Assignment& a) {
            double sum = 0.0;
            for (double x : unitPoint(a, 3))
                sum += (x - 0.3) * (x - 0.3);
            return sum;
        };
        std::vector<FinishedTrial> history, randomHistory;
        double best = INFINITY, randomBest = INFINITY;
        for (int trial = 0; trial < 100; ++trial) {
            const Assignment a = suggestOrFail(*sampler, space, trial, history);
            QCOMPARE(int(a.size()), 3);
            history.push_back({trial, a, bowl(a), TrialState::Complete});
            best = std::min(best, bowl(a));
            const Assignment r = suggestOrFail(random, space, trial, randomHistory);
            randomBest = std::min(randomBest, bowl(r));
        }
        QVERIFY2(best < share * randomBest, qPrintable(QString("%1 vs %2").arg(best).arg(randomBest)));
    }

    void motpeCountsRunningTrials() {
        const SearchSpace space = unitBox(3);
        auto sampler = makeNamed("motpe", 8, space);
        const std::vector<FinishedTrial> history = runStudy(*sampler, space, 25, [](const Assignment& a) {
            const std::vector<double> x = unitPoint(a, 3);
            return std::vector<double>{x[0] + x[2], 1.0 - x[0] + x[1]};
        });
        // Trials 25..29 asked in parallel: each sees the earlier ones as running (the constant liar).
        std::vector<FinishedTrial> withRunning = history;
        const Assignment first = suggestOrFail(*sampler, space, 25, history);
        withRunning.push_back(trialWith(25, first, {}, TrialState::Running));
        int changed = 0;
        for (int64_t trial = 26; trial < 30; ++trial) {
            const Assignment parallel = suggestOrFail(*sampler, space, trial, withRunning);
            changed += parallel != suggestOrFail(*sampler, space, trial, history) ? 1 : 0;
            QVERIFY(parallel != first);
            withRunning.push_back(trialWith(trial, parallel, {}, TrialState::Running));
        }
        QVERIFY(changed >= 1);
    }

    // MOTPE's random start counts running trials with those that have results, so that it is as long
    // however many workers share the study.
    void motpeStartupCountsRunningTrials() {
        const SearchSpace space = parse(kMixedSpace);
        auto sampler = makeNamed("motpe", 4, space);
        RandomSampler random(4);
        std::vector<FinishedTrial> history;
        for (int64_t trial = 0; trial < 9; ++trial) {
            const Assignment a = suggestOrFail(random, space, trial, {});
            history.push_back(trial < 4 ? trialWith(trial, a, mixedObjectives(a))
                                        : trialWith(trial, a, {}, TrialState::Running));
        }
        history.push_back(trialWith(9, suggestOrFail(random, space, 9, {}), {}, TrialState::Running));
        // 4 results and 5 others running (the trial asked for does not count): still the start.
        QVERIFY(suggestOrFail(*sampler, space, 9, history) == suggestOrFail(random, space, 9, {}));
        history.push_back(trialWith(10, suggestOrFail(random, space, 10, {}), {}, TrialState::Running));
        QVERIFY(suggestOrFail(*sampler, space, 10, history) != suggestOrFail(random, space, 10, {}));
    }
};

QTEST_GUILESS_MAIN(TestMultiObjectiveSamplers)
#include "tst_multi_objective_samplers.moc"
