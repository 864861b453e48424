#include "window/main_window.h"

#include "compress/compression_task.h"
#include "study/study_panel.h"
#include "window/metric_charts.h"

#include "charts/loss_chart_view.h"
#include "common/names.h"
#include "common/qt_text.h"
#include "common/wheel_guard.h"
#include "experiment/augment_form.h"
#include "experiment/data_form.h"
#include "experiment/network_editor.h"
#include "experiment/training_form.h"
#include "runs/runs_table_model.h"
#include "runs/runs_table_view.h"
#include "store/run_store.h"
#include "training/devices.h"
#include "window/run_session.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDockWidget>
#include <QHash>
#include <QKeySequence>
#include <QLabel>
#include <QLineEdit>
#include <QMenuBar>
#include <QMessageBox>
#include <QSettings>
#include <QShowEvent>
#include <QSignalBlocker>
#include <QStatusBar>
#include <QStyle>
#include <QTabWidget>
#include <QTimer>
#include <QToolBar>

#include <algorithm>
#include <cmath>

namespace tunelab {

MainWindow::MainWindow(QWidget* parent)
    : QMainWindow(parent)
    , m_spec(defaultExperiment())
    , m_charts(new MetricCharts(this))
    , m_chart(m_charts->stepLossChart()) {
    guardWheelEvents();
    m_sessionTimer = new QTimer(this);
    m_sessionTimer->setSingleShot(true);
    m_sessionTimer->setInterval(2000);
    connect(m_sessionTimer, &QTimer::timeout, this, &MainWindow::saveSession);
    m_centralTabs = new QTabWidget(this);
    m_centralTabs->setObjectName(QStringLiteral("centralTabs"));
    m_centralTabs->setDocumentMode(true);
    m_centralTabs->addTab(m_charts, tr("Training curves"));
    setCentralWidget(m_centralTabs);
    createActions();
    createPanels();
    createStudyPanel();
    createToolsMenu();
    createRunsDock();
    createStatusBar();
    createRunSession();
    setExperiment(m_spec);

    resize(1280, 800);
    setState(tr("Ready"));
    showDevice(m_spec.device);
    updateTitle();
    updateActions();
}

MainWindow::~MainWindow() {
    watchStoreLosses(false); // the store's writer may not post to a window that is going
    // A study's trial threads write to the store and the manager's queue: they end first.
    m_studyPanel->shutdown();
    // The session's manager stops the runs and joins their threads before the widgets go.
    m_session.reset();
}

void MainWindow::createActions() {
    QMenu* fileMenu = menuBar()->addMenu(tr("&File"));
    QAction* newAction = fileMenu->addAction(style()->standardIcon(QStyle::SP_FileIcon),
                                             tr("&New Experiment"), this, &MainWindow::newExperiment);
    newAction->setShortcut(QKeySequence::New);
    newAction->setStatusTip(tr("Start again from the built-in experiment"));
    m_openAction = fileMenu->addAction(style()->standardIcon(QStyle::SP_DialogOpenButton),
                                       tr("&Open Experiment…"), this, &MainWindow::chooseExperimentFile);
    m_openAction->setShortcut(QKeySequence::Open);
    m_openAction->setStatusTip(tr("Load an experiment spec from a JSON file"));
    m_recentMenu = fileMenu->addMenu(tr("Open &Recent"));
    QAction* openStudyAction = fileMenu->addAction(tr("Open S&tudy…"), this, &MainWindow::chooseStudyFile);
    openStudyAction->setStatusTip(tr("Load a study file: its experiment, search space and settings"));
    QAction* openSharedAction =
        fileMenu->addAction(tr("Open Shared Store…"), this, &MainWindow::chooseSharedStore);
    openSharedAction->setStatusTip(
        tr("Open a run store that other machines share (postgresql://…) and watch its studies live"));
    QAction* saveAction = fileMenu->addAction(style()->standardIcon(QStyle::SP_DialogSaveButton), tr("&Save"),
                                              this, &MainWindow::saveToCurrentFile);
    saveAction->setShortcut(QKeySequence::Save);
    QAction* saveAsAction = fileMenu->addAction(tr("Save &As…"), this, &MainWindow::saveExperimentAs);
    saveAsAction->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_S));
    saveAsAction->setStatusTip(tr("Save the experiment as JSON that tunelab-cli train runs"));
    QMenu* exportMenu = fileMenu->addMenu(tr("&Export"));
    exportMenu->addAction(tr("Experiment as JSON…"), this, &MainWindow::saveExperimentAs);
    exportMenu->addAction(tr("Study as JSON…"), this, &MainWindow::saveStudyAs)
        ->setStatusTip(tr("Save the Search tab's study with the experiment, for tunelab-cli study run"));
    exportMenu->addAction(tr("Current Chart as PNG…"), this, [this] { exportCurrentChart(false); });
    exportMenu->addAction(tr("Current Chart Data as CSV…"), this, [this] { exportCurrentChart(true); });
    fileMenu->addSeparator();
    QAction* quitAction = fileMenu->addAction(tr("&Quit"), this, &QWidget::close);
    quitAction->setShortcut(QKeySequence::Quit);
    quitAction->setMenuRole(QAction::QuitRole);
    updateRecentMenu();

    m_editMenu = menuBar()->addMenu(tr("&Edit"));
    m_undoLoadAction = m_editMenu->addAction(tr("Undo Load"), this, &MainWindow::undoReplacingExperiment);
    m_undoLoadAction->setObjectName(QStringLiteral("undoLoadAction"));
    m_undoLoadAction->setStatusTip(tr("Bring back the experiment a run's or trial's settings replaced"));
    m_undoLoadAction->setEnabled(false);

    QMenu* runMenu = menuBar()->addMenu(tr("&Run"));
    m_runAction = runMenu->addAction(style()->standardIcon(QStyle::SP_MediaPlay), tr("&Run"), this,
                                     [this] { startRun(); });
    m_runAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_R));
    m_runAction->setStatusTip(tr("Train the current experiment"));
    m_pauseAction = runMenu->addAction(style()->standardIcon(QStyle::SP_MediaPause), tr("&Pause"));
    m_pauseAction->setCheckable(true);
    m_pauseAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_P));
    m_pauseAction->setStatusTip(tr("Pause or resume the run after the current step"));
    connect(m_pauseAction, &QAction::toggled, this, &MainWindow::setPaused);
    m_stopAction = runMenu->addAction(style()->standardIcon(QStyle::SP_MediaStop), tr("&Stop"), this,
                                      &MainWindow::stopRun);
    m_stopAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Period));
    m_stopAction->setStatusTip(tr("Stop the run after the current step"));

    QMenu* viewMenu = menuBar()->addMenu(tr("&View"));
    QAction* logAction = viewMenu->addAction(tr("&Logarithmic Loss Axis"));
    logAction->setIconText(tr("Log Scale"));
    logAction->setCheckable(true);
    logAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_L));
    connect(logAction, &QAction::toggled, m_charts, &MetricCharts::setLogScale);
    connect(m_chart, &LossChartView::logScaleChanged, logAction, &QAction::setChecked);
    QAction* clearAction = viewMenu->addAction(tr("&Clear Chart"), this, [this] { m_session->clearChart(); });
    clearAction->setStatusTip(tr("Remove the curves of earlier runs"));

    m_viewMenu = viewMenu;
    QMenu* helpMenu = menuBar()->addMenu(tr("&Help"));
    QAction* shortcutsAction =
        helpMenu->addAction(tr("&Keyboard Shortcuts"), this, &MainWindow::showShortcuts);
    shortcutsAction->setShortcut(QKeySequence::HelpContents);
    helpMenu->addAction(tr("&About TuneLab"), this, &MainWindow::showAbout);

    QToolBar* toolBar = addToolBar(tr("Run"));
    toolBar->setObjectName(QStringLiteral("runToolBar"));
    toolBar->setMovable(false);
    toolBar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    toolBar->addAction(m_openAction);
    toolBar->addSeparator();
    toolBar->addAction(m_runAction);
    toolBar->addAction(m_pauseAction);
    toolBar->addAction(m_stopAction);
    toolBar->addSeparator();
    toolBar->addAction(logAction);
}

