// The race's results table: one row per set-up, filled live, the best one highlighted.

#include "race/race_view.h"

#include "common/durations.h"
#include "race/race_scoreboard.h"

#include <QColor>
#include <QFont>

#include <cmath>

namespace tunelab {

// ---- RaceResultsModel --------------------------------------------------------------------------

QString RaceResultsModel::formatNumber(double value, int precision) {
    return std::isfinite(value) ? QString::number(value, 'g', precision) : QStringLiteral("–");
}

RaceResultsModel::RaceResultsModel(QObject* parent)
    : QAbstractTableModel(parent) {}

int RaceResultsModel::rowCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : static_cast<int>(m_results.size());
}

int RaceResultsModel::columnCount(const QModelIndex& parent) const {
    return parent.isValid() ? 0 : ColumnCount;
}

namespace {

bool isUnstable(const RaceEntryResult& result) {
    return result.diverged || result.status == RunStatus::Diverged || result.status == RunStatus::Failed;
}

QString stabilityText(const RaceEntryResult& result) {
    if (result.diverged || result.status == RunStatus::Diverged)
        return RaceResultsModel::tr("diverged");
    switch (result.status) {
    case RunStatus::Failed:
        return RaceResultsModel::tr("failed");
    case RunStatus::Stopped:
    case RunStatus::Interrupted:
        return RaceResultsModel::tr("stopped");
    case RunStatus::Pruned:
        return RaceResultsModel::tr("pruned");
    case RunStatus::Queued:
        return RaceResultsModel::tr("waiting");
    case RunStatus::Running:
        return RaceResultsModel::tr("running");
    case RunStatus::Completed:
    case RunStatus::Diverged:
        break;
    }
    return RaceResultsModel::tr("stable");
}

} // namespace

void RaceResultsModel::setHasTarget(bool hasTarget) {
    if (m_hasTarget == hasTarget)
        return;
    m_hasTarget = hasTarget;
    if (rowCount() > 0)
        Q_EMIT dataChanged(index(0, StepsToTargetColumn), index(rowCount() - 1, SecondsToTargetColumn));
}

QVariant RaceResultsModel::data(const QModelIndex& index, int role) const {
    if (!index.isValid() || index.model() != this || index.row() >= rowCount() ||
        index.column() >= ColumnCount)
        return {};
    const RaceEntryResult& result = m_results[static_cast<size_t>(index.row())];
    const int column = index.column();

    if (role == Qt::BackgroundRole && index.row() == m_bestRow)
        return QColor(0xd8, 0xf2, 0xd8);
    if (role == Qt::ForegroundRole && isUnstable(result))
        return QColor(0xc0, 0x1c, 0x1c);
    if (role == Qt::FontRole && index.row() == m_bestRow) {
        QFont font;
        font.setBold(true);
        return font;
    }
    if (role == Qt::DecorationRole && column == SetupColumn &&
        index.row() < static_cast<int>(m_colors.size()))
        return m_colors[static_cast<size_t>(index.row())];
    if (role == Qt::TextAlignmentRole && column != SetupColumn && column != StabilityColumn)
        return QVariant::fromValue<int>(Qt::AlignRight | Qt::AlignVCenter);
    if (role == Qt::ToolTipRole && !m_hasTarget &&
        (column == StepsToTargetColumn || column == SecondsToTargetColumn))
        return tr("No target validation loss was set for this race");
    if (role == Qt::ToolTipRole) {
        QString tip = tr("Run %1 · initial parameters %2 · batch order %3")
                          .arg(result.runId)
                          .arg(result.initialParametersHash, 16, 16, QLatin1Char('0'))
                          .arg(result.batchOrderHash, 16, 16, QLatin1Char('0'));
        if (!result.message.empty())
            tip += QLatin1Char('\n') + QString::fromStdString(result.message);
        return tip;
    }
    if (role == SortRole) {
        auto orNone = [](double value) { return std::isfinite(value) ? QVariant(value) : QVariant(); };
        switch (column) {
        case SetupColumn:
            return QString::fromStdString(result.setup);
        case LearningRateColumn:
            return orNone(result.learningRate);
        case FinalValLossColumn:
            return orNone(result.finalValLoss);
        case BestValLossColumn:
            return orNone(result.bestValLoss);
        case StepsToTargetColumn:
            return result.stepsToTarget >= 0 ? QVariant(qlonglong(result.stepsToTarget)) : QVariant();
        case SecondsToTargetColumn:
            return orNone(result.secondsToTarget);
        case StabilityColumn:
            return stabilityText(result);
        case WallTimeColumn:
            return result.wallSeconds;
        default:
            return {};
        }
    }
    if (role != Qt::DisplayRole)
        return {};
    switch (column) {
    case SetupColumn:
        return QString::fromStdString(result.setup);
    case LearningRateColumn:
        return formatNumber(result.learningRate, 3);
    case FinalValLossColumn:
        return formatNumber(result.finalValLoss);
    case BestValLossColumn:
        return formatNumber(result.bestValLoss);
    case StepsToTargetColumn:
        if (!m_hasTarget)
            return QStringLiteral("–");
        return result.stepsToTarget >= 0 ? QString::number(result.stepsToTarget) : tr("not reached");
    case SecondsToTargetColumn:
        return std::isfinite(result.secondsToTarget) ? QString::number(result.secondsToTarget, 'f', 2)
                                                     : QStringLiteral("–");
    case StabilityColumn:
        return stabilityText(result);
    case WallTimeColumn:
        return formatDuration(result.wallSeconds);
    default:
        return {};
    }
}

