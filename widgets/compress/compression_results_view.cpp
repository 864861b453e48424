#include "compress/compression_results_view.h"

#include "charts/scatter_chart_view.h"
#include "common/qt_text.h"
#include "compress/compression_results_model.h"

#include <QApplication>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPainter>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QStyledItemDelegate>
#include <QTabWidget>
#include <QTableView>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace tunelab {

namespace {

// Draws a layer's sparsity as a bar behind its percentage and an int8 layer's error histogram as
// columns (the tallest bin fills the cell's height), from the layers model's number roles.
class LayerBarsDelegate : public QStyledItemDelegate {
public:
    using QStyledItemDelegate::QStyledItemDelegate;

    void paint(QPainter* painter, const QStyleOptionViewItem& option,
               const QModelIndex& index) const override {
        if (index.column() == CompressionLayersModel::SparsityColumn) {
            const double share =
                std::clamp(index.data(CompressionLayersModel::ShareRole).toDouble(), 0.0, 1.0);
            const QRectF cell = QRectF(option.rect).adjusted(3, 4, -3, -4);
            painter->save();
            painter->fillRect(cell, QColor(0xe8, 0xea, 0xed));
            painter->fillRect(QRectF(cell.topLeft(), QSizeF(cell.width() * share, cell.height())),
                              QColor(0x90, 0xb4, 0xf0));
            painter->setPen(option.palette.color(QPalette::Text));
            painter->drawText(cell.adjusted(4, 0, -4, 0), Qt::AlignVCenter | Qt::AlignLeft,
                              index.data().toString());
            painter->restore();
            return;
        }
        if (index.column() == CompressionLayersModel::HistogramColumn) {
            QStyleOptionViewItem background = option; // the cell's background, without text
            initStyleOption(&background, index);
            background.text.clear();
            const QStyle* style = option.widget ? option.widget->style() : QApplication::style();
            style->drawControl(QStyle::CE_ItemViewItem, &background, painter, option.widget);
            const QVariantList bins = index.data(CompressionLayersModel::HistogramRole).toList();
            qlonglong most = 0;
            for (const QVariant& bin : bins)
                most = std::max(most, bin.toLongLong());
            if (bins.isEmpty() || most <= 0)
                return;
            const QRectF cell = QRectF(option.rect).adjusted(4, 3, -4, -3);
            const double width = cell.width() / static_cast<double>(bins.size());
            painter->save();
            painter->setPen(Qt::NoPen);
            painter->setBrush(QColor(0xef, 0x6c, 0x00));
            for (int i = 0; i < bins.size(); ++i) {
                // sqrt: a few large differences stay visible beside thousands of small ones.
                const double height = cell.height() * std::sqrt(static_cast<double>(bins[i].toLongLong()) /
                                                                static_cast<double>(most));
                painter->drawRect(QRectF(cell.left() + i * width, cell.bottom() - height,
                                         std::max(1.0, width - 1.0), height));
            }
            painter->setPen(QColor(0xb0, 0xb0, 0xb0));
            painter->drawLine(cell.bottomLeft(), cell.bottomRight());
            painter->restore();
            return;
        }
        QStyledItemDelegate::paint(painter, option, index);
    }

    QSize sizeHint(const QStyleOptionViewItem& option, const QModelIndex& index) const override {
        QSize size = QStyledItemDelegate::sizeHint(option, index);
        if (index.column() == CompressionLayersModel::HistogramColumn)
            size.setWidth(std::max(size.width(), 180));
        if (index.column() == CompressionLayersModel::SparsityColumn)
            size.setWidth(std::max(size.width(), 220));
        size.setHeight(std::max(size.height(), 26));
        return size;
    }
};

QString modelToolTip(const VariantResult& model, bool regression) {
    QStringList lines;
    lines << (model.kind == "source"
                  ? CompressionResultsView::tr("source (run #%1)").arg(model.runId)
                  : CompressionResultsView::tr("%1 (%2)").arg(fromStd(model.name), fromStd(model.kind)));
    lines << (regression ? CompressionResultsView::tr("val MAE %1")
                         : CompressionResultsView::tr("val accuracy %1"))
                 .arg(CompressionResultsModel::formatQuality(model, regression));
    lines << CompressionResultsView::tr("%1 KiB, %2 parameters (%3 non-zero)")
                 .arg(static_cast<double>(model.sizeBytes) / 1024.0, 0, 'f', 1)
                 .arg(CompressionResultsModel::formatCount(model.parameters))
                 .arg(CompressionResultsModel::formatCount(model.nonzeroParameters));
    lines << CompressionResultsView::tr("batch-1 %1 ms, batch-64 %2 ms")
                 .arg(CompressionResultsModel::formatMilliseconds(model.latencyMs))
                 .arg(CompressionResultsModel::formatMilliseconds(model.batch64Ms));
    return lines.join(QLatin1Char('\n'));
}

} // namespace

