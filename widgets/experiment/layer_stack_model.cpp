#include "experiment/layer_stack_model.h"

#include "experiment/graph_edits.h"
#include "experiment/layer_catalog.h"
#include "experiment/layer_commands.h"

#include <QApplication>
#include <QBrush>
#include <QColor>
#include <QDataStream>
#include <QIODevice>
#include <QMimeData>
#include <QStyle>
#include <QUndoStack>

#include <algorithm>
#include <string>

namespace tunelab {

const QString LayerStackModel::kRowsMimeType = QStringLiteral("application/x-tunelab-layer-rows");
const QString LayerStackModel::kLayerTypeMimeType = QStringLiteral("application/x-tunelab-layer-type");
const QString LayerStackModel::kBlockMimeType = QStringLiteral("application/x-tunelab-layer-block");

QString formatCount(int64_t value) {
    QString digits = QString::number(value < 0 ? -value : value);
    for (int i = digits.size() - 3; i > 0; i -= 3)
        digits.insert(i, QLatin1Char(','));
    return value < 0 ? QLatin1Char('-') + digits : digits;
}

QString formatCompact(int64_t value) {
    if (value < 10000)
        return QString::number(value);
    static const char* const kSuffixes[] = {"K", "M", "G", "T"};
    double scaled = static_cast<double>(value);
    int suffix = -1;
    while (scaled >= 999.5 && suffix < 3) { // 999.6 K shows as 1 M, never 1e+03 K
        scaled /= 1000.0;
        ++suffix;
    }
    return QStringLiteral("%1 %2").arg(scaled, 0, 'g', 3).arg(QLatin1String(kSuffixes[suffix]));
}

LayerStackModel::LayerStackModel(QObject* parent)
    : QAbstractTableModel(parent) {
    recompute();
}

void LayerStackModel::setUndoStack(QUndoStack* stack) {
    m_undoStack = stack;
}

const LayerSpec& LayerStackModel::layer(int row) const {
    Q_ASSERT(row >= 0 && row < layerCount());
    return m_spec.layers[static_cast<size_t>(row)];
}

void LayerStackModel::setInputShape(const Shape& shape) {
    m_input = shape;
    recompute();
}

void LayerStackModel::setOutputTarget(const OutputTarget& target) {
    m_target = target;
    recompute();
}

QString LayerStackModel::invalidReason() const {
    if (!inputKnown())
        return tr("Shapes are checked once the data is loaded");
    return m_report.errors.empty() ? QString() : QString::fromStdString(m_report.errors.front());
}

QString LayerStackModel::rowError(int row) const {
    if (row < 0 || row >= static_cast<int>(m_report.layers.size()))
        return {};
    return QString::fromStdString(m_report.layers[static_cast<size_t>(row)].error);
}

void LayerStackModel::resetModel(const ModelSpec& spec) {
    beginResetModel();
    m_spec = spec;
    endResetModel();
    Q_EMIT layersChanged();
    recompute();
}

void LayerStackModel::insertLayer(int row, const LayerSpec& layer) {
    Q_ASSERT(row >= 0 && row <= layerCount());
    beginInsertRows(QModelIndex(), row, row);
    m_spec.layers.insert(m_spec.layers.begin() + row, layer);
    endInsertRows();
    Q_EMIT layersChanged();
    recompute();
}

void LayerStackModel::removeLayer(int row) {
    Q_ASSERT(row >= 0 && row < layerCount());
    beginRemoveRows(QModelIndex(), row, row);
    m_spec.layers.erase(m_spec.layers.begin() + row);
    endRemoveRows();
    Q_EMIT layersChanged();
    recompute();
}

void LayerStackModel::moveLayer(int from, int to) {
    Q_ASSERT(from >= 0 && from < layerCount() && to >= 0 && to < layerCount());
    if (from == to)
        return;
    // beginMoveRows wants the row the layer is inserted before, counted before the removal.
    beginMoveRows(QModelIndex(), from, from, QModelIndex(), to > from ? to + 1 : to);
    const LayerSpec moved = m_spec.layers[static_cast<size_t>(from)];
    m_spec.layers.erase(m_spec.layers.begin() + from);
    m_spec.layers.insert(m_spec.layers.begin() + to, moved);
    endMoveRows();
    Q_EMIT layersChanged();
    recompute();
}

void LayerStackModel::setLayer(int row, const LayerSpec& layer) {
    Q_ASSERT(row >= 0 && row < layerCount());
    m_spec.layers[static_cast<size_t>(row)] = layer;
    Q_EMIT layersChanged();
    recompute(); // emits dataChanged for every row: later shapes depend on this layer
}

void LayerStackModel::recompute() {
    if (!inputKnown()) {
        // Nothing to check the layers against: their wiring alone, and one error that says why.
        m_report = ShapeReport{};
        m_report.graph = buildNetworkGraph(m_spec);
        for (int i = 0; i < layerCount(); ++i)
            m_report.layers.push_back(
                LayerShape{i, m_spec.layers[static_cast<size_t>(i)].type, {}, {}, 0, 0, {}});
        m_report.errors = {"the data's sample shape is not known yet"};
        if (layerCount() > 0)
            Q_EMIT dataChanged(index(0, 0), index(layerCount() - 1, ColumnCount - 1));
        Q_EMIT reportChanged();
        return;
    }
    m_report = inferShapes(m_spec, m_input, m_target);
    // The spec reader (and LibTorch) refuse pool padding above half the kernel, which shape
    // inference alone does not check; flag it here so that Run is not offered for it.
    bool added = false;
    for (LayerShape& row : m_report.layers) {
        const LayerSpec& spec = layer(row.index);
        const bool pool = spec.type == LayerType::MaxPool2d || spec.type == LayerType::AvgPool2d;
        if (row.error.empty() && pool && spec.padding * 2 > spec.kernelSize) {
            row.error = "layer " + std::to_string(row.index) + " (" + toString(spec.type) +
                        "): padding must be at most half of kernel_size (" + std::to_string(spec.kernelSize) +
                        ")";
            added = true;
        }
    }
    if (added) {
        std::vector<std::string> errors;
        for (const LayerShape& row : m_report.layers) {
            if (!row.error.empty())
                errors.push_back(row.error);
        }
        for (const std::string& error : m_report.errors) {
            if (std::find(errors.begin(), errors.end(), error) == errors.end())
                errors.push_back(error);
        }
        m_report.errors = std::move(errors);
    }
    if (layerCount() > 0)
        Q_EMIT dataChanged(index(0, 0), index(layerCount() - 1, ColumnCount - 1));
    Q_EMIT reportChanged();
}

int LayerStackModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : layerCount();
}

int LayerStackModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant LayerStackModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const int row = index.row();
    const LayerSpec& spec = layer(row);
    const LayerShape* shape =
        row < static_cast<int>(m_report.layers.size()) ? &m_report.layers[static_cast<size_t>(row)] : nullptr;
    const QString error = rowError(row);
    // After an invalid layer the engine cannot know the input of later layers.
    const bool known = shape && error.isEmpty() && !shape->output.empty();

    switch (role) {
    case Qt::DisplayRole:
        switch (index.column()) {
        case LayerColumn:
            return LayerCatalog::summary(spec);
        case OutputColumn:
            if (!error.isEmpty())
                return tr("invalid");
            return known ? QString::fromStdString(formatShape(shape->output)) : QStringLiteral("?");
        case ParamsColumn:
            return known ? formatCount(shape->params) : QStringLiteral("?");
        case FlopsColumn:
            return known ? formatCompact(shape->flops) : QStringLiteral("?");
        }
        break;
    case RawValueRole:
        switch (index.column()) {
        case LayerColumn:
            return LayerCatalog::typeName(spec.type);
        case OutputColumn:
            return known ? QString::fromStdString(formatShape(shape->output)) : QString();
        case ParamsColumn:
            return known ? QVariant::fromValue<qlonglong>(shape->params) : QVariant();
        case FlopsColumn:
            return known ? QVariant::fromValue<qlonglong>(shape->flops) : QVariant();
        }
        break;
    case ErrorRole:
        return error;
    case Qt::ToolTipRole:
        if (!error.isEmpty())
            return error;
        if (!inputKnown())
            return tr("Unknown until the data is loaded");
        if (!known)
            return tr("Unknown until the layers above are fixed");
        if (index.column() == FlopsColumn)
            return tr("%1 FLOPs per sample (a multiply-add counts as 2)").arg(formatCount(shape->flops));
        if (index.column() == OutputColumn)
            return tr("%1 → %2").arg(QString::fromStdString(formatShape(shape->input)),
                                     QString::fromStdString(formatShape(shape->output)));
        break;
    case Qt::BackgroundRole:
        if (!error.isEmpty())
            return QBrush(QColor(255, 205, 205));
        break;
    case Qt::DecorationRole:
        if (!error.isEmpty() && index.column() == LayerColumn)
            return QApplication::style()->standardIcon(QStyle::SP_MessageBoxWarning);
        break;
    case Qt::TextAlignmentRole:
        if (index.column() == ParamsColumn || index.column() == FlopsColumn)
            return QVariant::fromValue<int>(Qt::AlignRight | Qt::AlignVCenter);
        break;
    default:
        break;
    }
    return {};
}

