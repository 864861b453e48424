#pragma once

#include "study/study.h"

#include <QSet>
#include <QWidget>

#include <set>
#include <string>
#include <vector>

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSplitter;
class QStackedWidget;
class QTabWidget;
class QTableView;
class QTimer;

namespace tunelab {

class BestSoFarPlot;
class ContourPlot;
class HypervolumePlot;
class ImportancePlot;
class LineagePlot;
class ParallelCoordinatesPlot;
class ParetoFrontPlot;
class StudyPlot;
class StudyTrialsModel;
class StudyTrialsProxyModel;
class TrialCurvesPlot;

// The trials of one study: a filterable, sortable table and plots of the same trials (best so far,
// intermediate curves, parallel coordinates, importance, contour / slice). One set of selected
// trials links them: selecting rows, brushing an axis, clicking or rubber-banding dots or clicking a
// curve selects those trials everywhere. The view changes nothing itself: exporting and opening the
// best trial are signals the app answers.
//
// A study with several objectives has no best trial but a Pareto front: a "Pareto front" tab comes
// first (the front of two objectives as a scatter plot, of three or more as parallel coordinates
// over the objectives), the history tab shows the hypervolume instead of the best value so far, and
// "Export" / "Open" act on the selected trial when it is on the front.
//
// A study trained by population-based training (trials with a population member) gets a "Lineage"
// tab after the trial curves: which trial continued from which, and the exploits between members.
// It comes with the first such trial and goes when none is left.
//
// The table follows every call at once; the plots repaint from one single-shot timer at most
// kFrameIntervalMs apart, so live updates (a trial's state, an epoch's value) cost one repaint per
// frame whatever their number. GUI thread only.
class StudyView : public QWidget {
    Q_OBJECT

public:
    static constexpr int kFrameIntervalMs = 40;
    static constexpr const char* kObjectiveChoice = "(objective)";

    explicit StudyView(QWidget* parent = nullptr);

    // The study's parameter paths (columns and axes), its objectives (studyObjectives(): the first
    // one first) and the parameters searched on a log scale. Keeps the trials.
    void setStudy(std::vector<std::string> parameters, std::vector<ObjectiveSpec> objectives,
                  std::set<std::string> logParameters = {});
    void setStudy(std::vector<std::string> parameters, ObjectiveSpec objective,
                  std::set<std::string> logParameters = {});
    // Replaces every trial; records carry their intermediate values.
    void setTrials(std::vector<TrialRecord> trials);
    // Inserts a trial or updates it in place (by number).
    void upsertTrial(const TrialRecord& trial);
    // One epoch's objective value of a trial, as it is reported.
    void addIntermediate(int64_t trialNumber, int epoch, double value);
    // Drops the trials and the selection; keeps the study's columns.
    void clear();
    // Draws pending updates now instead of at the next frame.
    void flush();

    std::vector<int64_t> selectedTrials() const; // ascending
    void setSelectedTrials(const std::vector<int64_t>& numbers);
    // In a study with several objectives, the trial "Export" and "Open" act on: the one selected
    // trial of the Pareto front; -1 when the selection holds none or several.
    int64_t chosenFrontTrial() const;
    // The trials the table shows (filtered), in its order, as CSV (StudyTrialsModel::toCsv).
    QString visibleTrialsCsv() const;
    // Writes visibleTrialsCsv() to `path`; on failure `error` says why.
    bool exportTrialsCsv(const QString& path, QString* error = nullptr) const;

