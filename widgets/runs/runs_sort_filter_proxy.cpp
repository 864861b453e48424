#include "runs/runs_table_model.h"

#include <cmath>

// The runs table's sorting (numbers numerically, unknown values last) and its filter line.

namespace tunelab {

RunsSortFilterProxyModel::RunsSortFilterProxyModel(QObject* parent)
    : QSortFilterProxyModel(parent) {
    setSortRole(RunsTableModel::RawValueRole);
    setFilterCaseSensitivity(Qt::CaseInsensitive);
    setSortCaseSensitivity(Qt::CaseInsensitive);
}

bool RunsSortFilterProxyModel::lessThan(const QModelIndex& left, const QModelIndex& right) const {
    const QVariant a = left.data(sortRole());
    const QVariant b = right.data(sortRole());
    const int typeA = a.typeId();
    if (typeA == QMetaType::Double || typeA == QMetaType::Int) {
        const double x = a.toDouble();
        const double y = b.toDouble();
        const bool unknownX = std::isnan(x);
        const bool unknownY = std::isnan(y);
        if (unknownX || unknownY) {
            // Unknown values stay at the bottom whichever way the column is sorted.
            if (unknownX == unknownY)
                return false;
            return sortOrder() == Qt::AscendingOrder ? unknownY : unknownX;
        }
        return x < y;
    }
    return QString::compare(a.toString(), b.toString(), sortCaseSensitivity()) < 0;
}

bool RunsSortFilterProxyModel::filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const {
    const QRegularExpression& pattern = filterRegularExpression();
    if (pattern.pattern().isEmpty())
        return true;
    for (int column :
         {RunsTableModel::NameColumn, RunsTableModel::StatusColumn, RunsTableModel::DataSetColumn,
          RunsTableModel::OptimizerColumn, RunsTableModel::TagsColumn, RunsTableModel::NoteColumn}) {
        // A note's every line, not the first one the cell shows.
        const int role =
            column == RunsTableModel::NoteColumn ? int(RunsTableModel::RawValueRole) : int(Qt::DisplayRole);
        const QString text = sourceModel()->index(sourceRow, column, sourceParent).data(role).toString();
        if (text.contains(pattern))
            return true;
    }
    return false;
}

} // namespace tunelab
