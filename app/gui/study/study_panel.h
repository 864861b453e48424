#pragma once

#include "events/run_events.h"
#include "spec/spec.h"
#include "study/study.h"
#include "study/study_view.h"

#include <QPointer>
#include <QWidget>

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QTimer;

namespace tunelab {

class ExperimentObjective;
class PopulationSettingsForm;
class RunStore;
class SearchSettingsForm;
class StudyBudgetForm;
class SearchSpaceEditor;
class StudyRunner;
struct StudyEvent;

// The "Search" tab: the search space, the sampler, pruner, objective and budget, and Start / Pause /
// Stop for a study over the current experiment. The engine's StudyRunner owns the study's
// threads; a GUI timer drains its event queue into the study view (which the window shows in its
// central tabs). Trial runs go to the window's run
// queue too, so the runs table and the charts follow them like any run.
class StudyPanel : public QWidget {
    Q_OBJECT

public:
    static constexpr int kDrainIntervalMs = 40;
    // How often a shown study that other processes run (workers sharing the store) is read again.
    static constexpr int kWatchIntervalMs = 1000;

    explicit StudyPanel(QWidget* parent = nullptr);
    ~StudyPanel() override; // stops a running study and waits for it

    // The store studies live in (call while no study runs) and the sink that trial runs' events
    // are forwarded to (the window's queue).
    void setRunStore(RunStore* store, RunEventSink* runEvents);
    // Asked at Start for the experiment the study varies.
    void setExperimentProvider(std::function<ExperimentSpec()> provider);
    void setBaseExperiment(const ExperimentSpec& spec);

    SearchSpaceEditor* spaceEditor() const { return m_spaceEditor; }
    StudyView* studyView() const { return m_view.data(); }

    // The study file the settings describe (the current experiment inlined).
    StudySpec studySpec() const;
    // Shows a study file's space and settings as a new study (the window loads its experiment).
    void applyStudySpec(const StudySpec& spec);
    bool startStudy(); // a new study, or the selected one resumed
    void stopStudy();  // running trials go back to waiting; Start resumes them later
    void setPaused(bool paused);
    // Stops a running study and waits for its threads (the window calls it before its store goes).
    void shutdown();
    bool isRunning() const { return m_running; }
    StudyId currentStudy() const { return m_studyId; }
    QString stateText() const;
    // Loads a stored study's trials into the view (and selects it for resuming).
    bool showStudy(StudyId id);
    // Deletes the study chosen in the study choice with its trials (asking first when interactive);
    // their training runs stay. False when there is none, a study runs, or the user declines.
    bool deleteShownStudy();
    // Re-reads the studies in the store into the study choice (another process may have added some).
    void refreshStudyList();
    // The best trial's complete experiment, ready for `tunelab-cli train`; empty without one.
    QString bestExperimentJson() const;
    QString experimentJsonOfTrial(int64_t number) const;
    bool exportBest(const QString& fileName, QString* error = nullptr) const;
    // Trial `number`'s complete experiment to a file (a trial of a Pareto front, say).
    bool exportTrial(int64_t number, const QString& fileName, QString* error = nullptr) const;

    // Interactive windows ask for file names and show errors in dialogs; tests must not block.
    void setInteractive(bool interactive) { m_interactive = interactive; }

public Q_SLOTS:
    // "Search over…" from a form: adds the parameter and shows this tab.
    void searchOver(const QString& path, const QString& currentValueJson);

Q_SIGNALS:
    void studyStarted(qint64 studyId);
    void studyFinished(qint64 studyId, const QString& reason);
    void stateChanged();
    // "Open best in editor": the window loads this experiment.
    void openExperimentRequested(const QString& specJson, const QString& title);
    void showRequested(); // bring the Search tab and the study view forward

private:
    void buildForm();
    void drain();
    void finishStudy();
    // A stored study shown here but run elsewhere: its changes are read every kWatchIntervalMs.
    void startWatching(const std::vector<TrialRecord>& trials);
    void watchStudy();
    void showStoredState(const StudySpec& spec, const std::string& name);
    void updateControls();
    void exportBestWithDialog();
    void exportTrialWithDialog(qint64 number);
    void openTrialInEditor(int64_t number);
    std::vector<std::string> parameterPaths(const StudySpec& spec) const;
    void setViewStudy(const StudySpec& spec);
    // Fills the fields from a study's settings, leaving the study choice as it is.
    void showSettings(const StudySpec& spec);
    // The study choice moved: a stored study shows its own settings; "New study" after a stored
    // one keeps them as a copy with a free name and a fresh seed.
    void onStudyChosen();
    // Raises the stored budget of study `id` by the trials in "Add trials"; false after reporting.
    bool addTrialsBeforeResume(StudyId id, StudySpec& spec);
    // The settings' warnings (studySettingsWarnings, a population's refusals), the pruner's scale and
    // the suggested trial budget, after any change.
    void updateWarnings();
    // The trial budget `spec`'s settings call for: a population's members x stretches (of the
    // editor's experiment when `spec` has none), else the default.
    int64_t suggestedTrials(const StudySpec& spec) const;
    void report(const QString& title, const QString& message);

    RunStore* m_store = nullptr;
    RunEventSink* m_runEvents = nullptr;
    std::function<ExperimentSpec()> m_experimentProvider;
    bool m_interactive = true;

    SearchSpaceEditor* m_spaceEditor = nullptr;
    QPointer<StudyView> m_view; // owned by the window's tabs once placed there
    QComboBox* m_studyChoice = nullptr;
    QLineEdit* m_name = nullptr;
    QPushButton* m_deleteStudy = nullptr;
    SearchSettingsForm* m_searchSettings = nullptr;
    PopulationSettingsForm* m_population = nullptr;
    QComboBox* m_metric = nullptr;
    QComboBox* m_at = nullptr;
    QComboBox* m_direction = nullptr;
    // The second and later objectives of a study file: shown, kept in studySpec(), not edited here.
    std::vector<ObjectiveSpec> m_moreObjectives;
    QLabel* m_moreObjectivesLabel = nullptr;
    StudyBudgetForm* m_budget = nullptr;
    QLabel* m_warnings = nullptr; // what makes no sense in the settings, before Start
    QPushButton* m_start = nullptr;
    QPushButton* m_pause = nullptr;
    QPushButton* m_stop = nullptr;
    QLabel* m_state = nullptr;
    QTimer* m_drainTimer = nullptr;
    QTimer* m_watchTimer = nullptr;
    int64_t m_watchReadThrough = -1; // every trial up to this number has been read
    std::set<int64_t> m_watchOpen;   // the watched trials still running or waiting
    // What the view shows of each open watched trial: its state and how many epochs it reported, so
    // that only what changed is shown again.
    std::map<int64_t, std::pair<TrialState, size_t>> m_watchShown;
    std::optional<StudySpec> m_watchedSpec;

    bool m_running = false;
    StudyId m_studyId = 0;
    std::string m_editorExperimentJson; // the editor's experiment: a new study's base
    int m_editorEpochs = 0;
    StudySpec m_runningSpec;
    std::unique_ptr<ExperimentObjective> m_objective;
    std::unique_ptr<StudyRunner> m_runner; // owns the study's threads; drained by drain()
    int m_finishedTrials = 0;
    QString m_endReason;
};

} // namespace tunelab
