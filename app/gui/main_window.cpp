#include "app/gui/main_window.h"

#include "engine/devices.h"
#include "engine/run_manager.h"
#include "widgets/loss_chart_view.h"

#include <QAction>
#include <QCloseEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QHash>
#include <QKeySequence>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QSettings>
#include <QStatusBar>
#include <QStyle>
#include <QTimer>
#include <QToolBar>

#include <algorithm>
#include <cmath>

namespace tunelab {

namespace {

QString fromStd(const std::string& text) {
    return QString::fromStdString(text);
}

QString formatSeconds(double seconds) {
    if (seconds < 60.0)
        return QObject::tr("%1 s").arg(seconds, 0, 'f', 1);
    const int whole = static_cast<int>(std::lround(seconds));
    return QObject::tr("%1 min %2 s").arg(whole / 60).arg(whole % 60);
}

} // namespace

MainWindow::MainWindow(QWidget* parent)
    : QMainWindow(parent)
    , m_spec(defaultExperiment())
    , m_manager(std::make_unique<RunManager>(nullptr))
    , m_chart(new LossChartView(this))
    , m_drainTimer(new QTimer(this)) {
    setCentralWidget(m_chart);
    createActions();
    createStatusBar();

    m_drainTimer->setInterval(kDrainIntervalMs);
    connect(m_drainTimer, &QTimer::timeout, this, &MainWindow::drainEvents);

    resize(1000, 640);
    setState(tr("Ready"));
    showDevice(m_spec.device);
    updateTitle();
    updateActions();
}

MainWindow::~MainWindow() {
    // The manager's destructor stops the runs and joins their threads before the widgets go.
    m_manager.reset();
}

void MainWindow::createActions() {
    QMenu* fileMenu = menuBar()->addMenu(tr("&File"));
    m_openAction = fileMenu->addAction(style()->standardIcon(QStyle::SP_DialogOpenButton),
                                       tr("&Open Experiment…"), this, &MainWindow::chooseExperimentFile);
    m_openAction->setShortcut(QKeySequence::Open);
    m_openAction->setStatusTip(tr("Load an experiment spec from a JSON file"));
    fileMenu->addSeparator();
    QAction* quitAction = fileMenu->addAction(tr("&Quit"), this, &QWidget::close);
    quitAction->setShortcut(QKeySequence::Quit);
    quitAction->setMenuRole(QAction::QuitRole);

    QMenu* runMenu = menuBar()->addMenu(tr("&Run"));
    m_runAction = runMenu->addAction(style()->standardIcon(QStyle::SP_MediaPlay), tr("&Run"), this,
                                     [this] { startRun(); });
    m_runAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_R));
    m_runAction->setStatusTip(tr("Train the current experiment"));
    m_stopAction = runMenu->addAction(style()->standardIcon(QStyle::SP_MediaStop), tr("&Stop"), this,
                                      &MainWindow::stopRun);
    m_stopAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Period));
    m_stopAction->setStatusTip(tr("Stop the run after the current step"));

    QMenu* viewMenu = menuBar()->addMenu(tr("&View"));
    QAction* logAction = viewMenu->addAction(tr("&Logarithmic Loss Axis"));
    logAction->setIconText(tr("Log Scale"));
    logAction->setCheckable(true);
    logAction->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_L));
    connect(logAction, &QAction::toggled, m_chart, &LossChartView::setLogScale);
    QAction* clearAction = viewMenu->addAction(tr("&Clear Chart"), this, &MainWindow::clearChart);
    clearAction->setStatusTip(tr("Remove the curves of earlier runs"));

    QToolBar* toolBar = addToolBar(tr("Run"));
    toolBar->setObjectName(QStringLiteral("runToolBar"));
    toolBar->setMovable(false);
    toolBar->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    toolBar->addAction(m_openAction);
    toolBar->addSeparator();
    toolBar->addAction(m_runAction);
    toolBar->addAction(m_stopAction);
    toolBar->addSeparator();
    toolBar->addAction(logAction);
}

void MainWindow::createStatusBar() {
    m_stateLabel = new QLabel(this);
    m_metricsLabel = new QLabel(this);
    m_deviceLabel = new QLabel(this);
    m_stateLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    statusBar()->addWidget(m_stateLabel, 1);
    statusBar()->addPermanentWidget(m_metricsLabel);
    statusBar()->addPermanentWidget(m_deviceLabel);
}

