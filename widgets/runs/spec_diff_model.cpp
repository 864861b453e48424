#include "runs/spec_diff_model.h"

#include <QFont>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>

#include <set>

namespace tunelab {

namespace {

void flattenInto(const QJsonValue& value, const QString& path, std::map<QString, QString>& out) {
    if (value.isObject()) {
        const QJsonObject object = value.toObject();
        for (auto it = object.begin(); it != object.end(); ++it)
            flattenInto(it.value(), path.isEmpty() ? it.key() : path + QLatin1Char('.') + it.key(), out);
    } else if (value.isArray()) {
        const QJsonArray array = value.toArray();
        // Short arrays of numbers (betas, input_shape) read best as one value.
        bool scalars = array.size() <= 4;
        for (const QJsonValue& item : array)
            scalars = scalars && (item.isDouble() || item.isString() || item.isBool());
        if (scalars) {
            out[path] = QString::fromUtf8(QJsonDocument(array).toJson(QJsonDocument::Compact));
            return;
        }
        for (qsizetype i = 0; i < array.size(); ++i)
            flattenInto(array.at(i), path + QStringLiteral("[%1]").arg(i), out);
    } else if (value.isDouble()) {
        out[path] = QString::number(value.toDouble(), 'g', 10);
    } else if (value.isBool()) {
        out[path] = value.toBool() ? QStringLiteral("true") : QStringLiteral("false");
    } else if (value.isString()) {
        out[path] = value.toString();
    } else {
        out[path] = QStringLiteral("null");
    }
}

} // namespace

SpecDiffModel::SpecDiffModel(QObject* parent)
    : QAbstractTableModel(parent) {}

std::map<QString, QString> SpecDiffModel::flatten(const QString& specJson) {
    std::map<QString, QString> out;
    const QJsonDocument document = QJsonDocument::fromJson(specJson.toUtf8());
    if (document.isObject())
        flattenInto(document.object(), QString(), out);
    return out;
}

QString SpecDiffModel::settingLabel(const QString& path) {
    static const QRegularExpression layer(QStringLiteral("^model\\.layers\\[(\\d+)\\]\\.(.+)$"));
    const QRegularExpressionMatch match = layer.match(path);
    if (!match.hasMatch())
        return path;
    return tr("layer %1 · %2").arg(match.captured(1).toInt() + 1).arg(match.captured(2));
}

void SpecDiffModel::setRuns(const QList<RunSpec>& runs) {
    beginResetModel();
    m_runs = runs;
    m_values.clear();
    m_paths.clear();
    m_metricNames.clear();
    std::set<QString> allPaths;
    for (const RunSpec& run : m_runs) {
        m_values.append(flatten(run.specJson));
        for (const auto& entry : m_values.last())
            allPaths.insert(entry.first);
    }
    if (m_runs.size() >= 2) {
        for (const RunSpec& run : m_runs)
            for (const auto& [name, value] : run.metrics)
                if (!m_metricNames.contains(name))
                    m_metricNames << name;
        for (const QString& path : allPaths) {
            const auto valueIn = [&path](const std::map<QString, QString>& values) {
                const auto it = values.find(path);
                return it == values.end() ? QString() : it->second;
            };
            const QString first = valueIn(m_values.first());
            for (qsizetype i = 1; i < m_values.size(); ++i) {
                if (valueIn(m_values[i]) != first) {
                    m_paths.append(path);
                    break;
                }
            }
        }
    }
    endResetModel();
}

int SpecDiffModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(m_metricNames.size() + m_paths.size());
}

int SpecDiffModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : 1 + static_cast<int>(m_runs.size());
}

QString SpecDiffModel::settingValue(int run, const QString& path) const {
    const auto& values = m_values[run];
    const auto it = values.find(path);
    if (it == values.end())
        return QStringLiteral("—");
    static const QRegularExpression layerField(QStringLiteral("^(model\\.layers\\[\\d+\\])\\.(.+)$"));
    const QRegularExpressionMatch match = layerField.match(path);
    if (!match.hasMatch() || match.captured(2) == QLatin1String("type"))
        return it->second;
    const auto type = values.find(match.captured(1) + QStringLiteral(".type"));
    return type == values.end() ? it->second : QStringLiteral("%1 (%2)").arg(it->second, type->second);
}

QVariant SpecDiffModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= rowCount() || index.column() > m_runs.size())
        return {};
    const int metrics = static_cast<int>(m_metricNames.size());
    const bool metricRow = index.row() < metrics;
    if (role == IsMetricRole)
        return metricRow;
    if (role == Qt::FontRole && metricRow) {
        QFont bold;
        bold.setBold(true);
        return bold;
    }
    if (role != Qt::DisplayRole && role != Qt::ToolTipRole)
        return {};
    if (metricRow) {
        const QString& name = m_metricNames[index.row()];
        if (index.column() == 0)
            return name;
        for (const auto& [metric, value] : m_runs[index.column() - 1].metrics)
            if (metric == name)
                return value;
        return QStringLiteral("—");
    }
    const QString& path = m_paths[index.row() - metrics];
    if (index.column() == 0)
        return role == Qt::ToolTipRole ? path : settingLabel(path);
    return settingValue(index.column() - 1, path);
}

QVariant SpecDiffModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    if (section == 0)
        return tr("Setting");
    if (section - 1 < m_runs.size())
        return m_runs[section - 1].label;
    return {};
}

} // namespace tunelab
