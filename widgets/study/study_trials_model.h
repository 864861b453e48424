#pragma once

#include "study/study.h"

#include <QAbstractTableModel>
#include <QColor>
#include <QHash>
#include <QSet>
#include <QSortFilterProxyModel>
#include <QString>

#include <set>
#include <string>
#include <vector>

namespace tunelab {

// The trials of one study as a flat table: number, state, value, epoch, duration, then one column
// per parameter of the study. A study with several objectives has one value column per objective
// and a "Pareto" column (a star on the trials of the front) before the epoch. A parameter that did
// not apply to a trial (a condition was not met) leaves its cell empty. A study trained by
// population-based training (a trial with a member) has "Member" and "From" columns after the
// duration: the member a trial trains for and the trial it continues from, marked "(exploit)" when
// that trial belongs to another member. The model keeps each trial's
// intermediate values too, so the study plots read the same records. GUI thread only; upsertTrial()
// and addIntermediate() emit only dataChanged / rowsInserted, so live updates never reset the view.
class StudyTrialsModel : public QAbstractTableModel {
    Q_OBJECT

public:
    // The columns of a study with one objective. Studies with several shift the epoch, duration and
    // parameter columns right, population-based ones the parameter columns: ask objectiveColumn(),
    // paretoColumn(), epochColumn(), durationColumn(), memberColumn(), parentColumn() and
    // firstParameterColumn(), which hold for all.
    enum Column { NumberColumn, StateColumn, ValueColumn, EpochColumn, DurationColumn, FirstParameterColumn };
    enum Role {
        SortRole = Qt::UserRole, // numbers as double (NaN when empty), text as QString
        TrialNumberRole,         // qint64
        StateRole,               // int(TrialState)
    };

    explicit StudyTrialsModel(QObject* parent = nullptr);

    static QColor prunedColor() { return QColor(150, 150, 150); }
    static QColor failedColor() { return QColor(200, 30, 30); }
    static QColor runningColor() { return QColor(25, 100, 200); }
    // 3 significant digits; log parameters as 1.2e-3.
    static QString formatNumber(double value, bool logScale = false);
    // The objective value, with one more digit so that close trials differ.
    static QString formatValue(double value);
    static QString formatDuration(double seconds);
    // Numbers as formatNumber, strings without their quotes, other JSON as it is.
    static QString formatParameter(const ParamValue& value, bool logScale = false);

    // Replaces the columns (reset). Parameters in `logParameters` display as 1.2e-3. `objectives`
    // holds every objective of the study, the first one first (studyObjectives()); an empty list
    // counts as the default objective.
    void setStudy(std::vector<std::string> parameters, std::vector<ObjectiveSpec> objectives,
                  std::set<std::string> logParameters = {});
    void setStudy(std::vector<std::string> parameters, ObjectiveSpec objective,
                  std::set<std::string> logParameters = {});
    // Replaces every row (reset).
    void setTrials(std::vector<TrialRecord> trials);
    // Replaces the trial with the same number, or appends it. A record without intermediate values
    // keeps the ones the row has. The first trial with a member inserts the Member and From columns.
    void upsertTrial(const TrialRecord& trial);
    // One epoch's objective value of a trial; false when the trial is unknown.
    bool addIntermediate(int64_t trialNumber, int epoch, double value);
    void clear();

    const TrialRecord& trialAt(int row) const { return m_trials[static_cast<size_t>(row)]; }
    const std::vector<TrialRecord>& trials() const { return m_trials; }
    int rowOfTrial(int64_t number) const { return m_rowOf.value(number, -1); }
    // The best complete trial by the (first) objective; -1 while no trial is complete with a value.
    int64_t bestTrialNumber() const { return m_bestNumber; }
    bool hasCompleteTrial() const { return m_bestNumber >= 0; }
    const std::vector<std::string>& parameters() const { return m_parameters; }
    // The first objective: the one intermediate values, pruning and the parameter plots follow.
    const ObjectiveSpec& objective() const { return m_objectives.front(); }
    const std::vector<ObjectiveSpec>& objectives() const { return m_objectives; }
    int objectiveCount() const { return static_cast<int>(m_objectives.size()); }
    bool isMultiObjective() const { return m_objectives.size() > 1; }
    // A trial's value of objective `index` (0: the first), NaN where it has none.
    static double objectiveValue(const TrialRecord& trial, int index);
    // The trials on the Pareto front (paretoTrials()); empty in a study with one objective.
    bool isOnParetoFront(int64_t number) const { return m_front.contains(number); }
    const QSet<qint64>& paretoFront() const { return m_front; }
    bool isLogParameter(const std::string& path) const { return m_logParameters.count(path) > 0; }
    // Whether a trial has a population member (population-based training).
    bool hasPopulation() const { return m_population; }
    // Whether the trial continues from a trial of another member (it copied that member's weights,
    // then perturbed its hyperparameters); false when its parent is not in the table.
    bool isExploit(const TrialRecord& trial) const;

