#pragma once

#include "study/study.h"

#include <QWidget>

#include <cstdint>

class QFormLayout;
class QLabel;

namespace tunelab {

class NumberField;

// How long a study runs and how many trials train at once: the trial budget (empty: no limit),
// the minutes (empty: no limit) and the parallel trials, each taken as typed or refused with the
// reason (the study file's own rules). A stored study keeps its budget, shown read-only, and gets
// an "Add trials" field instead: Resume raises the stored budget by that many first.
class StudyBudgetForm : public QWidget {
    Q_OBJECT

public:
    explicit StudyBudgetForm(QWidget* parent = nullptr);

    StudyBudget budget() const;
    // A number of trials other than the suggested one counts as typed by the user.
    void setBudget(const StudyBudget& budget);
    // The trial budget the study's settings call for (a population's members x stretches, else the
    // default): the trials field shows it until the user types a number of trials, which stays.
    void setSuggestedTrials(int64_t trials);
    int parallel() const;
    void setParallel(int parallel);
    // The most parallel trials this machine takes without forcing (the rule's limit stays).
    void setParallelLimit(int limit);

    // Shows the fields of a stored study (`trialsSoFar` of its budget) rather than a new one.
    void setStoredStudy(bool stored, int64_t trialsSoFar = 0);
    bool isStoredStudy() const { return m_stored; }
    int64_t addedTrials() const;
    void setAddedTrials(int64_t count);
    // Whether the stored budget is spent: nothing runs unless trials are added.
    bool budgetSpent() const;

    // The parallel field only: the rest stays as the study says while it runs.
    void setEditable(bool editable);

Q_SIGNALS:
    void changed();

private:
    void updateStoredText();

    QFormLayout* m_form = nullptr;
    NumberField* m_trials = nullptr;
    NumberField* m_minutes = nullptr;
    NumberField* m_parallel = nullptr;
    NumberField* m_addTrials = nullptr;
    QWidget* m_budgetRow = nullptr;
    QWidget* m_addRow = nullptr;
    QLabel* m_storedText = nullptr;
    bool m_stored = false;
    int64_t m_trialsSoFar = 0;
    int64_t m_suggestedTrials = StudyBudget{}.trials;
    bool m_trialsTyped = false;
};

} // namespace tunelab