    StudyTrialsModel* trialsModel() const { return m_model; }
    StudyTrialsProxyModel* proxyModel() const { return m_proxy; }
    QTableView* tableView() const { return m_table; }
    QLineEdit* filterEdit() const { return m_filter; }
    QCheckBox* hidePrunedCheck() const { return m_hidePruned; }
    QTabWidget* plotTabs() const { return m_tabs; }
    BestSoFarPlot* bestSoFarPlot() const { return m_bestPlot; }
    TrialCurvesPlot* curvesPlot() const { return m_curvesPlot; }
    ParallelCoordinatesPlot* parallelPlot() const { return m_parallelPlot; }
    ContourPlot* contourPlot() const { return m_contourPlot; }
    // The "Pareto front" tab (in plotTabs() only for studies with several objectives) and what it
    // shows: the scatter plot for two objectives, the parallel coordinates for three or more.
    QWidget* paretoTab() const;
    ParetoFrontPlot* paretoPlot() const { return m_paretoPlot; }
    ParallelCoordinatesPlot* paretoParallelPlot() const { return m_paretoParallelPlot; }
    // In the history tab's place for studies with several objectives.
    HypervolumePlot* hypervolumePlot() const { return m_hypervolumePlot; }
    // The "Lineage" tab's plot, in plotTabs() only while some trial has a population member.
    LineagePlot* lineagePlot() const { return m_lineagePlot; }
    QComboBox* contourXCombo() const { return m_contourX; }
    QComboBox* contourYCombo() const { return m_contourY; }
    QPushButton* exportBestButton() const { return m_exportBest; }
    QPushButton* openBestButton() const { return m_openBest; }
    QLabel* summaryLabel() const { return m_summary; }
    // Frames drawn so far (plots refreshed from the timer or flush()).
    int frameCount() const { return m_frames; }

Q_SIGNALS:
    void selectionChanged();
    void exportBestRequested();
    // "Export" in a study with several objectives: the chosen trial of the front.
    void exportTrialRequested(qint64 trialNumber);
    void openBestRequested(qint64 trialNumber);

private:
    QWidget* buildContourTab();
    std::vector<StudyPlot*> plots() const;
    void scheduleFrame();
    void drawFrame();
    void updateSummary();
    // The export and open buttons: the best trial, or the chosen trial of the front.
    void updateBestButtons();
    void exportChosen();
    // The tabs of a study with one objective or with several (the Pareto tab, hypervolume).
    void arrangeTabs();
    void replaceTab(QWidget* shown, QWidget* replacement, const QString& title);
    // The lineage tab when the trials have a population, after the trial curves.
    void arrangeLineageTab();
    // Columns as wide as their titles.
    void fitColumnWidths();
    void clearBrushes(StudyPlot* except = nullptr);
    void applySelection(const QList<qint64>& numbers, bool extend, StudyPlot* source);
    void selectionFromTable();
    void syncTableSelection();
    void fillContourCombos();
    void contourChoiceChanged();
    void showContextMenu(const QPoint& pos);

    StudyTrialsModel* m_model = nullptr;
    StudyTrialsProxyModel* m_proxy = nullptr;
    QTableView* m_table = nullptr;
    QLineEdit* m_filter = nullptr;
    QCheckBox* m_hidePruned = nullptr;
    QLabel* m_summary = nullptr;
    QPushButton* m_exportBest = nullptr;
    QPushButton* m_openBest = nullptr;
    QSplitter* m_splitter = nullptr;
    QTabWidget* m_tabs = nullptr;
    BestSoFarPlot* m_bestPlot = nullptr;
    TrialCurvesPlot* m_curvesPlot = nullptr;
    ParallelCoordinatesPlot* m_parallelPlot = nullptr;
    ImportancePlot* m_importancePlot = nullptr;
    ContourPlot* m_contourPlot = nullptr;
    QStackedWidget* m_paretoStack = nullptr;
    ParetoFrontPlot* m_paretoPlot = nullptr;
    ParallelCoordinatesPlot* m_paretoParallelPlot = nullptr;
    HypervolumePlot* m_hypervolumePlot = nullptr;
    LineagePlot* m_lineagePlot = nullptr;
    QComboBox* m_contourX = nullptr;
    QComboBox* m_contourY = nullptr;
    QTimer* m_frameTimer = nullptr;
    QSet<qint64> m_selected;
    bool m_syncingTable = false; // our own change of the table's selection
    int m_frames = 0;
};

} // namespace tunelab