void MainWindow::setExperiment(const ExperimentSpec& spec) {
    m_spec = spec;
    m_specPath.clear();
    updateTitle();
    if (!m_running)
        showDevice(m_spec.device);
}

bool MainWindow::openExperiment(const QString& path) {
    Result<ExperimentSpec> loaded = loadExperimentSpec(path.toStdString());
    if (!loaded.ok()) {
        QString message = fromStd(loaded.error());
        const QString fileName = QFileInfo(path).fileName();
        if (!message.contains(fileName))
            message = tr("%1: %2").arg(fileName, message);
        reportError(tr("Cannot open experiment"), message);
        return false;
    }
    setExperiment(loaded.value());
    m_specPath = path;
    if (!m_running)
        setState(tr("Opened %1").arg(QFileInfo(path).fileName()));
    return true;
}

void MainWindow::chooseExperimentFile() {
    const QString folder = m_specPath.isEmpty() ? QString() : QFileInfo(m_specPath).absolutePath();
    const QString path = QFileDialog::getOpenFileName(this, tr("Open Experiment"), folder,
                                                      tr("Experiment specs (*.json);;All files (*)"));
    if (!path.isEmpty())
        openExperiment(path);
}

bool MainWindow::startRun() {
    if (m_running)
        return false;
    Result<RunId> started = m_manager->start(m_spec);
    if (!started.ok()) {
        m_lastStatus = RunStatus::Failed;
        reportError(tr("Run failed"), fromStd(started.error()));
        return false;
    }
    m_runId = started.value();
    m_running = true;
    m_stopRequested = false;
    m_runName = fromStd(m_spec.name);
    m_runEpochs = m_spec.training.epochs;
    m_epoch = 0;
    m_step = 0;
    m_chart->addSeries(m_runId, seriesLabel());
    m_metricsLabel->clear();
    setState(tr("Starting run %1…").arg(m_runId));
    updateActions();
    m_drainTimer->start();
    return true;
}

QString MainWindow::seriesLabel() const {
    return tr("%1 #%2").arg(m_runName).arg(m_runId);
}

void MainWindow::clearChart() {
    m_chart->clear();
    if (m_running)
        m_chart->addSeries(m_runId, seriesLabel()); // the running run keeps drawing, from here on
}

void MainWindow::stopRun() {
    if (!m_running)
        return;
    m_manager->requestStop(m_runId); // an atomic flag: the worker sees it at its next step
    m_stopRequested = true;
    setState(tr("Stopping…"));
    m_stopAction->setEnabled(false);
}

void MainWindow::drainEvents() {
    // Steps of one drain go to the chart in one call per run.
    QHash<RunId, QVector<QPointF>> points;
    for (const RunEvent& event : m_manager->events().drain()) {
        if (event.kind == RunEventKind::Steps) {
            QVector<QPointF>& runPoints = points[event.runId];
            for (const StepRecord& step : event.steps)
                runPoints.append(QPointF(static_cast<double>(step.step), step.trainLoss));
            if (event.runId == m_runId && !event.steps.empty())
                m_step = event.steps.back().step;
            continue;
        }
        if (!points.isEmpty()) {
            for (auto it = points.cbegin(); it != points.cend(); ++it)
                m_chart->appendPoints(it.key(), it.value());
            points.clear();
        }
        handleEvent(event);
    }
    for (auto it = points.cbegin(); it != points.cend(); ++it)
        m_chart->appendPoints(it.key(), it.value());

    if (m_running && !m_stopRequested && m_step > 0) {
        setState(tr("Running %1 — epoch %2 of %3, step %4")
                     .arg(m_runName)
                     .arg(std::min(m_epoch + 1, m_runEpochs))
                     .arg(m_runEpochs)
                     .arg(m_step));
    }
    if (!m_running && m_manager->activeRuns() == 0)
        m_drainTimer->stop();
}

