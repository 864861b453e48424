#pragma once

#include "search/search_space.h"

#include <QAbstractTableModel>
#include <QMap>
#include <QStringList>

#include <vector>

namespace tunelab {

// A search space as an editable table, one row per parameter in file order. Edits work like a
// spreadsheet: a value that makes a row invalid (low above high, log with low 0, a condition on a
// missing parameter, text where a number belongs) is kept as typed and the row's Status column
// shows why, with the message parseSearchSpace or checkAgainstBase gives for that parameter.
class SearchSpaceModel : public QAbstractTableModel {
    Q_OBJECT

public:
    enum Column {
        PathColumn,
        KindColumn,
        LowColumn,
        HighColumn,
        LogColumn,
        StepColumn,
        ValuesColumn,
        ConditionColumn,
        StatusColumn,
        ColumnCount
    };

    explicit SearchSpaceModel(QObject* parent = nullptr);

    int rowCount(const QModelIndex& parent = QModelIndex()) const override;
    int columnCount(const QModelIndex& parent = QModelIndex()) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    bool setData(const QModelIndex& index, const QVariant& value, int role = Qt::EditRole) override;
    Qt::ItemFlags flags(const QModelIndex& index) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    // The experiment the paths point into; rows are checked against it with checkAgainstBase.
    void setBaseExperiment(const QString& specJson);
    QString baseExperiment() const { return m_baseJson; }

    // Adds a row for `path` with suggestedParameter's range around `currentValueJson` (read from
    // the base experiment when empty). A path already in the space is not added twice. Returns
    // the row of the path.
    int addParameter(const QString& path, const QString& currentValueJson = QString());
    int rowOfPath(const QString& path) const;
    bool removeRows(int row, int count, const QModelIndex& parent = QModelIndex()) override;
    void removeRow(int row) { removeRows(row, 1); }

    // Replaces the rows with the space in `json`. JSON the parser rejects still loads what it can
    // read (rows with errors flagged); returns false only when `json` is not a space at all.
    bool setSpaceJson(const QString& json);
    QString spaceJson() const;

    // Every problem, each naming its parameter; empty when the space is ready to run.
    QStringList errors() const;
    QString rowError(int row) const;
    QStringList parameterPaths() const;
    const SearchParameter& parameter(int row) const { return m_rows[static_cast<size_t>(row)].parameter; }
    // Number of conditional parameters and the grid size (-1 when a float range makes it continuous).
    int conditionalCount() const;
    qint64 gridSize() const;

    // "optimizer.type = sgd, rmsprop; b = 1" and back.
    static QString conditionText(const std::vector<ParamCondition>& conditions);
    // Comma-separated JSON values; a bare word reads as a string.
    static QString valuesText(const std::vector<ParamValue>& values);
    static std::vector<ParamValue> parseValues(const QString& text);

Q_SIGNALS:
    void spaceChanged();

private:
    struct Row {
        SearchParameter parameter;
        // Cells whose text could not be stored in `parameter` (a word in Low, a condition without
        // "="), shown as typed, with a message each.
        QMap<int, QString> rawText;
        QMap<int, QString> rawErrors;
    };

    void revalidate();
    void rowChanged(int row);
    void setKind(Row& row, ParamKind kind);
    bool setNumber(Row& row, int column, const QString& text);

    std::vector<Row> m_rows;
    QString m_baseJson;
    QStringList m_rowErrors;    // one per row, joined messages
    QStringList m_globalErrors; // messages that name no row
    qint64 m_gridSize = -1;
};

} // namespace tunelab