CompressionResultsView::CompressionResultsView(QWidget* parent)
    : QWidget(parent)
    , m_model(new CompressionResultsModel(this))
    , m_proxy(new QSortFilterProxyModel(this))
    , m_layers(new CompressionLayersModel(this)) {
    m_proxy->setSourceModel(m_model);
    m_proxy->setSortRole(CompressionResultsModel::SortRole);

    m_summary = new QLabel;
    m_summary->setObjectName(QStringLiteral("compressionSummary"));
    m_summary->setWordWrap(true);
    m_summary->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_export = new QPushButton(tr("Export…"));
    m_export->setObjectName(QStringLiteral("exportVariantButton"));
    m_export->setEnabled(false);
    m_export->setToolTip(tr("Select a model with a verified file to export it"));
    auto* top = new QHBoxLayout;
    top->addWidget(m_summary, 1);
    top->addWidget(m_export);

    m_table = new QTableView;
    m_table->setObjectName(QStringLiteral("compressionResultsTable"));
    m_table->setModel(m_proxy);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setSortingEnabled(true);
    m_table->sortByColumn(-1, Qt::AscendingOrder); // the plan's order until a header is clicked
    m_table->verticalHeader()->hide();
    m_table->verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 10);
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->setWordWrap(false);

    m_sizeChart = new ScatterChartView;
    m_sizeChart->setObjectName(QStringLiteral("accuracySizeChart"));
    m_latencyChart = new ScatterChartView;
    m_latencyChart->setObjectName(QStringLiteral("accuracyLatencyChart"));
    auto* charts = new QWidget;
    auto* chartsLayout = new QHBoxLayout(charts);
    chartsLayout->setContentsMargins(0, 0, 0, 0);
    chartsLayout->addWidget(m_sizeChart);
    chartsLayout->addWidget(m_latencyChart);

    m_layersTitle = new QLabel;
    m_layersTitle->setObjectName(QStringLiteral("layersTitle"));
    m_layersTitle->setWordWrap(true);
    m_layersTable = new QTableView;
    m_layersTable->setObjectName(QStringLiteral("compressionLayersTable"));
    m_layersTable->setModel(m_layers);
    m_layersTable->setItemDelegate(new LayerBarsDelegate(m_layersTable));
    m_layersTable->verticalHeader()->hide();
    m_layersTable->horizontalHeader()->setSectionResizeMode(CompressionLayersModel::NoteColumn,
                                                            QHeaderView::Stretch);
    m_layersTable->setSelectionMode(QAbstractItemView::NoSelection);
    auto* layers = new QWidget;
    auto* layersLayout = new QVBoxLayout(layers);
    layersLayout->setContentsMargins(4, 4, 4, 4);
    layersLayout->addWidget(m_layersTitle);
    layersLayout->addWidget(m_layersTable, 1);

    m_tabs = new QTabWidget;
    m_tabs->setDocumentMode(true);
    m_tabs->addTab(charts, tr("Accuracy against size and latency"));
    m_tabs->addTab(layers, tr("Layers"));

    auto* split = new QSplitter(Qt::Vertical);
    split->addWidget(m_table);
    split->addWidget(m_tabs);
    split->setStretchFactor(0, 2);
    split->setStretchFactor(1, 3);
    // The table shows a plan's usual seven models without scrolling; the charts take the rest.
    split->setSizes({fontMetrics().height() * 14, fontMetrics().height() * 24});
    split->setChildrenCollapsible(false);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(top);
    layout->addWidget(split, 1);

    connect(m_table->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            [this] { showSelection(); });
    connect(m_export, &QPushButton::clicked, this, [this] {
        const QString name = selectedModel();
        if (!name.isEmpty())
            Q_EMIT exportRequested(name);
    });
    showSelection();
}

const CompressionResult& CompressionResultsView::result() const {
    return m_model->result();
}

void CompressionResultsView::setResult(const CompressionResult& result) {
    m_model->setResult(result);
    int completed = 0;
    for (const VariantResult& variant : result.variants)
        completed += variant.ok() ? 1 : 0;
    const auto variants = static_cast<int>(result.variants.size());
    QString summary =
        variants == 1
            ? tr("%1: %2 of 1 variant measured").arg(fromStd(result.plan)).arg(completed)
            : tr("%1: %2 of %3 variants measured").arg(fromStd(result.plan)).arg(completed).arg(variants);
    summary += result.threads == 1
                   ? tr(" · batch-1 latency: the median CPU forward on 1 thread")
                   : tr(" · batch-1 latency: the median CPU forward on %1 threads").arg(result.threads);
    if (!result.outputDirectory.empty())
        summary += tr(" · files in %1").arg(fromStd(result.outputDirectory));
    m_summary->setText(summary);
    m_table->resizeColumnsToContents();
    m_table->horizontalHeader()->setStretchLastSection(true);
    showCharts();
    // The first variant that was measured (else the source) shows its layers.
    int row = 0;
    for (int i = 1; i < m_model->rowCount(); ++i)
        if (m_model->modelAt(i).ok()) {
            row = i;
            break;
        }
    selectModel(fromStd(m_model->modelAt(row).name));
}

