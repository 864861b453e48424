#include "runs/spec_diff_model.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

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

void SpecDiffModel::setRuns(const QList<RunSpec>& runs) {
    beginResetModel();
    m_runs = runs;
    m_values.clear();
    m_paths.clear();
    std::set<QString> allPaths;
    for (const RunSpec& run : m_runs) {
        m_values.append(flatten(run.specJson));
        for (const auto& entry : m_values.last())
            allPaths.insert(entry.first);
    }
    if (m_runs.size() >= 2) {
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
    return parent.isValid() ? 0 : static_cast<int>(m_paths.size());
}

int SpecDiffModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : 1 + static_cast<int>(m_runs.size());
}

QVariant SpecDiffModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.row() >= m_paths.size() || index.column() > m_runs.size())
        return {};
    if (role != Qt::DisplayRole && role != Qt::ToolTipRole)
        return {};
    const QString& path = m_paths[index.row()];
    if (index.column() == 0)
        return path;
    const auto& values = m_values[index.column() - 1];
    const auto it = values.find(path);
    return it == values.end() ? QStringLiteral("—") : it->second;
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
