#include "search/random_forest.h"
#include "search/sampler_support.h"
#include "search/samplers.h"

#include "sampler_test_support.h"

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <memory>
#include <set>

using namespace tunelab;
using namespace tunelab::test;

namespace {

const char* kQuadraticSpace = R"({"parameters": [
    {"path": "x0", "kind": "float", "low": -5, "high": 5},
    {"path": "x1", "kind": "float", "low": -5, "high": 5},
    {"path": "x2", "kind": "float", "low": -5, "high": 5}
]})";

std::unique_ptr<Sampler> makeNamed(const QString& type, uint64_t seed, const SearchSpace& space) {
    SamplerSettings settings;
    settings.type = type.toStdString();
    settings.seed = seed;
    auto made = makeSampler(settings, space);
    if (!made.ok())
        qFatal("%s", made.error().c_str());
    return made.take();
}

Assignment suggestOrFail(Sampler& sampler, const SearchSpace& space, int64_t trial,
                         const std::vector<FinishedTrial>& history) {
    auto suggested = sampler.suggest(space, trial, history);
    if (!suggested)
        qFatal("no suggestion for trial %lld", static_cast<long long>(trial));
    return *suggested;
}

double quadratic(const Assignment& a) {
    double sum = 0.0;
    for (const auto& [path, value] : a)
        sum += (value.toDouble() - 1.3) * (value.toDouble() - 1.3);
    return sum;
}

// A made-up loss over the mixed space, so the model-based samplers have structure to follow.
double mixedLoss(const Assignment& a) {
    double loss = std::pow(std::log10(a.at("optimizer.lr").toDouble()) + 2.0, 2.0);
    loss += a.at("optimizer.weight_decay").toDouble();
    loss += std::fabs(a.at("training.epochs").toDouble() - 2.0);
    loss += a.at("optimizer.type").json == "\"sgd\"" ? 0.0 : 0.5;
    if (a.count("optimizer.momentum"))
        loss += std::fabs(a.at("optimizer.momentum").toDouble() - 0.9);
    return loss;
}

// Runs a sequential study and returns its history.
std::vector<FinishedTrial> runStudy(Sampler& sampler, const SearchSpace& space, int trials,
                                    double (*objective)(const Assignment&)) {
    std::vector<FinishedTrial> history;
    for (int trial = 0; trial < trials; ++trial) {
        const Assignment a = suggestOrFail(sampler, space, trial, history);
        history.push_back({trial, a, objective(a), TrialState::Complete});
    }
    return history;
}

double bestValue(const std::vector<FinishedTrial>& history) {
    double best = INFINITY;
    for (const auto& trial : history)
        best = std::min(best, trial.value);
    return best;
}

void addModelSamplerRows() {
    QTest::addColumn<QString>("type");
    QTest::newRow("tpe") << "tpe";
    QTest::newRow("tpe-independent") << "tpe-independent";
    QTest::newRow("gp") << "gp";
    QTest::newRow("rf") << "rf";
}

void addThresholdRuleRows() {
    QTest::addColumn<bool>("randomThresholds");
    QTest::newRow("best cut") << false;
    QTest::newRow("random thresholds") << true;
}

bool startsWithSobol(const QString& type) {
    return type == "gp" || type == "auto" || type == "rf";
}

} // namespace

