// The window's files: opening and saving experiments, the recent-files menu and chart exports.

#include "window/main_window.h"
#include "window/metric_charts.h"

#include "charts/loss_chart_view.h"
#include "common/file_saving.h"
#include "common/qt_text.h"

#include <QFileDialog>
#include <QFileInfo>
#include <QMenu>
#include <QSettings>
#include <QTabWidget>

namespace tunelab {

namespace {

constexpr int kMaxRecentFiles = 8;

} // namespace

void MainWindow::exportCurrentChart(bool asCsv) {
    auto* chart = qobject_cast<LossChartView*>(m_charts->currentWidget());
    if (!chart)
        return;
    const QString suggested =
        fromStd(m_spec.name) + (asCsv ? QStringLiteral(".csv") : QStringLiteral(".png"));
    const QString path =
        QFileDialog::getSaveFileName(this, asCsv ? tr("Export Chart Data") : tr("Export Chart"), suggested,
                                     asCsv ? tr("CSV (*.csv)") : tr("PNG images (*.png)"));
    if (path.isEmpty())
        return;
    QString error;
    const bool saved = asCsv ? chart->exportCsv(path, &error) : chart->exportPng(path, &error);
    if (saved)
        setState(tr("Exported %1").arg(QFileInfo(path).fileName()));
    else
        reportError(tr("Cannot export"), error);
}

void MainWindow::newExperiment() {
    if (!confirmReplacingExperiment(tr("starting a new one")))
        return;
    setExperiment(defaultExperiment());
    setState(tr("New experiment"));
}

bool MainWindow::saveExperiment(const QString& path) {
    syncSpecFromPanels();
    const QByteArray json = QByteArray::fromStdString(experimentSpecToJson(m_spec)) + '\n';
    if (const QString error = saveFileBytes(path, json); !error.isEmpty()) {
        reportError(tr("Cannot save experiment"), error);
        return false;
    }
    m_specPath = path;
    addRecentFile(path);
    markSaved();
    setState(tr("Saved %1").arg(QFileInfo(path).fileName()));
    return true;
}

bool MainWindow::saveToCurrentFile() {
    return m_specPath.isEmpty() ? saveExperimentAs() : saveExperiment(m_specPath);
}

bool MainWindow::saveExperimentAs() {
    const QString suggested =
        m_specPath.isEmpty() ? fromStd(m_spec.name) + QStringLiteral(".json") : m_specPath;
    const QString path =
        QFileDialog::getSaveFileName(this, tr("Save Experiment"), suggested, tr("Experiment specs (*.json)"));
    return !path.isEmpty() && saveExperiment(path);
}

void MainWindow::addRecentFile(const QString& path) {
    if (!m_saveSettings)
        return; // tests and screenshots leave the user's settings alone
    QSettings settings;
    QStringList files = settings.value(QStringLiteral("recentFiles")).toStringList();
    files.removeAll(path);
    files.prepend(path);
    while (files.size() > kMaxRecentFiles)
        files.removeLast();
    settings.setValue(QStringLiteral("recentFiles"), files);
    updateRecentMenu();
}

void MainWindow::updateRecentMenu() {
    m_recentMenu->clear();
    const QStringList files =
        m_saveSettings ? QSettings().value(QStringLiteral("recentFiles")).toStringList() : QStringList();
    for (const QString& file : files)
        m_recentMenu->addAction(QFileInfo(file).fileName(), this, [this, file] { openExperiment(file); })
            ->setStatusTip(file);
    m_recentMenu->setEnabled(!files.isEmpty());
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
    if (!confirmReplacingExperiment(tr("opening %1").arg(QFileInfo(path).fileName())))
        return false;
    setExperiment(loaded.value());
    m_specPath = path;
    addRecentFile(path);
    markSaved();
    if (!isRunning())
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

} // namespace tunelab
