#include "race/race_view.h"

#include "spec/optimizer_catalog.h"

#include <QComboBox>

#include <algorithm>
#include <cmath>

namespace tunelab {

namespace {

const char* optimizerKey(OptimizerType type) {
    return optimizerInfo(type).json;
}

// The optimizer key a column edits (a pair's element by `element`), or nullptr for the others.
const OptimizerKey* columnKey(int column, int* element = nullptr) {
    if (element)
        *element = column == RaceSetupModel::Beta2Column ? 1 : 0;
    switch (column) {
    case RaceSetupModel::LearningRateColumn:
        return findOptimizerKey("lr");
    case RaceSetupModel::MomentumColumn:
        return findOptimizerKey("momentum");
    case RaceSetupModel::NesterovColumn:
        return findOptimizerKey("nesterov");
    case RaceSetupModel::Beta1Column:
    case RaceSetupModel::Beta2Column:
        return findOptimizerKey("betas");
    case RaceSetupModel::WeightDecayColumn:
        return findOptimizerKey("weight_decay");
    default:
        return nullptr;
    }
}

} // namespace

// ---- RaceSetupModel ----------------------------------------------------------------------------

RaceSetupModel::RaceSetupModel(QObject* parent)
    : QAbstractTableModel(parent) {
    setSetups(defaultRaceSetups());
}

std::vector<OptimizerType> RaceSetupModel::optimizerTypes() {
    std::vector<OptimizerType> types;
    for (const OptimizerInfo& info : optimizerCatalog())
        types.push_back(info.type);
    return types;
}

QString RaceSetupModel::optimizerLabel(OptimizerType type) {
    return QString::fromLatin1(optimizerInfo(type).display);
}

bool RaceSetupModel::applies(int column, OptimizerType type) {
    const OptimizerKey* key = columnKey(column);
    return !key || optimizerInfo(type).accepts(key->json);
}

std::string RaceSetupModel::optimizerJson(const OptimizerSpec& optimizer) {
    return optimizerToJson(optimizer);
}

OptimizerSpec RaceSetupModel::parseOptimizerJson(const std::string& json) {
    std::vector<std::string> errors; // a set-up keeps the fields that read; the race file reader reports
    return readOptimizerJson(json, errors);
}

int RaceSetupModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

int RaceSetupModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant RaceSetupModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.model() != this || index.row() >= rowCount() ||
        index.column() >= ColumnCount)
        return {};
    const Row& setup = m_rows[static_cast<size_t>(index.row())];
    const OptimizerSpec& optimizer = setup.optimizer;
    const int column = index.column();
    const bool applicable = applies(column, optimizer.type);

    if (role == Qt::CheckStateRole) {
        if (column == NameColumn)
            return setup.enabled ? Qt::Checked : Qt::Unchecked;
        if (column == NesterovColumn && applicable)
            return optimizer.nesterov ? Qt::Checked : Qt::Unchecked;
        if (column == FullBatchColumn)
            return setup.fullBatch ? Qt::Checked : Qt::Unchecked;
        return {};
    }
    if (role == Qt::ForegroundRole && !setup.enabled)
        return QColor(Qt::gray);
    if (role == Qt::TextAlignmentRole && column >= LearningRateColumn && column != NesterovColumn &&
        column != FullBatchColumn)
        return QVariant::fromValue<int>(Qt::AlignRight | Qt::AlignVCenter);
    if (role == Qt::ToolTipRole) {
        if (column == NameColumn)
            return QString::fromStdString(optimizerJson(optimizer));
        if (!applicable)
            return tr("Does not apply to %1").arg(optimizerLabel(optimizer.type));
        if (column == FullBatchColumn)
            return tr("Full-batch gradient descent: one step per epoch over the whole training set");
        return {};
    }
    if (role != Qt::DisplayRole && role != Qt::EditRole)
        return {};

    if (!applicable && column != NameColumn && column != OptimizerColumn)
        return role == Qt::DisplayRole ? QVariant(QStringLiteral("–")) : QVariant();
    switch (column) {
    case NameColumn:
        return setup.name;
    case OptimizerColumn:
        return role == Qt::EditRole ? QVariant(QString::fromLatin1(optimizerKey(optimizer.type)))
                                    : QVariant(optimizerLabel(optimizer.type));
    case LearningRateColumn:
        return role == Qt::EditRole ? QVariant(optimizer.lr)
                                    : QVariant(RaceResultsModel::formatNumber(optimizer.lr));
    case MomentumColumn:
        return role == Qt::EditRole ? QVariant(optimizer.momentum)
                                    : QVariant(RaceResultsModel::formatNumber(optimizer.momentum));
    case Beta1Column:
        return role == Qt::EditRole ? QVariant(optimizer.beta1)
                                    : QVariant(RaceResultsModel::formatNumber(optimizer.beta1));
    case Beta2Column:
        return role == Qt::EditRole ? QVariant(optimizer.beta2)
                                    : QVariant(RaceResultsModel::formatNumber(optimizer.beta2));
    case WeightDecayColumn:
        return role == Qt::EditRole ? QVariant(optimizer.weightDecay)
                                    : QVariant(RaceResultsModel::formatNumber(optimizer.weightDecay));
    default:
        return {};
    }
}

