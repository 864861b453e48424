#include "study/study_trials_model.h"

#include "common/durations.h"
#include "study/pareto_results.h"

#include <QBrush>
#include <QFont>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLocale>

#include <algorithm>
#include <cmath>
#include <utility>

namespace tunelab {

namespace {

bool isFiniteNumber(double value) {
    return std::isfinite(value);
}

double durationOf(const TrialRecord& trial) {
    if (trial.startedAt > 0.0 && trial.finishedAt >= trial.startedAt)
        return trial.finishedAt - trial.startedAt;
    return kNoValue;
}

} // namespace

StudyTrialsModel::StudyTrialsModel(QObject* parent)
    : QAbstractTableModel(parent) {}

QString StudyTrialsModel::formatNumber(double value, bool logScale) {
    if (!isFiniteNumber(value))
        return QString();
    if (value == 0.0)
        return QStringLiteral("0");
    if (logScale) {
        int exponent = static_cast<int>(std::floor(std::log10(std::fabs(value))));
        double mantissa = value / std::pow(10.0, exponent);
        if (std::fabs(std::round(mantissa * 10.0) / 10.0) >= 10.0) {
            mantissa /= 10.0;
            ++exponent;
        }
        if (exponent >= -2 && exponent <= 2)
            return QString::number(value, 'g', 3);
        QString digits = QString::number(mantissa, 'f', 1);
        if (digits.endsWith(QLatin1String(".0")))
            digits.chop(2);
        return QStringLiteral("%1e%2").arg(digits).arg(exponent);
    }
    if (value == std::round(value) && std::fabs(value) < 1e6)
        return QString::number(static_cast<qint64>(value));
    return QString::number(value, 'g', 3);
}

QString StudyTrialsModel::formatValue(double value) {
    if (!isFiniteNumber(value))
        return QString();
    return QString::number(value, 'g', 4);
}

QString StudyTrialsModel::formatDuration(double seconds) {
    return tunelab::formatDuration(seconds);
}

QString StudyTrialsModel::formatParameter(const ParamValue& value, bool logScale) {
    if (value.isNumber())
        return formatNumber(value.toDouble(), logScale);
    const std::string& json = value.json;
    if (json.size() >= 2 && json.front() == '"' && json.back() == '"')
        return QString::fromStdString(json.substr(1, json.size() - 2));
    return QString::fromStdString(json);
}

void StudyTrialsModel::setStudy(std::vector<std::string> parameters, std::vector<ObjectiveSpec> objectives,
                                std::set<std::string> logParameters) {
    beginResetModel();
    m_parameters = std::move(parameters);
    m_objectives = std::move(objectives);
    if (m_objectives.empty())
        m_objectives.emplace_back();
    m_logParameters = std::move(logParameters);
    m_bestNumber = findBest();
    updateParetoFront(false);
    endResetModel();
    Q_EMIT bestTrialChanged(m_bestNumber);
    Q_EMIT paretoFrontChanged();
}

void StudyTrialsModel::setStudy(std::vector<std::string> parameters, ObjectiveSpec objective,
                                std::set<std::string> logParameters) {
    setStudy(std::move(parameters), std::vector<ObjectiveSpec>{std::move(objective)},
             std::move(logParameters));
}

double StudyTrialsModel::objectiveValue(const TrialRecord& trial, int index) {
    if (index == 0)
        return trial.value;
    const auto more = static_cast<size_t>(index - 1);
    return index > 0 && more < trial.moreValues.size() ? trial.moreValues[more] : kNoValue;
}

int StudyTrialsModel::objectiveOfColumn(int column) const {
    const int index = column - ValueColumn;
    return index >= 0 && index < objectiveCount() ? index : -1;
}

bool StudyTrialsModel::isFilterTextColumn(int column) const {
    return objectiveOfColumn(column) < 0 && column != paretoColumn() && column != durationColumn();
}

// The front is the engine's paretoTrials(): recomputed whole (a scan of the complete trials), which
// only a trial that completes or leaves the front asks for.
void StudyTrialsModel::updateParetoFront(bool notify) {
    QSet<qint64> front;
    if (isMultiObjective()) {
        for (const TrialRecord& trial : paretoTrials(m_objectives, m_trials))
            front.insert(trial.number);
    }
    if (front == m_front)
        return;
    const QSet<qint64> previous = std::exchange(m_front, std::move(front));
    if (!notify)
        return;
    // The rows that joined or left the front: their star and bold font change.
    auto rowsOnlyIn = [this](const QSet<qint64>& set, const QSet<qint64>& other) {
        for (const qint64 number : set) {
            const int row = rowOfTrial(number);
            if (!other.contains(number) && row >= 0)
                emitRowChanged(row);
        }
    };
    rowsOnlyIn(previous, m_front);
    rowsOnlyIn(m_front, previous);
    Q_EMIT paretoFrontChanged();
}

void StudyTrialsModel::setTrials(std::vector<TrialRecord> trials) {
    beginResetModel();
    m_trials = std::move(trials);
    m_rowOf.clear();
    m_rowOf.reserve(static_cast<int>(m_trials.size()));
    for (size_t row = 0; row < m_trials.size(); ++row)
        m_rowOf.insert(m_trials[row].number, static_cast<int>(row));
    m_bestNumber = findBest();
    updateParetoFront(false);
    const bool population = std::any_of(m_trials.begin(), m_trials.end(),
                                        [](const TrialRecord& trial) { return trial.member >= 0; });
    const bool populationFlipped = population != m_population;
    m_population = population;
    endResetModel();
    Q_EMIT bestTrialChanged(m_bestNumber);
    Q_EMIT paretoFrontChanged();
    if (populationFlipped)
        Q_EMIT populationChanged(m_population);
}

void StudyTrialsModel::clear() {
    setTrials({});
}

void StudyTrialsModel::upsertTrial(const TrialRecord& trial) {
    const int row = rowOfTrial(trial.number);
    // Only a complete trial can join the front, and only a trial on it can leave it.
    const bool frontMayChange =
        isMultiObjective() && (trial.state == TrialState::Complete || m_front.contains(trial.number));
    // The first trial of a population brings the Member and From columns, live; a trial leaving
    // the population (never in practice) takes them away when it was the last one.
    const bool wasMember = row >= 0 && m_trials[static_cast<size_t>(row)].member >= 0;
    const bool hadPopulation = m_population;
    if (!m_population && trial.member >= 0) {
        beginInsertColumns(QModelIndex(), durationColumn() + 1, durationColumn() + 2);
        m_population = true;
        endInsertColumns();
    }
    if (row < 0) {
        const int newRow = static_cast<int>(m_trials.size());
        beginInsertRows(QModelIndex(), newRow, newRow);
        m_trials.push_back(trial);
        m_rowOf.insert(trial.number, newRow);
        endInsertRows();
    } else {
        TrialRecord& existing = m_trials[static_cast<size_t>(row)];
        std::map<int, double> intermediate;
        if (trial.intermediate.empty())
            intermediate.swap(existing.intermediate);
        existing = trial;
        if (!intermediate.empty())
            existing.intermediate.swap(intermediate);
        emitRowChanged(row);
    }
    if (wasMember && trial.member < 0 &&
        std::none_of(m_trials.begin(), m_trials.end(), [](const TrialRecord& t) { return t.member >= 0; })) {
        beginRemoveColumns(QModelIndex(), memberColumn(), parentColumn());
        m_population = false;
        endRemoveColumns();
    }
    updateBest(trial.number);
    if (frontMayChange)
        updateParetoFront(true);
    if (m_population != hadPopulation)
        Q_EMIT populationChanged(m_population);
}

bool StudyTrialsModel::addIntermediate(int64_t trialNumber, int epoch, double value) {
    const int row = rowOfTrial(trialNumber);
    if (row < 0)
        return false;
    m_trials[static_cast<size_t>(row)].intermediate[epoch] = value;
    const QModelIndex cell = index(row, epochColumn());
    Q_EMIT dataChanged(cell, cell);
    return true;
}

void StudyTrialsModel::emitRowChanged(int row) {
    Q_EMIT dataChanged(index(row, 0), index(row, columnCount() - 1));
}

int64_t StudyTrialsModel::findBest() const {
    int64_t bestNumber = -1;
    double bestValue = kNoValue;
    for (const TrialRecord& trial : m_trials) {
        if (trial.state != TrialState::Complete || !isFiniteNumber(trial.value))
            continue;
        if (bestNumber < 0 || isBetter(objective(), trial.value, bestValue) ||
            (trial.value == bestValue && trial.number < bestNumber)) {
            bestNumber = trial.number;
            bestValue = trial.value;
        }
    }
    return bestNumber;
}

// A trial that got better than the best becomes the best without a scan; a change to the best
// trial itself (a re-run, a state change) needs one.
void StudyTrialsModel::updateBest(int64_t changedNumber) {
    int64_t next = m_bestNumber;
    const TrialRecord& changed = m_trials[static_cast<size_t>(rowOfTrial(changedNumber))];
    if (changedNumber == m_bestNumber) {
        next = findBest();
    } else if (changed.state == TrialState::Complete && isFiniteNumber(changed.value)) {
        if (m_bestNumber < 0) {
            next = changedNumber;
        } else {
            const double bestValue = m_trials[static_cast<size_t>(rowOfTrial(m_bestNumber))].value;
            if (isBetter(objective(), changed.value, bestValue))
                next = changedNumber;
        }
    }
    if (next == m_bestNumber)
        return;
    const int oldRow = rowOfTrial(m_bestNumber);
    m_bestNumber = next;
    if (oldRow >= 0)
        emitRowChanged(oldRow);
    if (next >= 0)
        emitRowChanged(rowOfTrial(next));
    Q_EMIT bestTrialChanged(next);
}

int StudyTrialsModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(m_trials.size());
}

int StudyTrialsModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : firstParameterColumn() + static_cast<int>(m_parameters.size());
}

int StudyTrialsModel::lastEpoch(const TrialRecord& trial) const {
    if (trial.state == TrialState::Pruned && trial.prunedEpoch > 0)
        return trial.prunedEpoch;
    if (!trial.intermediate.empty())
        return trial.intermediate.rbegin()->first;
    return trial.state == TrialState::Pruned ? trial.prunedEpoch : -1;
}

bool StudyTrialsModel::isExploit(const TrialRecord& trial) const {
    if (trial.parentNumber < 0)
        return false;
    const int parentRow = rowOfTrial(trial.parentNumber);
    return parentRow >= 0 && m_trials[static_cast<size_t>(parentRow)].member != trial.member;
}

QString StudyTrialsModel::parentText(const TrialRecord& trial) const {
    if (trial.parentNumber < 0)
        return QString();
    return isExploit(trial) ? tr("%1 (exploit)").arg(trial.parentNumber)
                            : QString::number(trial.parentNumber);
}

QString StudyTrialsModel::parentToolTip(const TrialRecord& trial) const {
    if (trial.parentNumber < 0)
        return trial.member >= 0 ? tr("Starts from scratch") : QString();
    if (!isExploit(trial))
        return tr("Continues the training of trial %1 after epoch %2")
            .arg(trial.parentNumber)
            .arg(trial.startEpoch);
    const TrialRecord& parent = m_trials[static_cast<size_t>(rowOfTrial(trial.parentNumber))];
    return tr("Exploit: copied the weights of trial %1 (member %2) after epoch %3, then perturbed its "
              "hyperparameters")
        .arg(trial.parentNumber)
        .arg(parent.member)
        .arg(trial.startEpoch);
}

