#include "study/study_panel.h"

#include "common/file_saving.h"
#include "common/qt_text.h"
#include "search/search_settings_form.h"
#include "search/search_space_editor.h"
#include "store/run_store.h"
#include "study/experiment_objective.h"
#include "study/study_runner.h"
#include "study/study_view.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFile>
#include <QFileDialog>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QSpinBox>
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
    connect(m_studyChoice, &QComboBox::activated, this, [this] {
        const qint64 id = m_studyChoice->currentData().toLongLong();
        if (id > 0)
            showStudy(id);
        updateControls();
    });

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

    m_trials = new QSpinBox;
    m_trials->setObjectName(QStringLiteral("trialBudget"));
    m_trials->setRange(0, 100000);
    m_trials->setValue(20);
    m_trials->setSpecialValueText(tr("no limit"));
    m_trials->setSuffix(tr(" trials"));
    m_minutes = new QDoubleSpinBox;
    m_minutes->setObjectName(QStringLiteral("timeBudget"));
    m_minutes->setRange(0, 100000);
    m_minutes->setDecimals(1);
    m_minutes->setSpecialValueText(tr("no time limit"));
    m_minutes->setSuffix(tr(" min"));
    auto* budgetRow = new QHBoxLayout;
    budgetRow->addWidget(m_trials);
    budgetRow->addWidget(m_minutes);
    form->addRow(tr("Budget"), budgetRow);

    m_parallel = new QSpinBox;
    m_parallel->setObjectName(QStringLiteral("parallelTrials"));
    m_parallel->setRange(1, std::max(1, QThread::idealThreadCount() * 2));
    m_parallel->setValue(std::max(1, QThread::idealThreadCount() - 1));
    m_parallel->setToolTip(tr("Trials trained at the same time, one thread each"));
    form->addRow(tr("Parallel trials"), m_parallel);
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
    m_spaceEditor->setBaseExperiment(fromStd(experimentSpecToJson(spec)));
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
    spec.budget.trials = m_trials->value();
    spec.budget.seconds = m_minutes->value() * 60.0;
    spec.parallel = m_parallel->value();
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
    m_trials->setValue(static_cast<int>(spec.budget.trials));
    m_minutes->setValue(spec.budget.seconds / 60.0);
    m_parallel->setValue(spec.parallel);
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
    m_view->setStudy(parameterPaths(spec), spec.objective, logParameters);
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
    showSettings(spec.value());
    setViewStudy(spec.value());
    m_view->setTrials(m_store->trials(id, true));
    const auto trials = m_store->trials(id);
    const auto best = bestTrial(trials, spec.value().objective);
    m_state->setText(tr("%1: %2 trials, best %3")
                         .arg(fromStd(record->name))
                         .arg(trials.size())
                         .arg(best ? formatValue(best->value) : tr("none yet")));
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
        spec.parallel = m_parallel->value();
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
        m_view->setTrials(m_store->trials(m_studyId, true));
        const auto best = bestTrial(m_store->trials(m_studyId), m_runningSpec.objective);
        m_state->setText(tr("%1 ended: %2. Best %3")
                             .arg(fromStd(m_runningSpec.name), m_endReason,
                                  best ? tr("%1 (trial %2)").arg(formatValue(best->value)).arg(best->number)
                                       : tr("none")));
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
    for (QWidget* field : std::initializer_list<QWidget*>{m_searchSettings, m_metric, m_at, m_direction,
                                                          m_trials, m_minutes, m_studyChoice})
        field->setEnabled(!m_running && (field == m_studyChoice || !existing));
    Q_EMIT stateChanged();
}

QString StudyPanel::stateText() const {
    return m_state->text();
}

QString StudyPanel::experimentJsonOfTrial(int64_t number) const {
    if (!m_store || m_studyId <= 0)
        return {};
    const auto record = m_store->study(m_studyId);
    const auto trial = m_store->trial(m_studyId, number);
    if (!record || !trial)
        return {};
    const auto spec = parseStudySpec(record->specJson);
    if (!spec.ok() || spec.value().experimentJson.empty())
        return {};
    const auto experiment = trialExperimentJson(spec.value().experimentJson, trial->params);
    if (!experiment.ok())
        return {};
    auto parsed = parseExperimentSpec(experiment.value());
    if (!parsed.ok())
        return {};
    ExperimentSpec resolved = parsed.take();
    resolved.name = record->name + "-trial-" + std::to_string(number);
    return fromStd(experimentSpecToJson(resolved));
}

QString StudyPanel::bestExperimentJson() const {
    if (!m_store || m_studyId <= 0)
        return {};
    const auto record = m_store->study(m_studyId);
    const auto spec = record ? parseStudySpec(record->specJson) : Result<StudySpec>::failure("");
    if (!spec.ok())
        return {};
    const auto best = bestTrial(m_store->trials(m_studyId), spec.value().objective);
    return best ? experimentJsonOfTrial(best->number) : QString();
}

bool StudyPanel::exportBest(const QString& fileName, QString* error) const {
    const QString json = bestExperimentJson();
    if (json.isEmpty()) {
        if (error)
            *error = tr("The study has no complete trial yet.");
        return false;
    }
    return saveFileBytes(fileName, json.toUtf8() + '\n', error);
}

void StudyPanel::exportBestWithDialog() {
    if (!m_interactive)
        return;
    const QString fileName = QFileDialog::getSaveFileName(
        this, tr("Export best config"),
        fromStd(m_runningSpec.name.empty() ? "best" : m_runningSpec.name) + QStringLiteral("-best.json"),
        tr("Experiment (*.json)"));
    if (fileName.isEmpty())
        return;
    QString error;
    if (!exportBest(fileName, &error))
        report(tr("Export best config"), error);
}

void StudyPanel::openTrialInEditor(int64_t number) {
    const QString json = experimentJsonOfTrial(number);
    if (json.isEmpty()) {
        report(tr("Open in editor"), tr("Trial %1 has no experiment to open.").arg(number));
        return;
    }
    Q_EMIT openExperimentRequested(json, tr("trial %1").arg(number));
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
