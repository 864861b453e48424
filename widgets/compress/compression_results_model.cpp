#include "compress/compression_results_model.h"

#include "common/qt_text.h"

#include <QBrush>
#include <QColor>
#include <QFont>
#include <QVariantList>

#include <cmath>

namespace tunelab {

namespace {

const QString kDash = QStringLiteral("\u2013");

QString kindText(const std::string& kind) {
    if (kind == "prune")
        return CompressionResultsModel::tr("pruned");
    if (kind == "structured")
        return CompressionResultsModel::tr("structured");
    if (kind == "distill")
        return CompressionResultsModel::tr("distilled");
    if (kind == "alone")
        return CompressionResultsModel::tr("student alone");
    return fromStd(kind);
}

// Not measured: an empty value, which sorts before every number.
QVariant numberOrEmpty(double value) {
    return std::isfinite(value) ? QVariant(value) : QVariant();
}

} // namespace

CompressionResultsModel::CompressionResultsModel(QObject* parent)
    : QAbstractTableModel(parent) {}

void CompressionResultsModel::setResult(const CompressionResult& result) {
    beginResetModel();
    m_result = result;
    endResetModel();
}

const VariantResult& CompressionResultsModel::modelAt(int row) const {
    return row == 0 ? m_result.source : m_result.variants.at(static_cast<size_t>(row - 1));
}

int CompressionResultsModel::rowOf(const QString& name) const {
    for (int row = 0; row < rowCount(); ++row)
        if (fromStd(modelAt(row).name) == name)
            return row;
    return -1;
}

bool CompressionResultsModel::regression() const {
    return !std::isfinite(m_result.source.valAccuracy) && std::isfinite(m_result.source.valMae);
}

int CompressionResultsModel::rowCount(const QModelIndex& parent) const {
    if (parent.isValid() || (m_result.source.name.empty() && m_result.variants.empty()))
        return 0;
    return 1 + static_cast<int>(m_result.variants.size());
}

int CompressionResultsModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

QString CompressionResultsModel::formatQuality(const VariantResult& model, bool regression) {
    if (regression)
        return std::isfinite(model.valMae) ? QString::number(model.valMae, 'g', 4) : kDash;
    return std::isfinite(model.valAccuracy) ? QStringLiteral("%1 %").arg(100.0 * model.valAccuracy, 0, 'f', 1)
                                            : kDash;
}

QString CompressionResultsModel::formatCount(int64_t count) {
    QString digits = QString::number(count < 0 ? -count : count);
    for (int at = static_cast<int>(digits.size()) - 3; at > 0; at -= 3)
        digits.insert(at, QLatin1Char(','));
    return count < 0 ? QStringLiteral("-") + digits : digits;
}

QString CompressionResultsModel::formatMilliseconds(double ms) {
    return std::isfinite(ms) ? QString::number(ms, 'g', 3) : kDash;
}

QVariant CompressionResultsModel::display(const VariantResult& model, int column) const {
    const bool measured = model.ok();
    switch (column) {
    case VariantColumn:
        return fromStd(model.name);
    case KindColumn:
        return kindText(model.kind);
    case RunColumn:
        return model.runId > 0 ? QStringLiteral("#%1").arg(model.runId) : QString();
    case QualityColumn:
        return measured ? formatQuality(model, regression()) : QString();
    case ParametersColumn:
        return measured ? formatCount(model.parameters) : QString();
    case NonzeroColumn:
        return measured ? formatCount(model.nonzeroParameters) : QString();
    case SizeColumn:
        return measured ? QString::number(static_cast<double>(model.sizeBytes) / 1024.0, 'f', 1) : QString();
    case LatencyColumn:
        return measured ? formatMilliseconds(model.latencyMs) : QString();
    case Batch64Column:
        return measured ? formatMilliseconds(model.batch64Ms) : QString();
    case SpeedupColumn:
        return measured && std::isfinite(model.speedup)
                   ? QStringLiteral("%1\u00d7").arg(model.speedup, 0, 'f', 2)
                   : QString();
    case VerifiedColumn:
        return measured ? (model.verified ? tr("yes") : tr("no")) : QString();
    case ParetoColumn: {
        QStringList fronts;
        if (measured && model.paretoSize)
            fronts << tr("size");
        if (measured && model.paretoLatency)
            fronts << tr("latency");
        return fronts.join(QStringLiteral(", "));
    }
    case NoteColumn:
        if (!measured)
            return QStringLiteral("%1: %2").arg(QString::fromLatin1(toString(model.status)),
                                                fromStd(model.message));
        return fromStd(model.message);
    default:
        return {};
    }
}

QVariant CompressionResultsModel::sortValue(const VariantResult& model, int column) const {
    switch (column) {
    case RunColumn:
        return static_cast<qlonglong>(model.runId);
    case QualityColumn:
        return numberOrEmpty(regression() ? model.valMae : model.valAccuracy);
    case ParametersColumn:
        return static_cast<qlonglong>(model.parameters);
    case NonzeroColumn:
        return static_cast<qlonglong>(model.nonzeroParameters);
    case SizeColumn:
        return static_cast<qlonglong>(model.sizeBytes);
    case LatencyColumn:
        return numberOrEmpty(model.latencyMs);
    case Batch64Column:
        return numberOrEmpty(model.batch64Ms);
    case SpeedupColumn:
        return numberOrEmpty(model.speedup);
    default:
        return display(model, column);
    }
}

QVariant CompressionResultsModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= rowCount())
        return {};
    const VariantResult& model = modelAt(index.row());
    switch (role) {
    case Qt::DisplayRole:
        return display(model, index.column());
    case SortRole:
        return sortValue(model, index.column());
    case Qt::ToolTipRole:
        if (!model.ok())
            return display(model, NoteColumn);
        if (index.column() == VerifiedColumn)
            return model.verified ? tr("The exported file was read back and gives the model's outputs")
                                  : tr("The exported file was not checked");
        if (index.column() == ParetoColumn)
            return tr("No other model is at least as accurate and also smaller (size) or faster (latency)");
        if (index.column() == NoteColumn || index.column() == VariantColumn)
            return model.file.empty() ? display(model, NoteColumn) : fromStd(model.file);
        return {};
    case Qt::TextAlignmentRole:
        return index.column() >= QualityColumn && index.column() <= SpeedupColumn
                   ? QVariant(Qt::AlignRight | Qt::AlignVCenter)
                   : QVariant(Qt::AlignLeft | Qt::AlignVCenter);
    case Qt::ForegroundRole:
        if (!model.ok())
            return QBrush(QColor(0xb0, 0x00, 0x20));
        return {};
    case Qt::FontRole:
        if (index.row() == 0 ||
            (index.column() == ParetoColumn && (model.paretoSize || model.paretoLatency))) {
            QFont font;
            font.setBold(true);
            return font;
        }
        return {};
    default:
        return {};
    }
}