void MainWindow::createStatusBar() {
    m_stateLabel = new QLabel(this);
    m_metricsLabel = new QLabel(this);
    m_deviceLabel = new QLabel(this);
    m_stateLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    for (QLabel* label : {m_stateLabel, m_metricsLabel})
        label->setTextFormat(Qt::PlainText);
    // Live runs report progress with every batch of steps; the labels take the newest text a few
    // times a second, since every new text lays out the status bar again.
    m_statusTextTimer = new QTimer(this);
    m_statusTextTimer->setSingleShot(true);
    m_statusTextTimer->setInterval(kStatusTextIntervalMs);
    connect(m_statusTextTimer, &QTimer::timeout, this, [this] {
        if (m_stateLabel->text() != m_stateText || m_metricsLabel->text() != m_metricsText) {
            m_stateLabel->setText(m_stateText);
            m_metricsLabel->setText(m_metricsText);
            m_statusTextTimer->start();
        }
    });
    statusBar()->addWidget(m_stateLabel, 1);
    m_activeLabel = new QLabel(this);
    statusBar()->addPermanentWidget(m_activeLabel);
    statusBar()->addPermanentWidget(m_metricsLabel);
    statusBar()->addPermanentWidget(m_deviceLabel);
    m_storeLossLabel = new QLabel(this);
    m_storeLossLabel->setObjectName(QStringLiteral("storeLossLabel"));
    m_storeLossLabel->setStyleSheet(QStringLiteral("QLabel { color: #c62828; font-weight: bold; }"));
    m_storeLossLabel->hide();
    statusBar()->addPermanentWidget(m_storeLossLabel);
}

