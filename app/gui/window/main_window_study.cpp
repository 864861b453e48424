// The window's part in studies: the Search tab, the study view in the central tabs, and
// "Search over…" from the experiment forms.

#include "study/study_panel.h"
#include "window/main_window.h"

#include "common/file_saving.h"
#include "common/qt_text.h"
#include "experiment/augment_form.h"
#include "experiment/data_form.h"
#include "experiment/network_editor.h"
#include "experiment/training_form.h"
#include "search/search_space_editor.h"
#include "store/run_store.h"
#include "study/study_view.h"
#include "window/run_session.h"

#include <QApplication>
#include <QDockWidget>
#include <QFileDialog>
#include <QFileInfo>
#include <QInputDialog>
#include <QScrollArea>
#include <QStatusBar>
#include <QTabWidget>
#include <QTimer>

namespace tunelab {

void MainWindow::createStudyPanel() {
    m_studyPanel = new StudyPanel;
    m_studyPanel->setObjectName(QStringLiteral("studyPanel"));
    m_studyPanel->setExperimentProvider([this] { return m_spec; });
    auto* area = new QScrollArea;
    area->setWidget(m_studyPanel);
    area->setWidgetResizable(true);
    area->setFrameShape(QFrame::NoFrame);
    m_experimentTabs->addTab(area, tr("&Search"));
    m_centralTabs->addTab(m_studyPanel->studyView(), tr("Study"));

    connect(m_trainingForm, &TrainingForm::searchRequested, m_studyPanel, &StudyPanel::searchOver);
    connect(m_networkEditor, &NetworkEditor::searchRequested, m_studyPanel, &StudyPanel::searchOver);
    connect(m_dataForm, &DataForm::searchRequested, m_studyPanel, &StudyPanel::searchOver);
    connect(m_augmentForm, &AugmentForm::searchRequested, m_studyPanel, &StudyPanel::searchOver);
    // Fields already searched over show a check mark in their "Search over…" entry.
    SearchSpaceEditor* spaceEditor = m_studyPanel->spaceEditor();
    connect(spaceEditor, &SearchSpaceEditor::searchedPathsChanged, m_trainingForm,
            &TrainingForm::setSearchedPaths);
    connect(spaceEditor, &SearchSpaceEditor::searchedPathsChanged, m_networkEditor,
            &NetworkEditor::setSearchedPaths);
    connect(spaceEditor, &SearchSpaceEditor::searchedPathsChanged, m_dataForm, &DataForm::setSearchedPaths);
    connect(spaceEditor, &SearchSpaceEditor::searchedPathsChanged, m_augmentForm,
            &AugmentForm::setSearchedPaths);
    connect(m_studyPanel, &StudyPanel::showRequested, this, [this, area] {
        widenExperimentPanel();
        m_experimentTabs->setCurrentWidget(area);
        m_centralTabs->setCurrentWidget(m_studyPanel->studyView());
    });
    connect(m_studyPanel, &StudyPanel::studyStarted, this, [this] {
        m_session->keepDraining(); // trial runs stream into the runs table and charts
        updateActions();
    });
    connect(m_studyPanel, &StudyPanel::studyFinished, this, [this](qint64, const QString& reason) {
        m_session->drain();
        statusBar()->showMessage(tr("Study ended: %1").arg(reason), 8000);
        updateActions();
    });
    connect(m_studyPanel, &StudyPanel::openExperimentRequested, this, &MainWindow::openTrialExperiment);
}

bool MainWindow::openStudyFile(const QString& path) {
    auto spec = loadStudySpec(path.toStdString());
    if (!spec.ok()) {
        setState(tr("Cannot open %1").arg(path));
        reportError(tr("Cannot open the study"), QString::fromStdString(spec.error()));
        return false;
    }
    if (!spec.value().experimentJson.empty()) {
        auto experiment = parseExperimentSpec(spec.value().experimentJson);
        if (!experiment.ok()) {
            reportError(tr("Cannot open the study"), QString::fromStdString(experiment.error()));
            return false;
        }
        setExperiment(experiment.value());
    }
    m_studyPanel->applyStudySpec(spec.value());
    Q_EMIT m_studyPanel->showRequested();
    return true;
}

bool MainWindow::saveStudyFile(const QString& path) {
    syncSpecFromPanels();
    const QByteArray json = QByteArray::fromStdString(studySpecToJson(m_studyPanel->studySpec())) + '\n';
    if (const QString error = saveFileBytes(path, json); !error.isEmpty()) {
        reportError(tr("Cannot save the study"), error);
        return false;
    }
    setState(tr("Saved %1").arg(QFileInfo(path).fileName()));
    return true;
}

bool MainWindow::openStoreLocation(const QString& location, const QString& study, QString* error) {
    const auto fail = [&](const QString& message) {
        if (error)
            *error = message;
        return false;
    };
    if (isRunning() || m_studyPanel->isRunning())
        return fail(tr("Stop the training and the study first: the store they write to would be replaced."));
    QApplication::setOverrideCursor(Qt::WaitCursor);
    auto opened = RunStore::open(location.trimmed().toStdString());
    QApplication::restoreOverrideCursor();
    if (!opened.ok())
        return fail(fromStd(opened.error()));
    setRunStore(opened.take());
    const auto studies = m_store->listStudies();
    std::optional<StudyRecord> shown;
    if (!study.isEmpty())
        shown = m_store->findStudy(study.toStdString());
    else if (studies.size() == 1)
        shown = studies.front();
    if (!study.isEmpty() && !shown)
        return fail(tr("%1 has no study named %2.").arg(fromStd(m_store->path()), study));
    if (shown)
        m_studyPanel->showStudy(shown->id);
    return true;
}

void MainWindow::chooseSharedStore() {
    bool accepted = false;
    const QString location = QInputDialog::getText(
        this, tr("Open Shared Store"),
        tr("A run store that several machines share, as postgresql://user@host:port/database "
           "(or a store file). Its studies show here as their workers add trials."),
        QLineEdit::Normal, QString::fromStdString(m_store ? m_store->location() : std::string()), &accepted);
    if (!accepted || location.trimmed().isEmpty())
        return;
    QString error;
    if (!openStoreLocation(location, QString(), &error))
        reportError(tr("Cannot open the store"), error);
}

void MainWindow::chooseStudyFile() {
    const QString path = QFileDialog::getOpenFileName(this, tr("Open Study"), QString(),
                                                      tr("Study files (*.json);;All files (*)"));
    if (!path.isEmpty())
        openStudyFile(path);
}

void MainWindow::saveStudyAs() {
    const QString name = QString::fromStdString(m_studyPanel->studySpec().name);
    const QString path = QFileDialog::getSaveFileName(
        this, tr("Save Study"), (name.isEmpty() ? QStringLiteral("study") : name) + QStringLiteral(".json"),
        tr("Study files (*.json)"));
    if (!path.isEmpty())
        saveStudyFile(path);
}

void MainWindow::openTrialExperiment(const QString& specJson, const QString& title) {
    auto parsed = parseExperimentSpec(specJson.toStdString());
    if (!parsed.ok()) {
        reportError(tr("Cannot open %1").arg(title), QString::fromStdString(parsed.error()));
        return;
    }
    if (!confirmReplacingExperiment(tr("opening %1").arg(title)))
        return;
    replaceExperimentUndoably(parsed.value(), tr("Open %1").arg(title));
    m_experimentTabs->setCurrentIndex(0);
    m_centralTabs->setCurrentIndex(0);
    statusBar()->showMessage(tr("Opened %1 in the editor").arg(title), 5000);
}

} // namespace tunelab