QVariant CompressionResultsModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
    case VariantColumn:
        return tr("Variant");
    case KindColumn:
        return tr("Kind");
    case RunColumn:
        return tr("Run");
    case QualityColumn:
        return regression() ? tr("Val MAE") : tr("Val accuracy");
    case ParametersColumn:
        return tr("Parameters");
    case NonzeroColumn:
        return tr("Non-zero");
    case SizeColumn:
        return tr("Size (KiB)");
    case LatencyColumn:
        return tr("Batch-1 (ms)");
    case Batch64Column:
        return tr("Batch-64 (ms)");
    case SpeedupColumn:
        return tr("Speedup");
    case VerifiedColumn:
        return tr("Verified");
    case ParetoColumn:
        return tr("Pareto");
    case NoteColumn:
        return tr("Note");
    default:
        return {};
    }
}

CompressionLayersModel::CompressionLayersModel(QObject* parent)
    : QAbstractTableModel(parent) {}

void CompressionLayersModel::setModel(const VariantResult& model) {
    beginResetModel();
    m_model = model;
    endResetModel();
}

int CompressionLayersModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(m_model.layers.size());
}

int CompressionLayersModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant CompressionLayersModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= rowCount())
        return {};
    const CompressedLayer& layer = m_model.layers[static_cast<size_t>(index.row())];
    const bool quantized = int8();
    if (role == Qt::DisplayRole) {
        switch (index.column()) {
        case LayerColumn:
            return QStringLiteral("%1 \u00b7 %2").arg(layer.layer).arg(fromStd(layer.kind));
        case WeightsColumn:
            return CompressionResultsModel::formatCount(layer.weights);
        case SparsityColumn:
            return QStringLiteral("%1 %").arg(100.0 * layer.sparsity, 0, 'f', 1);
        case RunsAsColumn:
            return quantized ? (layer.int8 ? tr("int8") : tr("float")) : QString();
        case ErrorColumn:
            return quantized && std::isfinite(layer.maxAbsError) ? QString::number(layer.maxAbsError, 'g', 3)
                                                                 : QString();
        case NoteColumn:
            return fromStd(layer.note);
        default:
            return {};
        }
    }
    if (role == ShareRole && index.column() == SparsityColumn)
        return layer.sparsity;
    if (role == HistogramRole && index.column() == HistogramColumn && quantized && !layer.errorBins.empty()) {
        QVariantList bins;
        for (int64_t count : layer.errorBins)
            bins << static_cast<qlonglong>(count);
        return bins;
    }
    if (role == HistogramMaxRole && index.column() == HistogramColumn)
        return layer.errorMax;
    if (role == Qt::ToolTipRole) {
        if (index.column() == HistogramColumn && quantized && !layer.errorBins.empty())
            return tr("How far the layer's int8 outputs are from float on the calibration rows: %1 bins "
                      "from 0 to %2")
                .arg(layer.errorBins.size())
                .arg(layer.errorMax, 0, 'g', 3);
        if (index.column() == RunsAsColumn && quantized && !layer.int8)
            return layer.note.empty() ? tr("This layer stays float") : fromStd(layer.note);
        if (index.column() == SparsityColumn)
            return tr("%1 of %2 weights are zero")
                .arg(CompressionResultsModel::formatCount(
                    static_cast<int64_t>(std::llround(layer.sparsity * static_cast<double>(layer.weights)))))
                .arg(CompressionResultsModel::formatCount(layer.weights));
        return {};
    }
    if (role == Qt::ForegroundRole && index.column() == RunsAsColumn && quantized && !layer.int8)
        return QBrush(QColor(0x8a, 0x5a, 0x00));
    if (role == Qt::TextAlignmentRole)
        return index.column() == WeightsColumn || index.column() == ErrorColumn
                   ? QVariant(Qt::AlignRight | Qt::AlignVCenter)
                   : QVariant(Qt::AlignLeft | Qt::AlignVCenter);
    return {};
}

QVariant CompressionLayersModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
    case LayerColumn:
        return tr("Layer");
    case WeightsColumn:
        return tr("Weights");
    case SparsityColumn:
        return tr("Sparsity");
    case RunsAsColumn:
        return tr("Runs as");
    case ErrorColumn:
        return tr("Max error");
    case HistogramColumn:
        return tr("Error histogram");
    case NoteColumn:
        return tr("Note");
    default:
        return {};
    }
}

} // namespace tunelab
