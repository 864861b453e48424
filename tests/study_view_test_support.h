#pragma once

// Helpers shared by the study view suites (tst_study_view, tst_study_trials_model): synthetic
// trials and the rows a model shows.

#include "study/study_analysis.h"
#include "study/study_plots.h"
#include "study/study_trials_model.h"
#include "study/study_view.h"

#include <QAbstractItemModelTester>
#include <QCheckBox>
#include <QComboBox>
#include <QElapsedTimer>
#include <QFont>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QTabWidget>
#include <QTableView>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <random>
#include <sstream>

namespace tunelab::test {

inline const std::vector<std::string> kParameters = {"optimizer.lr", "optimizer.type", "optimizer.momentum",
                                                     "training.batch_size", "model.dropout"};

inline ParamValue number(double value) {
    std::ostringstream text;
    text.precision(17);
    text << value;
    return ParamValue{text.str()};
}

inline ParamValue text(const std::string& value) {
    return ParamValue{"\"" + value + "\""};
}

// A study where the learning rate drives the value (best near 1e-3), the optimizer type matters a
// little, momentum applies to sgd only and dropout is noise. About 70% complete, 20% pruned, the
// rest failed or running.
inline std::vector<TrialRecord> syntheticTrials(int count, int epochs, uint64_t seed) {
    std::mt19937_64 random(seed);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    const char* types[] = {"adam", "sgd", "rmsprop"};
    std::vector<TrialRecord> trials;
    for (int i = 0; i < count; ++i) {
        TrialRecord trial;
        trial.id = i + 1;
        trial.number = i;
        const double lr = std::pow(10.0, -5.0 + 4.0 * unit(random));
        const std::string type = types[random() % 3];
        trial.params["optimizer.lr"] = number(lr);
        trial.params["optimizer.type"] = text(type);
        if (type == "sgd")
            trial.params["optimizer.momentum"] = number(std::round(unit(random) * 99.0) / 100.0);
        trial.params["training.batch_size"] = number(std::pow(2.0, 4 + static_cast<int>(random() % 5)));
        trial.params["model.dropout"] = number(unit(random) * 0.5);
        const double distance = std::log10(lr) + 3.0;
        const double final =
            0.05 + 0.08 * distance * distance + (type == "adam" ? 0.0 : 0.03) + 0.01 * unit(random);
        const double roll = unit(random);
        trial.state = roll < 0.7    ? TrialState::Complete
                      : roll < 0.9  ? TrialState::Pruned
                      : roll < 0.96 ? TrialState::Failed
                                    : TrialState::Running;
        const int lastEpoch = trial.state == TrialState::Pruned
                                  ? 2 + static_cast<int>(random() % (epochs / 2))
                              : trial.state == TrialState::Failed  ? 0
                              : trial.state == TrialState::Running ? epochs / 2
                                                                   : epochs;
        for (int epoch = 1; epoch <= lastEpoch; ++epoch)
            trial.intermediate[epoch] = final + 1.2 * std::exp(-epoch / 4.0) + 0.005 * unit(random);
        if (trial.state == TrialState::Complete)
            trial.value = trial.intermediate.empty() ? final : trial.intermediate.rbegin()->second;
        if (trial.state == TrialState::Pruned) {
            trial.prunedEpoch = lastEpoch;
            trial.value = trial.intermediate.rbegin()->second;
        }
        if (trial.state == TrialState::Failed)
            trial.message = "loss diverged";
        trial.startedAt = 1000.0 + i * 10.0;
        if (isFinal(trial.state))
            trial.finishedAt = trial.startedAt + 5.0 + lastEpoch * 2.0;
        trials.push_back(std::move(trial));
    }
    return trials;
}

inline TrialRecord trial(int64_t number, TrialState state, double value, Assignment params) {
    TrialRecord record;
    record.number = number;
    record.state = state;
    record.value = value;
    record.params = std::move(params);
    return record;
}

inline ObjectiveSpec minimizeLoss() {
    return ObjectiveSpec{};
}

inline QList<qint64> trialNumbersInOrder(const QAbstractItemModel& model) {
    QList<qint64> numbers;
    for (int row = 0; row < model.rowCount(); ++row)
        numbers << model.index(row, 0).data(StudyTrialsModel::TrialNumberRole).toLongLong();
    return numbers;
}

} // namespace tunelab::test
