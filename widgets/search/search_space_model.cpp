#include "search/search_space_model.h"

#include "search/samplers.h"
#include "search/search_space_text.h"

#include <QApplication>
#include <QBrush>
#include <QColor>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QStyle>

#include <algorithm>
#include <cmath>

namespace tunelab {

using namespace search_text;

namespace {

bool isRange(const SearchParameter& parameter) {
    return (parameter.kind == ParamKind::Float || parameter.kind == ParamKind::Int) &&
           !parameter.hasExplicitValues();
}

// Typing a bound or ticking log switches explicit values to the range they span.
void switchToRange(SearchParameter& parameter) {
    if (!parameter.hasExplicitValues())
        return;
    std::vector<double> numbers;
    for (const auto& value : parameter.values)
        numbers.push_back(value.toDouble());
    parameter.low = *std::min_element(numbers.begin(), numbers.end());
    parameter.high = *std::max_element(numbers.begin(), numbers.end());
    parameter.values.clear();
}

} // namespace

SearchSpaceModel::SearchSpaceModel(QObject* parent)
    : QAbstractTableModel(parent) {
    revalidate();
}

int SearchSpaceModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

int SearchSpaceModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant SearchSpaceModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal)
        return QAbstractTableModel::headerData(section, orientation, role);
    if (role == Qt::DisplayRole) {
        switch (section) {
        case PathColumn:
            return tr("Path");
        case KindColumn:
            return tr("Kind");
        case LowColumn:
            return tr("Low");
        case HighColumn:
            return tr("High");
        case LogColumn:
            return tr("Log");
        case StepColumn:
            return tr("Step");
        case ValuesColumn:
            return tr("Values / choices");
        case ConditionColumn:
            return tr("Only when");
        case StatusColumn:
            return tr("Status");
        default:
            return QVariant();
        }
    }
    if (role == Qt::ToolTipRole) {
        switch (section) {
        case ValuesColumn:
            return tr("Comma-separated JSON values: explicit numbers for float and int, the choices of a "
                      "categorical, the value of a fixed parameter. Plain words are strings.");
        case ConditionColumn:
            return tr("The parameter applies only when another takes one of these values, e.g. "
                      "\"optimizer.type = sgd, rmsprop\"; separate several with \";\"");
        case LogColumn:
            return tr("Draw on a log scale (needs low > 0)");
        default:
            return QVariant();
        }
    }
    return QVariant();
}

Qt::ItemFlags SearchSpaceModel::flags(const QModelIndex& index) const {
    if (!index.isValid())
        return Qt::NoItemFlags;
    Qt::ItemFlags flags = Qt::ItemIsEnabled | Qt::ItemIsSelectable;
    const SearchParameter& parameter = m_rows[static_cast<size_t>(index.row())].parameter;
    const bool numeric = parameter.kind == ParamKind::Float || parameter.kind == ParamKind::Int;
    switch (index.column()) {
    case LowColumn:
    case HighColumn:
    case StepColumn:
        if (numeric)
            flags |= Qt::ItemIsEditable;
        break;
    case LogColumn:
        if (numeric)
            flags |= Qt::ItemIsUserCheckable;
        break;
    case StatusColumn:
        break;
    default:
        flags |= Qt::ItemIsEditable;
        break;
    }
    return flags;
}