QVariant LayerStackModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation == Qt::Vertical) {
        if (role == Qt::DisplayRole)
            return section;
        if (role == Qt::ToolTipRole)
            return tr("Layer index, as in error messages");
        return {};
    }
    if (role != Qt::DisplayRole)
        return {};
    switch (section) {
    case LayerColumn:
        return tr("Layer");
    case OutputColumn:
        return tr("Output");
    case ParamsColumn:
        return tr("Params");
    case FlopsColumn:
        return tr("FLOPs");
    }
    return {};
}

Qt::ItemFlags LayerStackModel::flags(const QModelIndex& index) const {
    if (!index.isValid())
        return Qt::ItemIsDropEnabled; // drops go between rows, never onto one
    return Qt::ItemIsSelectable | Qt::ItemIsEnabled | Qt::ItemIsDragEnabled | Qt::ItemNeverHasChildren;
}

Qt::DropActions LayerStackModel::supportedDragActions() const {
    return Qt::MoveAction;
}

Qt::DropActions LayerStackModel::supportedDropActions() const {
    return Qt::MoveAction | Qt::CopyAction;
}

QStringList LayerStackModel::mimeTypes() const {
    return {kRowsMimeType, kLayerTypeMimeType, kBlockMimeType};
}

QMimeData* LayerStackModel::mimeData(const QModelIndexList& indexes) const {
    QList<int> rows;
    for (const QModelIndex& index : indexes) {
        if (index.isValid() && !rows.contains(index.row()))
            rows.append(index.row());
    }
    if (rows.isEmpty())
        return nullptr;
    std::sort(rows.begin(), rows.end());
    QByteArray encoded;
    QDataStream stream(&encoded, QIODevice::WriteOnly);
    stream << reinterpret_cast<quintptr>(this) << rows; // rows of this model only
    auto* mime = new QMimeData;
    mime->setData(kRowsMimeType, encoded);
    return mime;
}

bool LayerStackModel::canDropMimeData(const QMimeData* data, Qt::DropAction action, int, int,
                                      const QModelIndex&) const {
    if (!data || !m_undoStack || (action != Qt::MoveAction && action != Qt::CopyAction))
        return false;
    if (data->hasFormat(kRowsMimeType))
        return true;
    if (data->hasFormat(kBlockMimeType))
        return GraphEdits::blockNames().contains(QString::fromUtf8(data->data(kBlockMimeType)));
    return data->hasFormat(kLayerTypeMimeType) &&
           LayerCatalog::typeFromName(QString::fromUtf8(data->data(kLayerTypeMimeType))).has_value();
}

bool LayerStackModel::dropMimeData(const QMimeData* data, Qt::DropAction action, int row, int column,
                                   const QModelIndex& parent) {
    if (!canDropMimeData(data, action, row, column, parent))
        return false;
    // The row the drop lands before: between rows, onto a row (before it), or below the last one.
    int before = row;
    if (before < 0)
        before = parent.isValid() ? parent.row() : layerCount();
    before = std::clamp(before, 0, layerCount());

    if (data->hasFormat(kBlockMimeType)) {
        Q_EMIT blockDropped(QString::fromUtf8(data->data(kBlockMimeType)), before - 1);
        return true;
    }
    if (data->hasFormat(kLayerTypeMimeType)) {
        const auto type = LayerCatalog::typeFromName(QString::fromUtf8(data->data(kLayerTypeMimeType)));
        m_undoStack->push(new InsertLayerCommand(this, before, LayerCatalog::defaultLayer(*type)));
        return true;
    }

    // The stack view selects one row at a time, so a move drags one layer.
    quintptr source = 0;
    QList<int> rows;
    QByteArray encoded = data->data(kRowsMimeType);
    QDataStream stream(&encoded, QIODevice::ReadOnly);
    stream >> source >> rows;
    if (source != reinterpret_cast<quintptr>(this))
        return false; // another editor's rows: their numbers mean nothing here
    if (stream.status() != QDataStream::Ok || rows.size() != 1 || rows.front() < 0 ||
        rows.front() >= layerCount())
        return false;
    const int from = rows.front();
    const int to = before > from ? before - 1 : before;
    if (to == from)
        return false;
    m_undoStack->push(new MoveLayerCommand(this, from, to));
    return true;
}

} // namespace tunelab
