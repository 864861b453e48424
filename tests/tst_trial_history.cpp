// TrialHistory: the sampler's and the pruner's view of a study, kept current trial by trial.

#include <QtTest>

#include "study/trial_history.h"

#include <cmath>

using namespace tunelab;

namespace {

TrialRecord trial(int64_t number, TrialState state, double value = kNoValue,
                  std::map<int, double> intermediate = {}) {
    TrialRecord record;
    record.number = number;
    record.state = state;
    record.value = value;
    record.params["x"] = ParamValue{std::to_string(number)};
    record.intermediate = std::move(intermediate);
    return record;
}

std::vector<int64_t> samplerNumbers(const TrialHistory& history) {
    std::vector<int64_t> numbers;
    for (const auto& item : history.samplerHistory())
        numbers.push_back(item.number);
    return numbers;
}

} // namespace

class TestTrialHistory : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void keepsNumberOrderAndReplaces() {
        TrialHistory history{ObjectiveSpec{}};
        history.update(trial(0, TrialState::Complete, 1.0));
        history.update(trial(2, TrialState::Running));
        history.update(trial(1, TrialState::Waiting)); // arrives late: goes between
        QCOMPARE(samplerNumbers(history), (std::vector<int64_t>{0, 1, 2}));
        QCOMPARE(history.samplerHistory()[1].state, TrialState::Running); // waiting counts as running
        QCOMPARE(history.samplerHistory()[1].assignment.at("x").json, std::string("1"));
        QCOMPARE(history.prunerCurves()[2].number, 2);

        history.update(trial(2, TrialState::Complete, 0.5));
        QCOMPARE(history.samplerHistory().size(), size_t(3));
        QCOMPARE(history.samplerHistory()[2].state, TrialState::Complete);
        QCOMPARE(history.samplerHistory()[2].value, 0.5);
        QVERIFY(history.prunerCurves()[2].finished);
        QVERIFY(!history.prunerCurves()[1].finished);
    }

    void valuesPointTowardsAMinimum() {
        ObjectiveSpec maximize;
        maximize.direction = ObjectiveDirection::Maximize;
        TrialHistory history{maximize};
        history.update(trial(0, TrialState::Complete, 0.9));
        history.update(trial(1, TrialState::Running, kNoValue, {{1, 0.4}}));
        history.addIntermediate(1, 2, 0.6);
        QCOMPARE(history.samplerHistory()[0].value, -0.9);
        QCOMPARE(history.prunerCurves()[1].values, (std::map<int, double>{{1, -0.4}, {2, -0.6}}));
    }

    // A pruned trial without a value of its own counts with its last intermediate value.
    void prunedTrialFallsBackToItsLastValue() {
        TrialHistory history{ObjectiveSpec{}};
        history.update(trial(0, TrialState::Pruned, kNoValue, {{1, 3.0}, {2, 2.5}}));
        history.update(trial(1, TrialState::Pruned, 2.0, {{1, 3.0}, {2, 2.5}}));
        history.update(trial(2, TrialState::Failed));
        QCOMPARE(history.samplerHistory()[0].value, 2.5);
        QCOMPARE(history.samplerHistory()[1].value, 2.0);
        QCOMPARE(history.samplerHistory()[2].state, TrialState::Failed);
    }

    // A re-queued trial starts afresh: its curve goes with it.
    void requeuedTrialLosesItsCurve() {
        TrialHistory history{ObjectiveSpec{}};
        history.update(trial(0, TrialState::Running, kNoValue, {{1, 3.0}}));
        history.update(trial(0, TrialState::Waiting));
        QVERIFY(history.prunerCurves()[0].values.empty());
    }
};

QTEST_GUILESS_MAIN(TestTrialHistory)
#include "tst_trial_history.moc"
