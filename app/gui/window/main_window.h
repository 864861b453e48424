#pragma once

#include "events/run_events.h"
#include "spec/spec.h"

#include <QMainWindow>
#include <QPointer>
#include <QString>

#include <future>
#include <memory>
#include <optional>
#include <vector>

class QAction;
class QLabel;
class QMessageBox;
class QMenu;
class QTabWidget;
class QLineEdit;
class QTimer;

namespace tunelab {

class AugmentForm;
class AugmentPreviewView;
class AugmentPreviewer;
class DataForm;
class LossChartView;
class MetricCharts;
class NetworkEditor;
class RunsTableModel;
class RunsTableView;
class SpecDiffModel;
class ConfusionMatrixView;
class CompressionPlanDialog;
class CompressionTask;
struct CompressionPlan;
struct CompressionResult;
class StudyPanel;
class RaceWindow;
class LrRangeTestDialog;
class PlaygroundWindow;
class RunSession;
class RunStore;
class TrainingForm;

// Wires the panels together: the experiment forms, the charts, the runs dock, the Search tab and
// the tools. Runs are started, stopped and drained by its RunSession; the window shows what the
// session reports. Nothing here runs on a worker thread.
class MainWindow : public QMainWindow {
    Q_OBJECT

public:
    explicit MainWindow(QWidget* parent = nullptr);
    ~MainWindow() override; // stops a running run and waits for its thread

    // Records every run in this store from now on (call before the first run).
    void setRunStore(std::unique_ptr<RunStore> store);
    RunStore* runStore() const { return m_store.get(); }
    // File › Open Shared Store…: replaces the run store by the one at `location` (a file, or a
    // postgresql:// URL that other machines' workers share) and shows its study `study` (when empty:
    // its only study, if it has one) as it grows. Refused while something trains here; `error` says why.
    bool openStoreLocation(const QString& location, const QString& study = QString(),
                           QString* error = nullptr);

    void setExperiment(const ExperimentSpec& spec);
    // The experiment as the panels show it now.
    const ExperimentSpec& experiment() const { return m_spec; }
    // Loads a spec file; on error keeps the current experiment and reports where the file is wrong.
    bool openExperiment(const QString& path);
    // Loads a study file: its experiment into the editors, its space and settings into the Search tab.
    bool openStudyFile(const QString& path);
    // Writes the Search tab's study (the current experiment inlined) as a file that
    // `tunelab-cli study run` and File › Open Study… read back.
    bool saveStudyFile(const QString& path);
    // Writes the experiment as JSON that tunelab-cli train runs as it is.
    bool saveExperiment(const QString& path);
    // True when the panels hold changes that were not saved to (or loaded from) a file: the title
    // shows a *, and New, Open, loading a run or trial and quitting ask first.
    bool isModified() const;
    // Why Run is disabled (empty when it is not): the data or network error, named.
    QString runBlockedReason() const { return m_blockedReason; }

    // Interactive windows report errors in a dialog as well; tests and screenshots must not block.
    void setInteractive(bool interactive) { m_interactive = interactive; }

    bool startRun();
    void stopRun();
    bool isRunning() const;
    RunId currentRunId() const;   // 0 before the first run
    RunStatus lastStatus() const; // Queued until a run finished
    QString stateText() const;
    QString metricsText() const;
    QString deviceText() const;
    // The status bar's lasting notice that the run store could not save everything (hidden while
    // it saved all); its tooltip, and a warning box, say what was lost and where.
    QLabel* storeLossLabel() const { return m_storeLossLabel; }

