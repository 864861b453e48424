#include "search/search_settings_form.h"

#include <QComboBox>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QSpinBox>

#include <utility>
#include <vector>

namespace tunelab {

namespace {

QSpinBox* spinBox(const QString& objectName, int minimum, int maximum, const QString& toolTip) {
    auto* box = new QSpinBox;
    box->setObjectName(objectName);
    box->setRange(minimum, maximum);
    box->setToolTip(toolTip);
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

// A row of labelled fields without margins, to sit in one form row.
QWidget* fieldRow(const std::vector<std::pair<QString, QWidget*>>& fields) {
    auto* row = new QWidget;
    auto* layout = new QHBoxLayout(row);
    layout->setContentsMargins(0, 0, 0, 0);
    for (const auto& [label, field] : fields) {
        if (!label.isEmpty())
            layout->addWidget(new QLabel(label));
        layout->addWidget(field);
    }
    layout->addStretch(1);
    return row;
}

} // namespace

SearchSettingsForm::SearchSettingsForm(QWidget* parent)
    : QWidget(parent) {
    m_form = new QFormLayout(this);
    auto* form = m_form;
    form->setContentsMargins(0, 0, 0, 0);

    const SamplerSettings samplerDefaults;
    m_sampler = new QComboBox;
    m_sampler->setObjectName(QStringLiteral("sampler"));
    addChoices(m_sampler, {{QStringLiteral("tpe"), tr("TPE (multivariate)")},
                           {QStringLiteral("gp"), tr("Gaussian process")},
                           {QStringLiteral("tpe-independent"), tr("TPE (independent)")},
                           {QStringLiteral("sobol"), tr("Sobol")},
                           {QStringLiteral("random"), tr("Random")},
                           {QStringLiteral("grid"), tr("Grid")}});
    m_seed = spinBox(QStringLiteral("samplerSeed"), 0, 1000000, tr("The same seed suggests the same trials"));
    m_seed->setValue(static_cast<int>(samplerDefaults.seed));
    auto* samplerRow = new QHBoxLayout;
    samplerRow->addWidget(m_sampler, 1);
    samplerRow->addWidget(new QLabel(tr("seed")));
    samplerRow->addWidget(m_seed);
    form->addRow(tr("Sampler"), samplerRow);
    m_samplerStartup = spinBox(QStringLiteral("samplerStartupTrials"), 0, 10000,
                               tr("Trials drawn at random before the sampler starts modelling the results"));
    m_samplerStartup->setValue(samplerDefaults.startupTrials);
    m_samplerStartup->setSuffix(tr(" trials"));
    form->addRow(tr("Random start"), m_samplerStartup);

    const PrunerSettings prunerDefaults;
    m_pruner = new QComboBox;
    m_pruner->setObjectName(QStringLiteral("pruner"));
    addChoices(m_pruner, {{QStringLiteral("none"), tr("None")},
                          {QStringLiteral("asha"), tr("ASHA")},
                          {QStringLiteral("hyperband"), tr("Hyperband")},
                          {QStringLiteral("median"), tr("Median stopping")}});
    form->addRow(tr("Pruner"), m_pruner);
    m_minEpochs = spinBox(QStringLiteral("prunerMinEpochs"), 1, 100000,
                          tr("Every trial trains at least this many epochs: the first rung"));
    m_minEpochs->setValue(prunerDefaults.minEpochs);
    m_reductionFactor = spinBox(QStringLiteral("prunerReductionFactor"), 2, 100,
                                tr("At each rung, the best 1 in this many trials continue"));
    m_reductionFactor->setValue(prunerDefaults.reductionFactor);
    m_minEpochs->setPrefix(tr("first at epoch "));
    m_reductionFactor->setPrefix(tr("keep 1 in "));
    m_rungFields = fieldRow({{QString(), m_minEpochs}, {QString(), m_reductionFactor}});
    form->addRow(tr("Rungs"), m_rungFields);
    m_prunerStartup = spinBox(QStringLiteral("prunerStartupTrials"), 0, 10000,
                              tr("Finished trials needed before any trial is pruned"));
    m_prunerStartup->setValue(prunerDefaults.startupTrials);
    m_warmupEpochs = spinBox(QStringLiteral("prunerWarmupEpochs"), 0, 100000,
                             tr("Epochs every trial trains before it can be pruned"));
    m_warmupEpochs->setValue(prunerDefaults.warmupEpochs);
    m_prunerStartup->setPrefix(tr("after "));
    m_prunerStartup->setSuffix(tr(" trials"));
    m_warmupEpochs->setPrefix(tr("warm-up "));
    m_warmupEpochs->setSuffix(tr(" epochs"));
    m_medianFields = fieldRow({{QString(), m_prunerStartup}, {QString(), m_warmupEpochs}});
    form->addRow(tr("Prune"), m_medianFields);

    for (QComboBox* box : {m_sampler, m_pruner})
        connect(box, &QComboBox::currentIndexChanged, this, [this] {
            updateVisibleFields();
            Q_EMIT settingsChanged();
        });
    for (QSpinBox* box :
         {m_seed, m_samplerStartup, m_minEpochs, m_reductionFactor, m_prunerStartup, m_warmupEpochs})
        connect(box, &QSpinBox::valueChanged, this, &SearchSettingsForm::settingsChanged);
    updateVisibleFields();
}

SamplerSettings SearchSettingsForm::samplerSettings() const {
    SamplerSettings settings;
    settings.type = m_sampler->currentData().toString().toStdString();
    settings.seed = static_cast<uint64_t>(m_seed->value());
    settings.startupTrials = m_samplerStartup->value();
    return settings;
}

PrunerSettings SearchSettingsForm::prunerSettings() const {
    PrunerSettings settings;
    settings.type = m_pruner->currentData().toString().toStdString();
    settings.minEpochs = m_minEpochs->value();
    settings.reductionFactor = m_reductionFactor->value();
    settings.startupTrials = m_prunerStartup->value();
    settings.warmupEpochs = m_warmupEpochs->value();
    return settings;
}

void SearchSettingsForm::setSettings(const SamplerSettings& sampler, const PrunerSettings& pruner) {
    selectData(m_sampler, sampler.type);
    m_seed->setValue(static_cast<int>(sampler.seed));
    m_samplerStartup->setValue(sampler.startupTrials);
    selectData(m_pruner, pruner.type);
    m_minEpochs->setValue(pruner.minEpochs);
    m_reductionFactor->setValue(pruner.reductionFactor);
    m_prunerStartup->setValue(pruner.startupTrials);
    m_warmupEpochs->setValue(pruner.warmupEpochs);
    updateVisibleFields();
}

void SearchSettingsForm::updateVisibleFields() {
    const QString sampler = m_sampler->currentData().toString();
    const bool modelling = sampler.startsWith(QLatin1String("tpe")) || sampler == QLatin1String("gp");
    m_form->setRowVisible(m_samplerStartup, modelling);
    const QString pruner = m_pruner->currentData().toString();
    m_form->setRowVisible(m_rungFields,
                          pruner == QLatin1String("asha") || pruner == QLatin1String("hyperband"));
    m_form->setRowVisible(m_medianFields, pruner == QLatin1String("median"));
}

} // namespace tunelab
