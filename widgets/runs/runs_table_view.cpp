#include "runs/runs_table_view.h"

#include "runs/runs_table_model.h"

#include <QAction>
#include <QApplication>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLineEdit>
#include <QMenu>
#include <QMessageBox>
#include <QPainter>
#include <QStyledItemDelegate>
#include <QTableView>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace tunelab {

namespace {

// Paints the status cell of a running run as a progress bar; every other cell as usual.
class RunStatusDelegate : public QStyledItemDelegate {
public:
    using QStyledItemDelegate::QStyledItemDelegate;

    void paint(QPainter* painter, const QStyleOptionViewItem& option,
               const QModelIndex& index) const override {
        const QVariant progress = index.data(RunsTableModel::ProgressRole);
        if (index.column() != RunsTableModel::StatusColumn || !progress.isValid()) {
            QStyledItemDelegate::paint(painter, option, index);
            return;
        }
        // The selection background first, so that a selected running row still reads as selected.
        QStyleOptionViewItem background = option;
        initStyleOption(&background, index);
        background.text.clear();
        QStyle* style = option.widget ? option.widget->style() : QApplication::style();
        style->drawControl(QStyle::CE_ItemViewItem, &background, painter, option.widget);

        // A flat bar: the style's progress bar (gradients, rounded frames) costs several times as
        // much, and every running row repaints with every batch of steps.
        const double fraction = std::clamp(progress.toDouble(), 0.0, 1.0);
        const QRect bar = option.rect.adjusted(2, 3, -2, -3);
        const QPalette& palette = option.palette;
        painter->save();
        painter->fillRect(bar, palette.color(QPalette::Base));
        QColor filled = palette.color(QPalette::Highlight);
        filled.setAlpha(110);
        painter->fillRect(
            QRect(bar.left(), bar.top(), static_cast<int>(std::lround(bar.width() * fraction)), bar.height()),
            filled);
        painter->setPen(palette.color(QPalette::Mid));
        painter->drawRect(bar.adjusted(0, 0, -1, -1));
        painter->setPen(palette.color(QPalette::Text));
        painter->drawText(bar, Qt::AlignCenter,
                          QStringLiteral("%1 %2%")
                              .arg(index.data(Qt::DisplayRole).toString())
                              .arg(static_cast<int>(fraction * 100.0)));
        painter->restore();
    }
};

bool isActive(RunStatus status) {
    return status == RunStatus::Queued || status == RunStatus::Running;
}

} // namespace

RunsTableView::RunsTableView(QWidget* parent)
    : QWidget(parent)
    , m_proxy(new RunsSortFilterProxyModel(this))
    , m_table(new QTableView(this))
    , m_filter(new QLineEdit(this)) {
    m_filter->setPlaceholderText(tr("Filter by name, status, data set, optimizer, tag or note"));
    m_filter->setClearButtonEnabled(true);

    m_table->setModel(m_proxy);
    m_table->setItemDelegate(new RunStatusDelegate(m_table));
    m_table->setSortingEnabled(true);
    m_table->sortByColumn(-1, Qt::AscendingOrder); // store order (creation) until the user sorts
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setAlternatingRowColors(true);
    m_table->setWordWrap(false);
    m_table->setContextMenuPolicy(Qt::CustomContextMenu);
    m_table->verticalHeader()->hide();
    // Fixed row heights: the view never measures thousands of rows.
    m_table->verticalHeader()->setSectionResizeMode(QHeaderView::Fixed);
    m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + 8);
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->horizontalHeader()->setSectionsMovable(true);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_filter);
    layout->addWidget(m_table);

    connect(m_filter, &QLineEdit::textChanged, m_proxy, &QSortFilterProxyModel::setFilterFixedString);
    connect(m_table->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            [this] { emitSelection(); });
    // Resets and removals drop selected rows without a selectionChanged.
    connect(m_proxy, &QAbstractItemModel::modelReset, this, [this] { emitSelection(); });
    connect(m_proxy, &QAbstractItemModel::rowsRemoved, this, [this] { emitSelection(); });
    connect(m_table, &QTableView::doubleClicked, this, [this](const QModelIndex& index) {
        if (index.isValid())
            Q_EMIT runActivated(idAt(index));
    });
    connect(m_table, &QWidget::customContextMenuRequested, this, &RunsTableView::showContextMenu);
}

