// A trial's experiment spec (trialExperimentJson): whatever a sampler suggests over a space that
// switches optimizer.type, the spec it gives is one that `tunelab-cli train` accepts.

#include "search/samplers.h"
#include "spec/optimizer_catalog.h"
#include "spec/spec.h"

#include "sampler_test_support.h"

#include <QtTest>

#include <set>

using namespace tunelab;
using namespace tunelab::test;

namespace {

// The optimizer type switches among all five; type-specific keys apply only where their type does.
// Explicit values throughout, so the grid sampler takes the same space.
const char* const kSwitchingSpace = R"({"parameters": [
    {"path": "optimizer.type", "kind": "categorical", "choices": ["sgd", "adam", "adamw", "rmsprop", "adagrad"]},
    {"path": "optimizer.lr", "kind": "float", "values": [0.001, 0.01]},
    {"path": "optimizer.momentum", "kind": "float", "values": [0.5, 0.9], "when": {"optimizer.type": ["sgd", "rmsprop"]}},
    {"path": "optimizer.nesterov", "kind": "categorical", "choices": [true, false], "when": {"optimizer.type": ["sgd"]}},
    {"path": "optimizer.dampening", "kind": "float", "values": [0.0, 0.3], "when": {"optimizer.nesterov": [false]}},
    {"path": "optimizer.amsgrad", "kind": "categorical", "choices": [true, false], "when": {"optimizer.type": ["adam", "adamw"]}},
    {"path": "optimizer.centered", "kind": "categorical", "choices": [true, false], "when": {"optimizer.type": ["rmsprop"]}},
    {"path": "optimizer.lr_decay", "kind": "float", "values": [0.0, 0.001], "when": {"optimizer.type": ["adagrad"]}},
    {"path": "optimizer.eps", "kind": "float", "values": [1e-10, 1e-7], "when": {"optimizer.type": ["adam", "adamw", "rmsprop", "adagrad"]}}
]})";

// The default experiment with `type` as its optimizer, every key of the type written out.
std::string baseWith(OptimizerType type) {
    ExperimentSpec spec = defaultExperiment();
    spec.optimizer = defaultOptimizer(type);
    spec.optimizer.lr = 0.02;
    return experimentSpecToJson(spec);
}

} // namespace

class TestTrialExperiment : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void everySamplersTrialsParse_data() {
        QTest::addColumn<QString>("sampler");
        QTest::addColumn<int>("base"); // OptimizerType
        for (const char* sampler : {"grid", "random", "sobol", "tpe", "gp"}) {
            for (const OptimizerInfo& info : optimizerCatalog())
                QTest::newRow(qPrintable(QString("%1 from %2").arg(sampler, info.json)))
                    << sampler << int(info.type);
        }
    }
    void everySamplersTrialsParse() {
        QFETCH(QString, sampler);
        QFETCH(int, base);
        const SearchSpace space = parse(kSwitchingSpace);
        SamplerSettings settings;
        settings.type = sampler.toStdString();
        settings.seed = 11;
        settings.startupTrials = 4;
        auto made = makeSampler(settings, space);
        QVERIFY2(made.ok(), made.ok() ? "" : made.error().c_str());
        const std::string baseJson = baseWith(static_cast<OptimizerType>(base));
        std::vector<FinishedTrial> history;
        std::set<std::string> types;
        for (int64_t trial = 0; trial < 24; ++trial) {
            const auto assignment = made.value()->suggest(space, trial, history);
            if (!assignment)
                break; // a finished grid
            const auto experiment = trialExperimentJson(baseJson, *assignment);
            QVERIFY2(experiment.ok(), experiment.ok() ? "" : experiment.error().c_str());
            const auto parsed = parseExperimentSpec(experiment.value());
            QVERIFY2(parsed.ok(), (parsed.ok() ? "" : parsed.error() + "\n" + experiment.value()).c_str());
            const OptimizerSpec& optimizer = parsed.value().optimizer;
            types.insert(toString(optimizer.type));
            // What the trial set is what the spec holds.
            QCOMPARE(QString::fromStdString(assignment->at("optimizer.type").json),
                     QString("\"%1\"").arg(toString(optimizer.type)));
            if (assignment->count("optimizer.amsgrad"))
                QCOMPARE(optimizer.amsgrad, assignment->at("optimizer.amsgrad").json == "true");
            if (assignment->count("optimizer.lr_decay"))
                QCOMPARE(optimizer.lrDecay, std::stod(assignment->at("optimizer.lr_decay").json));
            history.push_back(
                {trial, *assignment, optimizer.lr * (1.0 + optimizer.momentum), TrialState::Complete});
        }
        QVERIFY2(types.size() >= 3, qPrintable(QString::number(types.size())));
    }

    // Switching the type keeps the keys the new type shares with the old (lr, weight_decay, eps),
    // drops the others, and keeps a key the trial sets even where the new type rejects it, so the
    // mistake is reported rather than silently ignored.
    void switchingTheTypeKeepsTheNewTypesKeys() {
        const std::string base = baseWith(OptimizerType::Adam);
        const auto rmsprop = trialExperimentJson(base, {{"optimizer.type", ParamValue{"\"rmsprop\""}}});
        QVERIFY(rmsprop.ok());
        const auto parsed = parseExperimentSpec(rmsprop.value());
        QVERIFY2(parsed.ok(), parsed.ok() ? "" : parsed.error().c_str());
        QCOMPARE(parsed.value().optimizer.lr, 0.02);
        QVERIFY(rmsprop.value().find("betas") == std::string::npos);
        QVERIFY(rmsprop.value().find("amsgrad") == std::string::npos);

        const auto wrong = trialExperimentJson(
            base, {{"optimizer.type", ParamValue{"\"adam\""}}, {"optimizer.momentum", ParamValue{"0.9"}}});
        QVERIFY(wrong.ok());
        const auto rejected = parseExperimentSpec(wrong.value());
        QVERIFY(!rejected.ok());
        QVERIFY2(rejected.error().find("optimizer.momentum: unknown key for the adam optimizer") !=
                     std::string::npos,
                 rejected.error().c_str());

        // The schedule and the layers switch the same way.
        ExperimentSpec spec = defaultExperiment();
        spec.schedule.type = ScheduleType::ReduceOnPlateau;
        spec.model.layers[1].type = LayerType::Dropout;
        const auto others = trialExperimentJson(
            experimentSpecToJson(spec),
            {{"schedule.type", ParamValue{"\"step\""}}, {"model.layers[1].type", ParamValue{"\"gelu\""}}});
        QVERIFY(others.ok());
        const auto othersParsed = parseExperimentSpec(others.value());
        QVERIFY2(othersParsed.ok(), othersParsed.ok() ? "" : othersParsed.error().c_str());
        QCOMPARE(othersParsed.value().schedule.type, ScheduleType::Step);
        QCOMPARE(othersParsed.value().model.layers[1].type, LayerType::GELU);
    }
};

QTEST_APPLESS_MAIN(TestTrialExperiment)
#include "tst_trial_experiment.moc"
