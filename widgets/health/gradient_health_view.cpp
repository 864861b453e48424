#include "health/gradient_health_view.h"

#include "charts/loss_chart_view.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QPainter>
#include <QResizeEvent>
#include <QScrollArea>
#include <QSplitter>
#include <QStyle>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

namespace tunelab {

GradientHealthView::GradientHealthView(QWidget* parent)
    : QWidget(parent) {
    m_title = new QLabel(tr("No run selected"));
    m_flagList = new QListWidget;
    m_flagList->setWordWrap(true);
    m_flagList->setMaximumHeight(110);
    m_flagList->setAlternatingRowColors(true);
    m_gradNorms = new LossChartView(LossChartView::Metric::GradNorm);
    m_gradNorms->setAxisTitles(tr("Step"), tr("Gradient norm per layer"));
    m_gradNorms->setLogScale(true);
    m_updateRatios = new LossChartView(LossChartView::Metric::GradNorm);
    m_updateRatios->setAxisTitles(tr("Step"), tr("Update / weight ratio"));
    m_updateRatios->setLogScale(true);
    m_epochBox = new QComboBox;
    m_epochBox->setToolTip(tr("The epoch whose weight histograms are shown"));
    m_strip = new WeightHistogramStrip;

    // Starts one above the other, so the view asks only one chart's width of the window.
    m_charts = new QSplitter(Qt::Vertical);
    m_charts->addWidget(m_gradNorms);
    m_charts->addWidget(m_updateRatios);
    auto* histogramHeader = new QHBoxLayout;
    histogramHeader->addWidget(new QLabel(tr("Weight histograms at the end of epoch")));
    histogramHeader->addWidget(m_epochBox);
    histogramHeader->addStretch(1);
    // The panel scrolls rather than squeezing its charts into strips: each chart keeps a height
    // a curve can be read in, and the window keeps its size on a 1280x800 screen.
    for (LossChartView* chart : {m_gradNorms, m_updateRatios})
        chart->setMinimumHeight(kMinimumChartHeight);
    m_strip->setMinimumHeight(kMinimumStripHeight);
    auto* content = new QWidget;
    auto* layout = new QVBoxLayout(content);
    layout->addWidget(m_title);
    layout->addWidget(m_flagList);
    layout->addWidget(m_charts, 3);
    layout->addLayout(histogramHeader);
    layout->addWidget(m_strip, 1);
    auto* scroll = new QScrollArea;
    scroll->setObjectName(QStringLiteral("gradientHealthScroll"));
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    scroll->setWidget(content);
    auto* outer = new QVBoxLayout(this);
    outer->setContentsMargins(0, 0, 0, 0);
    outer->addWidget(scroll);

    connect(m_epochBox, &QComboBox::currentIndexChanged, this, [this] { updateStrip(); });
    clear();
}

Qt::Orientation GradientHealthView::chartsOrientation() const {
    return m_charts->orientation();
}

void GradientHealthView::resizeEvent(QResizeEvent* event) {
    QWidget::resizeEvent(event);
    const int sideBySide = m_gradNorms->minimumSizeHint().width() +
                           m_updateRatios->minimumSizeHint().width() + m_charts->handleWidth() + 24;
    const Qt::Orientation wanted = width() >= sideBySide ? Qt::Horizontal : Qt::Vertical;
    if (m_charts->orientation() != wanted)
        m_charts->setOrientation(wanted);
}

void GradientHealthView::clear() {
    m_runName.clear();
    m_title->setText(tr("No run selected"));
    m_gradNorms->clear();
    m_updateRatios->clear();
    m_layers.clear();
    m_histograms.clear();
    setFlags({});
    refreshEpochChoices();
}

void GradientHealthView::setRun(const QString& name, const std::vector<LayerHealthSample>& samples,
                                const std::vector<WeightHistogram>& histograms,
                                const std::vector<HealthFlag>& flags) {
    clear();
    m_runName = name;
    m_title->setText(tr("Gradient health of %1").arg(name));
    m_flags = flags; // before the curves, so their labels name the flags
    setFlags(flags);
    appendSamples(samples);
    appendHistograms(histograms);
}

QString GradientHealthView::layerLabel(int32_t layer) const {
    QString label = tr("layer %1").arg(layer);
    for (const HealthFlag& flag : m_flags) {
        if (flag.layer == layer)
            label += QStringLiteral(" \u26A0 ") + QString::fromUtf8(toString(flag.kind));
    }
    return label;
}

void GradientHealthView::addLayerCurve(int32_t layer) {
    m_layers.insert(layer);
    m_gradNorms->addSeries(layer, layerLabel(layer));
    m_updateRatios->addSeries(layer, layerLabel(layer));
}

void GradientHealthView::appendSamples(const std::vector<LayerHealthSample>& samples) {
    std::map<int32_t, QVector<QPointF>> norms, ratios;
    for (const LayerHealthSample& sample : samples) {
        const auto x = static_cast<double>(sample.step);
        norms[sample.layer].append(QPointF(x, sample.gradNorm));
        ratios[sample.layer].append(QPointF(x, sample.updateRatio));
    }
    for (auto& [layer, points] : norms) {
        if (!m_gradNorms->hasSeries(layer))
            addLayerCurve(layer);
        m_gradNorms->appendPoints(layer, points);
        m_updateRatios->appendPoints(layer, ratios[layer]);
    }
}

void GradientHealthView::appendHistograms(const std::vector<WeightHistogram>& histograms) {
    if (histograms.empty())
        return;
    const bool followLatest =
        m_epochBox->currentIndex() < 0 || m_epochBox->currentIndex() == m_epochBox->count() - 1;
    for (const WeightHistogram& histogram : histograms) {
        auto same = std::find_if(m_histograms.begin(), m_histograms.end(), [&](const WeightHistogram& kept) {
            return kept.epoch == histogram.epoch && kept.layer == histogram.layer;
        });
        if (same != m_histograms.end())
            *same = histogram;
        else
            m_histograms.push_back(histogram);
    }
    const int shown = shownEpoch();
    refreshEpochChoices();
    if (!followLatest && shown > 0)
        showEpoch(shown);
}

void GradientHealthView::setFlags(const std::vector<HealthFlag>& flags) {
    // A live run reports its flags on every batch of samples; the list and the legends change only
    // when the flags do (rebuilding them each time relays out the panel).
    QStringList shown;
    for (const HealthFlag& flag : flags)
        shown << QString::fromStdString(flag.message + '\n' + flag.advice);
    shown << m_runName;
    if (shown == m_shownFlags && m_flagList->count() > 0)
        return;
    m_shownFlags = shown;
    m_flags = flags;
    m_flagList->clear();
    const QIcon warning = style()->standardIcon(QStyle::SP_MessageBoxWarning);
    for (const HealthFlag& flag : flags) {
        auto* item = new QListWidgetItem(warning, QString::fromStdString(flag.message) + QLatin1Char('\n') +
                                                      QString::fromStdString(flag.advice));
        item->setToolTip(QString::fromStdString(flag.advice));
        m_flagList->addItem(item);
    }
    if (flags.empty())
        m_flagList->addItem(m_runName.isEmpty() ? tr("No run selected.")
                                                : tr("No vanishing or exploding gradients seen."));
    // Relabel the curves so that a flagged layer says so in the legends.
    for (int32_t layer : m_layers) {
        m_gradNorms->addSeries(layer, layerLabel(layer));
        m_updateRatios->addSeries(layer, layerLabel(layer));
    }
}

int GradientHealthView::flagCount() const {
    return static_cast<int>(m_flags.size());
}

QString GradientHealthView::flagText(int row) const {
    if (row < 0 || row >= flagCount())
        return QString();
    return m_flagList->item(row)->text();
}

std::vector<int> GradientHealthView::histogramEpochs() const {
    std::set<int> epochs;
    for (const WeightHistogram& histogram : m_histograms)
        epochs.insert(histogram.epoch);
    return std::vector<int>(epochs.begin(), epochs.end());
}

void GradientHealthView::refreshEpochChoices() {
    const QSignalBlocker blocker(m_epochBox);
    m_epochBox->clear();
    for (int epoch : histogramEpochs())
        m_epochBox->addItem(QString::number(epoch), epoch);
    m_epochBox->setCurrentIndex(m_epochBox->count() - 1);
    m_epochBox->setEnabled(m_epochBox->count() > 0);
    updateStrip();
}

int GradientHealthView::shownEpoch() const {
    return m_epochBox->currentIndex() < 0 ? 0 : m_epochBox->currentData().toInt();
}

void GradientHealthView::showEpoch(int epoch) {
    const int index = m_epochBox->findData(epoch);
    if (index >= 0)
        m_epochBox->setCurrentIndex(index);
}

const std::vector<WeightHistogram>& GradientHealthView::shownHistograms() const {
    return m_strip->histograms();
}

void GradientHealthView::updateStrip() {
    const int epoch = shownEpoch();
    std::vector<WeightHistogram> shown;
    for (const WeightHistogram& histogram : m_histograms) {
        if (histogram.epoch == epoch)
            shown.push_back(histogram);
    }
    std::sort(shown.begin(), shown.end(),
              [](const WeightHistogram& a, const WeightHistogram& b) { return a.layer < b.layer; });
    m_strip->setHistograms(std::move(shown));
}

WeightHistogramStrip::WeightHistogramStrip(QWidget* parent)
    : QWidget(parent) {
    setMinimumHeight(90);
}

void WeightHistogramStrip::setHistograms(std::vector<WeightHistogram> histograms) {
    m_histograms = std::move(histograms);
    update();
}

QSize WeightHistogramStrip::sizeHint() const {
    return QSize(480, 140);
}

void WeightHistogramStrip::paintEvent(QPaintEvent*) {
    QPainter painter(this);
    painter.fillRect(rect(), palette().base());
    if (m_histograms.empty()) {
        painter.setPen(palette().color(QPalette::PlaceholderText));
        painter.drawText(rect(), Qt::AlignCenter, tr("No weight histograms yet (one per epoch)"));
        return;
    }
    const int count = static_cast<int>(m_histograms.size());
    const int gap = 8;
    const int cellWidth = std::max(20, (width() - gap * (count + 1)) / count);
    const int textHeight = fontMetrics().height();
    for (int i = 0; i < count; ++i) {
        const WeightHistogram& histogram = m_histograms[static_cast<size_t>(i)];
        const QRect cell(gap + i * (cellWidth + gap), gap, cellWidth, height() - 2 * gap);
        const QRect plot = cell.adjusted(0, textHeight, 0, -textHeight);
        painter.setPen(palette().color(QPalette::Text));
        painter.drawText(QRect(cell.left(), cell.top(), cell.width(), textHeight), Qt::AlignCenter,
                         tr("layer %1").arg(histogram.layer));
        painter.drawText(QRect(cell.left(), plot.bottom(), cell.width(), textHeight),
                         Qt::AlignLeft | Qt::AlignVCenter, QString::number(histogram.low, 'g', 2));
        painter.drawText(QRect(cell.left(), plot.bottom(), cell.width(), textHeight),
                         Qt::AlignRight | Qt::AlignVCenter, QString::number(histogram.high, 'g', 2));
        const int bins = static_cast<int>(histogram.counts.size());
        const int32_t tallest =
            bins > 0 ? *std::max_element(histogram.counts.begin(), histogram.counts.end()) : 0;
        painter.setPen(palette().color(QPalette::Mid));
        painter.drawRect(plot.adjusted(0, 0, -1, -1));
        if (tallest <= 0)
            continue;
        const QColor bar = LossChartView::colorForKey(histogram.layer);
        for (int bin = 0; bin < bins; ++bin) {
            const double left = plot.left() + plot.width() * static_cast<double>(bin) / bins;
            const double right = plot.left() + plot.width() * static_cast<double>(bin + 1) / bins;
            const double barHeight =
                plot.height() * static_cast<double>(histogram.counts[static_cast<size_t>(bin)]) / tallest;
            painter.fillRect(
                QRectF(left, plot.bottom() - barHeight, std::max(1.0, right - left - 1), barHeight), bar);
        }
    }
}

} // namespace tunelab
