#pragma once

#include "health/gradient_health.h"

#include <QString>
#include <QStringList>
#include <QWidget>

#include <set>
#include <vector>

class QComboBox;
class QLabel;
class QListWidget;
class QSplitter;

namespace tunelab {

class LossChartView;
class WeightHistogramStrip;

// The gradient health of one run (docs/gradient-health.md): each layer's gradient norm and
// update-to-weight ratio against the step (log y, one curve per layer), the layers' weight
// histograms at a chosen epoch side by side, and the flags with what usually helps. GUI thread only.
class GradientHealthView : public QWidget {
    Q_OBJECT

public:
    static constexpr int kMinimumChartHeight = 200; // per chart, before the panel scrolls
    static constexpr int kMinimumStripHeight = 110; // the weight histograms
    explicit GradientHealthView(QWidget* parent = nullptr);

    // Replaces what is shown. Flags usually come from detectHealthFlags(samples).
    void setRun(const QString& name, const std::vector<LayerHealthSample>& samples,
                const std::vector<WeightHistogram>& histograms, const std::vector<HealthFlag>& flags);
    // Live additions for the run shown (batched: one call per drain).
    void appendSamples(const std::vector<LayerHealthSample>& samples);
    void appendHistograms(const std::vector<WeightHistogram>& histograms);
    void setFlags(const std::vector<HealthFlag>& flags);
    void clear();

    QString runName() const { return m_runName; }
    LossChartView* gradNormChart() const { return m_gradNorms; }
    LossChartView* updateRatioChart() const { return m_updateRatios; }
    int flagCount() const;
    // The text of a flag row: the message, then the advice.
    QString flagText(int row) const;
    // Epochs with histograms, ascending; the shown one is the latest unless chosen.
    std::vector<int> histogramEpochs() const;
    int shownEpoch() const;
    void showEpoch(int epoch);
    // The histograms drawn now (one per layer of the shown epoch).
    const std::vector<WeightHistogram>& shownHistograms() const;
    // The two charts sit side by side where both fit at their minimum width, else one above the other.
    Qt::Orientation chartsOrientation() const;

protected:
    void resizeEvent(QResizeEvent* event) override;

private:
    void addLayerCurve(int32_t layer);
    void refreshEpochChoices();
    void updateStrip();
    QString layerLabel(int32_t layer) const;

    QString m_runName;
    QLabel* m_title = nullptr;
    QListWidget* m_flagList = nullptr;
    LossChartView* m_gradNorms = nullptr;
    LossChartView* m_updateRatios = nullptr;
    QSplitter* m_charts = nullptr;
    QComboBox* m_epochBox = nullptr;
    WeightHistogramStrip* m_strip = nullptr;
    std::vector<WeightHistogram> m_histograms;
    std::vector<HealthFlag> m_flags;
    QStringList m_shownFlags;   // what the flag list shows, to rebuild it only when it changes
    std::set<int32_t> m_layers; // layers with curves
};

// One small bar chart per layer, left to right, painted with QPainter.
class WeightHistogramStrip : public QWidget {
    Q_OBJECT

public:
    explicit WeightHistogramStrip(QWidget* parent = nullptr);
    void setHistograms(std::vector<WeightHistogram> histograms);
    const std::vector<WeightHistogram>& histograms() const { return m_histograms; }
    QSize sizeHint() const override;

protected:
    void paintEvent(QPaintEvent* event) override;

private:
    std::vector<WeightHistogram> m_histograms;
};

} // namespace tunelab