void MainWindow::handleEvent(const RunEvent& event) {
    if (event.runId != m_runId)
        return;
    switch (event.kind) {
    case RunEventKind::Started:
        showDevice(event.device);
        if (!m_stopRequested)
            setState(tr("Running %1 on %2").arg(m_runName, fromStd(event.device)));
        break;
    case RunEventKind::Epoch: {
        const EpochRecord& epoch = event.epoch;
        m_epoch = epoch.epoch;
        QStringList parts{tr("epoch %1").arg(epoch.epoch)};
        if (std::isfinite(epoch.valLoss))
            parts << tr("val loss %1").arg(epoch.valLoss, 0, 'g', 4);
        if (std::isfinite(epoch.valAccuracy))
            parts << tr("val acc %1%").arg(100.0 * epoch.valAccuracy, 0, 'f', 1);
        else if (std::isfinite(epoch.valMae))
            parts << tr("val MAE %1").arg(epoch.valMae, 0, 'g', 4);
        m_metricsLabel->setText(parts.join(QStringLiteral(" · ")));
        break;
    }
    case RunEventKind::Finished:
        finishRun(event.summary);
        break;
    case RunEventKind::Steps:
        break;
    }
}

void MainWindow::finishRun(const RunSummary& summary) {
    m_running = false;
    m_lastStatus = summary.status;
    const QString message = fromStd(summary.message);
    switch (summary.status) {
    case RunStatus::Completed:
        setState(tr("Completed: %1 epochs, %2 steps in %3")
                     .arg(summary.epochs)
                     .arg(summary.steps)
                     .arg(formatSeconds(summary.trainSeconds)));
        break;
    case RunStatus::Stopped:
        setState(tr("Stopped after %1 epochs, %2 steps").arg(summary.epochs).arg(summary.steps));
        break;
    case RunStatus::Diverged:
        setState(message.isEmpty() ? tr("Diverged") : tr("Diverged: %1").arg(message));
        break;
    case RunStatus::Failed:
        reportError(tr("Run failed"), message.isEmpty() ? tr("The run failed.") : message);
        break;
    default:
        setState(tr("Finished: %1").arg(QString::fromLatin1(toString(summary.status))));
        break;
    }
    if (m_chart->pointCount(m_runId) == 0)
        m_chart->removeSeries(m_runId); // no curve, no legend entry
    m_chart->flush();                   // the final points now, not one frame later
    updateActions();
    Q_EMIT runFinished(m_runId);
}

void MainWindow::updateActions() {
    m_runAction->setEnabled(!m_running);
    m_stopAction->setEnabled(m_running);
}

void MainWindow::updateTitle() {
    setWindowTitle(tr("TuneLab — %1").arg(fromStd(m_spec.name)));
    setWindowFilePath(m_specPath);
}

void MainWindow::setState(const QString& text) {
    m_stateLabel->setText(text);
}

QString MainWindow::stateText() const {
    return m_stateLabel->text();
}

QString MainWindow::metricsText() const {
    return m_metricsLabel->text();
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
        if (device.id == id)
            name = fromStd(device.name);
    }
    m_deviceLabel->setText(name.isEmpty() || name == fromStd(id)
                               ? tr("Device: %1").arg(fromStd(id))
                               : tr("Device: %1 (%2)").arg(name, fromStd(id)));
    m_deviceLabel->setToolTip(QString());
}

void MainWindow::reportError(const QString& title, const QString& message) {
    setState(tr("%1: %2").arg(title, QString(message).replace(QLatin1Char('\n'), QStringLiteral("; "))));
    if (!m_interactive || !isVisible())
        return;
    // open(), not exec(): a nested event loop would re-enter drainEvents() from its timer.
    auto* box = new QMessageBox(QMessageBox::Warning, title, message, QMessageBox::Ok, this);
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->open();
}

void MainWindow::restoreSettings() {
    QSettings settings;
    restoreGeometry(settings.value(QStringLiteral("mainWindow/geometry")).toByteArray());
    restoreState(settings.value(QStringLiteral("mainWindow/state")).toByteArray());
    m_saveSettings = true;
}

void MainWindow::closeEvent(QCloseEvent* event) {
    if (m_saveSettings) {
        QSettings settings;
        settings.setValue(QStringLiteral("mainWindow/geometry"), saveGeometry());
        settings.setValue(QStringLiteral("mainWindow/state"), saveState());
    }
    m_manager->requestStopAll();
    QMainWindow::closeEvent(event);
}

} // namespace tunelab