    int objectiveColumn(int index) const { return ValueColumn + index; }
    int paretoColumn() const { return isMultiObjective() ? ValueColumn + objectiveCount() : -1; }
    int epochColumn() const { return ValueColumn + objectiveCount() + (isMultiObjective() ? 1 : 0); }
    int durationColumn() const { return epochColumn() + 1; }
    // -1 unless hasPopulation().
    int memberColumn() const { return m_population ? durationColumn() + 1 : -1; }
    int parentColumn() const { return m_population ? durationColumn() + 2 : -1; }
    int firstParameterColumn() const { return durationColumn() + (m_population ? 3 : 1); }
    // The objective a column shows, -1 for other columns.
    int objectiveOfColumn(int column) const;
    // Whether the text filter reads the column (number, state, epoch, parameters; not the values).
    bool isFilterTextColumn(int column) const;

    // The given rows as CSV with a header: number, state, each objective's label (its metric when
    // unnamed; "value" when neither), "pareto_front" (true / false) in a study with several
    // objectives, epoch, duration_seconds, "member" and "parent_trial" (empty where none) when the
    // study has a population, one column per parameter (every digit; strings without
    // quotes; empty where a parameter did not apply) and message. RFC 4180 quoting, "\n" line ends.
    QString toCsv(const std::vector<int>& rows) const;

    int rowCount(const QModelIndex& parent = QModelIndex()) const override;
    int columnCount(const QModelIndex& parent = QModelIndex()) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

Q_SIGNALS:
    void bestTrialChanged(qint64 number);
    // The trials on the Pareto front changed (studies with several objectives only).
    void paretoFrontChanged();
    // hasPopulation() changed: the Member and From columns came or went.
    void populationChanged(bool population);

private:
    QVariant displayValue(const TrialRecord& trial, int column) const;
    QVariant sortValue(const TrialRecord& trial, int column) const;
    int lastEpoch(const TrialRecord& trial) const;
    int64_t findBest() const;
    void updateBest(int64_t candidateHint);
    // Recomputes the front; with `notify`, emits dataChanged for the rows that joined or left it.
    void updateParetoFront(bool notify);
    void emitRowChanged(int row);
    QString parentText(const TrialRecord& trial) const;
    QString parentToolTip(const TrialRecord& trial) const;

    std::vector<std::string> m_parameters;
    std::vector<ObjectiveSpec> m_objectives{ObjectiveSpec{}}; // never empty
    std::set<std::string> m_logParameters;
    std::vector<TrialRecord> m_trials;
    QHash<int64_t, int> m_rowOf;
    int64_t m_bestNumber = -1;
    QSet<qint64> m_front;
    bool m_population = false; // some trial has a member
};

// Sorts on StudyTrialsModel::SortRole (numbers numerically with empty cells last, text
// case-insensitively) and filters by text (trial number, state or any parameter's text, all words
// must match) and, optionally, hides pruned and failed trials.
class StudyTrialsProxyModel : public QSortFilterProxyModel {
    Q_OBJECT

public:
    explicit StudyTrialsProxyModel(QObject* parent = nullptr);

    void setFilterText(const QString& text);
    void setHidePrunedAndFailed(bool hide);

protected:
    bool lessThan(const QModelIndex& left, const QModelIndex& right) const override;
    bool filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const override;

private:
    QStringList m_words;
    bool m_hidePrunedAndFailed = false;
};

} // namespace tunelab
