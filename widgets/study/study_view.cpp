#include "study/study_view.h"

#include "study/study_lineage_plot.h"
#include "study/study_plots.h"
#include "study/study_trials_model.h"

#include "common/file_saving.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMessageBox>
#include <QPushButton>
#include <QSplitter>
#include <QStackedWidget>
#include <QTabWidget>
#include <QTableView>
#include <QTimer>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace tunelab {

StudyView::StudyView(QWidget* parent)
    : QWidget(parent)
    , m_model(new StudyTrialsModel(this))
    , m_proxy(new StudyTrialsProxyModel(this)) {
    m_proxy->setSourceModel(m_model);

    m_filter = new QLineEdit(this);
    m_filter->setPlaceholderText(tr("Filter trials: state or parameter text"));
    m_filter->setClearButtonEnabled(true);
    m_filter->setMinimumWidth(160);
    m_filter->setToolTip(m_filter->placeholderText());
    m_hidePruned = new QCheckBox(tr("Hide pruned and failed"), this);
    m_summary = new QLabel(this);
    m_summary->setObjectName(QStringLiteral("studySummary"));
    m_summary->setTextFormat(Qt::PlainText);
    // A line of its own under the tools, wrapping when narrow: never cut ("12 p" for "12 pruned").
    m_summary->setWordWrap(true);
    m_exportBest = new QPushButton(tr("Export best config…"), this);
    m_exportBest->setToolTip(tr("Save the best trial's experiment as a spec file"));
    m_openBest = new QPushButton(tr("Open best in editor"), this);
    m_openBest->setToolTip(tr("Load the best trial's experiment into the editor"));
    m_exportBest->setEnabled(false);
    m_openBest->setEnabled(false);

    auto* toolBar = new QHBoxLayout;
    toolBar->addWidget(m_filter, 1);
    toolBar->addWidget(m_hidePruned);
    toolBar->addStretch(1);
    toolBar->addWidget(m_exportBest);
    toolBar->addWidget(m_openBest);

    m_bestPlot = new BestSoFarPlot(this);
    m_curvesPlot = new TrialCurvesPlot(this);
    m_parallelPlot = new ParallelCoordinatesPlot(this);
    m_importancePlot = new ImportancePlot(this);
    m_contourPlot = new ContourPlot(this);
    m_paretoPlot = new ParetoFrontPlot(this);
    m_paretoParallelPlot = new ParallelCoordinatesPlot(this, ParallelCoordinatesPlot::Axes::Objectives);
    m_hypervolumePlot = new HypervolumePlot(this);
    m_lineagePlot = new LineagePlot(this);
    m_paretoStack = new QStackedWidget(this);
    m_paretoStack->addWidget(m_paretoPlot);
    m_paretoStack->addWidget(m_paretoParallelPlot);
    // Out of the tabs until a study with several objectives comes.
    m_paretoStack->hide();
    m_hypervolumePlot->hide();
    m_lineagePlot->hide(); // out of the tabs until a trial of a population comes
    m_tabs = new QTabWidget(this);
    m_tabs->setDocumentMode(true);
    m_tabs->addTab(m_bestPlot, tr("History"));
    m_tabs->addTab(m_curvesPlot, tr("Trial curves"));
    m_tabs->addTab(m_parallelPlot, tr("Parallel coordinates"));
    m_tabs->addTab(buildContourTab(), tr("Contour / slice"));
    m_tabs->addTab(m_importancePlot, tr("Importance"));
    for (StudyPlot* plot : plots()) {
        plot->setSources(m_model, &m_selected);
        connect(plot, &StudyPlot::selectionRequested, this,
                [this, plot](const QList<qint64>& numbers, bool extend) {
                    applySelection(numbers, extend, plot);
                });
    }

    // Rows the filter hides leave the table's selection; their trials stay selected. Connected
    // before the table's selection model so that the flag is set when it reacts.
    connect(m_proxy, &QSortFilterProxyModel::rowsAboutToBeRemoved, this, [this] { m_syncingTable = true; });
    connect(m_proxy, &QSortFilterProxyModel::rowsRemoved, this, [this] { m_syncingTable = false; });
    m_table = new QTableView(this);
    m_table->setModel(m_proxy);
    m_table->setSortingEnabled(true);
    m_table->sortByColumn(StudyTrialsModel::NumberColumn, Qt::AscendingOrder);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::ExtendedSelection);
    m_table->setAlternatingRowColors(true);
    m_table->setWordWrap(false);
    m_table->setContextMenuPolicy(Qt::CustomContextMenu);
    m_table->verticalHeader()->hide();
    m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + 6);
    m_table->horizontalHeader()->setDefaultSectionSize(92);

    m_splitter = new QSplitter(Qt::Vertical, this);
    m_splitter->addWidget(m_tabs);
    m_splitter->addWidget(m_table);
    m_splitter->setStretchFactor(0, 3);
    m_splitter->setStretchFactor(1, 2);
    m_splitter->setChildrenCollapsible(false);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addLayout(toolBar);
    layout->addWidget(m_summary);
    layout->addWidget(m_splitter, 1);

    m_frameTimer = new QTimer(this);
    m_frameTimer->setSingleShot(true);
    m_frameTimer->setInterval(kFrameIntervalMs);
    connect(m_frameTimer, &QTimer::timeout, this, &StudyView::drawFrame);

    connect(m_filter, &QLineEdit::textChanged, m_proxy, &StudyTrialsProxyModel::setFilterText);
    connect(m_hidePruned, &QCheckBox::toggled, m_proxy, &StudyTrialsProxyModel::setHidePrunedAndFailed);
    connect(m_table->selectionModel(), &QItemSelectionModel::selectionChanged, this,
            &StudyView::selectionFromTable);
    connect(m_table, &QTableView::doubleClicked, this, [this](const QModelIndex& index) {
        Q_EMIT openBestRequested(index.data(StudyTrialsModel::TrialNumberRole).toLongLong());
    });
    connect(m_table, &QTableView::customContextMenuRequested, this, &StudyView::showContextMenu);
    connect(m_exportBest, &QPushButton::clicked, this, &StudyView::exportChosen);
    connect(m_openBest, &QPushButton::clicked, this, [this] {
        if (m_model->isMultiObjective()) {
            if (const int64_t chosen = chosenFrontTrial(); chosen >= 0)
                Q_EMIT openBestRequested(chosen);
        } else if (m_model->hasCompleteTrial()) {
            Q_EMIT openBestRequested(m_model->bestTrialNumber());
        }
    });
    // Filtering or sorting rebuilds the table's selection from the proxy; put ours back.
    connect(m_proxy, &QSortFilterProxyModel::layoutChanged, this, &StudyView::syncTableSelection);
    connect(m_proxy, &QSortFilterProxyModel::modelReset, this, &StudyView::syncTableSelection);
    // The Member and From columns came or went, by setTrials() or live.
    connect(m_model, &StudyTrialsModel::populationChanged, this, [this] {
        arrangeLineageTab();
        fitColumnWidths();
    });
    // New rows (a new trial, or one the filter lets through again) join the table's selection when
    // their trial is selected; the rows already there keep theirs, so a live study costs no rebuild.
    connect(
        m_proxy, &QSortFilterProxyModel::rowsInserted, this, [this](const QModelIndex&, int first, int last) {
            if (m_selected.isEmpty())
                return;
            QItemSelection added;
            const int lastColumn = std::max(0, m_proxy->columnCount() - 1);
            for (int row = first; row <= last; ++row) {
                const QModelIndex source = m_proxy->mapToSource(m_proxy->index(row, 0));
                if (source.isValid() && m_selected.contains(m_model->trialAt(source.row()).number))
                    added.select(m_proxy->index(row, 0), m_proxy->index(row, lastColumn));
            }
            if (added.isEmpty())
                return;
            m_syncingTable = true;
            m_table->selectionModel()->select(added, QItemSelectionModel::Select | QItemSelectionModel::Rows);
            m_syncingTable = false;
        });
    updateSummary();
}