bool RaceSetupModel::setData(const QModelIndex& index, const QVariant& value, int role) {
    if (!index.isValid() || index.model() != this || index.row() >= rowCount() ||
        index.column() >= ColumnCount)
        return false;
    Row& setup = m_rows[static_cast<size_t>(index.row())];
    OptimizerSpec& optimizer = setup.optimizer;
    const int column = index.column();
    if (!applies(column, optimizer.type))
        return false;

    auto changed = [&](int first, int last) {
        Q_EMIT dataChanged(this->index(index.row(), first), this->index(index.row(), last));
        Q_EMIT setupsChanged();
        return true;
    };

    if (role == Qt::CheckStateRole) {
        const bool checked = value.toInt() == Qt::Checked;
        if (column == NameColumn) {
            setup.enabled = checked;
            return changed(0, ColumnCount - 1);
        }
        if (column == NesterovColumn) {
            optimizer.nesterov = checked;
            // Nesterov momentum needs momentum; give it the usual amount rather than an error later.
            if (checked && optimizer.momentum <= 0.0)
                optimizer.momentum = 0.9;
            return changed(MomentumColumn, NesterovColumn);
        }
        if (column == FullBatchColumn) {
            setup.fullBatch = checked;
            return changed(column, column);
        }
        return false;
    }
    if (role != Qt::EditRole)
        return false;

    if (column == NameColumn) {
        const QString name = value.toString().trimmed();
        if (name.isEmpty() || nameTaken(name, index.row()))
            return false;
        setup.name = name;
        return changed(column, column);
    }
    if (column == OptimizerColumn) {
        const QString key = value.toString();
        for (OptimizerType type : optimizerTypes()) {
            if (key != QLatin1String(optimizerKey(type)) && key != optimizerLabel(type))
                continue;
            if (type == optimizer.type)
                return true;
            // A new optimizer keeps the learning rate; its other settings start from its defaults.
            const double lr = optimizer.lr;
            optimizer = defaultOptimizer(type);
            optimizer.lr = lr;
            return changed(OptimizerColumn, WeightDecayColumn);
        }
        return false;
    }

    bool isNumber = false;
    const double number = value.toDouble(&isNumber);
    if (!isNumber || !std::isfinite(number))
        return false;
    int element = 0;
    const OptimizerKey* key = columnKey(column, &element);
    if (!key || key->kind == OptimizerKeyKind::Bool || !key->range.contains(number))
        return false;
    key->setNumber(optimizer, number, element);
    if (column == MomentumColumn && number == 0.0) {
        optimizer.nesterov = false;
        return changed(MomentumColumn, NesterovColumn);
    }
    return changed(column, column);
}

Qt::ItemFlags RaceSetupModel::flags(const QModelIndex& index) const {
    if (!index.isValid() || index.model() != this || index.row() >= rowCount() ||
        index.column() >= ColumnCount)
        return Qt::NoItemFlags;
    Qt::ItemFlags flags = Qt::ItemIsEnabled | Qt::ItemIsSelectable;
    const int column = index.column();
    if (!applies(column, m_rows[static_cast<size_t>(index.row())].optimizer.type))
        return flags;
    if (column == NameColumn)
        return flags | Qt::ItemIsEditable | Qt::ItemIsUserCheckable;
    if (column == NesterovColumn || column == FullBatchColumn)
        return flags | Qt::ItemIsUserCheckable;
    return flags | Qt::ItemIsEditable;
}

QVariant RaceSetupModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || section < 0 || section >= ColumnCount)
        return {};
    if (role == Qt::ToolTipRole) {
        switch (section) {
        case NameColumn:
            return tr("Checked set-ups take part in the race");
        case MomentumColumn:
        case Beta1Column:
        case Beta2Column: {
            // The optimizers that have the key, from the catalog: "SGD, RMSprop".
            QStringList types;
            for (const OptimizerInfo& info : optimizerCatalog()) {
                if (applies(section, info.type))
                    types << QString::fromLatin1(info.display);
            }
            return types.join(QStringLiteral(", "));
        }
        case WeightDecayColumn:
            return tr("L2 penalty (AdamW: decoupled weight decay)");
        default:
            return {};
        }
    }
    if (role != Qt::DisplayRole)
        return {};
    switch (section) {
    case NameColumn:
        return tr("Set-up");
    case OptimizerColumn:
        return tr("Optimizer");
    case LearningRateColumn:
        return tr("Learning rate");
    case MomentumColumn:
        return tr("Momentum");
    case NesterovColumn:
        return tr("Nesterov");
    case Beta1Column:
        return tr("β1");
    case Beta2Column:
        return tr("β2");
    case WeightDecayColumn:
        return tr("Weight decay");
    case FullBatchColumn:
        return tr("Full batch");
    default:
        return {};
    }
}