void CompressionResultsView::showCharts() {
    const CompressionResult& result = m_model->result();
    const bool regression = m_model->regression();
    QList<ScatterPoint> bySize, byLatency;
    std::vector<const VariantResult*> models{&result.source};
    for (const VariantResult& variant : result.variants)
        if (variant.ok())
            models.push_back(&variant);
    for (const VariantResult* model : models) {
        const double quality = regression ? model->valMae : 100.0 * model->valAccuracy;
        if (!std::isfinite(quality))
            continue;
        ScatterPoint point;
        point.name = fromStd(model->name);
        point.y = quality;
        point.toolTip = modelToolTip(*model, regression);
        point.highlighted = model->kind == "source";
        if (model->sizeBytes > 0) {
            point.x = static_cast<double>(model->sizeBytes) / 1024.0;
            point.front = model->paretoSize;
            bySize.append(point);
        }
        if (std::isfinite(model->latencyMs)) {
            point.x = model->latencyMs;
            point.front = model->paretoLatency;
            byLatency.append(point);
        }
    }
    const QString quality = regression ? tr("val MAE (lower is better)") : tr("val accuracy (%)");
    const QString none = tr("No model was measured");
    m_sizeChart->setTitle(tr("Accuracy against file size"));
    m_sizeChart->setAxisTitles(tr("file size (KiB)"), quality);
    m_sizeChart->setPoints(bySize, none);
    m_latencyChart->setTitle(tr("Accuracy against batch-1 latency"));
    m_latencyChart->setAxisTitles(tr("batch-1 CPU latency (ms)"), quality);
    m_latencyChart->setPoints(byLatency, none);
}

bool CompressionResultsView::selectModel(const QString& name) {
    const int row = m_model->rowOf(name);
    if (row < 0)
        return false;
    m_table->selectRow(m_proxy->mapFromSource(m_model->index(row, 0)).row());
    return true;
}

QString CompressionResultsView::selectedModel() const {
    const QModelIndexList rows = m_table->selectionModel()->selectedRows();
    if (rows.isEmpty())
        return {};
    return fromStd(m_model->modelAt(m_proxy->mapToSource(rows.front()).row()).name);
}

void CompressionResultsView::showSelection() {
    const QString name = selectedModel();
    const int row = m_model->rowOf(name);
    if (row < 0) {
        m_layers->setModel(VariantResult{});
        m_layersTitle->setText(tr("Select a model to see its layers."));
        m_tabs->setTabText(1, tr("Layers"));
        m_export->setEnabled(false);
        return;
    }
    const VariantResult& model = m_model->modelAt(row);
    m_layers->setModel(model);
    const bool int8 = m_layers->int8();
    for (int column : {CompressionLayersModel::RunsAsColumn, CompressionLayersModel::ErrorColumn,
                       CompressionLayersModel::HistogramColumn})
        m_layersTable->setColumnHidden(column, !int8);
    m_layersTable->setColumnHidden(CompressionLayersModel::SparsityColumn, int8);
    m_layersTable->resizeColumnsToContents();
    // Other columns show now: the note's width is worked out again (setting the same mode would not).
    QHeaderView* header = m_layersTable->horizontalHeader();
    header->setSectionResizeMode(CompressionLayersModel::NoteColumn, QHeaderView::Interactive);
    header->setSectionResizeMode(CompressionLayersModel::NoteColumn, QHeaderView::Stretch);
    m_tabs->setTabText(1, tr("Layers: %1").arg(name));
    if (!model.ok())
        m_layersTitle->setText(tr("%1 was not measured: %2").arg(name, fromStd(model.message)));
    else if (model.layers.empty())
        m_layersTitle->setText(tr("%1 has no per-layer report.").arg(name));
    else if (int8) {
        const auto kept = std::count_if(model.layers.begin(), model.layers.end(),
                                        [](const CompressedLayer& layer) { return !layer.int8; });
        m_layersTitle->setText(
            tr("%1: %2 of %3 layers run int8; the histograms show how far each layer's outputs are from "
               "float on the calibration rows. A layer stays float where int8 measured slower or too far off "
               "(see its note).")
                .arg(name)
                .arg(static_cast<int>(model.layers.size()) - static_cast<int>(kept))
                .arg(model.layers.size()));
    } else {
        m_layersTitle->setText(tr("%1: the share of each layer's weights that are zero.").arg(name));
    }
    const bool exportable = model.ok() && !model.file.empty();
    m_export->setEnabled(exportable);
    m_export->setToolTip(exportable ? tr("Save a copy of %1").arg(fromStd(model.file))
                                    : tr("%1 has no exported file").arg(name));
}

int CompressionResultsView::histogramRowCount() const {
    int rows = 0;
    for (int row = 0; row < m_layers->rowCount(); ++row)
        if (!m_layers->index(row, CompressionLayersModel::HistogramColumn)
                 .data(CompressionLayersModel::HistogramRole)
                 .toList()
                 .isEmpty())
            ++rows;
    return rows;
}

} // namespace tunelab