void MainWindow::setRunStore(std::unique_ptr<RunStore> store) {
    abandonCompression(tr("the run store was replaced"));
    m_studyPanel->setRunStore(nullptr, nullptr); // a running study ends before its store goes
    m_session->setRunStore(nullptr);             // the old manager's runs end before its store goes
    watchStoreLosses(false);
    m_store = std::move(store);
    watchStoreLosses(true);
    m_session->setRunStore(m_store.get());
    const std::vector<RunRecord> runs = m_store ? m_store->listRuns() : std::vector<RunRecord>{};
    m_runsModel->setRuns(runs);
    std::vector<RunId> newestFirst;
    for (auto it = runs.rbegin(); it != runs.rend(); ++it)
        newestFirst.push_back(it->id);
    m_session->loadStoredHealthFlags(newestFirst); // ⚠ after a restart, newest runs first
    if (m_store) {
        for (const auto& [id, loss] : m_store->bestValidationLosses())
            m_runsModel->setBestValLoss(id, loss);
    }
    m_studyPanel->setRunStore(m_store.get(), m_session->runEvents());
}

void MainWindow::setExperiment(const ExperimentSpec& spec) {
    m_spec = spec;
    m_specPath.clear();
    m_loadingPanels = true;
    m_nameEdit->setText(fromStd(spec.name));
    showNameValidity();
    m_trainingForm->setSpec(spec);
    m_networkEditor->setModel(spec.model);
    m_networkEditor->setFrozenLayers(spec.init.fromWeights() ? spec.init.freezeLayers : 0);
    m_augmentForm->setSpec(spec);
    m_dataForm->openSpec(spec); // data from files loads off the GUI thread; dataLoaded follows
    updateNetworkTarget();
    m_loadingPanels = false;
    updateTitle();
    updateRunValidity();
    if (!isRunning())
        showDevice(m_spec.device);
    m_studyPanel->setBaseExperiment(m_spec);
    markSaved();
}

