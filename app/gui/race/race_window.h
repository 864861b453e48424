#pragma once

#include "events/run_events.h"
#include "race/lr_range.h"
#include "race/lr_range_dialog.h"
#include "race/race.h"
#include "race/race_scoreboard.h"
#include "spec/spec.h"

#include <QWidget>

#include <map>
#include <memory>
#include <vector>

class QCheckBox;
class QLabel;
class QPushButton;
class QTableView;
class QTimer;
class QWidget;

namespace tunelab {

class NumberField;

class LossChartView;
class LrRangeCurveView;
class RaceResultsModel;
class RaceRunner;
class RaceSetupModel;
class RunStore;

// The optimizer race: one base experiment trained once per optimizer set-up, all from identical
// weights, data order and seed, at the same time. A top-level tool window with the set-up table,
// "fair learning rates" (a range test per set-up first), the target loss, Start / Stop, the
// overlaid curves (a colour per set-up), the rates raced at, the results table and export.
//
// The engine's RaceRunner owns the race's threads; a 40 ms GUI timer drains its events into the
// window's RaceScoreboard (the results table) and the charts. The window only draws.
class RaceWindow : public QWidget {
    Q_OBJECT

public:
    static constexpr int kDrainIntervalMs = 40;

    // `store` (may be null) records the race's runs; it must outlive the window.
    RaceWindow(RunStore* store, ExperimentSpec base, QWidget* parent = nullptr);
    ~RaceWindow() override; // stops a running race and waits for it

    RaceSetupModel* setupModel() const { return m_setupModel; }
    RaceResultsModel* resultsModel() const { return m_resultsModel; }
    LossChartView* validationChart() const { return m_valChart; }
    LossChartView* trainingChart() const { return m_trainChart; }
    const ExperimentSpec& baseExperiment() const { return m_base; }
    void setBaseExperiment(const ExperimentSpec& base);

    void setFairLearningRates(bool on);
    bool fairLearningRates() const;
    // NaN: no target.
    void setTargetLoss(double loss);
    double targetLoss() const;
    // Overrides the experiment's device for every set-up ("cpu"); empty keeps it.
    void setDevice(const std::string& device) { m_device = device; }

    // The race the window describes: the base experiment inlined, the enabled set-ups.
    RaceSpec raceSpec() const;
    // Shows a race file's experiment, set-ups and settings.
    bool applyRaceSpec(const RaceSpec& spec, QString* error = nullptr);

    bool startRace(); // false (and a message) when a race runs already or nothing is enabled
    void stopRace();
    bool isRunning() const { return m_running; }
    // The last finished race's results, in set-up order; empty before one.
    const std::vector<RaceEntryResult>& results() const { return m_finalResults; }
    // The rates the range tests chose, by set-up (fair races only).
    const std::map<std::string, double>& chosenRates() const { return m_chosenRates; }

    bool exportCsv(const QString& fileName, QString* error = nullptr) const;
    // The curves and the results table as one image.
    bool exportPng(const QString& fileName, QString* error = nullptr);
    bool saveRace(const QString& fileName, QString* error = nullptr) const;
    bool openRace(const QString& fileName, QString* error = nullptr);

    // Interactive windows ask for file names and show errors in dialogs; tests must not block.
    void setInteractive(bool interactive) { m_interactive = interactive; }
    QString stateText() const;

Q_SIGNALS:
    void raceStarted();
    // After the race's last event was drawn; false when the race could not run.
    void raceFinished(bool succeeded);

private:
    void buildUi();
    void drain();
    void finishRace(); // the Finished event was drained
    void updateControls();
    void updateRatesLabel();
    void updateBaseLabel();
    void fitResultsTable();
    void report(const QString& title, const QString& message);
    void exportCsvWithDialog();
    void exportPngWithDialog();
    void saveRaceWithDialog();
    void openRaceWithDialog();

    RunStore* m_store = nullptr;
    ExperimentSpec m_base;
    std::string m_device;
    bool m_interactive = true;

    RaceSetupModel* m_setupModel = nullptr;
    RaceResultsModel* m_resultsModel = nullptr;
    QTableView* m_setupTable = nullptr;
    QTableView* m_resultsTable = nullptr;
    QLabel* m_baseLabel = nullptr;
    QCheckBox* m_fair = nullptr;
    NumberField* m_targetLoss = nullptr; // empty: no target
    QPushButton* m_start = nullptr;
    QPushButton* m_stop = nullptr;
    QPushButton* m_addSetup = nullptr;
    QPushButton* m_removeSetup = nullptr;
    QPushButton* m_resetSetups = nullptr;
    QPushButton* m_exportCsv = nullptr;
    QPushButton* m_exportPng = nullptr;
    QLabel* m_state = nullptr;
    QLabel* m_rates = nullptr;
    QWidget* m_resultsArea = nullptr; // the charts and the table: what Export PNG grabs
    LossChartView* m_valChart = nullptr;
    LossChartView* m_trainChart = nullptr;
    LrRangeCurveView* m_rangeView = nullptr;
    QTimer* m_drainTimer = nullptr;

    // The running race.
    bool m_running = false;
    RaceSpec m_runningSpec;
    std::unique_ptr<RaceRunner> m_runner; // owns the race's threads; stops and joins them when destroyed
    RaceScoreboard m_scoreboard;          // the results table, from the race's events
    std::map<std::string, double> m_chosenRates;
    std::vector<RaceEntryResult> m_finalResults;
    QString m_stateText;
    bool m_stateShowsReadiness = true; // until a race starts or fails: "Ready: N set-ups checked"
};

} // namespace tunelab
