#include "study/study_panel.h"

#include "common/file_saving.h"
#include "common/machine_limits.h"
#include "common/number_field.h"
#include "common/qt_text.h"
#include "search/search_settings_form.h"
#include "search/search_space_editor.h"
#include "search/study_budget_form.h"
#include "spec/spec.h"
#include "store/run_store.h"
#include "study/experiment_objective.h"
#include "study/pareto_results.h"
#include "study/study_runner.h"
#include "study/study_settings_check.h"
#include "study/study_view.h"

#include <QComboBox>
#include <QFile>
#include <QFileDialog>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QThread>
#include <QTimer>
#include <QVBoxLayout>

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

// The objectives after the first, which the form cannot edit, in words.
QString moreObjectivesText(const std::vector<ObjectiveSpec>& objectives) {
    QStringList parts;
    for (const ObjectiveSpec& objective : objectives)
        parts << QStringLiteral("%1 (%2)").arg(fromStd(objectiveLabel(objective)),
                                               QString::fromLatin1(toString(objective.direction)));
    return StudyPanel::tr("and %1, from the study file").arg(parts.join(QStringLiteral(", ")));
}

} // namespace

StudyPanel::StudyPanel(QWidget* parent)
    : QWidget(parent)
    , m_spaceEditor(new SearchSpaceEditor(this))
    , m_view(new StudyView)
    , m_drainTimer(new QTimer(this)) {
    buildForm();
    m_drainTimer->setInterval(kDrainIntervalMs);
    connect(m_drainTimer, &QTimer::timeout, this, &StudyPanel::drain);
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

void StudyPanel::buildForm() {
    auto* layout = new QVBoxLayout(this);

    auto* studyBox = new QGroupBox(tr("Study"));
    auto* studyForm = new QFormLayout(studyBox);
    m_studyChoice = new QComboBox;
    m_studyChoice->setObjectName(QStringLiteral("studyChoice"));
    m_studyChoice->setToolTip(tr("Start a new study, or pick a stored one to look at it and resume it"));
    m_name = new QLineEdit(QStringLiteral("study"));
    m_name->setObjectName(QStringLiteral("studyName"));
    m_deleteStudy = new QPushButton(tr("Delete…"));
    m_deleteStudy->setObjectName(QStringLiteral("deleteStudy"));
    m_deleteStudy->setToolTip(tr("Delete the chosen study and its trials; their training runs stay"));
    connect(m_deleteStudy, &QPushButton::clicked, this, [this] { deleteShownStudy(); });
    auto* choiceRow = new QHBoxLayout;
    choiceRow->addWidget(m_studyChoice, 1);
    choiceRow->addWidget(m_deleteStudy);
    studyForm->addRow(tr("Study"), choiceRow);
    studyForm->addRow(tr("Name"), m_name);
    layout->addWidget(studyBox);
    connect(m_studyChoice, &QComboBox::activated, this, &StudyPanel::onStudyChosen);

    auto* spaceBox = new QGroupBox(tr("Search space"));
    auto* spaceLayout = new QVBoxLayout(spaceBox);
    spaceLayout->setContentsMargins(4, 4, 4, 4);
    spaceLayout->addWidget(m_spaceEditor);
    layout->addWidget(spaceBox, 1);
    connect(m_spaceEditor, &SearchSpaceEditor::spaceChanged, this, &StudyPanel::updateControls);

    auto* searchBox = new QGroupBox(tr("Search"));
    auto* form = new QFormLayout(searchBox);
    form->setRowWrapPolicy(QFormLayout::WrapLongRows); // a narrow panel puts wide fields under their labels
    m_searchSettings = new SearchSettingsForm;
    form->addRow(m_searchSettings);

    m_metric = new QComboBox;
    m_metric->setObjectName(QStringLiteral("objectiveMetric"));
    const std::vector<std::pair<QString, QString>> metrics = {
        {QStringLiteral("val_loss"), tr("validation loss")},
        {QStringLiteral("val_accuracy"), tr("validation accuracy")},
        {QStringLiteral("val_mae"), tr("validation MAE")},
        {QStringLiteral("train_loss"), tr("training loss")}};
    for (const auto& [name, label] : metrics)
        m_metric->addItem(label, name);
    m_at = new QComboBox;
    m_at->addItem(tr("at its best epoch"), QStringLiteral("best"));
    m_at->addItem(tr("at the last epoch"), QStringLiteral("last"));
    m_direction = new QComboBox;
    m_direction->setObjectName(QStringLiteral("objectiveDirection"));
    m_direction->addItem(tr("minimize"), QStringLiteral("minimize"));
    m_direction->addItem(tr("maximize"), QStringLiteral("maximize"));
    connect(m_metric, &QComboBox::currentIndexChanged, this, [this] {
        m_direction->setCurrentIndex(m_metric->currentData().toString() == QLatin1String("val_accuracy") ? 1
                                                                                                         : 0);
    });
    auto* objectiveRow = new QHBoxLayout;
    objectiveRow->addWidget(m_direction);
    objectiveRow->addWidget(m_metric, 1);
    objectiveRow->addWidget(m_at);
    form->addRow(tr("Objective"), objectiveRow);
    m_moreObjectivesLabel = new QLabel;
    m_moreObjectivesLabel->setObjectName(QStringLiteral("moreObjectives"));
    m_moreObjectivesLabel->setWordWrap(true);
    m_moreObjectivesLabel->setToolTip(
        tr("A study with several objectives has a Pareto front instead of one best trial"));
    m_moreObjectivesLabel->hide();
    form->addRow(QString(), m_moreObjectivesLabel);

    m_budget = new StudyBudgetForm;
    m_budget->setParallelLimit(kParallelPerCore * machineCores());
    m_budget->setParallel(std::max(1, QThread::idealThreadCount() - 1));
    form->addRow(m_budget);
    m_warnings = new QLabel;
    m_warnings->setObjectName(QStringLiteral("studyWarnings"));
    m_warnings->setWordWrap(true);
    m_warnings->setStyleSheet(QStringLiteral("color: #9a5b00;"));
    form->addRow(m_warnings);
    connect(m_budget, &StudyBudgetForm::changed, this, &StudyPanel::updateControls);
    connect(m_searchSettings, &SearchSettingsForm::settingsChanged, this, &StudyPanel::updateControls);
    layout->addWidget(searchBox);

    auto* buttons = new QHBoxLayout;
    m_start = new QPushButton(tr("Start study"));
    m_start->setObjectName(QStringLiteral("startStudy"));
    m_pause = new QPushButton(tr("Pause"));
    m_pause->setCheckable(true);
    m_stop = new QPushButton(tr("Stop"));
    buttons->addWidget(m_start);
    buttons->addWidget(m_pause);
    buttons->addWidget(m_stop);
    layout->addLayout(buttons);
    m_state = new QLabel(tr("No study running"));
    m_state->setWordWrap(true);
    layout->addWidget(m_state);
    connect(m_start, &QPushButton::clicked, this, [this] { startStudy(); });
    connect(m_pause, &QPushButton::toggled, this, &StudyPanel::setPaused);
    connect(m_stop, &QPushButton::clicked, this, &StudyPanel::stopStudy);
    refreshStudyList();
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

StudySpec StudyPanel::studySpec() const {
    StudySpec spec;
    spec.name = m_name->text().trimmed().toStdString();
    if (m_experimentProvider)
        spec.experimentJson = experimentSpecToJson(m_experimentProvider());
    spec.spaceJson = m_spaceEditor->spaceJson().toStdString();
    spec.sampler = m_searchSettings->samplerSettings();
    spec.pruner = m_searchSettings->prunerSettings();
    spec.objective.metric = m_metric->currentData().toString().toStdString();
    spec.objective.at =
        m_at->currentData().toString() == QLatin1String("last") ? ObjectiveAt::Last : ObjectiveAt::Best;
    spec.objective.direction =
        m_direction->currentIndex() == 1 ? ObjectiveDirection::Maximize : ObjectiveDirection::Minimize;
    spec.moreObjectives = m_moreObjectives;
    spec.budget = m_budget->budget();
    spec.parallel = m_budget->parallel();
    return spec;
}

void StudyPanel::applyStudySpec(const StudySpec& spec) {
    m_studyChoice->setCurrentIndex(0);
    showSettings(spec);
}

void StudyPanel::showSettings(const StudySpec& spec) {
    if (!spec.name.empty())
        m_name->setText(fromStd(spec.name));
    m_spaceEditor->setSpaceJson(fromStd(spec.spaceJson));
    auto select = [](QComboBox* box, const std::string& value) {
        const int index = box->findData(fromStd(value));
        if (index >= 0)
            box->setCurrentIndex(index);
    };
    m_searchSettings->setSettings(spec.sampler, spec.pruner);
    select(m_metric, spec.objective.metric);
    select(m_at, toString(spec.objective.at));
    select(m_direction, toString(spec.objective.direction));
    // Kept as the file gave them: a copy of the study must not lose its other objectives.
    m_moreObjectives = spec.moreObjectives;
    m_moreObjectivesLabel->setText(m_moreObjectives.empty() ? QString()
                                                            : moreObjectivesText(m_moreObjectives));
    m_moreObjectivesLabel->setVisible(!m_moreObjectives.empty());
    m_budget->setBudget(spec.budget);
    m_budget->setParallel(spec.parallel);
    updateControls();
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
    m_view->setTrials(m_store->trials(id, true));
    const auto trials = m_store->trials(id);
    m_state->setText(tr("%1: %2 trials, %3")
                         .arg(fromStd(record->name))
                         .arg(trials.size())
                         .arg(resultText(spec.value(), trials)));
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
    if (const QStringList problems = invalidFieldProblems(this); !problems.isEmpty()) {
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
    for (QWidget* field :
         std::initializer_list<QWidget*>{m_searchSettings, m_metric, m_at, m_direction, m_studyChoice})
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

void StudyPanel::updateWarnings() {
    const bool existing = m_studyChoice->currentData().toLongLong() > 0;
    m_searchSettings->setStudyScale(m_editorEpochs, m_budget->budget().trials);
    QStringList lines;
    StudySpec settings;
    settings.experimentJson = m_editorExperimentJson;
    settings.sampler = m_searchSettings->samplerSettings();
    settings.pruner = m_searchSettings->prunerSettings();
    settings.budget = m_budget->budget();
    settings.parallel = m_budget->parallel();
    if (!existing && !m_running)
        for (const std::string& warning : studySettingsWarnings(settings))
            lines << QStringLiteral("⚠ ") + fromStd(warning);
    m_warnings->setText(lines.join(QLatin1Char('\n')));
    m_warnings->setVisible(!lines.isEmpty());
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
        const auto answer = QMessageBox::question(
            this, tr("Delete study"),
            tr("Delete the study %1 and its %2 trials? Their training runs stay in the runs list.")
                .arg(name)
                .arg(m_store->trialCount(id)));
        if (answer != QMessageBox::Yes)
            return false;
    }
    m_store->deleteStudy(id);
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