QVariant StudyTrialsModel::displayValue(const TrialRecord& trial, int column) const {
    if (column == NumberColumn)
        return QString::number(trial.number);
    if (column == StateColumn)
        return QString::fromLatin1(toString(trial.state));
    if (const int objectiveIndex = objectiveOfColumn(column); objectiveIndex >= 0)
        return formatValue(objectiveValue(trial, objectiveIndex));
    if (column == paretoColumn())
        return m_front.contains(trial.number) ? QStringLiteral("★") : QString();
    if (column == epochColumn()) {
        const int epoch = lastEpoch(trial);
        return epoch >= 0 ? QString::number(epoch) : QString();
    }
    if (column == durationColumn())
        return formatDuration(durationOf(trial));
    if (column == memberColumn())
        return trial.member >= 0 ? QString::number(trial.member) : QString();
    if (column == parentColumn())
        return parentText(trial);
    const std::string& path = m_parameters[static_cast<size_t>(column - firstParameterColumn())];
    const auto found = trial.params.find(path);
    if (found == trial.params.end())
        return QString();
    return formatParameter(found->second, isLogParameter(path));
}

namespace {

QString csvField(const QString& text) {
    if (!text.contains(QLatin1Char(',')) && !text.contains(QLatin1Char('"')) &&
        !text.contains(QLatin1Char('\n')) && !text.contains(QLatin1Char('\r')))
        return text;
    QString quoted = text;
    quoted.replace(QLatin1String("\""), QLatin1String("\"\""));
    return QLatin1Char('"') + quoted + QLatin1Char('"');
}

QString csvNumber(double value) {
    return std::isfinite(value) ? QString::number(value, 'g', QLocale::FloatingPointShortest) : QString();
}

// A parameter's JSON as a CSV cell: a string without its quotes, anything else as written.
QString csvParameter(const ParamValue& value) {
    const QString json = QString::fromStdString(value.json);
    if (!json.startsWith(QLatin1Char('"')))
        return json;
    const QJsonDocument wrapped = QJsonDocument::fromJson(("[" + json + "]").toUtf8());
    return wrapped.isArray() ? wrapped.array().at(0).toString() : json;
}

} // namespace