QVariant SearchSpaceModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= rowCount())
        return QVariant();
    const Row& row = m_rows[static_cast<size_t>(index.row())];
    const SearchParameter& parameter = row.parameter;
    const int column = index.column();
    const QString error = m_rowErrors.value(index.row());

    if (column == StatusColumn) {
        switch (role) {
        case Qt::DisplayRole:
            return error.isEmpty() ? tr("ok")
                                   : QString(error).replace(QLatin1Char('\n'), QLatin1String("; "));
        case Qt::ToolTipRole:
            return error.isEmpty() ? QVariant() : QVariant(error);
        case Qt::ForegroundRole:
            return error.isEmpty() ? QBrush(QColor(0x2e, 0x7d, 0x32)) : QBrush(QColor(0xb0, 0x00, 0x20));
        case Qt::DecorationRole:
            if (!error.isEmpty() && qobject_cast<QApplication*>(QCoreApplication::instance()))
                return QApplication::style()->standardIcon(QStyle::SP_MessageBoxWarning);
            return QVariant();
        default:
            return QVariant();
        }
    }
    if (column == LogColumn) {
        if (role == Qt::CheckStateRole && isRange(parameter))
            return parameter.log ? Qt::Checked : Qt::Unchecked;
        if (role == Qt::EditRole)
            return parameter.log;
        return QVariant();
    }
    if (role == Qt::ForegroundRole && row.rawErrors.contains(column))
        return QBrush(QColor(0xb0, 0x00, 0x20));
    if (role == Qt::ToolTipRole && row.rawErrors.contains(column))
        return row.rawErrors.value(column);
    if (role == Qt::TextAlignmentRole &&
        (column == LowColumn || column == HighColumn || column == StepColumn))
        return QVariant(Qt::AlignRight | Qt::AlignVCenter);
    if (role == Qt::ToolTipRole &&
        (column == ValuesColumn || column == ConditionColumn || column == PathColumn)) {
        // Long choices (whole layers) do not fit the column.
        const QString text = data(index, Qt::DisplayRole).toString();
        return text.isEmpty() ? QVariant() : QVariant(text);
    }
    if (role != Qt::DisplayRole && role != Qt::EditRole)
        return QVariant();
    if (row.rawText.contains(column))
        return row.rawText.value(column);
    switch (column) {
    case PathColumn:
        return QString::fromStdString(parameter.path);
    case KindColumn:
        return kKindNames.value(static_cast<int>(parameter.kind));
    case LowColumn:
        return isRange(parameter) ? numberText(parameter.low) : QString();
    case HighColumn:
        return isRange(parameter) ? numberText(parameter.high) : QString();
    case StepColumn: {
        if (!isRange(parameter))
            return QString();
        const double plain = parameter.kind == ParamKind::Int ? 1.0 : 0.0;
        return parameter.step == plain && role == Qt::DisplayRole ? QString() : numberText(parameter.step);
    }
    case ValuesColumn:
        return valuesText(parameter.values);
    case ConditionColumn:
        return conditionText(parameter.when);
    default:
        return QVariant();
    }
}

bool SearchSpaceModel::setData(const QModelIndex& index, const QVariant& value, int role) {
    if (!index.isValid() || index.row() >= rowCount() ||
        !(flags(index) & (Qt::ItemIsEditable | Qt::ItemIsUserCheckable)))
        return false;
    Row& row = m_rows[static_cast<size_t>(index.row())];
    SearchParameter& parameter = row.parameter;
    const int column = index.column();
    if (column == LogColumn) {
        if (role == Qt::CheckStateRole)
            parameter.log = value.toInt() == Qt::Checked;
        else if (role == Qt::EditRole)
            parameter.log = value.toBool();
        else
            return false;
        if (parameter.log)
            parameter.step = parameter.kind == ParamKind::Int ? 1.0 : 0.0;
        switchToRange(parameter);
        rowChanged(index.row());
        return true;
    }
    if (role != Qt::EditRole)
        return false;
    const QString text = value.toString().trimmed();
    row.rawText.remove(column);
    row.rawErrors.remove(column);
    switch (column) {
    case PathColumn:
        parameter.path = text.toStdString();
        break;
    case KindColumn: {
        const auto kind = kindFromName(text);
        if (!kind) {
            row.rawText.insert(column, text);
            row.rawErrors.insert(
                column, tr("unknown kind '%1' (expected float, int, categorical or fixed)").arg(text));
            break;
        }
        setKind(row, *kind);
        break;
    }
    case LowColumn:
    case HighColumn:
    case StepColumn:
        setNumber(row, column, text);
        break;
    case ValuesColumn:
        parameter.values = parseValues(text);
        if (parameter.kind == ParamKind::Fixed && parameter.values.size() > 1) {
            row.rawText.insert(column, text);
            row.rawErrors.insert(column, tr("a fixed parameter takes one value"));
            parameter.values.resize(1);
        }
        break;
    case ConditionColumn: {
        std::vector<ParamCondition> conditions;
        for (const QString& part : splitTopLevel(text, QLatin1Char(';'))) {
            const int equals = part.indexOf(QLatin1Char('='));
            const QString name = part.left(equals).trimmed();
            const std::vector<ParamValue> accepted = parseValues(part.mid(equals + 1));
            if (equals < 0 || name.isEmpty() || accepted.empty()) {
                row.rawText.insert(column, text);
                row.rawErrors.insert(column,
                                     tr("condition '%1' should read \"parameter = value, value\"").arg(part));
                continue;
            }
            conditions.push_back({name.toStdString(), accepted});
        }
        parameter.when = conditions;
        break;
    }
    default:
        return false;
    }
    rowChanged(index.row());
    return true;
}

