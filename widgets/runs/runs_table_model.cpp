#include "runs/runs_table_model.h"

#include "common/durations.h"
#include "spec/spec.h"

#include <QApplication>
#include <QBrush>
#include <QIcon>
#include <QStyle>

#include <algorithm>
#include <cmath>
#include <limits>

namespace tunelab {

namespace {

// What the table needs from a spec, read once per row.
struct SpecInfo {
    QString dataSet;
    QString optimizer;
    double lr = kNoValue;
    QString batch;
    double batchValue = kNoValue;
    int epochsPlanned = 0;
    int64_t stepsPerEpoch = 0;  // estimate for generated data, 0 when unknown
    bool bestIsValLoss = false; // the trainer's best epoch is the one with the lowest val loss
};

// What a run trained on, short: the file's name for a CSV, the kind otherwise.
QString dataSetLabel(const DataSpec& data) {
    switch (data.kind) {
    case DataKind::Csv: {
        const std::string& path = data.path;
        return QString::fromStdString(path.substr(path.find_last_of('/') + 1));
    }
    case DataKind::Mnist:
        return QStringLiteral("MNIST");
    case DataKind::Cifar10:
        return QStringLiteral("CIFAR-10");
    case DataKind::ImageFolder: {
        const std::string& path = data.path;
        return QString::fromStdString(path.substr(path.find_last_of('/') + 1)) + QStringLiteral("/");
    }
    default:
        return QString::fromLatin1(toString(data.kind));
    }
}

SpecInfo readSpec(const std::string& json) {
    SpecInfo info;
    if (json.empty())
        return info;
    auto parsed = parseExperimentSpec(json);
    if (!parsed.ok())
        return info;
    const ExperimentSpec& spec = parsed.value();
    info.dataSet = dataSetLabel(spec.data);
    info.optimizer = QString::fromLatin1(toString(spec.optimizer.type));
    info.lr = spec.optimizer.lr;
    if (spec.training.fullBatch) {
        info.batch = QStringLiteral("full");
        info.batchValue = std::numeric_limits<double>::infinity();
    } else {
        info.batch = QString::number(spec.training.batchSize);
        info.batchValue = static_cast<double>(spec.training.batchSize);
    }
    info.epochsPlanned = spec.training.epochs;
    const DataKind kind = spec.data.kind;
    if (isGeneratedData(kind) && spec.data.samples > 0) {
        const auto validation =
            static_cast<int64_t>(std::llround(spec.data.samples * spec.data.validationFraction));
        const int64_t train = std::max<int64_t>(1, spec.data.samples - validation);
        const int64_t batch = spec.training.fullBatch ? train : std::max<int64_t>(1, spec.training.batchSize);
        info.stepsPerEpoch = (train + batch - 1) / batch;
    }
    const auto& early = spec.training.earlyStopping;
    info.bestIsValLoss = !early.enabled || early.metric == MetricKind::ValLoss;
    return info;
}

void applySpec(RunRow& row, const SpecInfo& info) {
    row.dataSet = info.dataSet;
    row.optimizer = info.optimizer;
    row.lr = info.lr;
    row.batch = info.batch;
    row.batchValue = info.batchValue;
    row.epochsPlanned = info.epochsPlanned;
    row.stepsPlanned = info.stepsPerEpoch * info.epochsPlanned;
}

bool isFiniteValue(double value) {
    return std::isfinite(value);
}

double progressOf(const RunRow& row) {
    double fraction = 0.0;
    if (row.stepsPlanned > 0)
        fraction = static_cast<double>(row.stepsDone) / static_cast<double>(row.stepsPlanned);
    else if (row.epochsPlanned > 0)
        fraction = static_cast<double>(row.epochsDone) / row.epochsPlanned;
    return std::clamp(fraction, 0.0, 1.0);
}

QVariant number(double value) {
    return QVariant(value);
}

} // namespace

RunsTableModel::RunsTableModel(QObject* parent)
    : QAbstractTableModel(parent) {}

QString RunsTableModel::formatLearningRate(double lr) {
    if (std::isnan(lr))
        return QString();
    return QString::asprintf("%.3g", lr);
}

QString RunsTableModel::formatLoss(double loss) {
    if (std::isnan(loss))
        return QString();
    if (std::isinf(loss))
        return loss > 0 ? QStringLiteral("inf") : QStringLiteral("-inf");
    return QString::asprintf("%.4f", loss);
}

QString RunsTableModel::formatAccuracy(double accuracy) {
    if (!isFiniteValue(accuracy))
        return QString();
    return QString::asprintf("%.1f%%", accuracy * 100.0);
}

QString RunsTableModel::formatDuration(double seconds) {
    return tunelab::formatDuration(seconds);
}

double RunsTableModel::bestValLoss(const std::vector<EpochRecord>& epochs) {
    double best = kNoValue;
    for (const auto& epoch : epochs) {
        if (isFiniteValue(epoch.valLoss) && (std::isnan(best) || epoch.valLoss < best))
            best = epoch.valLoss;
    }
    return best;
}

RunRow RunsTableModel::rowFromRecord(const RunRecord& record) const {
    RunRow row;
    row.id = record.id;
    row.name = QString::fromStdString(record.name);
    row.status = record.status;
    row.specJson = QString::fromStdString(record.specJson);
    const SpecInfo info = readSpec(record.specJson);
    applySpec(row, info);
    const RunSummary& summary = record.summary;
    row.epochsDone = summary.epochs;
    row.stepsDone = summary.steps;
    if (summary.epochs > 0 && summary.steps > 0 && row.epochsPlanned > 0)
        row.stepsPlanned = summary.steps / summary.epochs * row.epochsPlanned;
    row.finalValLoss = summary.valLoss;
    row.valAccuracy = summary.valAccuracy;
    row.valMae = summary.valMae;
    // Only the best epoch's number is stored; when it is the last epoch and the trainer ranked
    // epochs by validation loss, the final loss is the best one.
    if (info.bestIsValLoss && summary.bestEpoch > 0 && summary.bestEpoch == summary.epochs &&
        isFiniteValue(summary.valLoss))
        row.bestValLoss = summary.valLoss;
    if (isFiniteValue(summary.trainSeconds) && summary.trainSeconds > 0.0)
        row.durationSeconds = summary.trainSeconds;
    else if (record.startedAt > 0.0 && record.finishedAt >= record.startedAt)
        row.durationSeconds = record.finishedAt - record.startedAt;
    row.device = QString::fromStdString(record.device);
    row.message = QString::fromStdString(record.error.empty() ? summary.message : record.error);
    row.hasModel = record.hasModel;
    for (const std::string& tag : record.tags)
        row.tags << QString::fromStdString(tag);
    row.note = QString::fromStdString(record.note);
    row.parentRun = record.parentRun;
    row.parentEpoch = record.parentEpoch;
    row.hasCheckpoint = record.hasCheckpoint;
    return row;
}

void RunsTableModel::setRuns(std::vector<RunRecord> runs) {
    beginResetModel();
    m_rows.clear();
    m_rows.reserve(runs.size());
    for (const auto& record : runs)
        m_rows.push_back(rowFromRecord(record));
    rebuildIndex();
    endResetModel();
}

void RunsTableModel::upsertRun(const RunRecord& record) {
    RunRow row = rowFromRecord(record);
    const int existing = rowForRun(record.id);
    if (existing < 0) {
        const int at = static_cast<int>(m_rows.size());
        beginInsertRows(QModelIndex(), at, at);
        m_rows.push_back(std::move(row));
        m_rowOf.insert(record.id, at);
        endInsertRows();
        return;
    }
    RunRow& current = m_rows[static_cast<size_t>(existing)];
    if (current.bestFromEpochs && (std::isnan(row.bestValLoss) || current.bestValLoss <= row.bestValLoss)) {
        row.bestValLoss = current.bestValLoss;
        row.bestFromEpochs = true;
    }
    row.healthSummary = current.healthSummary;
    current = std::move(row);
    emitRowChanged(existing);
}

void RunsTableModel::runQueued(RunId id, const std::string& name, const std::string& specJson,
                               const RunOrigin& origin) {
    RunRecord record;
    record.id = id;
    record.name = name;
    record.specJson = specJson;
    record.status = RunStatus::Queued;
    record.parentRun = origin.parentRun;
    record.parentEpoch = origin.parentEpoch;
    upsertRun(record);
}

QString RunsTableModel::originText(const RunRow& row) {
    return row.parentRun > 0 ? tr("forked from #%1 after epoch %2").arg(row.parentRun).arg(row.parentEpoch)
                             : QString();
}

void RunsTableModel::applyEvent(const RunEvent& event) {
    const int row = applyToRow(event);
    emitRowChanged(row);
}

void RunsTableModel::applyEvents(const std::vector<RunEvent>& events) {
    if (events.empty())
        return;
    // A drained batch holds many step events per run: change the rows first, then tell the
    // views once per row, about the cells that changed. Steps move only the progress in the
    // status cell; an epoch also the metrics; a start or an end the whole row. (Every repainted
    // cell lays out its text again, and running rows change with every batch.)
    enum Changed : char { None, Progress, Metrics, Everything };
    std::vector<char> changed(m_rows.size(), None);
    std::vector<int> order;
    for (const auto& event : events) {
        const int row = applyToRow(event);
        if (static_cast<size_t>(row) >= changed.size())
            changed.resize(m_rows.size(), None);
        char& what = changed[static_cast<size_t>(row)];
        if (what == None)
            order.push_back(row);
        const char now = event.kind == RunEventKind::Steps   ? Progress
                         : event.kind == RunEventKind::Epoch ? Metrics
                                                             : Everything;
        what = std::max(what, now);
    }
    for (int row : order) {
        switch (changed[static_cast<size_t>(row)]) {
        case Progress:
            Q_EMIT dataChanged(index(row, StatusColumn), index(row, StatusColumn));
            break;
        case Metrics:
            Q_EMIT dataChanged(index(row, StatusColumn), index(row, StatusColumn));
            Q_EMIT dataChanged(index(row, EpochsColumn), index(row, DurationColumn));
            break;
        default:
            emitRowChanged(row);
        }
    }
}

int RunsTableModel::applyToRow(const RunEvent& event) {
    int index = rowForRun(event.runId);
    if (index < 0) {
        // Events for a run nobody announced (it was started elsewhere): show it anyway.
        index = static_cast<int>(m_rows.size());
        RunRow placeholder;
        placeholder.id = event.runId;
        placeholder.name = tr("run %1").arg(event.runId);
        beginInsertRows(QModelIndex(), index, index);
        m_rows.push_back(std::move(placeholder));
        m_rowOf.insert(event.runId, index);
        endInsertRows();
    }
    RunRow& row = m_rows[static_cast<size_t>(index)];
    switch (event.kind) {
    case RunEventKind::Started:
        row.status = RunStatus::Running;
        if (!event.device.empty())
            row.device = QString::fromStdString(event.device);
        row.message.clear();
        break;
    case RunEventKind::Steps:
        if (row.status == RunStatus::Queued)
            row.status = RunStatus::Running;
        if (!event.steps.empty())
            row.stepsDone = std::max(row.stepsDone, event.steps.back().step);
        break;
    case RunEventKind::Epoch: {
        if (row.status == RunStatus::Queued)
            row.status = RunStatus::Running;
        const EpochRecord& epoch = event.epoch;
        row.epochsDone = std::max(row.epochsDone, static_cast<int>(epoch.epoch));
        row.stepsDone = std::max(row.stepsDone, epoch.step);
        if (epoch.epoch > 0 && epoch.step > 0 && row.epochsPlanned > 0)
            row.stepsPlanned = epoch.step / epoch.epoch * row.epochsPlanned;
        row.finalValLoss = epoch.valLoss;
        if (isFiniteValue(epoch.valLoss) &&
            (std::isnan(row.bestValLoss) || epoch.valLoss < row.bestValLoss)) {
            row.bestValLoss = epoch.valLoss;
            row.bestFromEpochs = true;
        }
        row.valAccuracy = epoch.valAccuracy;
        row.valMae = epoch.valMae;
        row.durationSeconds = (std::isnan(row.durationSeconds) ? 0.0 : row.durationSeconds) + epoch.seconds;
        row.hasCheckpoint = row.hasCheckpoint || event.checkpoint != nullptr;
        break;
    }
    case RunEventKind::Finished: {
        const RunSummary& summary = event.summary;
        row.status = summary.status;
        row.message = QString::fromStdString(summary.message);
        row.epochsDone = summary.epochs;
        row.stepsDone = summary.steps;
        row.finalValLoss = summary.valLoss;
        row.valAccuracy = summary.valAccuracy;
        row.valMae = summary.valMae;
        if (std::isnan(row.bestValLoss) && summary.bestEpoch > 0 && summary.bestEpoch == summary.epochs &&
            isFiniteValue(summary.valLoss))
            row.bestValLoss = summary.valLoss;
        if (isFiniteValue(summary.trainSeconds) && summary.trainSeconds > 0.0)
            row.durationSeconds = summary.trainSeconds;
        if (!summary.device.empty())
            row.device = QString::fromStdString(summary.device);
        if (event.model && !event.model->empty())
            row.hasModel = true;
        row.hasCheckpoint = row.hasCheckpoint || event.checkpoint != nullptr;
        break;
    }
    }
    return index;
}

void RunsTableModel::setBestValLoss(RunId id, double value) {
    const int row = rowForRun(id);
    if (row < 0)
        return;
    RunRow& run = m_rows[static_cast<size_t>(row)];
    run.bestValLoss = value;
    run.bestFromEpochs = !std::isnan(value);
    const QModelIndex cell = index(row, BestValLossColumn);
    Q_EMIT dataChanged(cell, cell);
}

void RunsTableModel::setHealthFlags(RunId id, const QString& summary) {
    const int row = rowForRun(id);
    if (row < 0)
        return;
    RunRow& run = m_rows[static_cast<size_t>(row)];
    if (run.healthSummary == summary)
        return;
    run.healthSummary = summary;
    const QModelIndex cell = index(row, StatusColumn);
    Q_EMIT dataChanged(cell, cell);
}

void RunsTableModel::setRunNotes(RunId id, const QStringList& tags, const QString& note) {
    const int row = rowForRun(id);
    if (row < 0)
        return;
    RunRow& run = m_rows[static_cast<size_t>(row)];
    run.tags = tags;
    run.note = note;
    emitRowChanged(row);
}

bool RunsTableModel::removeRun(RunId id) {
    const int row = rowForRun(id);
    if (row < 0)
        return false;
    beginRemoveRows(QModelIndex(), row, row);
    m_rows.erase(m_rows.begin() + row);
    rebuildIndex();
    endRemoveRows();
    return true;
}

int RunsTableModel::rowForRun(RunId id) const {
    return m_rowOf.value(id, -1);
}

const RunRow& RunsTableModel::runAt(int row) const {
    Q_ASSERT(row >= 0 && row < runCount());
    return m_rows[static_cast<size_t>(row)];
}

void RunsTableModel::emitRowChanged(int row) {
    Q_EMIT dataChanged(index(row, 0), index(row, ColumnCount - 1));
}

void RunsTableModel::rebuildIndex() {
    m_rowOf.clear();
    m_rowOf.reserve(static_cast<qsizetype>(m_rows.size()));
    for (size_t i = 0; i < m_rows.size(); ++i)
        m_rowOf.insert(m_rows[i].id, static_cast<int>(i));
}

int RunsTableModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

int RunsTableModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant RunsTableModel::displayValue(const RunRow& row, int column) const {
    switch (column) {
    case NameColumn:
        return row.name;
    case StatusColumn:
        return QString::fromLatin1(toString(row.status));
    case DataSetColumn:
        return row.dataSet;
    case OptimizerColumn:
        return row.optimizer;
    case LearningRateColumn:
        return formatLearningRate(row.lr);
    case BatchSizeColumn:
        return row.batch;
    case EpochsColumn:
        if (row.epochsPlanned > 0)
            return QStringLiteral("%1/%2").arg(row.epochsDone).arg(row.epochsPlanned);
        return QString::number(row.epochsDone);
    case BestValLossColumn:
        return formatLoss(row.bestValLoss);
    case FinalValLossColumn:
        return formatLoss(row.finalValLoss);
    case AccuracyColumn:
        // Regression runs have no accuracy; their mean absolute error stands in.
        if (std::isnan(row.valAccuracy) && isFiniteValue(row.valMae))
            return QStringLiteral("MAE %1").arg(QString::asprintf("%.4g", row.valMae));
        return formatAccuracy(row.valAccuracy);
    case DurationColumn:
        return formatDuration(row.durationSeconds);
    case DeviceColumn:
        return row.device;
    case TagsColumn:
        return row.tags.join(QStringLiteral(", "));
    case NoteColumn:
        return row.note.section(QLatin1Char('\n'), 0, 0); // the first line; the tooltip has it all
    }
    return {};
}

QVariant RunsTableModel::rawValue(const RunRow& row, int column) const {
    switch (column) {
    case NameColumn:
        return row.name;
    case StatusColumn:
        return static_cast<int>(row.status);
    case DataSetColumn:
        return row.dataSet;
    case OptimizerColumn:
        return row.optimizer;
    case LearningRateColumn:
        return number(row.lr);
    case BatchSizeColumn:
        return number(row.batchValue);
    case EpochsColumn:
        return row.epochsDone;
    case BestValLossColumn:
        return number(row.bestValLoss);
    case FinalValLossColumn:
        return number(row.finalValLoss);
    case AccuracyColumn:
        return number(row.valAccuracy);
    case DurationColumn:
        return number(row.durationSeconds);
    case DeviceColumn:
        return row.device;
    case TagsColumn:
        return row.tags.join(QStringLiteral(", "));
    case NoteColumn:
        return row.note;
    }
    return {};
}

namespace {

// The style's warning icon; none without a QApplication (a model used from a console tool).
QIcon warningIcon() {
    auto* application = qobject_cast<QApplication*>(QCoreApplication::instance());
    return application ? application->style()->standardIcon(QStyle::SP_MessageBoxWarning) : QIcon();
}

} // namespace

QVariant RunsTableModel::data(const QModelIndex& index, int role) const {
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const RunRow& row = m_rows[static_cast<size_t>(index.row())];
    switch (role) {
    case Qt::DisplayRole:
        return displayValue(row, index.column());
    case RawValueRole:
        return rawValue(row, index.column());
    case Qt::ToolTipRole:
        if (index.column() == StatusColumn && !row.healthSummary.isEmpty())
            return row.message.isEmpty() ? row.healthSummary
                                         : row.message + QLatin1Char('\n') + row.healthSummary;
        if (index.column() == NoteColumn && !row.note.isEmpty())
            return row.note;
        if (index.column() == NameColumn && row.parentRun > 0)
            return row.message.isEmpty() ? originText(row)
                                         : originText(row) + QLatin1Char('\n') + row.message;
        if (!row.message.isEmpty())
            return row.message;
        return {};
    case Qt::DecorationRole:
        if (index.column() == StatusColumn && !row.healthSummary.isEmpty())
            return warningIcon();
        return {};
    case HealthRole:
        return row.healthSummary;
    case Qt::ForegroundRole:
        if (row.status == RunStatus::Diverged || row.status == RunStatus::Failed)
            return QBrush(errorColor());
        return {};
    case Qt::TextAlignmentRole:
        if (index.column() != NameColumn && index.column() != StatusColumn &&
            index.column() != DataSetColumn && index.column() != OptimizerColumn &&
            index.column() != DeviceColumn && index.column() != TagsColumn && index.column() != NoteColumn)
            return QVariant::fromValue(Qt::AlignRight | Qt::AlignVCenter);
        return {};
    case ProgressRole:
        if (row.status == RunStatus::Running)
            return progressOf(row);
        return {};
    case RunIdRole:
        return QVariant::fromValue<qint64>(row.id);
    case StatusRole:
        return static_cast<int>(row.status);
    case HasModelRole:
        return row.hasModel;
    }
    return {};
}

QVariant RunsTableModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
    case NameColumn:
        return tr("Name");
    case StatusColumn:
        return tr("Status");
    case OptimizerColumn:
        return tr("Optimizer");
    case LearningRateColumn:
        return tr("LR");
    case BatchSizeColumn:
        return tr("Batch");
    case EpochsColumn:
        return tr("Epochs");
    case BestValLossColumn:
        return tr("Best val loss");
    case FinalValLossColumn:
        return tr("Final val loss");
    case AccuracyColumn:
        return tr("Val accuracy");
    case DurationColumn:
        return tr("Duration");
    case DeviceColumn:
        return tr("Device");
    case DataSetColumn:
        return tr("Data set");
    case TagsColumn:
        return tr("Tags");
    case NoteColumn:
        return tr("Note");
    }
    return {};
}

} // namespace tunelab