QWidget* StudyView::buildContourTab() {
    auto* tab = new QWidget(this);
    m_contourX = new QComboBox(tab);
    m_contourY = new QComboBox(tab);
    m_contourX->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    m_contourY->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    auto* choices = new QHBoxLayout;
    choices->addWidget(new QLabel(tr("X:"), tab));
    choices->addWidget(m_contourX);
    choices->addSpacing(12);
    choices->addWidget(new QLabel(tr("Y:"), tab));
    choices->addWidget(m_contourY);
    choices->addStretch(1);
    auto* layout = new QVBoxLayout(tab);
    layout->setContentsMargins(0, 4, 0, 0);
    layout->addLayout(choices);
    layout->addWidget(m_contourPlot, 1);
    connect(m_contourX, &QComboBox::currentIndexChanged, this, &StudyView::contourChoiceChanged);
    connect(m_contourY, &QComboBox::currentIndexChanged, this, &StudyView::contourChoiceChanged);
    return tab;
}

std::vector<StudyPlot*> StudyView::plots() const {
    return {m_bestPlot,   m_curvesPlot,         m_parallelPlot,    m_contourPlot, m_importancePlot,
            m_paretoPlot, m_paretoParallelPlot, m_hypervolumePlot, m_lineagePlot};
}

QWidget* StudyView::paretoTab() const {
    return m_paretoStack;
}

