#include "study/study_panel.h"

#include "common/machine_limits.h"
#include "common/qt_text.h"
#include "search/population_settings_form.h"
#include "search/search_settings_form.h"
#include "search/search_space_editor.h"
#include "search/study_budget_form.h"
#include "study/population.h"
#include "study/study_settings_check.h"

#include <QComboBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QThread>
#include <QVBoxLayout>

// The study panel's form and its settings: the fields built, filled from a study's settings, read
// back into a study file, and the warnings about them before Start.

namespace tunelab {

namespace {

// The objectives after the first, which the form cannot edit, in words.
QString moreObjectivesText(const std::vector<ObjectiveSpec>& objectives) {
    QStringList parts;
    for (const ObjectiveSpec& objective : objectives)
        parts << QStringLiteral("%1 (%2)").arg(fromStd(objectiveLabel(objective)),
                                               QString::fromLatin1(toString(objective.direction)));
    return StudyPanel::tr("and %1, from the study file").arg(parts.join(QStringLiteral(", ")));
}

} // namespace

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
    m_population = new PopulationSettingsForm;
    form->addRow(m_population);
    connect(m_population, &PopulationSettingsForm::changed, this, [this] {
        m_searchSettings->setPopulationStudy(m_population->isPopulation());
        updateControls();
    });

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
    spec.population = m_population->settings();
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
    m_population->setSettings(spec.population);
    select(m_metric, spec.objective.metric);
    select(m_at, toString(spec.objective.at));
    select(m_direction, toString(spec.objective.direction));
    // Kept as the file gave them: a copy of the study must not lose its other objectives.
    m_moreObjectives = spec.moreObjectives;
    m_moreObjectivesLabel->setText(m_moreObjectives.empty() ? QString()
                                                            : moreObjectivesText(m_moreObjectives));
    m_moreObjectivesLabel->setVisible(!m_moreObjectives.empty());
    // A budget the file did not give (a population's size x stretches) goes on following the
    // settings; one it gave stays.
    m_budget->setSuggestedTrials(suggestedTrials(spec));
    m_budget->setBudget(spec.budget);
    m_budget->setParallel(spec.parallel);
    updateControls();
}

int64_t StudyPanel::suggestedTrials(const StudySpec& spec) const {
    if (!isPopulationStudy(spec))
        return StudyBudget{}.trials;
    StudySpec sized = spec;
    if (sized.experimentJson.empty())
        sized.experimentJson = m_editorExperimentJson;
    // As the study file reads a population without "budget.trials": every member trains every epoch.
    return static_cast<int64_t>(sized.population.size) * populationStretches(sized);
}

void StudyPanel::updateWarnings() {
    const bool existing = m_studyChoice->currentData().toLongLong() > 0;
    StudySpec settings;
    settings.experimentJson = m_editorExperimentJson;
    settings.population = m_population->settings();
    // While a population field is refused, the budget stays where it is.
    if (!existing && !m_running && m_population->problems().isEmpty())
        m_budget->setSuggestedTrials(suggestedTrials(settings));
    m_searchSettings->setStudyScale(m_editorEpochs, m_budget->budget().trials);
    QStringList lines;
    settings.sampler = m_searchSettings->samplerSettings();
    settings.pruner = m_searchSettings->prunerSettings();
    settings.budget = m_budget->budget();
    settings.parallel = m_budget->parallel();
    settings.objective.metric = m_metric->currentData().toString().toStdString();
    settings.moreObjectives = m_moreObjectives;
    if (!existing && !m_running) {
        for (const std::string& warning : studySettingsWarnings(settings))
            lines << QStringLiteral("⚠ ") + fromStd(warning);
        // What the study would be refused for (Start says the same): a pruner, several objectives,
        // a parameter that changes the network. A space that does not read is the editor's to say.
        if (isPopulationStudy(settings) && m_population->problems().isEmpty()) {
            const auto space = parseSearchSpace(m_spaceEditor->spaceJson().toStdString());
            if (space.ok())
                for (const std::string& problem : populationStudyProblems(settings, space.value()))
                    lines << QStringLiteral("✖ ") + fromStd(problem);
        }
    }
    m_warnings->setText(lines.join(QLatin1Char('\n')));
    m_warnings->setVisible(!lines.isEmpty());
}

} // namespace tunelab
