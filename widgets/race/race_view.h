#pragma once

#include "race/lr_range_curve_view.h"
#include "race/race.h"
#include "spec/spec.h"

#include <QAbstractTableModel>
#include <QColor>
#include <QString>
#include <QStyledItemDelegate>
#include <QWidget>

#include <vector>

namespace tunelab {

// The optimizer set-ups of a race as an editable table: one row per set-up with its name, optimizer
// type, learning rate, momentum, Nesterov, betas, weight decay and full batch. A cell that does not
// apply to the row's optimizer (betas for SGD) shows a dash and cannot be edited. Unchecked rows
// stay in the table but are left out of the race. Rows change only through the methods below.
class RaceSetupModel : public QAbstractTableModel {
    Q_OBJECT

public:
    enum Column {
        NameColumn, // check state: enabled
        OptimizerColumn,
        LearningRateColumn,
        MomentumColumn,
        NesterovColumn,
        Beta1Column,
        Beta2Column,
        WeightDecayColumn,
        FullBatchColumn,
        ColumnCount
    };

    struct Row {
        bool enabled = true;
        QString name;
        OptimizerSpec optimizer;
        bool fullBatch = false;
    };

    explicit RaceSetupModel(QObject* parent = nullptr); // prefilled with defaultRaceSetups()

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    bool setData(const QModelIndex& index, const QVariant& value, int role = Qt::EditRole) override;
    Qt::ItemFlags flags(const QModelIndex& index) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    // Replaces every row (all enabled). Set-ups whose optimizer JSON does not parse keep the
    // defaults of their "type" and the fields that did.
    void setSetups(const std::vector<RaceSetup>& setups);
    // The enabled rows as race set-ups, in table order.
    std::vector<RaceSetup> enabledSetups() const;
    const Row& row(int index) const { return m_rows.at(static_cast<size_t>(index)); }
    int enabledCount() const;

    // Appends a copy of `sourceRow` (or an Adam row) under a new unique name; returns its row.
    int addSetup(int sourceRow = -1);
    bool removeSetup(int row);
    void setEnabled(int row, bool enabled);
    void resetToDefaults();

    // Whether a column applies to an optimizer type: whether the type has the column's key in the
    // optimizer catalog (momentum for SGD and RMSprop, betas for Adam and AdamW).
    static bool applies(int column, OptimizerType type);
    // The set-up's "optimizer" object with every key of its type (the catalog's writer), so keys
    // without a column (amsgrad, centered) survive an edit.
    static std::string optimizerJson(const OptimizerSpec& optimizer);
    // The catalog's reader: missing keys take the type's defaults; an invalid key keeps its default.
    static OptimizerSpec parseOptimizerJson(const std::string& json);
    static QString optimizerLabel(OptimizerType type);
    static std::vector<OptimizerType> optimizerTypes();

Q_SIGNALS:
    void setupsChanged();

private:
    QString uniqueName(const QString& base) const;
    bool nameTaken(const QString& name, int exceptRow) const;

    std::vector<Row> m_rows;
};

// Edits the optimizer column with a combo box of the optimizer types.
class RaceSetupDelegate : public QStyledItemDelegate {
    Q_OBJECT

public:
    using QStyledItemDelegate::QStyledItemDelegate;

    QWidget* createEditor(QWidget* parent, const QStyleOptionViewItem& option,
                          const QModelIndex& index) const override;
    void setEditorData(QWidget* editor, const QModelIndex& index) const override;
    void setModelData(QWidget* editor, QAbstractItemModel* model, const QModelIndex& index) const override;
};

// The results of a race, one row per set-up: the rate raced at, final and best validation loss,
// steps and seconds to the target loss, stability and wall time. The row with the lowest best
// validation loss among the stable ones is highlighted; diverged and failed rows are red.
class RaceResultsModel : public QAbstractTableModel {
    Q_OBJECT

public:
    enum Column {
        SetupColumn,
        LearningRateColumn,
        FinalValLossColumn,
        BestValLossColumn,
        StepsToTargetColumn,
        SecondsToTargetColumn,
        StabilityColumn,
        WallTimeColumn,
        ColumnCount
    };
    static constexpr int SortRole = Qt::UserRole + 1; // numbers as numbers, missing values last

    // A race's numbers as the tables show them: `precision` significant digits, "–" when not finite.
    static QString formatNumber(double value, int precision = 4);

    explicit RaceResultsModel(QObject* parent = nullptr);

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    void setResults(const std::vector<RaceEntryResult>& results);
    // Live values while the race runs; the row must exist.
    void updateResult(int row, const RaceEntryResult& result);
    const std::vector<RaceEntryResult>& results() const { return m_results; }
    // A colour per row (the set-up's curve colour) shown as a swatch beside its name.
    void setColors(const std::vector<QColor>& colors);
    // Without a target loss there is nothing to reach: the to-target columns show a dash.
    void setHasTarget(bool hasTarget);
    // The highlighted row, or -1.
    int bestRow() const { return m_bestRow; }

private:
    void updateBestRow();

    std::vector<RaceEntryResult> m_results;
    std::vector<QColor> m_colors;
    int m_bestRow = -1;
    bool m_hasTarget = true;
};

} // namespace tunelab