void StudyView::setStudy(std::vector<std::string> parameters, ObjectiveSpec objective,
                         std::set<std::string> logParameters) {
    setStudy(std::move(parameters), std::vector<ObjectiveSpec>{std::move(objective)},
             std::move(logParameters));
}

void StudyView::setStudy(std::vector<std::string> parameters, std::vector<ObjectiveSpec> objectives,
                         std::set<std::string> logParameters) {
    m_model->setStudy(std::move(parameters), std::move(objectives), std::move(logParameters));
    clearBrushes();
    arrangeTabs();
    fillContourCombos();
    fitColumnWidths();
    scheduleFrame();
}

// Measuring every cell of thousands of rows would be slow, and the compact number formats fit any
// title's width.
void StudyView::fitColumnWidths() {
    const QFontMetrics metrics(m_table->horizontalHeader()->font());
    for (int column = 0; column < m_model->columnCount(); ++column) {
        const int title =
            metrics.horizontalAdvance(m_model->headerData(column, Qt::Horizontal).toString()) + 28;
        const bool narrow = column == StudyTrialsModel::NumberColumn || column == m_model->paretoColumn() ||
                            column == m_model->memberColumn();
        m_table->setColumnWidth(column, std::clamp(title, narrow ? 56 : 80, 240));
    }
}

void StudyView::arrangeTabs() {
    const bool several = m_model->isMultiObjective();
    if (several) {
        replaceTab(m_bestPlot, m_hypervolumePlot, tr("Hypervolume"));
        m_paretoStack->setCurrentWidget(m_model->objectiveCount() == 2 ? static_cast<QWidget*>(m_paretoPlot)
                                                                       : m_paretoParallelPlot);
        if (m_tabs->indexOf(m_paretoStack) < 0) {
            m_tabs->insertTab(0, m_paretoStack, tr("Pareto front"));
            m_tabs->setCurrentIndex(0); // the result of such a study
        }
    } else {
        replaceTab(m_hypervolumePlot, m_bestPlot, tr("History"));
        if (const int index = m_tabs->indexOf(m_paretoStack); index >= 0) {
            m_tabs->removeTab(index);
            m_paretoStack->hide();
        }
    }
    arrangeLineageTab();
}

void StudyView::arrangeLineageTab() {
    const int index = m_tabs->indexOf(m_lineagePlot);
    if (m_model->hasPopulation() && index < 0) {
        m_tabs->insertTab(m_tabs->indexOf(m_curvesPlot) + 1, m_lineagePlot, tr("Lineage"));
    } else if (!m_model->hasPopulation() && index >= 0) {
        m_tabs->removeTab(index);
        m_lineagePlot->hide();
    }
}