void SearchSpaceModel::setKind(Row& row, ParamKind kind) {
    SearchParameter& parameter = row.parameter;
    if (parameter.kind == kind)
        return;
    const ParamKind old = parameter.kind;
    const bool wasNumeric = old == ParamKind::Float || old == ParamKind::Int;
    const bool toNumeric = kind == ParamKind::Float || kind == ParamKind::Int;
    if (toNumeric && !wasNumeric) {
        // Numeric choices become the range they span; anything else keeps the old range.
        std::vector<double> numbers;
        for (const auto& value : parameter.values) {
            if (value.isNumber())
                numbers.push_back(value.toDouble());
        }
        if (numbers.size() >= 2) {
            parameter.low = *std::min_element(numbers.begin(), numbers.end());
            parameter.high = *std::max_element(numbers.begin(), numbers.end());
        } else if (numbers.size() == 1 && parameter.low == parameter.high) {
            parameter.low = numbers.front() / 2.0;
            parameter.high = numbers.front() * 2.0;
        }
        parameter.values.clear();
    } else if (!toNumeric && wasNumeric && !parameter.hasExplicitValues()) {
        // A range becomes its two ends as choices.
        auto number = [&](double value) {
            return ParamValue{kind == ParamKind::Fixed || old == ParamKind::Float
                                  ? numberText(value).toStdString()
                                  : std::to_string(std::llround(value))};
        };
        parameter.values = {number(parameter.low)};
        if (kind == ParamKind::Categorical)
            parameter.values.push_back(number(parameter.high));
    }
    if (kind == ParamKind::Fixed && parameter.values.size() > 1)
        parameter.values.resize(1);
    if (kind == ParamKind::Int) {
        parameter.low = std::ceil(parameter.low);
        parameter.high = std::floor(parameter.high);
        parameter.step = std::max(1.0, std::round(parameter.step));
    } else if (kind == ParamKind::Float && old == ParamKind::Int && parameter.step == 1.0) {
        parameter.step = 0.0;
    }
    parameter.kind = kind;
    for (int column : {LowColumn, HighColumn, StepColumn}) {
        row.rawText.remove(column);
        row.rawErrors.remove(column);
    }
}

bool SearchSpaceModel::setNumber(Row& row, int column, const QString& text) {
    SearchParameter& parameter = row.parameter;
    const QString name = column == LowColumn ? tr("low") : column == HighColumn ? tr("high") : tr("step");
    double number = 0.0;
    bool ok = true;
    if (text.isEmpty() && column == StepColumn)
        number = parameter.kind == ParamKind::Int ? 1.0 : 0.0;
    else
        number = text.toDouble(&ok);
    if (!ok) {
        row.rawText.insert(column, text);
        row.rawErrors.insert(column, tr("%1 '%2' is not a number").arg(name, text));
        return false;
    }
    switchToRange(parameter);
    (column == LowColumn ? parameter.low : column == HighColumn ? parameter.high : parameter.step) = number;
    return true;
}