void RunsTableView::setRunsModel(RunsTableModel* model) {
    m_model = model;
    m_proxy->setSourceModel(model);
    if (model) {
        // Wide enough for what the cells hold at their longest ("14698/100000" epochs), measured
        // once: resizing to contents would measure every row of a long table.
        QHeaderView* header = m_table->horizontalHeader();
        const QFontMetrics metrics = m_table->fontMetrics();
        auto fit = [&](int column, const QString& sample) {
            header->resizeSection(
                column, std::max(header->sectionSizeHint(column), metrics.horizontalAdvance(sample) + 16));
        };
        header->resizeSection(RunsTableModel::NameColumn, 160);
        fit(RunsTableModel::StatusColumn, QStringLiteral("interrupted 100%"));
        fit(RunsTableModel::EpochsColumn, QStringLiteral("99999/100000"));
        fit(RunsTableModel::DurationColumn, QStringLiteral("12 h 59 min"));
        fit(RunsTableModel::AccuracyColumn, QStringLiteral("MAE 0.0001234"));
    }
    emitSelection();
}

qint64 RunsTableView::idAt(const QModelIndex& proxyIndex) const {
    return proxyIndex.siblingAtColumn(0).data(RunsTableModel::RunIdRole).toLongLong();
}

QList<qint64> RunsTableView::selectedRunIds() const {
    QList<qint64> ids;
    if (!m_model)
        return ids;
    const QModelIndexList rows = m_table->selectionModel()->selectedRows(0);
    ids.reserve(rows.size());
    for (const QModelIndex& index : rows)
        ids.append(idAt(index));
    std::sort(ids.begin(), ids.end());
    return ids;
}