// Puts `replacement` in the tab of `shown` (current if that one was), keeping the tabs' order.
void StudyView::replaceTab(QWidget* shown, QWidget* replacement, const QString& title) {
    const int index = m_tabs->indexOf(shown);
    if (index < 0)
        return;
    const bool current = m_tabs->currentIndex() == index;
    m_tabs->removeTab(index);
    shown->hide();
    m_tabs->insertTab(index, replacement, title);
    if (current)
        m_tabs->setCurrentIndex(index);
}

void StudyView::clearBrushes(StudyPlot* except) {
    for (ParallelCoordinatesPlot* plot : {m_parallelPlot, m_paretoParallelPlot}) {
        if (plot != except)
            plot->clearBrushes();
    }
}

void StudyView::fillContourCombos() {
    const QSignalBlocker blockX(m_contourX);
    const QSignalBlocker blockY(m_contourY);
    m_contourX->clear();
    m_contourY->clear();
    m_contourY->addItem(tr("(objective)"), QString());
    for (const std::string& path : m_model->parameters()) {
        const QString name = QString::fromStdString(path);
        m_contourX->addItem(name, name);
        m_contourY->addItem(name, name);
    }
    // Two parameters give the contour view; a single one the slice.
    m_contourX->setCurrentIndex(m_model->parameters().empty() ? -1 : 0);
    m_contourY->setCurrentIndex(m_model->parameters().size() >= 2 ? 2 : 0);
    contourChoiceChanged();
}

void StudyView::contourChoiceChanged() {
    m_contourPlot->setParameters(m_contourX->currentData().toString().toStdString(),
                                 m_contourY->currentData().toString().toStdString());
}

void StudyView::setTrials(std::vector<TrialRecord> trials) {
    m_model->setTrials(std::move(trials));
    QSet<qint64> kept;
    for (qint64 number : std::as_const(m_selected)) {
        if (m_model->rowOfTrial(number) >= 0)
            kept.insert(number);
    }
    const bool changed = kept != m_selected;
    m_selected = kept;
    syncTableSelection();
    scheduleFrame();
    if (changed)
        Q_EMIT selectionChanged();
}

void StudyView::upsertTrial(const TrialRecord& trial) {
    m_model->upsertTrial(trial);
    scheduleFrame();
}

void StudyView::addIntermediate(int64_t trialNumber, int epoch, double value) {
    if (m_model->addIntermediate(trialNumber, epoch, value))
        scheduleFrame();
}

void StudyView::clear() {
    clearBrushes();
    const bool hadSelection = !m_selected.isEmpty();
    m_selected.clear();
    m_model->clear();
    scheduleFrame();
    if (hadSelection)
        Q_EMIT selectionChanged();
}

void StudyView::scheduleFrame() {
    if (!m_frameTimer->isActive())
        m_frameTimer->start();
}

void StudyView::flush() {
    m_frameTimer->stop();
    drawFrame();
}

void StudyView::drawFrame() {
    ++m_frames;
    for (StudyPlot* plot : plots())
        plot->invalidate();
    updateSummary();
}

void StudyView::updateSummary() {
    int complete = 0;
    int pruned = 0;
    int failed = 0;
    int running = 0;
    for (const TrialRecord& trial : m_model->trials()) {
        complete += trial.state == TrialState::Complete;
        pruned += trial.state == TrialState::Pruned;
        failed += trial.state == TrialState::Failed;
        running += trial.state == TrialState::Running;
    }
    QStringList parts;
    const int total = static_cast<int>(m_model->trials().size());
    parts << (total == 1 ? tr("1 trial") : tr("%1 trials").arg(total));
    parts << tr("%1 complete").arg(complete);
    if (pruned)
        parts << tr("%1 pruned").arg(pruned);
    if (failed)
        parts << tr("%1 failed").arg(failed);
    if (running)
        parts << tr("%1 running").arg(running);
    if (m_model->isMultiObjective()) {
        const int front = static_cast<int>(m_model->paretoFront().size());
        if (front > 0)
            parts << (front == 1 ? tr("Pareto front: 1 trial of %1").arg(complete)
                                 : tr("Pareto front: %1 trials of %2").arg(front).arg(complete));
    } else if (m_model->hasCompleteTrial()) {
        const TrialRecord& best = m_model->trialAt(m_model->rowOfTrial(m_model->bestTrialNumber()));
        parts << tr("best #%1: %2").arg(best.number).arg(StudyTrialsModel::formatValue(best.value));
    }
    m_summary->setText(parts.join(QStringLiteral(" · ")));
    m_summary->setToolTip(m_summary->text());
    updateBestButtons();
}