class TestBayesSamplers : public QObject {
    Q_OBJECT

private Q_SLOTS:
    // The default sampler is the GP (the same suggestions, seed for seed) while fewer than
    // AutoSampler::kGpTrials trials are modelled, and multivariate TPE from there on; failed trials
    // do not count.
    void autoIsTheGpThenTpe() {
        const SearchSpace space = parse(kQuadraticSpace);
        auto automatic = makeNamed("auto", 5, space);
        auto gp = makeNamed("gp", 5, space);
        auto tpe = makeNamed("tpe", 5, space);
        std::vector<FinishedTrial> history = runStudy(*gp, space, 14, quadratic);
        QCOMPARE(std::string(AutoSampler::choiceFor(history)), std::string("gp"));
        QVERIFY(suggestOrFail(*automatic, space, 14, history) == suggestOrFail(*gp, space, 14, history));

        std::vector<FinishedTrial> long_;
        for (int64_t trial = 0; trial < static_cast<int64_t>(AutoSampler::kGpTrials); ++trial) {
            const Assignment a = suggestOrFail(*tpe, space, trial, long_);
            long_.push_back(
                {trial, a, quadratic(a), trial % 7 == 0 ? TrialState::Failed : TrialState::Complete});
        }
        QCOMPARE(std::string(AutoSampler::choiceFor(long_)), std::string("gp")); // failed ones left out
        while (std::string(AutoSampler::choiceFor(long_)) == "gp") {
            const int64_t trial = static_cast<int64_t>(long_.size());
            const Assignment a = suggestOrFail(*tpe, space, trial, long_);
            long_.push_back({trial, a, quadratic(a), TrialState::Complete});
        }
        const int64_t next = static_cast<int64_t>(long_.size());
        QVERIFY(suggestOrFail(*automatic, space, next, long_) == suggestOrFail(*tpe, space, next, long_));
    }

    void makeSamplerKnowsModelSamplers_data() { addModelSamplerRows(); }
    void makeSamplerKnowsModelSamplers() {
        QFETCH(QString, type);
        const SearchSpace space = parse(kQuadraticSpace);
        SamplerSettings settings;
        settings.type = type.toStdString();
        auto made = makeSampler(settings, space);
        QVERIFY2(made.ok(), made.ok() ? "" : made.error().c_str());
        const std::string name = type.toStdString();
        QVERIFY(std::find(samplerNames().begin(), samplerNames().end(), name) != samplerNames().end());
        QCOMPARE(int(suggestOrFail(*made.take(), space, 0, {}).size()), 3);
    }

    void suggestionsAreDeterministic_data() { addModelSamplerRows(); }
    void suggestionsAreDeterministic() {
        QFETCH(QString, type);
        const SearchSpace space = parse(kMixedSpace);
        auto sampler = makeNamed(type, 42, space);
        std::vector<FinishedTrial> history = runStudy(*sampler, space, 16, mixedLoss);
        std::vector<Assignment> forward;
        for (int64_t trial = 16; trial < 20; ++trial)
            forward.push_back(suggestOrFail(*sampler, space, trial, history));
        // A fresh instance asked in reverse order, with the history in another order.
        auto second = makeNamed(type, 42, space);
        std::vector<FinishedTrial> shuffled(history.rbegin(), history.rend());
        std::rotate(shuffled.begin(), shuffled.begin() + 5, shuffled.end());
        for (int64_t trial = 19; trial >= 16; --trial)
            QVERIFY(suggestOrFail(*second, space, trial, shuffled) ==
                    forward[static_cast<size_t>(trial - 16)]);
        // Another seed gives another study. (With the same history the model-based samplers may well
        // agree: the acquisition optimum does not depend on the seed.)
        auto other = makeNamed(type, 43, space);
        const std::vector<FinishedTrial> otherHistory = runStudy(*other, space, 20, mixedLoss);
        int same = 0;
        for (int64_t trial = 0; trial < 20; ++trial) {
            const Assignment& mine = trial < 16 ? history[static_cast<size_t>(trial)].assignment
                                                : forward[static_cast<size_t>(trial - 16)];
            same += otherHistory[static_cast<size_t>(trial)].assignment == mine ? 1 : 0;
        }
        QCOMPARE(same, 0);
        // Past the startup trials the history matters.
        std::vector<FinishedTrial> inverted = history;
        for (auto& trial : inverted)
            trial.value = -trial.value;
        int unchanged = 0;
        for (int64_t trial = 16; trial < 20; ++trial)
            unchanged +=
                suggestOrFail(*second, space, trial, inverted) == forward[static_cast<size_t>(trial - 16)];
        QVERIFY(unchanged < 4);
    }

