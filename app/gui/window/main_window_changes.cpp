// Work is never replaced without asking: the experiment's unsaved changes (the title's *), the
// Save / Discard / Cancel question before New, Open, loading a run or a trial, and quitting, the
// question before stopping runs and a study at quit, and Edit › Undo Load for an experiment that a
// run or trial replaced.

#include "window/main_window.h"

#include "common/qt_text.h"
#include "study/study_panel.h"
#include "window/run_session.h"

#include <QAction>
#include <QCloseEvent>
#include <QMessageBox>
#include <QPushButton>
#include <QSettings>

namespace tunelab {

QString MainWindow::panelsSpecJson() {
    syncSpecFromPanels();
    return QString::fromStdString(experimentSpecToJson(m_spec));
}

bool MainWindow::isModified() const {
    return QString::fromStdString(experimentSpecToJson(m_spec)) != m_savedJson;
}

void MainWindow::markSaved() {
    m_savedJson = panelsSpecJson();
    updateTitle();
    if (m_saveSettings)
        saveSession();
}

void MainWindow::saveSession() {
    if (!m_saveSettings)
        return;
    QSettings settings;
    settings.setValue(QStringLiteral("session/experiment"), panelsSpecJson());
    settings.setValue(QStringLiteral("session/experimentPath"), m_specPath);
    settings.setValue(QStringLiteral("session/savedExperiment"), m_savedJson);
    settings.setValue(QStringLiteral("session/study"), static_cast<qlonglong>(m_studyPanel->currentStudy()));
}

bool MainWindow::restoreSession() {
    // Read all of it first: setting the experiment saves the session again.
    QSettings settings;
    const QString json = settings.value(QStringLiteral("session/experiment")).toString();
    const QString path = settings.value(QStringLiteral("session/experimentPath")).toString();
    const QString savedJson = settings.value(QStringLiteral("session/savedExperiment")).toString();
    const qlonglong study = settings.value(QStringLiteral("session/study")).toLongLong();
    bool restored = false;
    if (!json.isEmpty()) {
        auto spec = parseExperimentSpec(json.toStdString());
        if (spec.ok()) {
            setExperiment(spec.value());
            m_specPath = path;
            m_savedJson = savedJson.isEmpty() ? m_savedJson : savedJson;
            updateTitle();
            saveSession();
            setState(tr("Restored the experiment from the last session"));
            restored = true;
        } else {
            setState(
                tr("The last session's experiment could not be restored: %1").arg(fromStd(spec.error())));
        }
    }
    if (study > 0)
        m_studyPanel->showStudy(static_cast<StudyId>(study));
    return restored;
}

bool MainWindow::confirmReplacingExperiment(const QString& action) {
    syncSpecFromPanels();
    if (!isModified())
        return true;
    QMessageBox box(QMessageBox::Warning, tr("Unsaved Changes"),
                    tr("The experiment “%1” has changes that are not saved.").arg(fromStd(m_spec.name)),
                    QMessageBox::Save | QMessageBox::Discard | QMessageBox::Cancel, this);
    box.setObjectName(QStringLiteral("unsavedChangesBox"));
    box.setInformativeText(tr("Save them before %1?").arg(action));
    box.setDefaultButton(QMessageBox::Save);
    switch (box.exec()) {
    case QMessageBox::Save:
        return saveToCurrentFile();
    case QMessageBox::Discard:
        return true;
    default:
        return false;
    }
}

bool MainWindow::confirmStoppingWork() {
    const int runs = m_session ? m_session->activeRuns() : 0;
    const bool study = m_studyPanel->isRunning();
    if (runs == 0 && !study)
        return true;
    QString what = runs == 1 ? tr("1 run is training") : tr("%1 runs are training").arg(runs);
    if (study)
        what = runs > 0 ? tr("%1 and a study is running").arg(what) : tr("A study is running");
    QMessageBox box(QMessageBox::Warning, tr("Stop and Quit?"), tr("%1.").arg(what), QMessageBox::Cancel,
                    this);
    box.setObjectName(QStringLiteral("stopWorkBox"));
    box.setInformativeText(tr("Quitting stops it; everything finished so far stays in the run store."));
    QPushButton* stop = box.addButton(tr("Stop and Quit"), QMessageBox::DestructiveRole);
    box.setDefaultButton(QMessageBox::Cancel);
    box.exec();
    return box.clickedButton() == stop;
}

void MainWindow::replaceExperimentUndoably(const ExperimentSpec& spec, const QString& what) {
    m_replaced = ReplacedExperiment{m_spec, m_specPath, m_savedJson, what};
    setExperiment(spec);
    m_undoLoadAction->setText(tr("Undo %1").arg(what));
    m_undoLoadAction->setEnabled(true);
}

void MainWindow::undoReplacingExperiment() {
    if (!m_replaced)
        return;
    const ReplacedExperiment replaced = *m_replaced;
    m_replaced.reset();
    m_undoLoadAction->setText(tr("Undo Load"));
    m_undoLoadAction->setEnabled(false);
    setExperiment(replaced.spec);
    m_specPath = replaced.path;
    m_savedJson = replaced.savedJson; // unsaved changes come back as unsaved
    updateTitle();
    setState(tr("Restored the experiment from before %1").arg(replaced.what));
}

void MainWindow::closeEvent(QCloseEvent* event) {
    if (m_interactive && (!confirmStoppingWork() || !confirmReplacingExperiment(tr("quitting")))) {
        event->ignore();
        return;
    }
    saveWindowSettings();
    saveSession();
    m_studyPanel->stopStudy();
    m_session->stopAll();
    QMainWindow::closeEvent(event);
}

} // namespace tunelab
