#include "race/race_view.h"

#include <QComboBox>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>
#include <cmath>

namespace tunelab {

namespace {

QString formatNumber(double value, int precision = 4) {
    return std::isfinite(value) ? QString::number(value, 'g', precision) : QStringLiteral("–");
}

const char* optimizerKey(OptimizerType type) {
    switch (type) {
    case OptimizerType::Sgd:
        return "sgd";
    case OptimizerType::Adagrad:
        return "adagrad";
    case OptimizerType::RmsProp:
        return "rmsprop";
    case OptimizerType::Adam:
        return "adam";
    case OptimizerType::AdamW:
        return "adamw";
    }
    return "adam";
}

bool isUnitOpen(double value) {
    return value >= 0.0 && value < 1.0;
}

} // namespace

// ---- RaceSetupModel ----------------------------------------------------------------------------

RaceSetupModel::RaceSetupModel(QObject* parent)
    : QAbstractTableModel(parent) {
    setSetups(defaultRaceSetups());
}

std::vector<OptimizerType> RaceSetupModel::optimizerTypes() {
    return {OptimizerType::Sgd, OptimizerType::Adagrad, OptimizerType::RmsProp, OptimizerType::Adam,
            OptimizerType::AdamW};
}

QString RaceSetupModel::optimizerLabel(OptimizerType type) {
    switch (type) {
    case OptimizerType::Sgd:
        return tr("SGD");
    case OptimizerType::Adagrad:
        return tr("Adagrad");
    case OptimizerType::RmsProp:
        return tr("RMSprop");
    case OptimizerType::Adam:
        return tr("Adam");
    case OptimizerType::AdamW:
        return tr("AdamW");
    }
    return {};
}

bool RaceSetupModel::applies(int column, OptimizerType type) {
    switch (column) {
    case MomentumColumn:
        return type == OptimizerType::Sgd || type == OptimizerType::RmsProp;
    case NesterovColumn:
        return type == OptimizerType::Sgd;
    case Beta1Column:
    case Beta2Column:
        return type == OptimizerType::Adam || type == OptimizerType::AdamW;
    default:
        return true;
    }
}

std::string RaceSetupModel::optimizerJson(const OptimizerSpec& optimizer) {
    const OptimizerSpec defaults;
    QJsonObject object;
    object.insert(QStringLiteral("type"), QString::fromLatin1(optimizerKey(optimizer.type)));
    object.insert(QStringLiteral("lr"), optimizer.lr);
    // AdamW's weight decay defaults to 0.01 when the key is missing, so it is always written.
    if (optimizer.weightDecay != 0.0 || optimizer.type == OptimizerType::AdamW)
        object.insert(QStringLiteral("weight_decay"), optimizer.weightDecay);
    if (optimizer.l1 != 0.0)
        object.insert(QStringLiteral("l1"), optimizer.l1);
    if (applies(MomentumColumn, optimizer.type) && optimizer.momentum != 0.0)
        object.insert(QStringLiteral("momentum"), optimizer.momentum);
    if (applies(NesterovColumn, optimizer.type) && optimizer.nesterov)
        object.insert(QStringLiteral("nesterov"), true);
    if (applies(Beta1Column, optimizer.type))
        object.insert(QStringLiteral("betas"), QJsonArray{optimizer.beta1, optimizer.beta2});
    if (optimizer.type != OptimizerType::Sgd && optimizer.eps != defaults.eps)
        object.insert(QStringLiteral("eps"), optimizer.eps);
    if (optimizer.type == OptimizerType::RmsProp && optimizer.alpha != defaults.alpha)
        object.insert(QStringLiteral("alpha"), optimizer.alpha);
    if (optimizer.type == OptimizerType::Adagrad && optimizer.initialAccumulator != 0.0)
        object.insert(QStringLiteral("initial_accumulator"), optimizer.initialAccumulator);
    return QJsonDocument(object).toJson(QJsonDocument::Compact).toStdString();
}

OptimizerSpec RaceSetupModel::parseOptimizerJson(const std::string& json) {
    OptimizerSpec optimizer;
    const QJsonObject object = QJsonDocument::fromJson(QByteArray::fromStdString(json)).object();
    const QString type = object.value(QStringLiteral("type")).toString();
    for (OptimizerType candidate : optimizerTypes())
        if (type == QLatin1String(optimizerKey(candidate)))
            optimizer.type = candidate;
    if (optimizer.type == OptimizerType::AdamW)
        optimizer.weightDecay = 0.01;
    auto number = [&object](const char* key, double& target) {
        const QJsonValue value = object.value(QLatin1String(key));
        if (value.isDouble())
            target = value.toDouble();
    };
    number("lr", optimizer.lr);
    number("weight_decay", optimizer.weightDecay);
    number("l1", optimizer.l1);
    number("momentum", optimizer.momentum);
    number("eps", optimizer.eps);
    number("alpha", optimizer.alpha);
    number("initial_accumulator", optimizer.initialAccumulator);
    optimizer.nesterov = object.value(QStringLiteral("nesterov")).toBool(false);
    const QJsonArray betas = object.value(QStringLiteral("betas")).toArray();
    if (betas.size() == 2) {
        optimizer.beta1 = betas.at(0).toDouble(optimizer.beta1);
        optimizer.beta2 = betas.at(1).toDouble(optimizer.beta2);
    }
    return optimizer;
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
        return role == Qt::EditRole ? QVariant(optimizer.lr) : QVariant(formatNumber(optimizer.lr));
    case MomentumColumn:
        return role == Qt::EditRole ? QVariant(optimizer.momentum)
                                    : QVariant(formatNumber(optimizer.momentum));
    case Beta1Column:
        return role == Qt::EditRole ? QVariant(optimizer.beta1) : QVariant(formatNumber(optimizer.beta1));
    case Beta2Column:
        return role == Qt::EditRole ? QVariant(optimizer.beta2) : QVariant(formatNumber(optimizer.beta2));
    case WeightDecayColumn:
        return role == Qt::EditRole ? QVariant(optimizer.weightDecay)
                                    : QVariant(formatNumber(optimizer.weightDecay));
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
            OptimizerSpec fresh;
            fresh.type = type;
            fresh.lr = optimizer.lr;
            if (type == OptimizerType::AdamW)
                fresh.weightDecay = 0.01;
            optimizer = fresh;
            return changed(OptimizerColumn, WeightDecayColumn);
        }
        return false;
    }

    bool isNumber = false;
    const double number = value.toDouble(&isNumber);
    if (!isNumber || !std::isfinite(number))
        return false;
    switch (column) {
    case LearningRateColumn:
        if (number <= 0.0)
            return false;
        optimizer.lr = number;
        break;
    case MomentumColumn:
        if (!isUnitOpen(number))
            return false;
        optimizer.momentum = number;
        if (number == 0.0)
            optimizer.nesterov = false;
        return changed(MomentumColumn, NesterovColumn);
    case Beta1Column:
        if (!isUnitOpen(number))
            return false;
        optimizer.beta1 = number;
        break;
    case Beta2Column:
        if (!isUnitOpen(number))
            return false;
        optimizer.beta2 = number;
        break;
    case WeightDecayColumn:
        if (number < 0.0)
            return false;
        optimizer.weightDecay = number;
        break;
    default:
        return false;
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
            return tr("SGD and RMSprop");
        case Beta1Column:
        case Beta2Column:
            return tr("Adam and AdamW");
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