QString StudyTrialsModel::toCsv(const std::vector<int>& rows) const {
    QStringList header{QStringLiteral("number"), QStringLiteral("state")};
    for (const ObjectiveSpec& each : m_objectives) {
        const std::string label = objectiveLabel(each);
        header << QString::fromStdString(label.empty() ? std::string("value") : label);
    }
    if (isMultiObjective())
        header << QStringLiteral("pareto_front");
    header << QStringLiteral("epoch") << QStringLiteral("duration_seconds");
    if (m_population)
        header << QStringLiteral("member") << QStringLiteral("parent_trial");
    for (const std::string& path : m_parameters)
        header << QString::fromStdString(path);
    header << QStringLiteral("message");
    QString csv;
    auto appendLine = [&csv](const QStringList& fields) {
        QStringList quoted;
        for (const QString& field : fields)
            quoted << csvField(field);
        csv += quoted.join(QLatin1Char(',')) + QLatin1Char('\n');
    };
    appendLine(header);
    for (int row : rows) {
        if (row < 0 || row >= static_cast<int>(m_trials.size()))
            continue;
        const TrialRecord& trial = m_trials[static_cast<size_t>(row)];
        const int epoch = lastEpoch(trial);
        QStringList fields{QString::number(trial.number), QString::fromLatin1(toString(trial.state))};
        for (int objectiveIndex = 0; objectiveIndex < objectiveCount(); ++objectiveIndex)
            fields << csvNumber(objectiveValue(trial, objectiveIndex));
        if (isMultiObjective())
            fields << QString::fromLatin1(m_front.contains(trial.number) ? "true" : "false");
        fields << (epoch >= 0 ? QString::number(epoch) : QString()) << csvNumber(durationOf(trial));
        if (m_population) {
            fields << (trial.member >= 0 ? QString::number(trial.member) : QString())
                   << (trial.parentNumber >= 0 ? QString::number(trial.parentNumber) : QString());
        }
        for (const std::string& path : m_parameters) {
            const auto found = trial.params.find(path);
            fields << (found == trial.params.end() ? QString() : csvParameter(found->second));
        }
        fields << QString::fromStdString(trial.message);
        appendLine(fields);
    }
    return csv;
}

QVariant StudyTrialsModel::sortValue(const TrialRecord& trial, int column) const {
    if (column == NumberColumn)
        return static_cast<double>(trial.number);
    if (column == StateColumn)
        return QString::fromLatin1(toString(trial.state));
    if (const int objectiveIndex = objectiveOfColumn(column); objectiveIndex >= 0)
        return objectiveValue(trial, objectiveIndex);
    // Front trials first in either order: the others are empty cells, which sort last.
    if (column == paretoColumn())
        return m_front.contains(trial.number) ? 0.0 : kNoValue;
    if (column == epochColumn()) {
        const int epoch = lastEpoch(trial);
        return epoch >= 0 ? static_cast<double>(epoch) : kNoValue;
    }
    if (column == durationColumn())
        return durationOf(trial);
    if (column == memberColumn())
        return trial.member >= 0 ? static_cast<double>(trial.member) : kNoValue;
    if (column == parentColumn())
        return trial.parentNumber >= 0 ? static_cast<double>(trial.parentNumber) : kNoValue;
    const auto found = trial.params.find(m_parameters[static_cast<size_t>(column - firstParameterColumn())]);
    if (found == trial.params.end())
        return kNoValue;
    if (found->second.isNumber())
        return found->second.toDouble();
    return formatParameter(found->second);
}