    void startupFollowsTheSpaceFillingSampler_data() { addModelSamplerRows(); }
    void startupFollowsTheSpaceFillingSampler() {
        QFETCH(QString, type);
        const SearchSpace space = parse(kMixedSpace);
        auto sampler = makeNamed(type, 5, space);
        RandomSampler random(5);
        SobolSampler sobol(5);
        // Failed, waiting and non-finite trials are not observations: nine usable ones stay in startup.
        std::vector<FinishedTrial> history;
        for (int trial = 0; trial < 30; ++trial) {
            const Assignment a = *random.suggest(space, trial, {});
            TrialState state = trial < 9 ? TrialState::Complete : TrialState::Failed;
            double value = mixedLoss(a);
            if (trial >= 20)
                state = trial % 2 ? TrialState::Waiting : TrialState::Complete, value = NAN;
            history.push_back({trial, a, value, state});
        }
        const Assignment expected =
            startsWithSobol(type) ? *sobol.suggest(space, 30, history) : *random.suggest(space, 30, history);
        QVERIFY(suggestOrFail(*sampler, space, 30, history) == expected);
        // One more completed trial ends the startup.
        history.push_back({30, expected, 0.1, TrialState::Complete});
        const Assignment next =
            startsWithSobol(type) ? *sobol.suggest(space, 31, history) : *random.suggest(space, 31, history);
        QVERIFY(suggestOrFail(*sampler, space, 31, history) != next);
    }

    // The random or Sobol start of each model-based sampler is `startupTrials` trials, those still
    // running counted with those that have results, so that a study shared by several workers starts
    // modelling as early as one run by a single worker; with no result at all there is nothing to model.
    void startupCountsRunningTrials_data() {
        addModelSamplerRows();
        QTest::newRow("auto") << "auto";
        QTest::newRow("tpe-without-liar") << "tpe-without-liar";
    }
    void startupCountsRunningTrials() {
        QFETCH(QString, type);
        const SearchSpace space = parse(kQuadraticSpace);
        std::unique_ptr<Sampler> sampler;
        if (type == "tpe-without-liar") { // running trials are not observations, yet they count
            TpeSettings settings;
            settings.seed = 4;
            settings.constantLiar = false;
            sampler = std::make_unique<TpeSampler>(settings);
        } else {
            sampler = makeNamed(type, 4, space);
        }
        SobolSampler sobol(4);
        RandomSampler random(4);
        auto start = [&](int64_t trial, const std::vector<FinishedTrial>& history) {
            return startsWithSobol(type) ? *sobol.suggest(space, trial, history)
                                         : *random.suggest(space, trial, history);
        };
        std::vector<FinishedTrial> onlyRunning;
        for (int trial = 0; trial < 12; ++trial)
            onlyRunning.push_back({trial, start(trial, {}), 0.0, TrialState::Running});
        QVERIFY(suggestOrFail(*sampler, space, 12, onlyRunning) == start(12, onlyRunning));

        std::vector<FinishedTrial> history;
        for (int trial = 0; trial < 9; ++trial) {
            const Assignment a = start(trial, {});
            const bool done = trial < 4;
            history.push_back(
                {trial, a, done ? quadratic(a) : 0.0, done ? TrialState::Complete : TrialState::Running});
        }
        // The trial being suggested may already be recorded as running: it does not count.
        history.push_back({9, start(9, {}), 0.0, TrialState::Running});
        const Assignment ninth = suggestOrFail(*sampler, space, 9, history);
        QVERIFY(ninth == start(9, history)); // 4 results and 5 running: still the start
        history.back().assignment = ninth;
        const Assignment tenth = suggestOrFail(*sampler, space, 10, history);
        QVERIFY(tenth != start(10, history)); // 10 trials: the model's (or, for rf, its random share)
    }

