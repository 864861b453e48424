#pragma once

#include "compress/compression_results.h"

#include <QAbstractTableModel>
#include <QString>

namespace tunelab {

// The measured models of a compression plan as a table: the source first, then each variant in the
// plan's order. A variant that failed keeps its row, with its status and message in the last column
// (and as every cell's tooltip) and no numbers. SortRole holds the number behind each cell.
class CompressionResultsModel : public QAbstractTableModel {
    Q_OBJECT

public:
    enum Column {
        VariantColumn,
        KindColumn,
        RunColumn,
        QualityColumn, // val accuracy, or val MAE for a regression source
        ParametersColumn,
        NonzeroColumn,
        SizeColumn,
        LatencyColumn,
        Batch64Column,
        SpeedupColumn,
        VerifiedColumn,
        ParetoColumn,
        NoteColumn,
        ColumnCount
    };
    static constexpr int SortRole = Qt::UserRole;

    explicit CompressionResultsModel(QObject* parent = nullptr);

    void setResult(const CompressionResult& result);
    const CompressionResult& result() const { return m_result; }
    // The source (row 0) and the variants.
    const VariantResult& modelAt(int row) const;
    int rowOf(const QString& name) const; // -1 when there is none
    // Accuracy is shown unless the source measured an MAE only (a regression).
    bool regression() const;

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    // "97.2 %", "0.0412" (MAE), "–" when not measured.
    static QString formatQuality(const VariantResult& model, bool regression);
    static QString formatCount(int64_t count); // "301,066"
    static QString formatMilliseconds(double ms);

private:
    QVariant display(const VariantResult& model, int column) const;
    QVariant sortValue(const VariantResult& model, int column) const;

    CompressionResult m_result;
};

// The layers of one measured model: how much of each was pruned and, for an int8 model, whether the
// layer runs int8, how far its outputs are from float (the largest difference and a histogram of
// them) and why a layer stayed float. HistogramRole holds the bins (QVariantList of qlonglong) and
// ShareRole the sparsity as a number, which the view draws as bars.
class CompressionLayersModel : public QAbstractTableModel {
    Q_OBJECT

public:
    enum Column {
        LayerColumn,
        WeightsColumn,
        SparsityColumn,
        RunsAsColumn,
        ErrorColumn,
        HistogramColumn,
        NoteColumn,
        ColumnCount
    };
    static constexpr int ShareRole = Qt::UserRole;
    static constexpr int HistogramRole = Qt::UserRole + 1;
    static constexpr int HistogramMaxRole = Qt::UserRole + 2;

    explicit CompressionLayersModel(QObject* parent = nullptr);

    void setModel(const VariantResult& model);
    const VariantResult& model() const { return m_model; }
    bool int8() const { return m_model.kind == "int8"; }

    int rowCount(const QModelIndex& parent = {}) const override;
    int columnCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    VariantResult m_model;
};

} // namespace tunelab