void RunsTableView::selectRuns(const QList<qint64>& ids) {
    QItemSelection selection;
    if (m_model) {
        for (qint64 id : ids) {
            const int row = m_model->rowForRun(id);
            if (row < 0)
                continue;
            const QModelIndex index = m_proxy->mapFromSource(m_model->index(row, 0));
            if (index.isValid())
                selection.select(index, index);
        }
    }
    m_table->selectionModel()->select(selection,
                                      QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
}

void RunsTableView::emitSelection() {
    const QList<qint64> ids = selectedRunIds();
    // Sorting and live updates move rows without changing what is selected: stay quiet then.
    if (ids == m_lastSelection)
        return;
    m_lastSelection = ids;
    Q_EMIT selectionChangedRuns(ids);
}

QMenu* RunsTableView::createContextMenu(QWidget* parent) {
    const QList<qint64> ids = selectedRunIds();
    bool anyActive = false;
    const RunRow* single = nullptr;
    if (m_model) {
        for (qint64 id : ids) {
            const int row = m_model->rowForRun(id);
            if (row >= 0 && isActive(m_model->runAt(row).status))
                anyActive = true;
        }
        if (ids.size() == 1 && m_model->rowForRun(ids.front()) >= 0)
            single = &m_model->runAt(m_model->rowForRun(ids.front()));
    }
    const qint64 singleId = single ? single->id : 0;

    auto* menu = new QMenu(parent);
    menu->setToolTipsVisible(true); // a disabled entry says why
    QAction* duplicate = menu->addAction(tr("Duplicate and Edit"));
    duplicate->setObjectName(QStringLiteral("duplicateAction"));
    duplicate->setEnabled(single != nullptr);
    connect(duplicate, &QAction::triggered, this, [this, singleId] { Q_EMIT duplicateRequested(singleId); });

    QAction* fork = menu->addAction(tr("Fork from Here..."));
    fork->setObjectName(QStringLiteral("forkAction"));
    const QString forkBlocked = single ? forkBlockedReason(*single) : tr("Select one run to fork it");
    fork->setEnabled(forkBlocked.isEmpty());
    fork->setToolTip(!forkBlocked.isEmpty() ? forkBlocked
                     : isActive(single->status)
                         ? tr("Continue its training with other settings from the end "
                              "of the epoch it trains now")
                         : tr("Continue its training with other settings from where it "
                              "ended (after epoch %1)")
                               .arg(single->epochsDone));
    connect(fork, &QAction::triggered, this, [this, singleId] { Q_EMIT forkRequested(singleId); });

    QAction* stop = menu->addAction(tr("Stop"));
    stop->setObjectName(QStringLiteral("stopAction"));
    stop->setEnabled(single != nullptr && isActive(single->status));
    connect(stop, &QAction::triggered, this, [this, singleId] { Q_EMIT stopRequested(singleId); });

    QAction* remove =
        menu->addAction(ids.size() > 1 ? tr("Delete %1 Runs...").arg(ids.size()) : tr("Delete..."));
    remove->setObjectName(QStringLiteral("deleteAction"));
    // A run still training keeps writing to the store: stop it first.
    remove->setEnabled(!ids.isEmpty() && !anyActive);
    connect(remove, &QAction::triggered, this, [this, ids] { requestDelete(ids); });

    QAction* annotate = menu->addAction(tr("Tags and Note..."));
    annotate->setObjectName(QStringLiteral("annotateAction"));
    annotate->setEnabled(single != nullptr);
    connect(annotate, &QAction::triggered, this, [this, singleId] { Q_EMIT annotateRequested(singleId); });

    menu->addSeparator();
    QAction* exportConfig = menu->addAction(tr("Export Config..."));
    exportConfig->setObjectName(QStringLiteral("exportConfigAction"));
    exportConfig->setEnabled(single != nullptr && !single->specJson.isEmpty());
    connect(exportConfig, &QAction::triggered, this,
            [this, singleId] { Q_EMIT exportConfigRequested(singleId); });

    QAction* exportModel = menu->addAction(tr("Export Model..."));
    exportModel->setObjectName(QStringLiteral("exportModelAction"));
    exportModel->setEnabled(single != nullptr && single->hasModel);
    connect(exportModel, &QAction::triggered, this,
            [this, singleId] { Q_EMIT exportModelRequested(singleId); });

    QAction* optimize = menu->addAction(tr("Optimize Model..."));
    optimize->setObjectName(QStringLiteral("optimizeModelAction"));
    const bool optimizable = single != nullptr && single->hasModel && isFinal(single->status);
    optimize->setEnabled(optimizable);
    optimize->setToolTip(optimizable ? tr("Make smaller or faster variants of its model (pruned, int8, "
                                          "distilled) and measure them side by side")
                                     : tr("Select one finished run with a saved model"));
    connect(optimize, &QAction::triggered, this,
            [this, singleId] { Q_EMIT optimizeModelRequested(singleId); });
    return menu;
}

QString RunsTableView::forkBlockedReason(const RunRow& run) {
    if (isActive(run.status) || run.hasCheckpoint)
        return {};
    if (run.status == RunStatus::Failed || run.status == RunStatus::Diverged)
        return tr("A run that failed or diverged has no weights to continue from");
    return tr("This run has no checkpoint to continue from: runs recorded by an older TuneLab kept none");
}

void RunsTableView::showContextMenu(const QPoint& pos) {
    const QModelIndex index = m_table->indexAt(pos);
    if (!index.isValid())
        return;
    // Right-clicking outside the selection acts on the clicked run, as file managers do.
    if (!m_table->selectionModel()->isRowSelected(index.row(), QModelIndex()))
        m_table->selectionModel()->select(index,
                                          QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
    QMenu* menu = createContextMenu(this);
    menu->setAttribute(Qt::WA_DeleteOnClose);
    menu->popup(m_table->viewport()->mapToGlobal(pos));
}

void RunsTableView::requestDelete(const QList<qint64>& ids) {
    if (ids.isEmpty())
        return;
    if (m_confirmDeletes) {
        const QString question =
            ids.size() == 1
                ? tr("Delete this run? Its curves and saved model are removed from the run store.")
                : tr("Delete %1 runs? Their curves and saved models are removed from the run store.")
                      .arg(ids.size());
        if (QMessageBox::question(this, tr("Delete Runs"), question, QMessageBox::Yes | QMessageBox::Cancel,
                                  QMessageBox::Cancel) != QMessageBox::Yes)
            return;
    }
    Q_EMIT deleteRequested(ids);
}

} // namespace tunelab
