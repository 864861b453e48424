#include "search/search_settings_form.h"

#include "common/number_field.h"
#include "spec/number_rules.h"

#include <QComboBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>

#include <random>
#include <utility>
#include <vector>

namespace tunelab {

namespace {

// Set on a field once the user typed into it: it no longer follows the study's scale.
constexpr const char* kTypedProperty = "typedByUser";

NumberField* numberField(const NumberRule& rule, const QString& objectName, const QString& accessibleName,
                         const QString& toolTip) {
    NumberField* box = namedNumberField(rule, objectName, accessibleName, toolTip, 80);
    QObject::connect(box, &NumberField::textEdited, box, [box] { box->setProperty(kTypedProperty, true); });
    return box;
}

void addChoices(QComboBox* box, const std::vector<std::pair<QString, QString>>& choices) {
    for (const auto& [name, label] : choices)
        box->addItem(label, name);
}

void selectData(QComboBox* box, const std::string& value) {
    const int index = box->findData(QString::fromStdString(value));
    if (index >= 0)
        box->setCurrentIndex(index);
}

} // namespace

SearchSettingsForm::SearchSettingsForm(QWidget* parent)
    : QWidget(parent) {
    const StudyNumberRules& rules = studyNumberRules();
    m_form = new QFormLayout(this);
    auto* form = m_form;
    form->setContentsMargins(0, 0, 0, 0);
    form->setRowWrapPolicy(QFormLayout::WrapLongRows);

    const SamplerSettings samplerDefaults;
    m_sampler = new QComboBox;
    m_sampler->setObjectName(QStringLiteral("sampler"));
    addChoices(m_sampler, {{QStringLiteral("auto"), tr("Automatic (GP, then TPE)")},
                           {QStringLiteral("tpe"), tr("TPE (multivariate)")},
                           {QStringLiteral("gp"), tr("Gaussian process")},
                           {QStringLiteral("tpe-independent"), tr("TPE (independent)")},
                           {QStringLiteral("rf"), tr("Random forest")},
                           {QStringLiteral("sobol"), tr("Sobol")},
                           {QStringLiteral("random"), tr("Random")},
                           {QStringLiteral("grid"), tr("Grid")},
                           {QStringLiteral("motpe"), tr("TPE for several objectives")},
                           {QStringLiteral("nsga2"), tr("NSGA-II (several objectives)")}});
    m_seed = numberField(rules.samplerSeed, QStringLiteral("samplerSeed"), tr("Seed"),
                         tr("The same seed suggests the same trials"));
    m_seed->setIntegerValue(static_cast<int64_t>(samplerDefaults.seed));
    auto* samplerRow = new QHBoxLayout;
    samplerRow->addWidget(m_sampler, 1);
    samplerRow->addWidget(new QLabel(tr("seed")));
    samplerRow->addWidget(m_seed);
    form->addRow(tr("Sampler"), samplerRow);
    m_samplerStartup =
        numberField(rules.samplerStartupTrials, QStringLiteral("samplerStartupTrials"), tr("Random start"),
                    tr("Trials drawn at random before the sampler starts modelling the results"));
    m_samplerStartup->setIntegerValue(samplerDefaults.startupTrials);
    form->addRow(tr("Random start"), inlineFieldRow({{QString(), m_samplerStartup}}, tr("trials")));

    m_pruner = new QComboBox;
    m_pruner->setObjectName(QStringLiteral("pruner"));
    addChoices(m_pruner, {{QStringLiteral("none"), tr("None")},
                          {QStringLiteral("asha"), tr("ASHA")},
                          {QStringLiteral("hyperband"), tr("Hyperband")},
                          {QStringLiteral("median"), tr("Median stopping")}});
    form->addRow(tr("Pruner"), m_pruner);
    m_minEpochs = numberField(rules.prunerMinEpochs, QStringLiteral("prunerMinEpochs"), tr("First rung"),
                              tr("The first epoch at which trials are compared"));
    m_reductionFactor =
        numberField(rules.prunerReductionFactor, QStringLiteral("prunerReductionFactor"), tr("Keep 1 in"),
                    tr("At each rung, the best 1 in this many trials continue"));
    m_rungFields =
        inlineFieldRow({{tr("first at epoch"), m_minEpochs}, {tr("keep 1 in"), m_reductionFactor}});
    form->addRow(tr("Rungs"), m_rungFields);
    m_prunerStartup = numberField(rules.prunerStartupTrials, QStringLiteral("prunerStartupTrials"),
                                  tr("Prune after"), tr("Finished trials needed before any trial is pruned"));
    m_warmupEpochs = numberField(rules.prunerWarmupEpochs, QStringLiteral("prunerWarmupEpochs"),
                                 tr("Warm-up"), tr("Epochs every trial trains before it can be pruned"));
    m_prunerFields = inlineFieldRow({{tr("after"), m_prunerStartup}, {tr("trials, warm-up"), m_warmupEpochs}},
                                    tr("epochs"));
    form->addRow(tr("Prune"), m_prunerFields);
    applyScaledDefaults();

    connect(m_sampler, &QComboBox::activated, this, [this] { m_samplerChosen = true; });
    for (QComboBox* box : {m_sampler, m_pruner})
        connect(box, &QComboBox::currentIndexChanged, this, [this] {
            updateVisibleFields();
            Q_EMIT settingsChanged();
        });
    for (NumberField* box :
         {m_seed, m_samplerStartup, m_minEpochs, m_reductionFactor, m_prunerStartup, m_warmupEpochs}) {
        connect(box, &NumberField::valueChanged, this, &SearchSettingsForm::settingsChanged);
        connect(box, &NumberField::validityChanged, this, &SearchSettingsForm::settingsChanged);
    }
    updateVisibleFields();
}

SamplerSettings SearchSettingsForm::samplerSettings() const {
    SamplerSettings settings;
    settings.type = m_sampler->currentData().toString().toStdString();
    settings.seed = static_cast<uint64_t>(m_seed->integerValue());
    settings.startupTrials = static_cast<int>(m_samplerStartup->integerValue());
    return settings;
}

PrunerSettings SearchSettingsForm::prunerSettings() const {
    PrunerSettings settings;
    settings.type = m_pruner->currentData().toString().toStdString();
    settings.minEpochs = static_cast<int>(m_minEpochs->integerValue());
    settings.reductionFactor = static_cast<int>(m_reductionFactor->integerValue());
    settings.startupTrials = static_cast<int>(m_prunerStartup->integerValue());
    settings.warmupEpochs = static_cast<int>(m_warmupEpochs->integerValue());
    return settings;
}

void SearchSettingsForm::setSettings(const SamplerSettings& sampler, const PrunerSettings& pruner) {
    selectData(m_sampler, sampler.type);
    m_samplerChosen = true;
    m_seed->setIntegerValue(static_cast<int64_t>(sampler.seed));
    m_samplerStartup->setIntegerValue(sampler.startupTrials);
    selectData(m_pruner, pruner.type);
    m_minEpochs->setIntegerValue(pruner.minEpochs);
    m_reductionFactor->setIntegerValue(pruner.reductionFactor);
    m_prunerStartup->setIntegerValue(pruner.startupTrials);
    m_warmupEpochs->setIntegerValue(pruner.warmupEpochs);
    for (NumberField* box : {m_minEpochs, m_reductionFactor, m_prunerStartup, m_warmupEpochs})
        box->setProperty(kTypedProperty, true);
    updateVisibleFields();
}

void SearchSettingsForm::setStudyScale(int epochs, int64_t trialBudget) {
    if (epochs == m_epochs && trialBudget == m_trialBudget)
        return;
    m_epochs = epochs;
    m_trialBudget = trialBudget;
    applyScaledDefaults();
}

uint64_t SearchSettingsForm::chooseFreshSeed() {
    std::random_device device;
    const int64_t shown = m_seed->integerValue();
    int64_t seed = shown;
    while (seed == shown)
        seed = static_cast<int64_t>(device() & 0x7fffffffu);
    m_seed->setIntegerValue(seed);
    return static_cast<uint64_t>(seed);
}

void SearchSettingsForm::setPopulationStudy(bool population) {
    if (population == m_population)
        return;
    m_population = population;
    // As a study file without a "sampler" reads: a model of a few random members would be a guess.
    if (!m_samplerChosen)
        selectData(m_sampler, population ? std::string("random") : SamplerSettings{}.type);
    updateVisibleFields();
    Q_EMIT settingsChanged();
}

void SearchSettingsForm::applyScaledDefaults() {
    const PrunerSettings scaled =
        scaledPrunerDefaults(m_pruner->currentData().toString().toStdString(), m_epochs, m_trialBudget);
    const std::pair<NumberField*, int> values[] = {{m_minEpochs, scaled.minEpochs},
                                                   {m_reductionFactor, scaled.reductionFactor},
                                                   {m_prunerStartup, scaled.startupTrials},
                                                   {m_warmupEpochs, scaled.warmupEpochs}};
    for (const auto& [box, value] : values)
        if (!box->property(kTypedProperty).toBool())
            box->setIntegerValue(value);
}

void SearchSettingsForm::updateVisibleFields() {
    const QString sampler = m_sampler->currentData().toString();
    const bool modelling = sampler.startsWith(QLatin1String("tpe")) || sampler == QLatin1String("gp") ||
                           sampler == QLatin1String("rf") || sampler == QLatin1String("auto") ||
                           sampler == QLatin1String("motpe");
    m_form->setRowVisible(m_samplerStartup->parentWidget(), modelling);
    const QString pruner = m_pruner->currentData().toString();
    m_form->setRowVisible(m_rungFields,
                          pruner == QLatin1String("asha") || pruner == QLatin1String("hyperband"));
    m_form->setRowVisible(m_prunerFields, pruner != QLatin1String("none"));
    // A population has nothing to prune; another pruner stays for the user to change.
    const bool fixed = m_population && pruner == QLatin1String("none");
    m_pruner->setEnabled(!fixed);
    m_pruner->setToolTip(
        !m_population ? QString()
        : fixed       ? tr("A population prunes no member: its worst members copy the best ones instead")
                      : tr("A population study cannot prune: set the pruner to None"));
}

} // namespace tunelab
