#include "search/population_settings_form.h"

#include "common/number_field.h"
#include "common/qt_text.h"
#include "study/population.h"

#include <QCheckBox>
#include <QFormLayout>
#include <QLabel>

#include <limits>
#include <string>

namespace tunelab {

namespace {

// The fields check only that the text is a number; which numbers a population takes is the
// engine's to say (check()), so its limits live in one place.
const NumberRule kWholeNumber{
    NumberRange{double(std::numeric_limits<int>::min()), double(std::numeric_limits<int>::max())}, true,
    "a whole number"};
const NumberRule kAnyNumber{NumberRange{-std::numeric_limits<double>::infinity(),
                                        std::numeric_limits<double>::infinity(), false, false},
                            false, "a number"};

// The members a population starts with when the box is checked (the example studies' size).
constexpr int kDefaultMembers = 8;

} // namespace

PopulationSettingsForm::PopulationSettingsForm(QWidget* parent)
    : QWidget(parent) {
    m_form = new QFormLayout(this);
    m_form->setContentsMargins(0, 0, 0, 0);
    m_form->setRowWrapPolicy(QFormLayout::WrapLongRows);

    m_enabled = new QCheckBox(tr("Population-based training"));
    m_enabled->setObjectName(QStringLiteral("population"));
    m_enabled->setToolTip(tr("Train a population of networks at once: every few epochs the worst members "
                             "copy the weights of the best and go on with perturbed hyperparameters"));
    m_form->addRow(m_enabled);

    m_fields = {
        {namedNumberField(kWholeNumber, QStringLiteral("populationSize"), tr("Members"),
                          tr("Networks that train at once, each a member of the population"), 60),
         "size", QString()},
        {namedNumberField(kWholeNumber, QStringLiteral("populationInterval"), tr("Compared every"),
                          tr("Epochs each member trains before the members are ranked (one trial each)"), 60),
         "interval", QString()},
        {namedNumberField(kAnyNumber, QStringLiteral("populationQuantile"), tr("Worst and best"),
                          tr("The share of members that copy another (the worst) and that are copied "
                             "(the best)"),
                          60),
         "quantile", QString()},
        {namedNumberField(kAnyNumber, QStringLiteral("populationResample"), tr("Resample"),
                          tr("The chance that a copied hyperparameter is drawn afresh from the space "
                             "rather than moved by a factor of 0.8 or 1.2"),
                          60),
         "resample_probability", QString()}};
    m_size = m_fields[0].field;
    m_interval = m_fields[1].field;
    m_quantile = m_fields[2].field;
    m_resample = m_fields[3].field;
    for (Field& field : m_fields)
        field.hint = field.field->toolTip();

    const PopulationSettings defaults;
    m_size->setIntegerValue(kDefaultMembers);
    m_interval->setIntegerValue(defaults.interval);
    m_quantile->setValue(defaults.quantile);
    m_resample->setValue(defaults.resampleProbability);

    m_membersRow = inlineFieldRow({{QString(), m_size}, {tr("compared every"), m_interval}}, tr("epochs"));
    m_form->addRow(tr("Members"), m_membersRow);
    m_exploitRow = inlineFieldRow({{tr("worst and best"), m_quantile}, {tr("resample"), m_resample}});
    m_form->addRow(tr("Copy"), m_exploitRow);
    m_problemText = new QLabel;
    m_problemText->setObjectName(QStringLiteral("populationProblems"));
    m_problemText->setWordWrap(true);
    m_problemText->setStyleSheet(QStringLiteral("color: #d32f2f;"));
    m_form->addRow(m_problemText);

    connect(m_enabled, &QCheckBox::toggled, this, [this] {
        check();
        Q_EMIT changed();
    });
    for (const Field& field : m_fields) {
        // After the field's own handling, which resets its frame and tooltip.
        connect(field.field, &NumberField::valueChanged, this, [this] {
            check();
            Q_EMIT changed();
        });
        connect(field.field, &NumberField::validityChanged, this, [this] {
            check();
            Q_EMIT changed();
        });
    }
    check();
}

bool PopulationSettingsForm::isPopulation() const {
    return m_enabled->isChecked();
}

PopulationSettings PopulationSettingsForm::settings() const {
    PopulationSettings settings;
    if (!isPopulation())
        return settings;
    settings.size = static_cast<int>(m_size->integerValue());
    settings.interval = static_cast<int>(m_interval->integerValue());
    settings.quantile = m_quantile->value();
    settings.resampleProbability = m_resample->value();
    return settings;
}

void PopulationSettingsForm::setSettings(const PopulationSettings& settings) {
    if (settings.size > 0) {
        m_size->setIntegerValue(settings.size);
        m_interval->setIntegerValue(settings.interval);
        m_quantile->setValue(settings.quantile);
        m_resample->setValue(settings.resampleProbability);
    }
    m_enabled->setChecked(settings.size > 0);
    check();
}

void PopulationSettingsForm::check() {
    const bool on = isPopulation();
    for (QWidget* row : {m_membersRow, m_exploitRow})
        m_form->setRowVisible(row, on);

    // The typed values as a study file's "population" object, read by the engine.
    std::vector<std::string> errors;
    if (on) {
        const QString json = QStringLiteral("{\"size\": %1, \"interval\": %2, \"quantile\": %3, "
                                            "\"resample_probability\": %4}")
                                 .arg(m_size->integerValue())
                                 .arg(m_interval->integerValue())
                                 .arg(NumberField::formatNumber(m_quantile->value()),
                                      NumberField::formatNumber(m_resample->value()));
        PopulationSettings read;
        readPopulationSettings(json.toStdString(), read, errors);
    }
    m_problems.clear();
    for (const Field& field : m_fields) {
        const std::string prefix = std::string("population.") + field.key + ": ";
        QString reason;
        for (const std::string& error : errors)
            if (error.rfind(prefix, 0) == 0)
                reason = fromStd(error.substr(prefix.size()));
        // A text that is no number at all is the field's own to report.
        if (reason.isEmpty() || !field.field->isValid()) {
            if (field.field->isValid())
                field.field->setHint(field.hint); // its frame and tooltip as the field shows them
            continue;
        }
        field.field->setStyleSheet(
            QStringLiteral("QLineEdit { border: 2px solid #d32f2f; border-radius: 3px; }"));
        field.field->setToolTip(reason);
        m_problems << QStringLiteral("%1: %2").arg(field.field->accessibleName(), reason);
    }
    m_problemText->setText(m_problems.join(QLatin1Char('\n')));
    m_form->setRowVisible(m_problemText, !m_problems.isEmpty());
}

} // namespace tunelab