void StudyView::updateBestButtons() {
    if (!m_model->isMultiObjective()) {
        const bool hasBest = m_model->hasCompleteTrial();
        m_exportBest->setText(tr("Export best config…"));
        m_openBest->setText(tr("Open best in editor"));
        m_exportBest->setToolTip(tr("Save the best trial's experiment as a spec file"));
        m_openBest->setToolTip(tr("Load the best trial's experiment into the editor"));
        m_exportBest->setEnabled(hasBest);
        m_openBest->setEnabled(hasBest);
        return;
    }
    const int64_t chosen = chosenFrontTrial();
    m_exportBest->setEnabled(chosen >= 0);
    m_openBest->setEnabled(chosen >= 0);
    if (chosen >= 0) {
        m_exportBest->setText(tr("Export trial %1…").arg(chosen));
        m_openBest->setText(tr("Open trial %1 in editor").arg(chosen));
        m_exportBest->setToolTip(
            tr("Save the experiment of trial %1, on the Pareto front, as a spec file").arg(chosen));
        m_openBest->setToolTip(
            tr("Load the experiment of trial %1, on the Pareto front, into the editor").arg(chosen));
        return;
    }
    // No single best trial here: the user picks one of the front.
    const QString pick = tr("Several objectives have no single best trial: select one trial on the Pareto "
                            "front (a ★ row, or a highlighted dot in the Pareto front tab)");
    m_exportBest->setText(tr("Export chosen trial…"));
    m_openBest->setText(tr("Open chosen trial"));
    m_exportBest->setToolTip(pick);
    m_openBest->setToolTip(pick);
}

int64_t StudyView::chosenFrontTrial() const {
    if (!m_model->isMultiObjective())
        return -1;
    int64_t chosen = -1;
    for (const qint64 number : std::as_const(m_selected)) {
        if (!m_model->isOnParetoFront(number))
            continue;
        if (chosen >= 0)
            return -1; // several: which one is meant is not ours to guess
        chosen = number;
    }
    return chosen;
}

void StudyView::exportChosen() {
    if (!m_model->isMultiObjective()) {
        if (m_model->hasCompleteTrial())
            Q_EMIT exportBestRequested();
        return;
    }
    if (const int64_t chosen = chosenFrontTrial(); chosen >= 0)
        Q_EMIT exportTrialRequested(chosen);
}

std::vector<int64_t> StudyView::selectedTrials() const {
    std::vector<int64_t> numbers(m_selected.begin(), m_selected.end());
    std::sort(numbers.begin(), numbers.end());
    return numbers;
}

void StudyView::setSelectedTrials(const std::vector<int64_t>& numbers) {
    QList<qint64> list;
    list.reserve(static_cast<qsizetype>(numbers.size()));
    for (int64_t number : numbers)
        list << number;
    applySelection(list, false, nullptr);
}

void StudyView::applySelection(const QList<qint64>& numbers, bool extend, StudyPlot* source) {
    QSet<qint64> next = extend ? m_selected : QSet<qint64>();
    for (qint64 number : numbers) {
        if (m_model->rowOfTrial(number) < 0)
            continue;
        // Ctrl-clicking a selected trial takes it out again.
        if (extend && numbers.size() == 1 && m_selected.contains(number))
            next.remove(number);
        else
            next.insert(number);
    }
    // A brush describes the selection only while its parallel plot made it.
    clearBrushes(source);
    if (next == m_selected)
        return;
    m_selected = next;
    syncTableSelection();
    for (StudyPlot* plot : plots())
        plot->selectionUpdated();
    updateBestButtons();
    Q_EMIT selectionChanged();
}