void SearchSpaceModel::setBaseExperiment(const QString& specJson) {
    m_baseJson = specJson;
    revalidate();
    if (!m_rows.empty())
        Q_EMIT dataChanged(index(0, StatusColumn), index(rowCount() - 1, StatusColumn));
}

int SearchSpaceModel::rowOfPath(const QString& path) const {
    for (size_t i = 0; i < m_rows.size(); ++i) {
        if (QString::fromStdString(m_rows[i].parameter.path) == path)
            return static_cast<int>(i);
    }
    return -1;
}

int SearchSpaceModel::addParameter(const QString& path, const QString& currentValueJson) {
    const int existing = rowOfPath(path);
    if (existing >= 0)
        return existing;
    QString value = currentValueJson;
    if (value.isEmpty() && !m_baseJson.isEmpty())
        value = QString::fromStdString(valueAtPath(m_baseJson.toStdString(), path.toStdString()));
    Row row;
    row.parameter = suggestedParameter(path.toStdString(), value.toStdString());
    const int at = rowCount();
    beginInsertRows(QModelIndex(), at, at);
    m_rows.push_back(std::move(row));
    revalidate();
    endInsertRows();
    if (at > 0)
        Q_EMIT dataChanged(index(0, StatusColumn), index(at - 1, StatusColumn));
    Q_EMIT spaceChanged();
    return at;
}

bool SearchSpaceModel::removeRows(int row, int count, const QModelIndex& parent) {
    if (parent.isValid() || row < 0 || count <= 0 || row + count > rowCount())
        return false;
    beginRemoveRows(QModelIndex(), row, row + count - 1);
    m_rows.erase(m_rows.begin() + row, m_rows.begin() + row + count);
    revalidate();
    endRemoveRows();
    if (!m_rows.empty())
        Q_EMIT dataChanged(index(0, 0), index(rowCount() - 1, StatusColumn));
    Q_EMIT spaceChanged();
    return true;
}

bool SearchSpaceModel::setSpaceJson(const QString& json) {
    std::vector<SearchParameter> parameters;
    const auto parsed = parseSearchSpace(json.toStdString());
    if (parsed.ok()) {
        parameters = editableParameters(parsed.value());
    } else {
        QJsonParseError parseError;
        const QJsonDocument document = QJsonDocument::fromJson(json.toUtf8(), &parseError);
        const QJsonValue items = document.object().value(QLatin1String("parameters"));
        if (parseError.error != QJsonParseError::NoError || !items.isArray())
            return false;
        parameters = readLeniently(items.toArray());
    }
    beginResetModel();
    m_rows.clear();
    for (auto& parameter : parameters)
        m_rows.push_back(Row{std::move(parameter), {}, {}});
    revalidate();
    endResetModel();
    Q_EMIT spaceChanged();
    return true;
}

QString SearchSpaceModel::spaceJson() const {
    std::vector<SearchParameter> parameters;
    for (size_t i = 0; i < m_rows.size(); ++i) {
        parameters.push_back(m_rows[i].parameter);
        parameters.back().index = static_cast<int>(i);
    }
    return QString::fromStdString(searchSpaceToJson(parameters));
}