    // Suggestions with trials running depend on the seed, the trial number and the history's
    // content, not on its order or on the sampler's earlier calls.
    void gpWithRunningTrialsIsDeterministic() {
        const SearchSpace space = parse(kMixedSpace);
        auto sampler = makeNamed("gp", 42, space);
        std::vector<FinishedTrial> history = runStudy(*sampler, space, 16, mixedLoss);
        for (int64_t trial = 16; trial < 19; ++trial)
            history.push_back(
                {trial, suggestOrFail(*sampler, space, trial, history), 0.0, TrialState::Running});
        const Assignment first = suggestOrFail(*sampler, space, 19, history);
        auto fresh = makeNamed("gp", 42, space);
        std::vector<FinishedTrial> shuffled(history.rbegin(), history.rend());
        std::rotate(shuffled.begin(), shuffled.begin() + 7, shuffled.end());
        QVERIFY(suggestOrFail(*fresh, space, 19, shuffled) == first);
        QVERIFY(suggestOrFail(*sampler, space, 19, history) == first);
    }

    void valuesAreValidForEveryKind_data() { addModelSamplerRows(); }
    void valuesAreValidForEveryKind() {
        QFETCH(QString, type);
        const SearchSpace space = parse(kMixedSpace);
        auto sampler = makeNamed(type, 3, space);
        std::vector<FinishedTrial> history;
        // Pruned trials with their last intermediate values join the history too.
        for (int trial = 0; trial < 45; ++trial) {
            const Assignment a = suggestOrFail(*sampler, space, trial, history);
            verifyMixedAssignment(a);
            if (QTest::currentTestFailed())
                return;
            history.push_back(
                {trial, a, mixedLoss(a), trial % 7 == 3 ? TrialState::Pruned : TrialState::Complete});
        }
    }

    void inactiveParametersAreNeverSampled_data() {
        QTest::addColumn<QString>("type");
        QTest::addColumn<int>("trials");
        QTest::newRow("tpe") << "tpe" << 200;
        QTest::newRow("tpe-independent") << "tpe-independent" << 200;
        QTest::newRow("gp") << "gp" << 80;
        QTest::newRow("rf") << "rf" << 80;
    }
    void inactiveParametersAreNeverSampled() {
        QFETCH(QString, type);
        QFETCH(int, trials);
        const SearchSpace space = parse(kConditionalSpace);
        auto sampler = makeNamed(type, 11, space);
        std::vector<FinishedTrial> history;
        int sgd = 0;
        for (int trial = 0; trial < trials; ++trial) {
            const Assignment a = suggestOrFail(*sampler, space, trial, history);
            const bool isSgd = a.at("optimizer.type").json == "\"sgd\"";
            QCOMPARE(a.count("optimizer.momentum") == 1, isSgd);
            QCOMPARE(int(a.size()), isSgd ? 3 : 2);
            if (isSgd) {
                ++sgd;
                const double momentum = a.at("optimizer.momentum").toDouble();
                QVERIFY(momentum >= 0.0 && momentum <= 0.99);
            }
            // sgd with momentum near 0.9 is best, so the model-based samplers should favour sgd.
            double loss = std::pow(std::log10(a.at("optimizer.lr").toDouble()) + 2.0, 2.0);
            loss += isSgd ? std::fabs(a.at("optimizer.momentum").toDouble() - 0.9) : 0.6;
            history.push_back({trial, a, loss, TrialState::Complete});
        }
        QVERIFY2(sgd > trials * 6 / 10, qPrintable(QString::number(sgd)));
    }