    LossChartView* lossChart() const { return m_chart; }
    MetricCharts* metricCharts() const { return m_charts; }
    QAction* runAction() const { return m_runAction; }
    QAction* pauseAction() const { return m_pauseAction; }
    QAction* stopAction() const { return m_stopAction; }
    DataForm* dataForm() const { return m_dataForm; }
    AugmentForm* augmentForm() const { return m_augmentForm; }
    AugmentPreviewView* augmentPreview() const { return m_augmentPreview; }
    AugmentPreviewer* augmentPreviewer() const { return m_augmentPreviewer; }
    NetworkEditor* networkEditor() const { return m_networkEditor; }
    RunsTableView* runsView() const { return m_runsView; }
    RunsTableModel* runsModel() const { return m_runsModel; }
    SpecDiffModel* specDifferences() const { return m_specDiff; }
    ConfusionMatrixView* confusionMatrix() const { return m_confusion; }
    QTabWidget* runsTabs() const { return m_runsTabs; }
    // Shows exactly these runs' curves (loaded from the run store); none selected follows the current run.
    void showRuns(const QList<qint64>& ids);
    // Stores a run's tags and note and shows them in the runs table; false, with the store's
    // reason in `error` (and a message box when interactive), when they cannot be stored.
    bool annotateRun(qint64 id, const QStringList& tags, const QString& note, QString* error = nullptr);
    // "Tags and Note...": the dialog, then annotateRun.
    void editRunNotes(qint64 id);
    // "Fork from Here...": the fork dialog for the run (main_window_fork.cpp), opened with open(),
    // so the runs go on draining while it shows.
    void forkRun(qint64 id);
    // The fork dialog's Start: a running parent forks at the end of the epoch it trains (the status
    // bar says so meanwhile), a finished one from its stored checkpoint. Why not; "" when it started
    // or waits for the epoch's end.
    QString startFork(qint64 parent, const ExperimentSpec& spec);
    // "Export Model...": a run's model to TorchScript (a .pth path: a state dict with readable names
    // and its spec beside it), written and checked off the GUI thread (docs/export.md); the status bar
    // says how the check went, and exportFinished() follows with "" or the reason it failed.
    void exportRunModelTo(qint64 id, const QString& path);
    // "Optimize Model...": the compression plan dialog of a run with a saved model, beside the window
    // (main_window_compress.cpp); one plan runs at a time.
    CompressionPlanDialog* optimizeModel(qint64 id);
    // The dialog's Run: trains, exports and measures the plan's variants off the GUI thread, with their
    // files in `outputDirectory`; their runs join the runs table as they train, and compressionFinished()
    // follows. Why it did not start; "" when it did.
    QString startCompression(const CompressionPlan& plan, const QString& outputDirectory);
    void stopCompression(); // the run in progress stops, the other variants are skipped
    bool isCompressing() const { return m_compression != nullptr; }
    RunSession* runSession() const { return m_session.get(); }
    TrainingForm* trainingForm() const { return m_trainingForm; }
    StudyPanel* studyPanel() const { return m_studyPanel; }
    QTabWidget* centralTabs() const { return m_centralTabs; }
    QTabWidget* experimentTabs() const { return m_experimentTabs; }

    // Tools: each opens its window (owned by this one) and returns it.
    RaceWindow* openRaceWindow();
    LrRangeTestDialog* openLrRangeTest();
    PlaygroundWindow* openPlayground();
    // Puts a learning rate into the experiment and the training panel (the range test's Apply).
    void applyLearningRate(double learningRate);

    // Restores the window geometry from QSettings and saves it again on close. With `restoreSession`,
    // also the experiment the user had (its file path and unsaved edits included) and the study
    // shown in the Search tab, as they were when the window closed.
    void restoreSettings(bool restoreSession = true);

Q_SIGNALS:
    void runFinished(qint64 runId);
    // An export of exportRunModelTo() ended: "" when the file was written and verified, else why not.
    void exportFinished(const QString& error);
    // A plan of startCompression() ended: "" when it ran (a variant may still have failed), else why not.
    void compressionFinished(const QString& error);

protected:
    void closeEvent(QCloseEvent* event) override;
    void showEvent(QShowEvent* event) override;

private:
    // Gives the docks their first sizes once the window is laid out; a restored layout wins.
    void sizeDocksOnce();
    // The space table needs more room than the forms: widens a narrow experiment panel.
    void widenExperimentPanel();
    void createActions();
    void createPanels(); // main_window_panels.cpp
    void createAugmentTab();
    void updateAugmentation();
    void createStatusBar();
    void newExperiment();
    void exportCurrentChart(bool asCsv);
    bool saveExperimentAs();
    bool saveToCurrentFile();
    void saveWindowSettings();
    bool showNameValidity(); // true when the name field holds a usable name
    // The experiment, its path and saved state, and the shown study, for the next start.
    void saveSession();
    bool restoreSession(); // true when the last session's experiment came back
    // The panels' experiment as JSON, after taking in every panel edit.
    QString panelsSpecJson();
    void markSaved();
    // Save / Discard / Cancel when the experiment has unsaved changes; true to go on with `action`.
    bool confirmReplacingExperiment(const QString& action);
    // Stop and Quit / Cancel while runs or a study are going; true to go on.
    bool confirmStoppingWork();
    // Replaces the experiment (a run's or trial's settings) so that Edit › Undo brings it back.
    void replaceExperimentUndoably(const ExperimentSpec& spec, const QString& what);
    void undoReplacingExperiment();
    void addRecentFile(const QString& path);
    void updateRecentMenu();
    void setPaused(bool paused);
    void showShortcuts();
    void showAbout();
    void syncSpecFromPanels();
    void updateRunValidity();
    void updateNetworkTarget();
    void createRunsDock();
    void createStudyPanel();
    void createToolsMenu();
    void openTrialExperiment(const QString& specJson, const QString& title);
    void updateSpecDifferences(const QList<qint64>& ids);
    // The confusion matrix of the one selected run, worked out on a thread while its tab shows.
    void updateConfusionMatrix();
    void loadRunSpec(qint64 id, bool asCopy);
    void openForkDialog(qint64 id, bool flushed);
    void showFork(qint64 parent, qint64 fork);
    // The devices this machine offers, in a training form's Device list.
    static void offerDevices(TrainingForm* form);
    void deleteRuns(const QList<qint64>& ids);
    void exportRunConfig(qint64 id);
    QString runName(qint64 id) const; // empty when the runs table does not hold it
    void exportRunModel(qint64 id);
    void chooseExperimentFile();
    void chooseStudyFile();
    void chooseSharedStore();
    void saveStudyAs();
    void updateActions();
    void updateTitle();
    void createRunSession();
    void setState(const QString& text);
    void showDevice(const std::string& deviceId);
    void reportError(const QString& title, const QString& message);
    // GUI thread: shows what the store's lost-write record holds (the handler posts here).
    void showStoreLoss();
    void watchStoreLosses(bool watch);