void SearchSpaceModel::revalidate() {
    m_rowErrors = QStringList();
    for (size_t i = 0; i < m_rows.size(); ++i)
        m_rowErrors << QString();
    m_globalErrors.clear();
    m_gridSize = -1;
    auto add = [this](int row, const QString& message) {
        if (row < 0 || row >= m_rowErrors.size()) {
            m_globalErrors << message;
            return;
        }
        QString& errors = m_rowErrors[row];
        if (!errors.contains(message))
            errors += (errors.isEmpty() ? QString() : QStringLiteral("\n")) + message;
    };
    // The parser's messages name their row ("parameters[3] (path): ..."), which the row shows.
    auto addMessages = [&add](const std::vector<std::string>& messages) {
        for (const std::string& message : messages) {
            const int row = rowOfMessage(message);
            add(row, row < 0 ? QString::fromStdString(message) : withoutPlace(message));
        }
    };
    for (size_t i = 0; i < m_rows.size(); ++i) {
        for (const QString& message : m_rows[i].rawErrors)
            add(static_cast<int>(i), message);
    }
    if (m_rows.empty())
        return;
    const auto parsed = parseSearchSpace(spaceJson().toStdString());
    if (!parsed.ok()) {
        addMessages(parsed.errors());
        return;
    }
    if (!m_baseJson.isEmpty())
        addMessages(checkAgainstBase(parsed.value(), m_baseJson.toStdString()));
    const auto& parameters = parsed.value().parameters();
    const bool continuous = std::any_of(parameters.begin(), parameters.end(), [](const SearchParameter& p) {
        return p.kind == ParamKind::Float && !p.hasExplicitValues();
    });
    if (!continuous) {
        const auto grid = GridSampler::create(parsed.value());
        if (grid.ok())
            m_gridSize = grid.value().gridSize();
    }
}

void SearchSpaceModel::rowChanged(int row) {
    revalidate();
    // A change in one row can fix or break another (conditions, duplicates): refresh every status.
    Q_EMIT dataChanged(index(row, 0), index(row, ColumnCount - 1));
    Q_EMIT dataChanged(index(0, StatusColumn), index(rowCount() - 1, StatusColumn));
    Q_EMIT spaceChanged();
}

QStringList SearchSpaceModel::errors() const {
    QStringList all = m_globalErrors;
    for (int row = 0; row < m_rowErrors.size(); ++row) {
        if (m_rowErrors[row].isEmpty())
            continue;
        SearchParameter parameter = m_rows[static_cast<size_t>(row)].parameter;
        parameter.index = row;
        for (const QString& message : m_rowErrors[row].split(QLatin1Char('\n')))
            all << QString::fromStdString(parameter.place()) + QStringLiteral(": ") + message;
    }
    return all;
}

QString SearchSpaceModel::rowError(int row) const {
    return m_rowErrors.value(row);
}

QStringList SearchSpaceModel::parameterPaths() const {
    QStringList paths;
    for (const Row& row : m_rows)
        paths << QString::fromStdString(row.parameter.path);
    return paths;
}

int SearchSpaceModel::conditionalCount() const {
    return static_cast<int>(std::count_if(m_rows.begin(), m_rows.end(),
                                          [](const Row& row) { return !row.parameter.when.empty(); }));
}

qint64 SearchSpaceModel::gridSize() const {
    return m_gridSize;
}

QString SearchSpaceModel::conditionText(const std::vector<ParamCondition>& conditions) {
    QStringList parts;
    for (const ParamCondition& condition : conditions)
        parts << QString::fromStdString(condition.parameter) + QStringLiteral(" = ") +
                     valuesText(condition.values);
    return parts.join(QStringLiteral("; "));
}

QString SearchSpaceModel::valuesText(const std::vector<ParamValue>& values) {
    QStringList parts;
    for (const ParamValue& value : values)
        parts << displayValue(value);
    return parts.join(QStringLiteral(", "));
}

std::vector<ParamValue> SearchSpaceModel::parseValues(const QString& text) {
    std::vector<ParamValue> values;
    for (const QString& part : splitTopLevel(text, QLatin1Char(','))) {
        QJsonParseError error;
        const QJsonDocument document =
            QJsonDocument::fromJson(QStringLiteral("[%1]").arg(part).toUtf8(), &error);
        if (error.error == QJsonParseError::NoError && document.array().size() == 1)
            values.push_back(ParamValue{part.toStdString()});
        else
            values.push_back(ParamValue{jsonText(QJsonValue(part)).toStdString()});
    }
    return values;
}

} // namespace tunelab
