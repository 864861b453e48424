#pragma once

#include "charts/loss_chart_view.h"
#include "events/run_events.h"
#include "health/gradient_health.h"
#include "health/gradient_health_view.h"

#include <QHash>
#include <QTabWidget>

#include <vector>

namespace tunelab {

// The live charts, one tab per metric: train loss per step, train and validation loss per
// epoch, validation accuracy or MAE, learning rate, gradient norm, and the gradient health of
// one run (per-layer norms, update ratios, weight histograms, flags). Keeps each shown run's
// records so that a chart whose x unit changes (step, epoch, seconds) is fed again. GUI thread only.
class MetricCharts : public QTabWidget {
    Q_OBJECT

public:
    explicit MetricCharts(QWidget* parent = nullptr);

    LossChartView* stepLossChart() const { return m_stepLoss; }
    const QList<LossChartView*>& charts() const { return m_charts; }
    GradientHealthView* healthView() const { return m_health; }

    void addRun(RunId id, const QString& label);
    void removeRun(RunId id);
    bool hasRun(RunId id) const { return m_runs.contains(id); }
    void clear();
    // Batched: one call per run per drain.
    void appendSteps(RunId id, const std::vector<StepRecord>& steps);
    void appendEpochs(RunId id, const std::vector<EpochRecord>& epochs);
    void setLogScale(bool on);
    // The "Gradient health" tab shows one run: replaces what it shows (the selected run).
    void showRunHealth(RunId id, const QString& label, const std::vector<LayerHealthSample>& samples,
                       const std::vector<WeightHistogram>& histograms, const std::vector<HealthFlag>& flags);
    // Live additions; ignored unless `id` is the run the tab shows. Batched: one call per drain.
    void appendRunHealth(RunId id, const std::vector<LayerHealthSample>& samples,
                         const std::vector<WeightHistogram>& histograms,
                         const std::vector<HealthFlag>& flags);
    void clearRunHealth();
    RunId healthRunId() const { return m_healthRun; }
    void flush();

private:
    struct RunRecords {
        QString label;
        std::vector<StepRecord> steps;
        std::vector<EpochRecord> epochs;
        double elapsedSeconds = 0.0; // sum of the epochs' seconds
    };

    static double stepX(const RunRecords& run, const StepRecord& step, LossChartView::XAxisMode mode);
    static double epochX(const EpochRecord& epoch, double elapsedSeconds, LossChartView::XAxisMode mode);
    void feedSteps(LossChartView* chart, RunId id, const RunRecords& run, const StepRecord* first,
                   size_t count);
    void feedEpochs(LossChartView* chart, RunId id, const RunRecords& run, size_t firstIndex);
    void refeed(LossChartView* chart);

    LossChartView* m_stepLoss = nullptr;
    LossChartView* m_epochLoss = nullptr;
    LossChartView* m_accuracy = nullptr;
    LossChartView* m_learningRate = nullptr;
    LossChartView* m_gradNorm = nullptr;
    QList<LossChartView*> m_charts;
    GradientHealthView* m_health = nullptr;
    RunId m_healthRun = 0; // 0: none
    QHash<RunId, RunRecords> m_runs;
};

} // namespace tunelab
