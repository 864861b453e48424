// LossChartView: the curves, their Qt Charts series and their settings. The frame that redraws them
// and the axis ranges are in loss_chart_frame.cpp; the toolbar, zoom, hover and export in
// loss_chart_interaction.cpp; how points are kept and decimated in chart_decimation.cpp.
#include "charts/loss_chart_view.h"

#include "charts/chart_canvas.h"

#include <QChart>
#include <QComboBox>
#include <QLabel>
#include <QLegend>
#include <QLegendMarker>
#include <QLineSeries>
#include <QLogValueAxis>
#include <QPainter>
#include <QScopedValueRollback>
#include <QShortcut>
#include <QSignalBlocker>
#include <QSlider>
#include <QTimer>
#include <QToolButton>
#include <QVBoxLayout>
#include <QValueAxis>

#include <algorithm>
#include <cmath>

namespace tunelab {

namespace {

constexpr float kFaintMix = 0.35f; // of the run colour in the faint raw line, the rest white

// Tableau 10: distinct on white and for the common kinds of colour blindness.
// Twelve colours told apart at a glance (Tableau's ten, then indigo and olive).
constexpr std::array<QRgb, 12> kPalette = {0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd, 0x8c564b,
                                           0xe377c2, 0x7f7f7f, 0xbcbd22, 0x17becf, 0x393b79, 0x637939};

QString defaultYTitle(LossChartView::Metric metric) {
    switch (metric) {
    case LossChartView::Metric::StepLoss:
        return LossChartView::tr("train loss");
    case LossChartView::Metric::EpochLoss:
        return LossChartView::tr("loss (validation dashed)");
    case LossChartView::Metric::ValAccuracy:
        return LossChartView::tr("validation accuracy");
    case LossChartView::Metric::ValMae:
        return LossChartView::tr("validation MAE");
    case LossChartView::Metric::LearningRate:
        return LossChartView::tr("learning rate");
    case LossChartView::Metric::GradNorm:
        return LossChartView::tr("gradient norm");
    }
    return QString();
}

LossChartView::XAxisMode defaultXMode(LossChartView::Metric metric) {
    switch (metric) {
    case LossChartView::Metric::EpochLoss:
    case LossChartView::Metric::ValAccuracy:
    case LossChartView::Metric::ValMae:
        return LossChartView::XAxisMode::Epoch;
    default:
        return LossChartView::XAxisMode::Step;
    }
}

QString xTitle(LossChartView::XAxisMode mode) {
    switch (mode) {
    case LossChartView::XAxisMode::Step:
        return LossChartView::tr("step");
    case LossChartView::XAxisMode::Epoch:
        return LossChartView::tr("epoch");
    case LossChartView::XAxisMode::WallTime:
        return LossChartView::tr("time (s)");
    }
    return QString();
}

} // namespace

LossChartView::LossChartView(QWidget* parent)
    : LossChartView(Metric::StepLoss, parent) {}

LossChartView::LossChartView(Metric metric, QWidget* parent)
    : QWidget(parent)
    , m_chart(new QChart)
    , m_frameTimer(new QTimer(this)) {
    m_chart->legend()->setAlignment(Qt::AlignBottom);
    m_chart->setMargins(QMargins(4, 4, 8, 4));
    m_chart->setBackgroundRoundness(0.0);
    // Decimated curves hold a few thousand points at most, which the raster painter draws
    // quickly; OpenGL series would also go missing from QWidget::grab() screenshots and PNGs.

    m_axisX = new QValueAxis(this);
    m_axisX->setLabelFormat(QStringLiteral("%.6g"));
    m_axisX->setRange(0.0, 100.0);
    m_axisX->setTickType(QValueAxis::TicksDynamic);
    m_axisX->setTickAnchor(0.0);
    m_axisX->setTickInterval(20.0);
    m_axisYLinear = new QValueAxis(this);
    m_axisYLinear->setLabelFormat(QStringLiteral("%.3g"));
    m_axisYLinear->setRange(0.0, 1.0);
    m_axisYLinear->setTickType(QValueAxis::TicksDynamic);
    m_axisYLinear->setTickAnchor(0.0);
    m_axisYLinear->setTickInterval(0.2);
    m_axisYLog = new QLogValueAxis(this);
    m_axisYLog->setLabelFormat(QStringLiteral("%.3g"));
    m_axisYLog->setBase(10.0);
    m_axisYLog->setMinorTickCount(-1);
    m_axisYLog->setRange(0.01, 1.0);
    m_chart->addAxis(m_axisX, Qt::AlignBottom);
    m_chart->addAxis(m_axisYLinear, Qt::AlignLeft);
    // Ranges we did not set come from the rubber band or panning: they switch to a fixed range.
    connect(m_axisX, &QValueAxis::rangeChanged, this, [this] { handleAxisRangeChanged(true); });
    connect(m_axisYLinear, &QValueAxis::rangeChanged, this, [this] { handleAxisRangeChanged(false); });
    connect(m_axisYLog, &QLogValueAxis::rangeChanged, this, [this] { handleAxisRangeChanged(false); });

    m_view = new ChartCanvas(m_chart, this); // takes ownership of the chart
    m_view->setRenderHint(QPainter::Antialiasing);
    buildToolBar();
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(0);
    layout->addWidget(m_toolBar);
    layout->addWidget(m_view, 1);

    auto* reset = new QShortcut(QKeySequence(Qt::CTRL | Qt::Key_0), this);
    reset->setContext(Qt::WidgetWithChildrenShortcut);
    reset->setWhatsThis(tr("Reset the chart's zoom"));
    connect(reset, &QShortcut::activated, this, &LossChartView::resetZoom);

    m_frameTimer->setSingleShot(true);
    m_frameTimer->setInterval(kFrameIntervalMs);
    connect(m_frameTimer, &QTimer::timeout, this, &LossChartView::drawFrame);
    m_curveLayer = new CurveLayer(this, m_chart);
    // A wider or narrower plot needs a new decimation of every curve.
    connect(m_chart, &QChart::plotAreaChanged, this, [this](const QRectF&) {
        m_curveLayer->plotAreaChanged();
        if (plotColumns() != m_drawnColumns && !m_curves.empty())
            scheduleFrame();
    });
    setMetric(metric);
}

LossChartView::~LossChartView() = default;

void LossChartView::setMetric(Metric metric) {
    m_metric = metric;
    m_xMode = defaultXMode(metric);
    m_xModeBox->setCurrentIndex(m_xModeBox->findData(int(m_xMode)));
    setAxisTitles(xTitle(m_xMode), defaultYTitle(metric));
    clearPoints();
    m_autoX = m_autoY = true;
}

void LossChartView::addSeries(qint64 key, const QString& label) {
    auto found = m_curves.find(key);
    if (found != m_curves.end()) {
        found->second.label = label;
        for (size_t t = 0; t < found->second.lines.size(); ++t) {
            if (Line* line = found->second.lines[t].get()) {
                line->bold->setName(lineLabel(key, Trace(t)));
                line->faint->setName(line->bold->name());
            }
        }
        return;
    }
    m_curves[key].label = label;
    lineFor(key, Trace::Primary);
}

LossChartView::Line& LossChartView::lineFor(qint64 key, Trace trace) {
    Curve& curve = m_curves[key];
    if (curve.label.isNull())
        curve.label = QString::number(key);
    if (!curve.color.isValid())
        curve.color = freeColorFor(key);
    std::unique_ptr<Line>& slot = curve.lines[static_cast<size_t>(trace)];
    if (slot)
        return *slot;
    slot = std::make_unique<Line>();
    Line& line = *slot;
    const QScopedValueRollback<bool> guard(m_applyingRange, true);
    // The faint raw line first, so that the bold line is drawn over it.
    for (QLineSeries** series : {&line.faint, &line.bold}) {
        *series = new QLineSeries;
        m_chart->addSeries(*series); // takes ownership
        (*series)->attachAxis(m_axisX);
        attachYAxis(*series);
    }
    line.bold->setName(lineLabel(key, trace));
    line.faint->setName(line.bold->name());
    styleLine(key, trace, line);
    for (QLegendMarker* marker : m_chart->legend()->markers(line.faint))
        marker->setVisible(false);
    for (QLegendMarker* marker : m_chart->legend()->markers(line.bold)) {
        if (trace != Trace::Primary) {
            marker->setVisible(false); // one legend entry per run
            continue;
        }
        connect(marker, &QLegendMarker::clicked, this,
                [this, key] { setSeriesVisible(key, !isSeriesVisible(key)); });
    }
    updateLegendMarker(key);
    return line;
}

QString LossChartView::lineLabel(qint64 key, Trace trace) const {
    auto found = m_curves.find(key);
    const QString label = found == m_curves.end() ? QString::number(key) : found->second.label;
    if (trace == Trace::Validation)
        return tr("%1 (validation)").arg(label);
    return label;
}

void LossChartView::styleLine(qint64 key, Trace trace, Line& line) const {
    const QColor color = seriesColor(key);
    QPen bold(color, m_lite ? 1.0 : 2.0);
    if (trace == Trace::Validation)
        bold.setStyle(Qt::DashLine);
    line.bold->setPen(bold);
    // An opaque tint rather than a translucent pen: the raster engine blends translucent lines
    // span by span (with a thread hand-off each), hundreds of times slower for long noisy curves.
    const QColor faint = QColor::fromRgbF(kFaintMix * color.redF() + (1.0f - kFaintMix),
                                          kFaintMix * color.greenF() + (1.0f - kFaintMix),
                                          kFaintMix * color.blueF() + (1.0f - kFaintMix));
    QPen faintPen(faint, 1.0);
    if (trace == Trace::Validation)
        faintPen.setStyle(Qt::DashLine);
    line.faint->setPen(faintPen);
}

void LossChartView::updateLegendMarker(qint64 key) {
    auto found = m_curves.find(key);
    if (found == m_curves.end() || !found->second.lines[0])
        return;
    const bool visible = found->second.visible;
    for (QLegendMarker* marker : m_chart->legend()->markers(found->second.lines[0]->bold)) {
        QFont font = marker->font();
        font.setStrikeOut(!visible);
        marker->setFont(font);
        marker->setLabelBrush(visible ? m_chart->legend()->labelColor() : QColor(Qt::gray));
    }
}

void LossChartView::appendPoints(qint64 key, const QVector<QPointF>& points) {
    appendPoints(key, points, Trace::Primary);
}

void LossChartView::appendPoints(qint64 key, const QVector<QPointF>& points, Trace trace) {
    Line& line = lineFor(key, trace);
    if (line.points.append(points)) {
        line.dirty = true;
        scheduleFrame();
    }
}

void LossChartView::releaseLine(Line& line) {
    const QScopedValueRollback<bool> guard(m_applyingRange, true);
    for (QLineSeries* series : {line.bold, line.faint}) {
        std::unique_ptr<QLineSeries> owned(series);
        m_chart->removeSeries(series); // hands ownership back
    }
}

void LossChartView::removeSeries(qint64 key) {
    auto found = m_curves.find(key);
    if (found == m_curves.end())
        return;
    for (auto& line : found->second.lines) {
        if (line)
            releaseLine(*line);
    }
    m_curves.erase(found);
    markAllDirty();
    scheduleFrame();
}

void LossChartView::clear() {
    m_frameTimer->stop();
    {
        const QScopedValueRollback<bool> guard(m_applyingRange, true);
        m_chart->removeAllSeries(); // deletes the series
    }
    m_curves.clear();
    m_autoX = m_autoY = true;
    drawFrame(); // empty axes
}

void LossChartView::clearPoints() {
    for (auto& [key, curve] : m_curves) {
        for (auto& line : curve.lines) {
            if (!line)
                continue;
            line->points.clear();
            line->dirty = true;
        }
    }
    if (!m_curves.empty())
        scheduleFrame();
}

bool LossChartView::hasSeries(qint64 key) const {
    return m_curves.count(key) != 0;
}

int LossChartView::seriesCount() const {
    return static_cast<int>(m_curves.size());
}

QString LossChartView::seriesLabel(qint64 key) const {
    auto found = m_curves.find(key);
    return found == m_curves.end() ? QString() : found->second.label;
}

qsizetype LossChartView::pointCount(qint64 key, Trace trace) const {
    auto found = m_curves.find(key);
    if (found == m_curves.end() || !found->second.lines[static_cast<size_t>(trace)])
        return 0;
    return static_cast<qsizetype>(found->second.lines[static_cast<size_t>(trace)]->points.size());
}

QList<QPointF> LossChartView::displayedPoints(qint64 key, Trace trace) const {
    auto found = m_curves.find(key);
    if (found == m_curves.end() || !found->second.lines[static_cast<size_t>(trace)])
        return {};
    return found->second.lines[static_cast<size_t>(trace)]->boldShown;
}

QList<QPointF> LossChartView::displayedRawPoints(qint64 key, Trace trace) const {
    auto found = m_curves.find(key);
    if (found == m_curves.end() || !found->second.lines[static_cast<size_t>(trace)])
        return {};
    return found->second.lines[static_cast<size_t>(trace)]->faintShown;
}

QColor LossChartView::seriesColor(qint64 key) const {
    const auto found = m_curves.find(key);
    return found != m_curves.end() && found->second.color.isValid() ? found->second.color : colorForKey(key);
}

QColor LossChartView::freeColorFor(qint64 key) const {
    const auto usedElsewhere = [this, key](const QColor& color) {
        for (const auto& [other, curve] : m_curves) {
            if (other != key && curve.color == color)
                return true;
        }
        return false;
    };
    const QColor preferred = colorForKey(key);
    if (!usedElsewhere(preferred))
        return preferred;
    for (QRgb rgb : kPalette) {
        if (!usedElsewhere(QColor::fromRgb(rgb)))
            return QColor::fromRgb(rgb);
    }
    return preferred; // more curves than colours
}

QColor LossChartView::colorForKey(qint64 key) {
    const qint64 size = static_cast<qint64>(kPalette.size());
    // Run ids start at 1; the first run gets the first colour.
    return QColor::fromRgb(kPalette[static_cast<size_t>(((key - 1) % size + size) % size)]);
}

void LossChartView::setSeriesVisible(qint64 key, bool visible) {
    auto found = m_curves.find(key);
    if (found == m_curves.end() || found->second.visible == visible)
        return;
    found->second.visible = visible;
    updateLegendMarker(key);
    markAllDirty(); // the automatic ranges follow the shown curves only
    scheduleFrame();
    Q_EMIT seriesVisibilityChanged(key, visible);
}

bool LossChartView::isSeriesVisible(qint64 key) const {
    auto found = m_curves.find(key);
    return found != m_curves.end() && found->second.visible;
}

void LossChartView::setSmoothing(double amount) {
    amount = std::isfinite(amount) ? std::clamp(amount, 0.0, 0.99) : 0.0;
    if (amount == m_smoothing)
        return;
    m_smoothing = amount;
    for (auto& [key, curve] : m_curves) {
        for (auto& line : curve.lines) {
            if (!line)
                continue;
            line->points.resetSmoothing(amount == 0.0);
        }
    }
    {
        const QSignalBlocker blocker(m_smoothingSlider);
        m_smoothingSlider->setValue(qRound(amount * 100.0));
    }
    m_smoothingLabel->setText(QString::number(amount, 'f', 2));
    markAllDirty();
    scheduleFrame();
    Q_EMIT smoothingChanged(amount);
}

void LossChartView::setLogScale(bool on) {
    if (on == m_logScale)
        return;
    {
        const QScopedValueRollback<bool> guard(m_applyingRange, true);
        QAbstractAxis* oldAxis = yAxis();
        for (auto& [key, curve] : m_curves) {
            for (auto& line : curve.lines) {
                if (!line)
                    continue;
                for (QLineSeries* series : {line->bold, line->faint})
                    series->detachAxis(oldAxis);
                line->boldShown.clear(); // flush() below decimates them again for the new axis
                line->faintShown.clear();
            }
        }
        m_chart->removeAxis(oldAxis);
        oldAxis->setParent(this); // the chart released it; keep it for the next switch
        m_logScale = on;
        m_chart->addAxis(yAxis(), Qt::AlignLeft);
        for (auto& [key, curve] : m_curves) {
            for (auto& line : curve.lines) {
                if (!line)
                    continue;
                attachYAxis(line->bold);
                attachYAxis(line->faint);
            }
        }
    }
    m_autoY = true; // a zoomed linear range means nothing on a log axis
    {
        const QSignalBlocker blocker(m_logButton);
        m_logButton->setChecked(on);
    }
    markAllDirty();
    flush();
    Q_EMIT logScaleChanged(on);
}

void LossChartView::setAxisTitles(const QString& x, const QString& y) {
    m_axisX->setTitleText(x);
    m_axisYLinear->setTitleText(y);
    m_axisYLog->setTitleText(y);
}

QString LossChartView::xAxisTitle() const {
    return m_axisX->titleText();
}

void LossChartView::setXAxisMode(XAxisMode mode) {
    if (mode == m_xMode)
        return;
    m_xMode = mode;
    m_xModeBox->setCurrentIndex(m_xModeBox->findData(int(mode)));
    m_axisX->setTitleText(xTitle(mode));
    clearPoints();
    m_autoX = m_autoY = true;
    Q_EMIT xAxisModeChanged(mode);
}

void LossChartView::setPointBudget(int points) {
    m_pointBudget = std::max(points, 2 * kMinDecimationColumns);
    markAllDirty();
    scheduleFrame();
}

int LossChartView::plotColumns() const {
    const int width = qRound(m_chart->plotArea().width());
    if (width >= 16)
        return width;
    // Not laid out yet (hidden widget): assume a typical plot width.
    return std::max(640, this->width() - 80);
}

} // namespace tunelab