void MainWindow::syncSpecFromPanels() {
    if (m_loadingPanels)
        return;
    const LossType lossBefore = m_spec.loss.type;
    if (showNameValidity())
        m_spec.name = m_nameEdit->text().trimmed().toStdString();
    m_dataForm->applyTo(m_spec);
    m_trainingForm->applyTo(m_spec);
    m_augmentForm->applyTo(m_spec);
    m_spec.model = m_networkEditor->model();
    if (m_spec.loss.type != lossBefore)
        updateNetworkTarget();
    updateAugmentation();
    if (!isRunning())
        showDevice(m_spec.device);
    updateRunValidity();
    m_studyPanel->setBaseExperiment(m_spec);
    updateTitle();
    if (m_saveSettings)
        m_sessionTimer->start();
}

// A name must be non-empty and free of control characters; a refused one turns the field red with
// the reason, and the experiment keeps its last good name.
bool MainWindow::showNameValidity() {
    const QString name = m_nameEdit->text().trimmed();
    const QString problem =
        name.isEmpty() ? tr("the experiment needs a name") : fromStd(nameProblem(name.toStdString()));
    m_nameEdit->setProperty("problem", problem);
    m_nameEdit->setStyleSheet(problem.isEmpty() ? QString()
                                                : QStringLiteral("QLineEdit { border: 2px solid #d32f2f; }"));
    m_nameEdit->setToolTip(
        problem.isEmpty() ? tr("The experiment's name: its runs, the window title and exported files use it")
                          : problem);
    return problem.isEmpty();
}

void MainWindow::updateRunValidity() {
    m_blockedReason.clear();
    if (!m_dataForm->hasData() && m_dataForm->isLoading())
        m_blockedReason = tr("The data is still loading");
    else if (!m_dataForm->hasData())
        m_blockedReason = tr("The data cannot be loaded: %1").arg(m_dataForm->errorText());
    else if (const QString problem = m_nameEdit->property("problem").toString(); !problem.isEmpty())
        m_blockedReason = tr("Name: %1").arg(problem);
    else if (const QStringList problems =
                 m_dataForm->problems() + m_trainingForm->problems() + m_augmentForm->problems();
             !problems.isEmpty())
        m_blockedReason =
            tr("A field holds a value TuneLab cannot use: %1").arg(problems.join(QStringLiteral("; ")));
    else if (!m_networkEditor->isValid())
        m_blockedReason = tr("The network cannot be used: %1").arg(m_networkEditor->invalidReason());
    updateActions();
}

// The editor checks shapes against the data's sample shape and the loss's expected output. Without
// data (it is loading, or cannot be read) the editor is told the shape is unknown: the last data's
// shape belongs to other data and would mark layers red that fit the data on its way.
void MainWindow::updateNetworkTarget() {
    if (!m_dataForm->hasData()) {
        m_networkEditor->setInputShape({});
        return;
    }
    const Dataset& data = m_dataForm->dataset();
    m_networkEditor->setInputShape(data.sampleShape);
    m_networkEditor->setOutputTarget(OutputTarget{data.task, data.classes, m_spec.loss.type});
}

void MainWindow::setPaused(bool paused) {
    m_session->setPaused(paused);
}

bool MainWindow::isRunning() const {
    return m_session && m_session->isRunning();
}

RunId MainWindow::currentRunId() const {
    return m_session ? m_session->currentRunId() : 0;
}

RunStatus MainWindow::lastStatus() const {
    return m_session ? m_session->lastStatus() : RunStatus::Queued;
}

// Starts the experiment as the panels show it. A run already going keeps training beside the
// new one (to compare settings side by side); the new run becomes the current one.
bool MainWindow::startRun() {
    syncSpecFromPanels();
    if (!m_blockedReason.isEmpty()) {
        m_session->setLastStatus(RunStatus::Failed);
        reportError(tr("Cannot run"), m_blockedReason);
        return false;
    }
    if (m_pauseAction->isChecked()) {
        const QSignalBlocker blocker(m_pauseAction);
        m_pauseAction->setChecked(false);
    }
    Result<RunId> started = m_session->start(m_spec);
    if (!started.ok()) {
        reportError(tr("Run failed"), fromStd(started.error()));
        return false;
    }
    if (m_saveSettings)
        QSettings().setValue(QStringLiteral("device"), fromStd(m_spec.device));
    updateActions();
    return true;
}