QVariant RaceResultsModel::headerData(int section, Qt::Orientation orientation, int role) const {
    if (orientation != Qt::Horizontal || section < 0 || section >= ColumnCount)
        return {};
    if (role == Qt::ToolTipRole && (section == StepsToTargetColumn || section == SecondsToTargetColumn))
        return tr("Until the validation loss first reached the target loss");
    if (role != Qt::DisplayRole)
        return {};
    switch (section) {
    case SetupColumn:
        return tr("Set-up");
    case LearningRateColumn:
        return tr("Learning rate");
    case FinalValLossColumn:
        return tr("Final val loss");
    case BestValLossColumn:
        return tr("Best val loss");
    case StepsToTargetColumn:
        return tr("Steps to target");
    case SecondsToTargetColumn:
        return tr("Seconds to target");
    case StabilityColumn:
        return tr("Stability");
    case WallTimeColumn:
        return tr("Wall time");
    default:
        return {};
    }
}

void RaceResultsModel::setResults(const std::vector<RaceEntryResult>& results) {
    beginResetModel();
    m_results = results;
    updateBestRow();
    endResetModel();
}

void RaceResultsModel::updateResult(int row, const RaceEntryResult& result) {
    if (row < 0 || row >= rowCount())
        return;
    m_results[static_cast<size_t>(row)] = result;
    const int previousBest = m_bestRow;
    updateBestRow();
    Q_EMIT dataChanged(index(row, 0), index(row, ColumnCount - 1));
    if (previousBest != m_bestRow && previousBest >= 0)
        Q_EMIT dataChanged(index(previousBest, 0), index(previousBest, ColumnCount - 1));
    if (previousBest != m_bestRow && m_bestRow >= 0)
        Q_EMIT dataChanged(index(m_bestRow, 0), index(m_bestRow, ColumnCount - 1));
}

void RaceResultsModel::setColors(const std::vector<QColor>& colors) {
    m_colors = colors;
    if (rowCount() > 0)
        Q_EMIT dataChanged(index(0, SetupColumn), index(rowCount() - 1, SetupColumn), {Qt::DecorationRole});
}

// The engine ranks the rows (race_scoreboard.h); the first is highlighted.
void RaceResultsModel::updateBestRow() {
    rankRaceResults(m_results);
    m_bestRow = -1;
    for (size_t row = 0; row < m_results.size(); ++row)
        if (m_results[row].rank == 1)
            m_bestRow = static_cast<int>(row);
}

} // namespace tunelab
