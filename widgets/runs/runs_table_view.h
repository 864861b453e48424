#pragma once

#include <QList>
#include <QWidget>

class QLineEdit;
class QMenu;
class QModelIndex;
class QTableView;

namespace tunelab {

class RunsTableModel;
class RunsSortFilterProxyModel;
struct RunRow;

// The runs table: a filter line and a sortable table over a RunsTableModel, a progress bar in the
// status cell of running runs, and the run actions (duplicate, stop, delete, export) as signals.
// The view changes nothing itself: the app answers the signals (the run manager, the store).
class RunsTableView : public QWidget {
    Q_OBJECT

public:
    explicit RunsTableView(QWidget* parent = nullptr);

    // The model is not owned; it must outlive the view or be replaced first.
    void setRunsModel(RunsTableModel* model);
    RunsTableModel* runsModel() const { return m_model; }
    RunsSortFilterProxyModel* proxyModel() const { return m_proxy; }
    QTableView* tableView() const { return m_table; }
    QLineEdit* filterEdit() const { return m_filter; }

    // Deleting asks first; tests switch the question off.
    void setConfirmDeletes(bool confirm) { m_confirmDeletes = confirm; }

    QList<qint64> selectedRunIds() const; // ascending ids
    void selectRuns(const QList<qint64>& ids);

    // The context menu for the current selection; actions are enabled by the selected runs'
    // state. The caller owns the menu (through `parent` when given).
    QMenu* createContextMenu(QWidget* parent = nullptr);
    // Why "Fork from Here..." is off for this run; empty when it may be forked.
    static QString forkBlockedReason(const RunRow& run);

Q_SIGNALS:
    void selectionChangedRuns(const QList<qint64>& ids);
    void runActivated(qint64 id); // double-click: load the run's spec into the editor
    void duplicateRequested(qint64 id);
    void stopRequested(qint64 id);
    void deleteRequested(const QList<qint64>& ids); // after the user confirmed
    void exportConfigRequested(qint64 id);
    void exportModelRequested(qint64 id);
    void annotateRequested(qint64 id); // "Tags and Note...": the app edits and stores them
    // "Fork from Here...": continue the run's training with edited settings (a running run at the
    // end of its current epoch, a finished one from its checkpoint).
    void forkRequested(qint64 id);
    // "Optimize Model...": a compression plan for a finished run with a saved model.
    void optimizeModelRequested(qint64 id);

private:
    void requestDelete(const QList<qint64>& ids);
    void showContextMenu(const QPoint& pos);
    void emitSelection();
    qint64 idAt(const QModelIndex& proxyIndex) const;

    RunsTableModel* m_model = nullptr;
    RunsSortFilterProxyModel* m_proxy = nullptr;
    QTableView* m_table = nullptr;
    QLineEdit* m_filter = nullptr;
    bool m_confirmDeletes = true;
    QList<qint64> m_lastSelection; // what selectionChangedRuns last said
};

} // namespace tunelab