    void runningTrialsSpreadParallelSuggestions_data() { addModelSamplerRows(); }
    void runningTrialsSpreadParallelSuggestions() {
        QFETCH(QString, type);
        const SearchSpace space = parse(kQuadraticSpace);
        auto sampler = makeNamed(type, 8, space);
        const std::vector<FinishedTrial> history = runStudy(*sampler, space, 25, quadratic);
        // Trials 25..29 asked in parallel: each sees the earlier ones as running.
        std::vector<FinishedTrial> withRunning = history;
        int changed = 0;
        double spreadWith = 0.0, spreadWithout = 0.0;
        const Assignment first = suggestOrFail(*sampler, space, 25, history);
        withRunning.push_back({25, first, 0.0, TrialState::Running});
        auto distance = [](const Assignment& a, const Assignment& b) {
            double sum = 0.0;
            for (const auto& [path, value] : a)
                sum += std::pow(value.toDouble() - b.at(path).toDouble(), 2.0);
            return std::sqrt(sum);
        };
        for (int64_t trial = 26; trial < 30; ++trial) {
            const Assignment parallel = suggestOrFail(*sampler, space, trial, withRunning);
            const Assignment alone = suggestOrFail(*sampler, space, trial, history);
            changed += parallel != alone ? 1 : 0;
            QVERIFY(parallel != first);
            spreadWith += distance(parallel, first);
            spreadWithout += distance(alone, first);
            withRunning.push_back({trial, parallel, 0.0, TrialState::Running});
        }
        QVERIFY(changed >= 1);
        if (type == "gp") // a candidate near a running trial adds little to what that trial brings
            QVERIFY2(spreadWith > spreadWithout,
                     qPrintable(QString("%1 <= %2").arg(spreadWith).arg(spreadWithout)));
    }

    void modelSamplersBeatRandomOnAQuadratic_data() {
        // The largest share of random search's mean best the sampler may reach. A forest is a step
        // function: on a smooth bowl it gains on random search more slowly than the samplers whose
        // models are smooth (it reaches about 0.6 here, TPE about 0.1 and GP almost 0).
        QTest::addColumn<QString>("type");
        QTest::addColumn<double>("share");
        QTest::newRow("tpe") << "tpe" << 0.5;
        QTest::newRow("tpe-independent") << "tpe-independent" << 0.5;
        QTest::newRow("gp") << "gp" << 0.5;
        QTest::newRow("rf") << "rf" << 0.8;
    }
    void modelSamplersBeatRandomOnAQuadratic() {
        QFETCH(QString, type);
        QFETCH(double, share);
        const SearchSpace space = parse(kQuadraticSpace);
        double model = 0.0, random = 0.0;
        for (uint64_t seed = 0; seed < 5; ++seed) {
            auto sampler = makeNamed(type, seed, space);
            model += bestValue(runStudy(*sampler, space, 40, quadratic)) / 5.0;
            RandomSampler baseline(seed);
            random += bestValue(runStudy(baseline, space, 40, quadratic)) / 5.0;
        }
        QVERIFY2(model < share * random, qPrintable(QString("%1 vs random %2").arg(model).arg(random)));
    }

    void nonFiniteAndUnreadableTrialsAreIgnored_data() { addModelSamplerRows(); }
    void nonFiniteAndUnreadableTrialsAreIgnored() {
        QFETCH(QString, type);
        const SearchSpace space = parse(kQuadraticSpace);
        auto sampler = makeNamed(type, 4, space);
        std::vector<FinishedTrial> history = runStudy(*sampler, space, 16, quadratic);
        // Values that are not finite, failed trials and assignments that do not fit the space.
        const double odd[] = {NAN, INFINITY, -INFINITY};
        for (int i = 0; i < 6; ++i)
            history[static_cast<size_t>(i * 2)].value = odd[i % 3];
        history[1].state = TrialState::Failed;
        history[3].assignment["x0"] = ParamValue{"\"fast\""};
        history[5].assignment.erase("x1");
        for (int64_t trial = 16; trial < 22; ++trial) {
            const Assignment a = suggestOrFail(*sampler, space, trial, history);
            QCOMPARE(int(a.size()), 3);
            for (const auto& [path, value] : a) {
                QVERIFY2(value.isNumber(), value.json.c_str());
                QVERIFY(value.toDouble() >= -5.0 && value.toDouble() <= 5.0);
            }
            QVERIFY(suggestOrFail(*sampler, space, trial, history) == a);
            history.push_back({trial, a, quadratic(a), TrialState::Complete});
        }
    }