void RaceSetupModel::setSetups(const std::vector<RaceSetup>& setups) {
    beginResetModel();
    m_rows.clear();
    for (const RaceSetup& setup : setups) {
        Row row;
        row.name = QString::fromStdString(setup.name);
        if (row.name.isEmpty() || nameTaken(row.name, -1))
            row.name = uniqueName(row.name.isEmpty() ? tr("Set-up") : row.name);
        row.optimizer = parseOptimizerJson(setup.optimizerJson);
        row.fullBatch = setup.fullBatch;
        m_rows.push_back(row);
    }
    endResetModel();
    Q_EMIT setupsChanged();
}

std::vector<RaceSetup> RaceSetupModel::enabledSetups() const {
    std::vector<RaceSetup> setups;
    for (const Row& row : m_rows) {
        if (!row.enabled)
            continue;
        RaceSetup setup;
        setup.name = row.name.toStdString();
        setup.optimizerJson = optimizerJson(row.optimizer);
        setup.fullBatch = row.fullBatch;
        setups.push_back(std::move(setup));
    }
    return setups;
}

int RaceSetupModel::enabledCount() const {
    return static_cast<int>(
        std::count_if(m_rows.begin(), m_rows.end(), [](const Row& row) { return row.enabled; }));
}

int RaceSetupModel::addSetup(int sourceRow) {
    Row row;
    if (sourceRow >= 0 && sourceRow < rowCount())
        row = m_rows[static_cast<size_t>(sourceRow)];
    else
        row.name = optimizerLabel(row.optimizer.type);
    row.enabled = true;
    row.name = uniqueName(row.name);
    const int position = rowCount();
    beginInsertRows({}, position, position);
    m_rows.push_back(row);
    endInsertRows();
    Q_EMIT setupsChanged();
    return position;
}

bool RaceSetupModel::removeSetup(int row) {
    if (row < 0 || row >= rowCount())
        return false;
    beginRemoveRows({}, row, row);
    m_rows.erase(m_rows.begin() + row);
    endRemoveRows();
    Q_EMIT setupsChanged();
    return true;
}

void RaceSetupModel::setEnabled(int row, bool enabled) {
    setData(index(row, NameColumn), enabled ? Qt::Checked : Qt::Unchecked, Qt::CheckStateRole);
}

void RaceSetupModel::resetToDefaults() {
    setSetups(defaultRaceSetups());
}

bool RaceSetupModel::nameTaken(const QString& name, int exceptRow) const {
    for (int row = 0; row < rowCount(); ++row)
        if (row != exceptRow && m_rows[static_cast<size_t>(row)].name.compare(name, Qt::CaseInsensitive) == 0)
            return true;
    return false;
}

QString RaceSetupModel::uniqueName(const QString& base) const {
    if (!nameTaken(base, -1))
        return base;
    for (int suffix = 2;; ++suffix) {
        const QString candidate = QStringLiteral("%1 (%2)").arg(base).arg(suffix);
        if (!nameTaken(candidate, -1))
            return candidate;
    }
}

// ---- RaceSetupDelegate -------------------------------------------------------------------------

QWidget* RaceSetupDelegate::createEditor(QWidget* parent, const QStyleOptionViewItem& option,
                                         const QModelIndex& index) const {
    if (index.column() != RaceSetupModel::OptimizerColumn)
        return QStyledItemDelegate::createEditor(parent, option, index);
    auto* combo = new QComboBox(parent);
    for (OptimizerType type : RaceSetupModel::optimizerTypes())
        combo->addItem(RaceSetupModel::optimizerLabel(type), QString::fromLatin1(optimizerKey(type)));
    return combo;
}

void RaceSetupDelegate::setEditorData(QWidget* editor, const QModelIndex& index) const {
    auto* combo = qobject_cast<QComboBox*>(editor);
    if (!combo) {
        QStyledItemDelegate::setEditorData(editor, index);
        return;
    }
    combo->setCurrentIndex(std::max(0, combo->findData(index.data(Qt::EditRole))));
}

void RaceSetupDelegate::setModelData(QWidget* editor, QAbstractItemModel* model,
                                     const QModelIndex& index) const {
    auto* combo = qobject_cast<QComboBox*>(editor);
    if (!combo) {
        QStyledItemDelegate::setModelData(editor, model, index);
        return;
    }
    model->setData(index, combo->currentData(), Qt::EditRole);
}

} // namespace tunelab
