#include "window/metric_charts.h"

#include <cmath>

namespace tunelab {

MetricCharts::MetricCharts(QWidget* parent)
    : QTabWidget(parent) {
    using Metric = LossChartView::Metric;
    m_stepLoss = new LossChartView(Metric::StepLoss);
    m_epochLoss = new LossChartView(Metric::EpochLoss);
    m_accuracy = new LossChartView(Metric::ValAccuracy);
    m_learningRate = new LossChartView(Metric::LearningRate);
    m_gradNorm = new LossChartView(Metric::GradNorm);
    m_charts = {m_stepLoss, m_epochLoss, m_accuracy, m_learningRate, m_gradNorm};
    addTab(m_stepLoss, tr("Train loss"));
    addTab(m_epochLoss, tr("Epoch loss"));
    addTab(m_accuracy, tr("Accuracy / MAE"));
    addTab(m_learningRate, tr("Learning rate"));
    addTab(m_gradNorm, tr("Gradient norm"));
    m_health = new GradientHealthView;
    addTab(m_health, tr("Gradient health"));
    setDocumentMode(true);
    for (LossChartView* chart : m_charts)
        connect(chart, &LossChartView::xAxisModeChanged, this, [this, chart] { refeed(chart); });
}

void MetricCharts::addRun(RunId id, const QString& label) {
    if (!m_runs.contains(id))
        m_runs.insert(id, RunRecords{label, {}, {}, 0.0});
    for (LossChartView* chart : m_charts)
        chart->addSeries(id, label);
}

void MetricCharts::removeRun(RunId id) {
    m_runs.remove(id);
    for (LossChartView* chart : m_charts)
        chart->removeSeries(id);
    if (id == m_healthRun)
        clearRunHealth();
}

void MetricCharts::clear() {
    m_runs.clear();
    for (LossChartView* chart : m_charts)
        chart->clear();
    clearRunHealth();
}

// Epoch positions come from the run's finished epochs: steps per epoch from the first one,
// seconds per step from the latest one, so a step's x is known before its epoch ends.
double MetricCharts::stepX(const RunRecords& run, const StepRecord& step, LossChartView::XAxisMode mode) {
    switch (mode) {
    case LossChartView::XAxisMode::Step:
        break;
    case LossChartView::XAxisMode::Epoch:
        if (!run.epochs.empty() && run.epochs.front().step > 0)
            return static_cast<double>(step.step) / static_cast<double>(run.epochs.front().step);
        return step.epoch - 1;
    case LossChartView::XAxisMode::WallTime:
        if (!run.epochs.empty()) {
            const EpochRecord& last = run.epochs.back();
            const double perStep = last.step > 0 ? run.elapsedSeconds / static_cast<double>(last.step) : 0.0;
            return perStep * static_cast<double>(step.step);
        }
        return 0.0;
    }
    return static_cast<double>(step.step);
}

double MetricCharts::epochX(const EpochRecord& epoch, double elapsedSeconds, LossChartView::XAxisMode mode) {
    switch (mode) {
    case LossChartView::XAxisMode::Epoch:
        return epoch.epoch;
    case LossChartView::XAxisMode::WallTime:
        return elapsedSeconds;
    case LossChartView::XAxisMode::Step:
        break;
    }
    return static_cast<double>(epoch.step);
}

void MetricCharts::feedSteps(LossChartView* chart, RunId id, const RunRecords& run, const StepRecord* first,
                             size_t count) {
    const LossChartView::XAxisMode mode = chart->xAxisMode();
    QVector<QPointF> points;
    points.reserve(static_cast<qsizetype>(count));
    for (size_t i = 0; i < count; ++i) {
        const StepRecord& step = first[i];
        const double y = chart == m_stepLoss       ? step.trainLoss
                         : chart == m_learningRate ? step.learningRate
                                                   : step.gradNorm;
        points.append(QPointF(stepX(run, step, mode), y));
    }
    chart->appendPoints(id, points);
}

void MetricCharts::feedEpochs(LossChartView* chart, RunId id, const RunRecords& run, size_t firstIndex) {
    const LossChartView::XAxisMode mode = chart->xAxisMode();
    QVector<QPointF> primary, validation;
    double elapsed = 0.0;
    for (size_t i = 0; i < run.epochs.size(); ++i) {
        const EpochRecord& epoch = run.epochs[i];
        elapsed += epoch.seconds;
        if (i < firstIndex)
            continue;
        const double x = epochX(epoch, elapsed, mode);
        if (chart == m_epochLoss) {
            primary.append(QPointF(x, epoch.trainLoss));
            if (std::isfinite(epoch.valLoss))
                validation.append(QPointF(x, epoch.valLoss));
        } else {
            const double value = std::isfinite(epoch.valAccuracy) ? epoch.valAccuracy : epoch.valMae;
            if (std::isfinite(value))
                primary.append(QPointF(x, value));
        }
    }
    chart->appendPoints(id, primary);
    if (chart == m_epochLoss)
        chart->appendPoints(id, validation, LossChartView::Trace::Validation);
}

void MetricCharts::appendSteps(RunId id, const std::vector<StepRecord>& steps) {
    auto it = m_runs.find(id);
    if (it == m_runs.end() || steps.empty())
        return;
    const size_t first = it->steps.size();
    it->steps.insert(it->steps.end(), steps.begin(), steps.end());
    for (LossChartView* chart : {m_stepLoss, m_learningRate, m_gradNorm})
        feedSteps(chart, id, *it, it->steps.data() + first, steps.size());
}

void MetricCharts::appendEpochs(RunId id, const std::vector<EpochRecord>& epochs) {
    auto it = m_runs.find(id);
    if (it == m_runs.end() || epochs.empty())
        return;
    const size_t first = it->epochs.size();
    for (const EpochRecord& epoch : epochs) {
        it->epochs.push_back(epoch);
        it->elapsedSeconds += epoch.seconds;
    }
    for (LossChartView* chart : {m_epochLoss, m_accuracy})
        feedEpochs(chart, id, *it, first);
}

// A chart changed its x unit and dropped its points: feed it again from the kept records.
void MetricCharts::refeed(LossChartView* chart) {
    chart->clearPoints();
    const bool perStep = chart == m_stepLoss || chart == m_learningRate || chart == m_gradNorm;
    for (auto it = m_runs.cbegin(); it != m_runs.cend(); ++it) {
        if (perStep)
            feedSteps(chart, it.key(), *it, it->steps.data(), it->steps.size());
        else
            feedEpochs(chart, it.key(), *it, 0);
    }
}

void MetricCharts::setLogScale(bool on) {
    for (LossChartView* chart : {m_stepLoss, m_epochLoss, m_gradNorm})
        chart->setLogScale(on);
}

void MetricCharts::flush() {
    for (LossChartView* chart : m_charts)
        chart->flush();
}

void MetricCharts::showRunHealth(RunId id, const QString& label,
                                 const std::vector<LayerHealthSample>& samples,
                                 const std::vector<WeightHistogram>& histograms,
                                 const std::vector<HealthFlag>& flags) {
    m_healthRun = id;
    m_health->setRun(label, samples, histograms, flags);
}

void MetricCharts::appendRunHealth(RunId id, const std::vector<LayerHealthSample>& samples,
                                   const std::vector<WeightHistogram>& histograms,
                                   const std::vector<HealthFlag>& flags) {
    if (id == 0 || id != m_healthRun)
        return;
    m_health->appendSamples(samples);
    m_health->appendHistograms(histograms);
    m_health->setFlags(flags);
}

void MetricCharts::clearRunHealth() {
    m_healthRun = 0;
    m_health->clear();
}

} // namespace tunelab