void MainWindow::stopRun() {
    m_session->stop();
}

// The session's reports: the status bar, the device, errors in a dialog.
void MainWindow::createRunSession() {
    m_session = std::make_unique<RunSession>(m_runsModel, m_charts);
    m_session->setBusyElsewhere([this] { return m_studyPanel->isRunning(); });
    connect(m_session.get(), &RunSession::stateChanged, this, &MainWindow::setState);
    connect(m_session.get(), &RunSession::metricsChanged, this, [this](const QString& text) {
        m_metricsText = text;
        showStatusTexts();
    });
    connect(m_session.get(), &RunSession::deviceReported, this,
            [this](const QString& device) { showDevice(device.toStdString()); });
    connect(m_session.get(), &RunSession::runFailed, this, &MainWindow::reportError);
    connect(m_session.get(), &RunSession::controlsChanged, this, &MainWindow::updateActions);
    connect(m_session.get(), &RunSession::runFinished, this, &MainWindow::runFinished);
    connect(m_session.get(), &RunSession::forkStarted, this, &MainWindow::showFork);
    connect(m_session.get(), &RunSession::activeRunsChanged, this, [this](int active) {
        m_activeLabel->setText(active == 1  ? tr("1 run in progress")
                               : active > 1 ? tr("%1 runs in progress").arg(active)
                                            : QString());
    });
}

void MainWindow::updateActions() {
    m_runAction->setEnabled(m_blockedReason.isEmpty());
    m_runAction->setToolTip(m_blockedReason.isEmpty() ? tr("Train the current experiment (Ctrl+R)")
                                                      : m_blockedReason);
    const bool running = isRunning();
    const bool stopping = m_session && m_session->stopRequested();
    m_pauseAction->setEnabled(running && !stopping);
    if (!running && m_pauseAction->isChecked()) {
        const QSignalBlocker blocker(m_pauseAction);
        m_pauseAction->setChecked(false);
    }
    m_stopAction->setEnabled(running && !stopping);
}

void MainWindow::updateTitle() {
    setWindowTitle(tr("TuneLab — %1[*]").arg(fromStd(m_spec.name)));
    setWindowModified(isModified());
    setWindowFilePath(m_specPath);
}

void MainWindow::setState(const QString& text) {
    m_stateText = text;
    showStatusTexts();
}

void MainWindow::showStatusTexts() {
    if (!m_statusTextTimer)
        return; // before the status bar exists; it shows the texts once made
    if (m_statusTextTimer->isActive())
        return; // the timer shows the newest texts when it fires
    m_stateLabel->setText(m_stateText);
    m_metricsLabel->setText(m_metricsText);
    m_statusTextTimer->start();
}

QString MainWindow::stateText() const {
    return m_stateText;
}

QString MainWindow::metricsText() const {
    return m_metricsText;
}

QString MainWindow::deviceText() const {
    return m_deviceLabel->text();
}

void MainWindow::showDevice(const std::string& deviceId) {
    Result<std::string> resolved = resolveDevice(deviceId);
    if (!resolved.ok()) {
        m_deviceLabel->setText(tr("Device: %1 (unavailable)").arg(fromStd(deviceId)));
        m_deviceLabel->setToolTip(fromStd(resolved.error()));
        return;
    }
    const std::string& id = resolved.value();
    QString name;
    for (const DeviceInfo& device : availableDevices()) {
        if (device.id == id) {
            name = fromStd(device.name);
            if (device.memoryBytes > 0)
                name += tr(", %1 GiB").arg(static_cast<double>(device.memoryBytes) / (1 << 30), 0, 'f', 0);
        }
    }
    m_deviceLabel->setText(name.isEmpty() || name == fromStd(id)
                               ? tr("Device: %1").arg(fromStd(id))
                               : tr("Device: %1 (%2)").arg(name, fromStd(id)));
    m_deviceLabel->setToolTip(QString());
}

