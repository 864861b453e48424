#pragma once

#include "events/run_events.h"
#include "store/run_store.h"

#include <QAbstractTableModel>
#include <QColor>
#include <QHash>
#include <QSortFilterProxyModel>
#include <QString>
#include <QStringList>

#include <string>
#include <vector>

namespace tunelab {

// One row of the runs table: what the table shows, already pulled out of the record, the spec
// and the events, so that painting and sorting thousands of rows never parses JSON.
struct RunRow {
    RunId id = 0;
    QString name;
    RunStatus status = RunStatus::Queued;
    QString optimizer;
    double lr = kNoValue;
    QString batch;                // "64" or "full"; empty when the spec did not parse
    double batchValue = kNoValue; // for sorting: the batch size, full batch sorts last
    int epochsDone = 0;
    int epochsPlanned = 0;
    int64_t stepsDone = 0;
    int64_t stepsPlanned = 0; // 0 while unknown; an estimate until the first epoch ends
    double bestValLoss = kNoValue;
    double finalValLoss = kNoValue;
    double valAccuracy = kNoValue;
    double valMae = kNoValue;
    double durationSeconds = kNoValue;
    QString device;
    QString message; // why it failed, diverged, stopped or was interrupted
    QString specJson;
    bool hasModel = false;
    bool bestFromEpochs = false; // bestValLoss is a minimum over epochs seen, not a guess
    QString healthSummary;       // vanishing or exploding gradients seen (healthSummary()); empty when none
    QString dataSet;             // "digits.csv", "moons", "MNIST": what it trained on
    QStringList tags;            // the user's words about the run (RunStore::setRunTags)
    QString note;
    // A fork continues `parentRun`'s training after `parentEpoch` (RunRecord::parentRun); 0 for a
    // run trained from scratch.
    RunId parentRun = 0;
    int parentEpoch = 0;
    bool hasCheckpoint = false; // it can be forked: the store holds where its training stands
};

// The runs of the run store as a flat table, fed by whole records (startup, a reloaded run) and
// by live engine events. All mutators run on the GUI thread; the app drains the engine's event
// queue on a timer and hands each batch to applyEvents(), which emits at most one dataChanged
// per affected row whatever the number of events.
class RunsTableModel : public QAbstractTableModel {
    Q_OBJECT

public:
    enum Column {
        NameColumn,
        StatusColumn,
        DataSetColumn,
        OptimizerColumn,
        LearningRateColumn,
        BatchSizeColumn,
        EpochsColumn,
        BestValLossColumn,
        FinalValLossColumn,
        AccuracyColumn,
        DurationColumn,
        DeviceColumn,
        TagsColumn,
        NoteColumn,
        ColumnCount
    };
    enum Role {
        RawValueRole = Qt::UserRole, // numbers as double (NaN when unknown), text as QString
        ProgressRole,                // double 0..1 while running, invalid otherwise
        RunIdRole,                   // qint64
        StatusRole,                  // int(RunStatus)
        HasModelRole,                // bool
        HealthRole,                  // QString: the gradient health summary, empty when healthy
    };

    explicit RunsTableModel(QObject* parent = nullptr);

    static QColor errorColor() { return QColor(200, 30, 30); }
    static QString formatLearningRate(double lr);
    static QString formatLoss(double loss);
    static QString formatAccuracy(double accuracy);
    static QString formatDuration(double seconds);
    static double bestValLoss(const std::vector<EpochRecord>& epochs); // NaN when none is finite

    // Replaces every row (reset): for loading the run store at startup.
    void setRuns(std::vector<RunRecord> runs);
    // Inserts the run or replaces its row with the record (a reloaded or finished run). Keeps
    // a best validation loss computed from epochs when the record cannot tell.
    void upsertRun(const RunRecord& record);
    // A run the app just created and queued (a fork with its origin); events for it follow.
    void runQueued(RunId id, const std::string& name, const std::string& specJson,
                   const RunOrigin& origin = {});
    // "forked from #12 after epoch 5"; empty for a run trained from scratch.
    static QString originText(const RunRow& row);
    void applyEvent(const RunEvent& event);
    void applyEvents(const std::vector<RunEvent>& events);
    // The store keeps epochs but not the best validation loss; the app sets it once it read them.
    void setBestValLoss(RunId id, double value);
    bool removeRun(RunId id);
    // Gradient health flags of a run (engine/gradient_health.h healthSummary(); empty clears
    // them): a warning icon in the Status column with the summary as its tooltip. Kept when the
    // run's record is replaced.
    void setHealthFlags(RunId id, const QString& summary);
    // The run's tags and note as the store now holds them.
    void setRunNotes(RunId id, const QStringList& tags, const QString& note);

    int rowForRun(RunId id) const; // -1 when absent
    const RunRow& runAt(int row) const;
    bool contains(RunId id) const { return m_rowOf.contains(id); }
    int runCount() const { return static_cast<int>(m_rows.size()); }

    int rowCount(const QModelIndex& parent = QModelIndex()) const override;
    int columnCount(const QModelIndex& parent = QModelIndex()) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    RunRow rowFromRecord(const RunRecord& record) const;
    // Applies one event to its row (inserting a placeholder row for an unknown run); returns the row.
    int applyToRow(const RunEvent& event);
    void emitRowChanged(int row);
    void rebuildIndex();
    QVariant displayValue(const RunRow& row, int column) const;
    QVariant rawValue(const RunRow& row, int column) const;

    std::vector<RunRow> m_rows;
    QHash<RunId, int> m_rowOf;
};

// Sorts on RunsTableModel::RawValueRole (numbers numerically, unknown values last in both
// orders, text case-insensitively) and filters on name, status, data set, optimizer, tags and note
// (runs_sort_filter_proxy.cpp).
class RunsSortFilterProxyModel : public QSortFilterProxyModel {
    Q_OBJECT

public:
    explicit RunsSortFilterProxyModel(QObject* parent = nullptr);

protected:
    bool lessThan(const QModelIndex& left, const QModelIndex& right) const override;
    bool filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const override;
};

} // namespace tunelab