    void forestFollowsAStepAndIsUnsureBetweenItsData_data() { addThresholdRuleRows(); }
    void forestFollowsAStepAndIsUnsureBetweenItsData() {
        QFETCH(bool, randomThresholds);
        detail::ForestSettings settings;
        settings.randomThresholds = randomThresholds;
        // y = 0 below 0.5 and 1 above, observed in [0, 0.3] and [0.7, 1] only.
        std::vector<std::vector<double>> rows;
        std::vector<double> targets;
        for (int i = 0; i <= 30; ++i) {
            const double x = i < 16 ? 0.02 * i : 0.7 + 0.02 * (i - 16);
            rows.push_back({x});
            targets.push_back(x < 0.5 ? 0.0 : 1.0);
        }
        detail::RandomForest forest({0}, settings);
        forest.fit(rows, targets, 7);
        double mean = 0.0, nearData = 0.0, inGap = 0.0;
        const double low[] = {0.1}, high[] = {0.9}, gap[] = {0.5};
        forest.predict(low, mean, nearData);
        QVERIFY2(std::fabs(mean) < 1e-12, qPrintable(QString::number(mean)));
        forest.predict(high, mean, nearData);
        QVERIFY2(std::fabs(mean - 1.0) < 1e-12, qPrintable(QString::number(mean)));
        // Each tree cuts the gap at a random place, so they disagree inside it.
        forest.predict(gap, mean, inGap);
        QVERIFY2(mean > 0.1 && mean < 0.9, qPrintable(QString::number(mean)));
        QVERIFY2(inGap > 0.01 && nearData < 1e-12, qPrintable(QString("%1 %2").arg(inGap).arg(nearData)));
        // The same seed grows the same forest.
        detail::RandomForest again({0}, settings);
        again.fit(rows, targets, 7);
        double sameMean = 0.0, sameVariance = 0.0;
        again.predict(gap, sameMean, sameVariance);
        QCOMPARE(sameMean, mean);
        QCOMPARE(sameVariance, inGap);
    }

    void forestKeepsInactiveFeaturesApartFromNumbers_data() { addThresholdRuleRows(); }
    void forestKeepsInactiveFeaturesApartFromNumbers() {
        QFETCH(bool, randomThresholds);
        detail::ForestSettings settings;
        settings.randomThresholds = randomThresholds;
        // Feature 1 applies to half of the rows only; where it does not, the target is 5, far from
        // anything the active rows show (0..1). Were it read as a number (0, say), rows without it
        // would be predicted like the active rows near 0.
        std::vector<std::vector<double>> rows;
        std::vector<double> targets;
        for (int i = 0; i < 40; ++i) {
            const double u = (i % 20 + 0.5) / 20.0;
            const bool active = i >= 20;
            rows.push_back({u, active ? u : NAN});
            targets.push_back(active ? u : 5.0);
        }
        detail::RandomForest forest({0, 0}, settings);
        forest.fit(rows, targets, 3);
        double mean = 0.0, variance = 0.0;
        const double inactive[] = {0.02, NAN}, active[] = {0.02, 0.02};
        forest.predict(inactive, mean, variance);
        QVERIFY2(std::fabs(mean - 5.0) < 1e-9, qPrintable(QString::number(mean)));
        forest.predict(active, mean, variance);
        QVERIFY2(mean < 0.2, qPrintable(QString::number(mean)));
    }

