#include "search/study_budget_form.h"

#include "common/number_field.h"
#include "spec/number_rules.h"

#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>

#include <algorithm>
#include <cmath>

namespace tunelab {

StudyBudgetForm::StudyBudgetForm(QWidget* parent)
    : QWidget(parent) {
    const StudyNumberRules& rules = studyNumberRules();
    m_form = new QFormLayout(this);
    m_form->setContentsMargins(0, 0, 0, 0);
    m_form->setRowWrapPolicy(QFormLayout::WrapLongRows);

    m_trials = namedNumberField(rules.budgetTrials, QStringLiteral("trialBudget"), tr("Budget trials"),
                                tr("Trials the study runs in all (earlier ones count); empty: no limit"));
    m_trials->setDefaultText(tr("no limit"));
    m_trials->setIntegerValue(StudyBudget{}.trials);
    connect(m_trials, &NumberField::textEdited, this, [this] { m_trialsTyped = true; });
    m_minutes = namedNumberField(rules.budgetMinutes, QStringLiteral("timeBudget"), tr("Budget minutes"),
                                 tr("Wall time of one Start or Resume; empty: no limit"));
    m_minutes->setDefaultText(tr("no limit"));
    m_minutes->setValue(0.0);
    m_budgetRow = inlineFieldRow({{QString(), m_trials}, {tr("trials,"), m_minutes}}, tr("minutes"));
    m_form->addRow(tr("Budget"), m_budgetRow);

    m_addTrials = namedNumberField(rules.budgetTrials, QStringLiteral("addTrials"), tr("Add trials"),
                                   tr("Resume raises the study's budget by this many trials first"));
    m_addTrials->setIntegerValue(0);
    m_storedText = new QLabel;
    m_storedText->setObjectName(QStringLiteral("budgetState"));
    m_addRow = inlineFieldRow({{QString(), m_addTrials}, {QString(), m_storedText}});
    m_form->addRow(tr("Add trials"), m_addRow);

    m_parallel = namedNumberField(rules.parallel, QStringLiteral("parallelTrials"), tr("Parallel trials"),
                                  tr("Trials trained at the same time, one thread each"));
    m_parallel->setIntegerValue(1);
    m_form->addRow(tr("Parallel trials"), m_parallel);

    for (NumberField* box : {m_trials, m_minutes, m_parallel, m_addTrials}) {
        connect(box, &NumberField::valueChanged, this, [this] {
            updateStoredText();
            Q_EMIT changed();
        });
        connect(box, &NumberField::validityChanged, this, &StudyBudgetForm::changed);
    }
    setStoredStudy(false);
}

StudyBudget StudyBudgetForm::budget() const {
    StudyBudget budget;
    budget.trials = m_trials->integerValue();
    budget.seconds = m_minutes->value() * 60.0;
    return budget;
}

void StudyBudgetForm::setBudget(const StudyBudget& budget) {
    m_trialsTyped = budget.trials != m_suggestedTrials;
    m_trials->setIntegerValue(budget.trials);
    m_minutes->setValue(budget.seconds / 60.0);
    updateStoredText();
}

void StudyBudgetForm::setSuggestedTrials(int64_t trials) {
    // A number other than the last suggestion was typed, though its textEdited may still be on the
    // way (a typed value reaches changed() first).
    if (m_trials->integerValue() != m_suggestedTrials)
        m_trialsTyped = true;
    m_suggestedTrials = trials;
    if (!m_trialsTyped && !m_stored)
        m_trials->setIntegerValue(trials);
}

int StudyBudgetForm::parallel() const {
    return static_cast<int>(m_parallel->integerValue());
}

void StudyBudgetForm::setParallel(int parallel) {
    m_parallel->setIntegerValue(parallel);
}

void StudyBudgetForm::setParallelLimit(int limit) {
    NumberRule rule = studyNumberRules().parallel;
    rule.range.maximum = std::min<double>(rule.range.maximum, std::max(1, limit));
    rule.expected = "a positive number of trials (more than 4 per core: the CLI's --force-parallel)";
    m_parallel->setRule(rule);
}

void StudyBudgetForm::setStoredStudy(bool stored, int64_t trialsSoFar) {
    m_stored = stored;
    m_trialsSoFar = trialsSoFar;
    m_trials->setReadOnly(stored);
    m_minutes->setReadOnly(stored);
    m_form->setRowVisible(m_addRow, stored);
    if (stored && !m_addTrials->hasFocus())
        m_addTrials->setIntegerValue(budgetSpent() ? 10 : 0);
    updateStoredText();
}

int64_t StudyBudgetForm::addedTrials() const {
    return m_stored ? m_addTrials->integerValue() : 0;
}

void StudyBudgetForm::setAddedTrials(int64_t count) {
    m_addTrials->setIntegerValue(count);
}

bool StudyBudgetForm::budgetSpent() const {
    const int64_t trials = m_trials->integerValue();
    return m_stored && trials > 0 && m_trialsSoFar >= trials;
}

void StudyBudgetForm::setEditable(bool editable) {
    for (NumberField* box : {m_trials, m_minutes})
        box->setReadOnly(!editable || m_stored);
    m_parallel->setEnabled(editable);
    m_addTrials->setEnabled(editable);
}

void StudyBudgetForm::updateStoredText() {
    if (!m_stored)
        return;
    const int64_t budget = m_trials->integerValue();
    const QString done = budget > 0 ? tr("%1 of %2 trials run").arg(m_trialsSoFar).arg(budget)
                                    : tr("%1 trials run, no trial limit").arg(m_trialsSoFar);
    m_storedText->setText(budgetSpent() && addedTrials() == 0 ? tr("%1: the budget is spent").arg(done)
                                                              : done);
}

} // namespace tunelab