void MainWindow::watchStoreLosses(bool watch) {
    if (!m_store)
        return;
    if (!watch) {
        m_store->setLostWriteHandler(nullptr); // returns once no call of the handler is running
        return;
    }
    // Called on the store's writer thread: posts to the GUI thread and returns.
    m_store->setLostWriteHandler(
        [this] { QMetaObject::invokeMethod(this, &MainWindow::showStoreLoss, Qt::QueuedConnection); });
    showStoreLoss(); // a store that lost writes before it was handed over
}

void MainWindow::showStoreLoss() {
    const QString report = m_store ? fromStd(m_store->lostWritesReport()) : QString();
    if (report.isEmpty())
        return;
    // The label stays until the window closes: later runs that save fine do not undo the loss.
    m_storeLossLabel->setText(tr("\u26a0 Run store: not everything was saved"));
    m_storeLossLabel->setToolTip(report);
    m_storeLossLabel->show();
    if (!m_storeLossBox) {
        m_storeLossBox = new QMessageBox(QMessageBox::Warning, tr("The run store could not save everything"),
                                         QString(), QMessageBox::Ok, this);
        m_storeLossBox->setObjectName(QStringLiteral("storeLossWarning"));
        m_storeLossBox->setWindowModality(Qt::NonModal);
    }
    m_storeLossBox->setText(report);
    if (m_interactive && isVisible())
        m_storeLossBox->show(); // not modal: runs and their drains go on
}

void MainWindow::reportError(const QString& title, const QString& message) {
    setState(tr("%1: %2").arg(title, QString(message).replace(QLatin1Char('\n'), QStringLiteral("; "))));
    if (!m_interactive || !isVisible())
        return;
    // open(), not exec(): a nested event loop would re-enter the session's drain from its timer.
    auto* box = new QMessageBox(QMessageBox::Warning, title, message, QMessageBox::Ok, this);
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->open();
}

void MainWindow::restoreSettings(bool restoreSession) {
    QSettings settings;
    restoreGeometry(settings.value(QStringLiteral("mainWindow/geometry")).toByteArray());
    m_layoutRestored = restoreState(settings.value(QStringLiteral("mainWindow/state")).toByteArray());
    m_saveSettings = true;
    updateRecentMenu();
    // The session's experiment carries its own device; the last device applies to a fresh one.
    if (restoreSession && this->restoreSession())
        return;
    const QString device = settings.value(QStringLiteral("device")).toString();
    if (!device.isEmpty() && deviceStringError(device.toStdString()).empty()) {
        ExperimentSpec spec = m_spec;
        spec.device = device.toStdString();
        setExperiment(spec);
    }
}

void MainWindow::showEvent(QShowEvent* event) {
    QMainWindow::showEvent(event);
    // Docks take sizes only once laid out, which the first show queues: size them after it.
    if (!m_docksSized)
        QTimer::singleShot(0, this, &MainWindow::sizeDocksOnce);
}

void MainWindow::sizeDocksOnce() {
    if (m_docksSized)
        return;
    m_docksSized = true;
    // The charts get the room; the panels their natural width, the runs a few rows.
    if (!m_layoutRestored) {
        resizeDocks({findChild<QDockWidget*>(QStringLiteral("experimentDock"))}, {520}, Qt::Horizontal);
        resizeDocks({findChild<QDockWidget*>(QStringLiteral("runsDock"))}, {190}, Qt::Vertical);
    }
    if (m_widenWhenShown)
        widenExperimentPanel();
}

void MainWindow::widenExperimentPanel() {
    if (!m_docksSized) {
        m_widenWhenShown = true;
        return;
    }
    auto* dock = findChild<QDockWidget*>(QStringLiteral("experimentDock"));
    if (dock && dock->width() < 600)
        resizeDocks({dock}, {640}, Qt::Horizontal);
}

void MainWindow::saveWindowSettings() {
    if (!m_saveSettings)
        return;
    QSettings settings;
    settings.setValue(QStringLiteral("mainWindow/geometry"), saveGeometry());
    settings.setValue(QStringLiteral("mainWindow/state"), saveState());
}

} // namespace tunelab
