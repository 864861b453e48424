#pragma once

#include "compress/compression_results.h"

#include <QString>
#include <QWidget>

class QLabel;
class QPushButton;
class QSortFilterProxyModel;
class QTabWidget;
class QTableView;

namespace tunelab {

class CompressionLayersModel;
class CompressionResultsModel;
class ScatterChartView;

// What a compression plan measured: a table of the source and its variants (accuracy or MAE,
// parameters, non-zero parameters, file size, batch-1 and batch-64 latency, speedup, whether the
// file was verified, which Pareto fronts it is on), accuracy against size and against latency with
// the fronts marked and the source highlighted, and the layers of the selected model: the share of
// each layer pruned, and for an int8 model which layers run int8, how far their outputs are from
// float (a histogram) and why a layer stayed float. A failed variant is a row with its message and
// no point on the charts. Export… asks the owner to export the selected model's file.
class CompressionResultsView : public QWidget {
    Q_OBJECT

public:
    explicit CompressionResultsView(QWidget* parent = nullptr);

    void setResult(const CompressionResult& result);
    const CompressionResult& result() const;

    // Selects the row of the model named `name` (the source is "source"); false when there is none.
    bool selectModel(const QString& name);
    // The selected model's name; empty when none is selected.
    QString selectedModel() const;

    CompressionResultsModel* resultsModel() const { return m_model; }
    CompressionLayersModel* layersModel() const { return m_layers; }
    QTableView* table() const { return m_table; }
    QTableView* layersTable() const { return m_layersTable; }
    ScatterChartView* sizeChart() const { return m_sizeChart; }
    ScatterChartView* latencyChart() const { return m_latencyChart; }
    QTabWidget* tabs() const { return m_tabs; }
    QPushButton* exportButton() const { return m_export; }
    QLabel* summaryLabel() const { return m_summary; }

    // Rows of the layer table that draw an error histogram (int8 layers with bins).
    int histogramRowCount() const;

Q_SIGNALS:
    // Export… on the selected model, which has a verified file.
    void exportRequested(const QString& name);

private:
    void showCharts();
    void showSelection();

    CompressionResultsModel* m_model = nullptr;
    QSortFilterProxyModel* m_proxy = nullptr;
    CompressionLayersModel* m_layers = nullptr;
    QLabel* m_summary = nullptr;
    QTableView* m_table = nullptr;
    QTabWidget* m_tabs = nullptr;
    ScatterChartView* m_sizeChart = nullptr;
    ScatterChartView* m_latencyChart = nullptr;
    QLabel* m_layersTitle = nullptr;
    QTableView* m_layersTable = nullptr;
    QPushButton* m_export = nullptr;
};

} // namespace tunelab