    void randomThresholdsCutTheBestCellInEveryFeature() {
        // y = x0 over 40 random points of the unit square: x1 explains nothing. Splitting at the best
        // cut, every tree splits on x0 alone, so the prediction at the best point's x0 is the same for
        // any x1: the forest sees no reason to look near the best point rather than anywhere along
        // x0 = best. Drawn thresholds split on x1 too where a cut of x0 explains less, so the
        // prediction there depends on x1 and is best near the best point.
        sampler_support::Rng rng(11);
        std::vector<std::vector<double>> rows;
        std::vector<double> targets;
        size_t bestRow = 0;
        for (int i = 0; i < 40; ++i) {
            rows.push_back({rng.uniform(), rng.uniform()});
            targets.push_back(rows.back()[0]);
            if (targets.back() < targets[bestRow])
                bestRow = rows.size() - 1;
        }
        const double bestX0 = rows[bestRow][0], bestX1 = rows[bestRow][1];
        auto spreadAlongX1 = [&](bool randomThresholds, double& atBest, double& farAway) {
            detail::ForestSettings settings;
            settings.trees = 50;
            settings.randomThresholds = randomThresholds;
            detail::RandomForest forest({0, 0}, settings);
            forest.fit(rows, targets, 5);
            double lowest = INFINITY, highest = -INFINITY, variance = 0.0;
            for (int k = 0; k <= 20; ++k) {
                const double row[] = {bestX0, k / 20.0};
                double mean = 0.0;
                forest.predict(row, mean, variance);
                lowest = std::min(lowest, mean);
                highest = std::max(highest, mean);
            }
            const double best[] = {bestX0, bestX1};
            const double far[] = {bestX0, bestX1 < 0.5 ? 1.0 : 0.0};
            forest.predict(best, atBest, variance);
            forest.predict(far, farAway, variance);
            return highest - lowest;
        };
        double atBest = 0.0, farAway = 0.0;
        QCOMPARE(spreadAlongX1(false, atBest, farAway), 0.0);
        const double spread = spreadAlongX1(true, atBest, farAway);
        QVERIFY2(spread > 0.01, qPrintable(QString::number(spread)));
        QVERIFY2(atBest < farAway, qPrintable(QString("%1 %2").arg(atBest).arg(farAway)));
    }

    void forestSplitsCategoriesBySets() {
        // Values 0 and 2 give 1, values 1 and 3 give 0: one split on the set {1, 3} fits it exactly.
        std::vector<std::vector<double>> rows;
        std::vector<double> targets;
        for (int i = 0; i < 16; ++i) {
            rows.push_back({static_cast<double>(i % 4)});
            targets.push_back(i % 2 == 0 ? 1.0 : 0.0);
        }
        detail::ForestSettings settings;
        settings.trees = 1;
        settings.bootstrap = false;
        detail::RandomForest forest({4}, settings);
        forest.fit(rows, targets, 1);
        for (int c = 0; c < 4; ++c) {
            double mean = 0.0, variance = 0.0;
            const double row[] = {static_cast<double>(c)};
            forest.predict(row, mean, variance);
            QCOMPARE(mean, c % 2 == 0 ? 1.0 : 0.0);
            QCOMPARE(variance, 0.0);
        }
    }

    void gpHandlesCategoricalAndIntDimensions() {
        const SearchSpace space = parse(R"({"parameters": [
            {"path": "x", "kind": "float", "low": -3, "high": 3},
            {"path": "n", "kind": "int", "low": 0, "high": 10},
            {"path": "c", "kind": "categorical", "choices": ["a", "b", "c"]}
        ]})");
        GpSettings settings;
        settings.seed = 1;
        GpSampler sampler(settings);
        auto loss = [](const Assignment& a) {
            const double x = a.at("x").toDouble(), n = a.at("n").toDouble();
            return (x - 1.0) * (x - 1.0) + 0.3 * (n - 7.0) * (n - 7.0) +
                   (a.at("c").json == "\"b\"" ? 0.0 : 2.0);
        };
        std::vector<FinishedTrial> history;
        for (int trial = 0; trial < 30; ++trial) {
            const Assignment a = suggestOrFail(sampler, space, trial, history);
            QVERIFY2(a.at("n").json.find('.') == std::string::npos, a.at("n").json.c_str());
            QVERIFY(a.at("n").toInt() >= 0 && a.at("n").toInt() <= 10);
            history.push_back({trial, a, loss(a), TrialState::Complete});
        }
        const auto best = std::min_element(history.begin(), history.end(),
                                           [](const auto& a, const auto& b) { return a.value < b.value; });
        QCOMPARE(QString::fromStdString(best->assignment.at("c").json), QString("\"b\""));
        QCOMPARE(best->assignment.at("n").toInt(), int64_t(7));
        QVERIFY2(best->value < 0.1, qPrintable(QString::number(best->value)));
    }
};

QTEST_GUILESS_MAIN(TestBayesSamplers)
#include "tst_bayes_samplers.moc"