void StudyView::selectionFromTable() {
    if (m_syncingTable)
        return;
    QSet<qint64> next;
    for (const QModelIndex& index : m_table->selectionModel()->selectedRows())
        next.insert(index.data(StudyTrialsModel::TrialNumberRole).toLongLong());
    // Trials the filter hides stay selected: typing a filter must not drop the plots' selection.
    for (qint64 number : std::as_const(m_selected)) {
        const int sourceRow = m_model->rowOfTrial(number);
        if (sourceRow >= 0 && !m_proxy->mapFromSource(m_model->index(sourceRow, 0)).isValid())
            next.insert(number);
    }
    clearBrushes();
    if (next == m_selected)
        return;
    m_selected = next;
    for (StudyPlot* plot : plots())
        plot->selectionUpdated();
    updateBestButtons();
    Q_EMIT selectionChanged();
}

// Selects the rows of the selected trials that the filter shows, as ranges of adjacent rows so
// that selecting thousands of trials stays one selection call.
void StudyView::syncTableSelection() {
    std::vector<int> rows;
    rows.reserve(static_cast<size_t>(m_selected.size()));
    for (qint64 number : std::as_const(m_selected)) {
        const int sourceRow = m_model->rowOfTrial(number);
        if (sourceRow < 0)
            continue;
        const QModelIndex proxyIndex = m_proxy->mapFromSource(m_model->index(sourceRow, 0));
        if (proxyIndex.isValid())
            rows.push_back(proxyIndex.row());
    }
    std::sort(rows.begin(), rows.end());
    QItemSelection selection;
    const int lastColumn = m_proxy->columnCount() - 1;
    for (size_t i = 0; i < rows.size();) {
        size_t j = i;
        while (j + 1 < rows.size() && rows[j + 1] == rows[j] + 1)
            ++j;
        selection.select(m_proxy->index(rows[i], 0), m_proxy->index(rows[j], std::max(0, lastColumn)));
        i = j + 1;
    }
    m_syncingTable = true;
    m_table->selectionModel()->select(selection,
                                      QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
    if (rows.size() == 1)
        m_table->scrollTo(m_proxy->index(rows.front(), 0));
    m_syncingTable = false;
}

QString StudyView::visibleTrialsCsv() const {
    std::vector<int> rows;
    rows.reserve(static_cast<size_t>(m_proxy->rowCount()));
    for (int row = 0; row < m_proxy->rowCount(); ++row)
        rows.push_back(m_proxy->mapToSource(m_proxy->index(row, 0)).row());
    return m_model->toCsv(rows);
}

bool StudyView::exportTrialsCsv(const QString& path, QString* error) const {
    return saveFileBytes(path, visibleTrialsCsv().toUtf8(), error);
}

void StudyView::showContextMenu(const QPoint& pos) {
    const QModelIndex index = m_table->indexAt(pos);
    QMenu menu(this);
    if (index.isValid()) {
        const qint64 number = index.data(StudyTrialsModel::TrialNumberRole).toLongLong();
        menu.addAction(tr("Open trial %1 in editor").arg(number), this,
                       [this, number] { Q_EMIT openBestRequested(number); });
    }
    QAction* exportAction = menu.addAction(m_exportBest->text(), this, &StudyView::exportChosen);
    exportAction->setEnabled(m_exportBest->isEnabled());
    menu.addAction(tr("Export trials as CSV…"), this, [this] {
        const QString path = QFileDialog::getSaveFileName(this, tr("Export Trials"),
                                                          QStringLiteral("trials.csv"), tr("CSV (*.csv)"));
        QString error;
        if (!path.isEmpty() && !exportTrialsCsv(path, &error))
            QMessageBox::warning(this, tr("Cannot export the trials"), error);
    });
    menu.exec(m_table->viewport()->mapToGlobal(pos));
}

} // namespace tunelab
