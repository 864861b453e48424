#include "study/study_panel.h"

#include "common/file_saving.h"
#include "common/number_field.h"
#include "common/qt_text.h"
#include "search/population_settings_form.h"
#include "search/search_settings_form.h"
#include "search/search_space_editor.h"
#include "search/study_budget_form.h"
#include "spec/spec.h"
#include "store/run_store.h"
#include "study/experiment_objective.h"
#include "study/pareto_results.h"
#include "study/study_runner.h"
#include "study/study_view.h"

#include <QComboBox>
#include <QFile>
#include <QFileDialog>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QTimer>

#include <algorithm>
#include <cmath>
#include <set>

namespace tunelab {

namespace {

QString formatValue(double value) {
    return std::isfinite(value) ? QString::number(value, 'g', 5) : QStringLiteral("–");
}

// A study's result in a few words: its best value, or the size of its Pareto front.
QString resultText(const StudySpec& spec, const std::vector<TrialRecord>& trials) {
    if (isMultiObjective(spec)) {
        const size_t front = paretoTrials(studyObjectives(spec), trials).size();
        return front == 0 ? StudyPanel::tr("no Pareto front yet")
                          : StudyPanel::tr("a Pareto front of %1 trials").arg(static_cast<qint64>(front));
    }
    const auto best = bestTrial(trials, spec.objective);
    return best ? StudyPanel::tr("best %1 (trial %2)").arg(formatValue(best->value)).arg(best->number)
                : StudyPanel::tr("no best trial yet");
}

} // namespace

StudyPanel::StudyPanel(QWidget* parent)
    : QWidget(parent)
    , m_spaceEditor(new SearchSpaceEditor(this))
    , m_view(new StudyView)
    , m_drainTimer(new QTimer(this))
    , m_watchTimer(new QTimer(this)) {
    buildForm();
    m_drainTimer->setInterval(kDrainIntervalMs);
    connect(m_drainTimer, &QTimer::timeout, this, &StudyPanel::drain);
    m_watchTimer->setInterval(kWatchIntervalMs);
    connect(m_watchTimer, &QTimer::timeout, this, &StudyPanel::watchStudy);
    connect(m_view, &StudyView::exportBestRequested, this, &StudyPanel::exportBestWithDialog);
    connect(m_view, &StudyView::exportTrialRequested, this, &StudyPanel::exportTrialWithDialog);
    connect(m_view, &StudyView::openBestRequested, this, &StudyPanel::openTrialInEditor);
    updateControls();
}

StudyPanel::~StudyPanel() {
    shutdown();
    // The view sits in the window's tabs, which delete it themselves when it was placed there.
    if (m_view && !m_view->parent())
        delete m_view.data();
}

void StudyPanel::shutdown() {
    if (m_runner) {
        m_runner->requestStop();
        m_runner->wait();
    }
    if (m_running)
        drain(); // takes the StudyFinished event and records the end
}

void StudyPanel::setRunStore(RunStore* store, RunEventSink* runEvents) {
    shutdown();
    m_watchTimer->stop();
    m_store = store;
    m_runEvents = runEvents;
    refreshStudyList();
    updateControls();
}

void StudyPanel::setExperimentProvider(std::function<ExperimentSpec()> provider) {
    m_experimentProvider = std::move(provider);
}

void StudyPanel::setBaseExperiment(const ExperimentSpec& spec) {
    m_editorExperimentJson = experimentSpecToJson(spec);
    m_editorEpochs = spec.training.epochs;
    // A stored study's space is checked against its own experiment, not the editor's.
    if (m_studyChoice->currentData().toLongLong() <= 0)
        m_spaceEditor->setBaseExperiment(fromStd(m_editorExperimentJson));
    updateControls();
}

void StudyPanel::onStudyChosen() {
    const qint64 id = m_studyChoice->currentData().toLongLong();
    if (id > 0) {
        showStudy(id);
    } else if (m_studyId > 0) {
        // A copy of the stored study shown until now: the same settings, its own name and seed.
        const QString from = m_name->text();
        m_studyId = 0;
        if (m_store)
            m_name->setText(fromStd(m_store->freeStudyName(m_name->text().trimmed().toStdString())));
        const uint64_t seed = m_searchSettings->chooseFreshSeed();
        m_spaceEditor->setBaseExperiment(fromStd(m_editorExperimentJson));
        m_budget->setStoredStudy(false);
        m_state->setText(tr("New study: the settings of %1 with a new seed (%2); Start runs it on the "
                            "editor's experiment")
                             .arg(from)
                             .arg(seed));
    }
    updateControls();
}

void StudyPanel::refreshStudyList() {
    const qint64 selected = m_studyChoice->currentData().toLongLong();
    m_studyChoice->clear();
    m_studyChoice->addItem(tr("New study"), qint64(0));
    if (!m_store)
        return;
    for (const auto& study : m_store->listStudies())
        m_studyChoice->addItem(fromStd(study.name), qint64(study.id));
    const int index = m_studyChoice->findData(selected);
    m_studyChoice->setCurrentIndex(index >= 0 ? index : 0);
}

std::vector<std::string> StudyPanel::parameterPaths(const StudySpec& spec) const {
    std::vector<std::string> paths;
    const auto space = parseSearchSpace(spec.spaceJson);
    if (space.ok())
        for (const auto& parameter : space.value().parameters())
            paths.push_back(parameter.path);
    return paths;
}

void StudyPanel::setViewStudy(const StudySpec& spec) {
    std::set<std::string> logParameters;
    const auto space = parseSearchSpace(spec.spaceJson);
    if (space.ok())
        for (const auto& parameter : space.value().parameters())
            if (parameter.log)
                logParameters.insert(parameter.path);
    m_view->setStudy(parameterPaths(spec), studyObjectives(spec), logParameters);
}

void StudyPanel::showStoredState(const StudySpec& spec, const std::string& name) {
    const auto trials = m_store->trials(m_studyId);
    m_state->setText(
        tr("%1: %2 trials, %3").arg(fromStd(name)).arg(trials.size()).arg(resultText(spec, trials)));
}

bool StudyPanel::showStudy(StudyId id) {
    if (!m_store || m_running)
        return false;
    const auto record = m_store->study(id);
    if (!record)
        return false;
    const auto spec = parseStudySpec(record->specJson);
    if (!spec.ok()) {
        report(tr("Cannot open the study"), fromStd(spec.error()));
        return false;
    }
    m_studyId = id;
    const int index = m_studyChoice->findData(qint64(id));
    if (index >= 0)
        m_studyChoice->setCurrentIndex(index);
    // Checked against the experiment it was created with, whatever the editor holds now.
    if (!spec.value().experimentJson.empty())
        m_spaceEditor->setBaseExperiment(fromStd(spec.value().experimentJson));
    m_budget->setStoredStudy(true, m_store->trialCount(id));
    showSettings(spec.value());
    setViewStudy(spec.value());
    auto trials = m_store->trials(id, true);
    startWatching(trials);
    m_view->setTrials(std::move(trials));
    m_watchedSpec = spec.value();
    showStoredState(spec.value(), record->name);
    Q_EMIT showRequested();
    return true;
}

bool StudyPanel::startStudy() {
    if (m_running)
        return false;
    if (!m_store) {
        report(tr("Cannot start the study"), tr("Studies need the run store, which is not open."));
        return false;
    }
    if (const QStringList problems = invalidFieldProblems(this) + m_population->problems();
        !problems.isEmpty()) {
        report(tr("The study cannot start"),
               tr("These fields hold values that cannot be used:\n%1").arg(problems.join(QLatin1Char('\n'))));
        return false;
    }
    StudyId id = m_studyChoice->currentData().toLongLong();
    StudySpec spec;
    if (id > 0) {
        const auto record = m_store->study(id);
        auto parsed =
            record ? parseStudySpec(record->specJson) : Result<StudySpec>::failure("the study is gone");
        if (!parsed.ok()) {
            report(tr("Cannot resume the study"), fromStd(parsed.error()));
            return false;
        }
        spec = parsed.take();
        spec.parallel = m_budget->parallel();
        if (!addTrialsBeforeResume(id, spec))
            return false;
    } else {
        spec = studySpec();
        // Through the file format once, so the window reports exactly what `study create` would.
        auto checked = parseStudySpec(studySpecToJson(spec));
        if (!checked.ok()) {
            report(tr("The study cannot start"), fromStd(checked.error()));
            return false;
        }
        const std::string name = m_store->freeStudyName(spec.name);
        spec.name = name;
        auto created = m_store->createStudy(name, studySpecToJson(spec));
        if (!created.ok()) {
            report(tr("Cannot create the study"), fromStd(created.error()));
            return false;
        }
        id = created.value();
        refreshStudyList();
        m_studyChoice->setCurrentIndex(m_studyChoice->findData(qint64(id)));
    }

    m_studyId = id;
    m_runningSpec = spec;
    setViewStudy(spec);
    m_view->setTrials(m_store->trials(id, true));

    RunOptions runOptions;
    runOptions.threads = 1;
    runOptions.niceness = 10; // trial threads yield to the GUI thread, like the window's runs
    m_objective = std::make_unique<ExperimentObjective>(*m_store, spec.objective, runOptions, m_runEvents);
    m_objective->setMoreObjectives(spec.moreObjectives);
    StudyRunOptions options;
    options.parallel = spec.parallel;
    m_runner = std::make_unique<StudyRunner>(*m_store, id, *m_objective, options);
    if (auto started = m_runner->start(); !started.ok()) {
        m_runner.reset();
        m_objective.reset();
        report(tr("The study cannot start"), fromStd(started.error()));
        return false;
    }
    m_running = true;
    m_finishedTrials = 0;
    m_endReason.clear();
    m_pause->setChecked(false);
    m_drainTimer->start();
    m_state->setText(tr("Running %1 (%2 in parallel)").arg(fromStd(spec.name)).arg(spec.parallel));
    updateControls();
    Q_EMIT studyStarted(id);
    Q_EMIT showRequested();
    return true;
}

void StudyPanel::stopStudy() {
    if (m_runner && m_running) {
        m_runner->requestStop();
        m_state->setText(tr("Stopping: running trials go back to the queue…"));
    }
}

void StudyPanel::setPaused(bool paused) {
    if (!m_runner || !m_running)
        return;
    m_runner->setPaused(paused);
    m_state->setText(paused ? tr("Paused: no new trials start; running ones wait")
                            : tr("Running %1").arg(fromStd(m_runningSpec.name)));
    Q_EMIT stateChanged();
}

void StudyPanel::drain() {
    if (!m_runner)
        return;
    const std::vector<StudyEvent> events = m_runner->events().drain();
    bool finished = false;
    for (const auto& event : events) {
        switch (event.kind) {
        case StudyEventKind::TrialStarted:
            m_view->upsertTrial(event.trial);
            break;
        case StudyEventKind::TrialIntermediate:
            m_view->addIntermediate(event.trial.number, event.epoch, event.value);
            break;
        case StudyEventKind::TrialFinished:
            m_view->upsertTrial(event.trial);
            ++m_finishedTrials;
            break;
        case StudyEventKind::StudyFinished:
            m_endReason = fromStd(event.message);
            finished = true;
            break;
        }
    }
    if (!events.empty() && m_running && !finished)
        m_state->setText(
            tr("Running %1: %2 trials finished").arg(fromStd(m_runningSpec.name)).arg(m_finishedTrials));
    if (finished)
        finishStudy();
}

void StudyPanel::finishStudy() {
    m_runner->wait(); // its last event is drained: the study's thread is ending
    m_drainTimer->stop();
    m_running = false;
    m_runner.reset();
    m_objective.reset();
    if (m_store) {
        m_budget->setStoredStudy(true, m_store->trialCount(m_studyId));
        m_view->setTrials(m_store->trials(m_studyId, true));
        m_state->setText(tr("%1 ended: %2; %3")
                             .arg(fromStd(m_runningSpec.name), m_endReason,
                                  resultText(m_runningSpec, m_store->trials(m_studyId))));
    }
    updateControls();
    Q_EMIT studyFinished(m_studyId, m_endReason);
}

void StudyPanel::updateControls() {
    const bool existing = m_studyChoice->currentData().toLongLong() > 0;
    m_start->setText(existing ? tr("Resume study") : tr("Start study"));
    m_start->setEnabled(!m_running && m_store);
    m_pause->setEnabled(m_running);
    m_stop->setEnabled(m_running);
    m_name->setEnabled(!m_running && !existing);
    m_deleteStudy->setEnabled(!m_running && existing && m_store);
    m_spaceEditor->setEnabled(!m_running);
    for (QWidget* field : std::initializer_list<QWidget*>{m_searchSettings, m_population, m_metric, m_at,
                                                          m_direction, m_studyChoice})
        field->setEnabled(!m_running && (field == m_studyChoice || !existing));
    m_budget->setEditable(!m_running);
    if (existing && !m_running) {
        const int64_t added = m_budget->addedTrials();
        if (added > 0)
            m_start->setText(tr("Resume (+%1 trials)").arg(added));
        const bool spent = m_budget->budgetSpent() && added == 0;
        m_start->setEnabled(m_store && !spent);
        m_start->setToolTip(spent ? tr("The budget is spent: add trials to go on") : QString());
    } else {
        m_start->setToolTip(QString());
    }
    updateWarnings();
    Q_EMIT stateChanged();
}

bool StudyPanel::addTrialsBeforeResume(StudyId id, StudySpec& spec) {
    const int64_t added = m_budget->addedTrials();
    if (added <= 0)
        return true;
    const auto record = m_store->study(id);
    if (!record)
        return false;
    StudySpec raised = spec;
    raised.budget.trials = std::max(spec.budget.trials, m_store->trialCount(id)) + added;
    auto updated = m_store->updateStudySpec(id, record->specJson, studySpecToJson(raised));
    if (!updated.ok()) {
        report(tr("Cannot add trials"), fromStd(updated.error()));
        return false;
    }
    spec.budget.trials = raised.budget.trials;
    m_budget->setBudget(spec.budget);
    m_budget->setAddedTrials(0);
    return true;
}

QString StudyPanel::stateText() const {
    return m_state->text();
}

void StudyPanel::searchOver(const QString& path, const QString& currentValueJson) {
    m_spaceEditor->addParameter(path, currentValueJson);
    Q_EMIT showRequested();
}

bool StudyPanel::deleteShownStudy() {
    const StudyId id = m_studyChoice->currentData().toLongLong();
    if (m_running || !m_store || id <= 0)
        return false;
    const auto record = m_store->study(id);
    if (!record)
        return false;
    const QString name = fromStd(record->name);
    if (m_interactive) {
        // Trials running here were stopped with the study (m_running); these are other processes'.
        m_store->requeueInterruptedTrials(id);
        const auto trials = m_store->trials(id);
        const auto running = std::count_if(trials.begin(), trials.end(), [](const TrialRecord& trial) {
            return trial.state == TrialState::Running;
        });
        QString question =
            tr("Delete the study %1 and its %2 trials? Their training runs stay in the runs list.")
                .arg(name)
                .arg(trials.size());
        if (running > 0)
            question += QStringLiteral("\n\n") +
                        tr("%n trial(s) are running in other processes (workers sharing the store): their "
                           "results will be lost, and those workers will stop.",
                           nullptr, static_cast<int>(running));
        const auto answer = QMessageBox::question(this, tr("Delete study"), question);
        if (answer != QMessageBox::Yes)
            return false;
    }
    if (auto deleted = m_store->deleteStudy(id); !deleted.ok()) {
        report(tr("Cannot delete the study %1").arg(name), fromStd(deleted.error()));
        return false;
    }
    if (m_studyId == id) {
        m_studyId = 0;
        m_view->clear();
    }
    refreshStudyList();
    m_studyChoice->setCurrentIndex(0);
    m_state->setText(tr("Deleted the study %1").arg(name));
    updateControls();
    return true;
}

void StudyPanel::report(const QString& title, const QString& message) {
    m_state->setText(title + QStringLiteral(": ") + message);
    if (m_interactive)
        QMessageBox::warning(this, title, message);
}

} // namespace tunelab