QVariant StudyTrialsModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const TrialRecord& trial = m_trials[static_cast<size_t>(index.row())];
    const int column = index.column();
    switch (role) {
    case Qt::DisplayRole:
        return displayValue(trial, column);
    case SortRole:
        return sortValue(trial, column);
    case TrialNumberRole:
        return static_cast<qint64>(trial.number);
    case StateRole:
        return static_cast<int>(trial.state);
    case Qt::TextAlignmentRole:
        if (column == StateColumn)
            return QVariant::fromValue(Qt::AlignLeft | Qt::AlignVCenter);
        if (column == paretoColumn())
            return QVariant::fromValue(Qt::AlignCenter);
        if (column >= firstParameterColumn() &&
            !trial.params.count(m_parameters[static_cast<size_t>(column - firstParameterColumn())]))
            return {};
        return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
    case Qt::ForegroundRole:
        switch (trial.state) {
        case TrialState::Pruned:
        case TrialState::Waiting:
            return QBrush(prunedColor());
        case TrialState::Failed:
            return QBrush(failedColor());
        case TrialState::Running:
            return QBrush(runningColor());
        case TrialState::Complete:
            return {};
        }
        return {};
    case Qt::FontRole:
        // One best trial, or every trial of the front: no single trial is best over several objectives.
        if (isMultiObjective() ? m_front.contains(trial.number) : trial.number == m_bestNumber) {
            QFont font;
            font.setBold(true);
            return font;
        }
        return {};
    case Qt::ToolTipRole:
        if (column == StateColumn && !trial.message.empty())
            return QString::fromStdString(trial.message);
        if (column == epochColumn() && trial.state == TrialState::Pruned)
            return tr("Pruned at epoch %1").arg(lastEpoch(trial));
        if (!isMultiObjective() && column == ValueColumn && trial.number == m_bestNumber)
            return tr("Best trial");
        if (isMultiObjective() && (objectiveOfColumn(column) >= 0 || column == paretoColumn()) &&
            m_front.contains(trial.number))
            return tr("On the Pareto front: no other complete trial is as good in every objective and "
                      "better in one");
        if (column == parentColumn())
            return parentToolTip(trial);
        if (column >= firstParameterColumn()) {
            const auto found =
                trial.params.find(m_parameters[static_cast<size_t>(column - firstParameterColumn())]);
            if (found == trial.params.end())
                return tr("Does not apply to this trial");
            return QString::fromStdString(found->second.json);
        }
        return {};
    default:
        return {};
    }
}

QVariant StudyTrialsModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || section < 0 || section >= columnCount())
        return QAbstractTableModel::headerData(section, orientation, role);
    const int objectiveIndex = objectiveOfColumn(section);
    if (role == Qt::DisplayRole) {
        if (section == NumberColumn)
            return tr("#");
        if (section == StateColumn)
            return tr("State");
        if (objectiveIndex >= 0)
            return QString::fromStdString(objectiveLabel(m_objectives[static_cast<size_t>(objectiveIndex)]));
        if (section == paretoColumn())
            return tr("Pareto");
        if (section == epochColumn())
            return tr("Epoch");
        if (section == durationColumn())
            return tr("Duration");
        if (section == memberColumn())
            return tr("Member");
        if (section == parentColumn())
            return tr("From");
        return QString::fromStdString(m_parameters[static_cast<size_t>(section - firstParameterColumn())]);
    }
    if (role == Qt::ToolTipRole && objectiveIndex >= 0) {
        const ObjectiveSpec& shown = m_objectives[static_cast<size_t>(objectiveIndex)];
        return tr("%1 at the %2 epoch, %3d")
            .arg(QString::fromStdString(shown.metric),
                 QString::fromLatin1(shown.at == ObjectiveAt::Best ? "best" : "last"),
                 QString::fromLatin1(toString(shown.direction)));
    }
    if (role == Qt::ToolTipRole && section == paretoColumn())
        return tr("★: on the Pareto front of the complete trials");
    if (role == Qt::ToolTipRole && section == memberColumn())
        return tr("The population member the trial trains for (population-based training)");
    if (role == Qt::ToolTipRole && section == parentColumn())
        return tr("The trial whose weights it continues from; \"(exploit)\": a trial of another member");
    return QAbstractTableModel::headerData(section, orientation, role);
}

} // namespace tunelab
