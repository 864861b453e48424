// StudyTrialsProxyModel: the trials table's sorting (numbers numerically, empty cells last) and its
// filters by text and by state.

#include "study/study_trials_model.h"

#include <cmath>

namespace tunelab {

StudyTrialsProxyModel::StudyTrialsProxyModel(QObject* parent)
    : QSortFilterProxyModel(parent) {
    setSortRole(StudyTrialsModel::SortRole);
    setDynamicSortFilter(true);
}

void StudyTrialsProxyModel::setFilterText(const QString& text) {
    const QStringList words = text.simplified().split(QLatin1Char(' '), Qt::SkipEmptyParts);
    if (words == m_words)
        return;
    m_words = words;
    invalidateFilter();
}

void StudyTrialsProxyModel::setHidePrunedAndFailed(bool hide) {
    if (hide == m_hidePrunedAndFailed)
        return;
    m_hidePrunedAndFailed = hide;
    invalidateFilter();
}

bool StudyTrialsProxyModel::lessThan(const QModelIndex& left, const QModelIndex& right) const {
    const QVariant a = left.data(StudyTrialsModel::SortRole);
    const QVariant b = right.data(StudyTrialsModel::SortRole);
    const bool aNumber = a.typeId() == QMetaType::Double;
    const bool bNumber = b.typeId() == QMetaType::Double;
    if (aNumber && bNumber) {
        const double x = a.toDouble();
        const double y = b.toDouble();
        // Empty cells last in both orders.
        const bool descending = sortOrder() == Qt::DescendingOrder;
        if (std::isnan(x) || std::isnan(y)) {
            if (std::isnan(x) && std::isnan(y))
                return left.row() < right.row();
            return descending ? std::isnan(x) : std::isnan(y);
        }
        if (x != y)
            return x < y;
        return left.row() < right.row();
    }
    if (aNumber != bNumber) // numbers before text in a mixed column
        return aNumber;
    const int order = QString::compare(a.toString(), b.toString(), Qt::CaseInsensitive);
    if (order != 0)
        return order < 0;
    return left.row() < right.row();
}

bool StudyTrialsProxyModel::filterAcceptsRow(int sourceRow, const QModelIndex& sourceParent) const {
    const QAbstractItemModel* model = sourceModel();
    if (m_hidePrunedAndFailed) {
        const auto state = static_cast<TrialState>(
            model->index(sourceRow, 0, sourceParent).data(StudyTrialsModel::StateRole).toInt());
        if (state == TrialState::Pruned || state == TrialState::Failed)
            return false;
    }
    if (m_words.isEmpty())
        return true;
    QStringList cells;
    const auto* trials = qobject_cast<const StudyTrialsModel*>(model);
    const int columns = model->columnCount(sourceParent);
    for (int column = 0; column < columns; ++column) {
        if (trials && !trials->isFilterTextColumn(column))
            continue;
        cells << model->index(sourceRow, column, sourceParent).data(Qt::DisplayRole).toString();
    }
    const QString text = cells.join(QLatin1Char(' '));
    for (const QString& word : m_words) {
        if (!text.contains(word, Qt::CaseInsensitive))
            return false;
    }
    return true;
}

} // namespace tunelab