    ExperimentSpec m_spec;
    QString m_specPath; // empty for the built-in experiment
    QString m_blockedReason;
    bool m_loadingPanels = false;
    std::unique_ptr<RunStore> m_store; // declared before the session: it outlives the runs
    std::unique_ptr<RunSession> m_session;
    bool m_interactive = true;
    bool m_saveSettings = false;
    bool m_layoutRestored = false;
    bool m_docksSized = false;
    bool m_widenWhenShown = false; // the Search tab was brought forward before the first show

    MetricCharts* m_charts = nullptr;
    LossChartView* m_chart = nullptr; // the train-loss tab
    QAction* m_runAction = nullptr;
    QAction* m_stopAction = nullptr;
    QAction* m_pauseAction = nullptr;
    QAction* m_openAction = nullptr;
    QMenu* m_recentMenu = nullptr;
    QMenu* m_viewMenu = nullptr;
    QMenu* m_editMenu = nullptr;
    QTabWidget* m_experimentTabs = nullptr;
    QTabWidget* m_centralTabs = nullptr;
    StudyPanel* m_studyPanel = nullptr;
    DataForm* m_dataForm = nullptr;
    TrainingForm* m_trainingForm = nullptr;
    NetworkEditor* m_networkEditor = nullptr;
    AugmentForm* m_augmentForm = nullptr;
    AugmentPreviewView* m_augmentPreview = nullptr;
    AugmentPreviewer* m_augmentPreviewer = nullptr;
    RunsTableModel* m_runsModel = nullptr;
    RunsTableView* m_runsView = nullptr;
    SpecDiffModel* m_specDiff = nullptr;
    ConfusionMatrixView* m_confusion = nullptr;
    quint64 m_confusionRequest = 0; // the newest; an older answer is dropped
    QTabWidget* m_runsTabs = nullptr;
    QLabel* m_stateLabel = nullptr;
    QLabel* m_metricsLabel = nullptr;
    static constexpr int kStatusTextIntervalMs = 200;
    QTimer* m_statusTextTimer = nullptr;
    QString m_stateText;   // the newest, shown within kStatusTextIntervalMs
    QString m_metricsText; // likewise
    void showStatusTexts();
    QLabel* m_deviceLabel = nullptr;
    QLabel* m_activeLabel = nullptr;

    // What the editor held before a run or trial replaced it, for Edit › Undo.
    struct ReplacedExperiment {
        ExperimentSpec spec;
        QString path;
        QString savedJson;
        QString what;
    };
    std::optional<ReplacedExperiment> m_replaced;
    QAction* m_undoLoadAction = nullptr;
    QString m_savedJson; // the experiment as last saved or loaded
    QLineEdit* m_nameEdit = nullptr;
    QTimer* m_sessionTimer = nullptr; // saves the session shortly after an edit
    QLabel* m_storeLossLabel = nullptr;
    QMessageBox* m_storeLossBox = nullptr;

    void drainCompression(); // the compression timer's work: progress, runs, the end
    void finishCompression(const Result<CompressionResult>& result);
    void abandonCompression(const QString& why); // ends a running plan (its store goes)
    QString compressionOutputBase() const;
    QPointer<CompressionPlanDialog> m_compressionDialog;
    QTimer* m_compressionTimer = nullptr;
    // Declared after the store and the session: the plan stops and its thread ends before they go.
    std::unique_ptr<CompressionTask> m_compression;
    // Confusion matrices and model exports being worked out; destroyed first, so the window waits for them.
    std::vector<std::future<void>> m_confusionJobs;
    std::vector<std::future<void>> m_exportJobs;
};

} // namespace tunelab
