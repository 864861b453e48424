// LossChartView: the curves, their Qt Charts series and axes, and the frame that redraws them. The
// toolbar, zoom, hover and export are in loss_chart_interaction.cpp; how points are kept and
// decimated is in chart_decimation.cpp.
#include "widgets/loss_chart_view.h"

#include "widgets/chart_canvas.h"

#include <QChart>
#include <QComboBox>
#include <QLabel>
#include <QLegend>
#include <QLegendMarker>
#include <QLineSeries>
#include <QLogValueAxis>
#include <QPainter>
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

constexpr int kTickCount = 6;
constexpr float kFaintMix = 0.35f;           // of the run colour in the faint raw line, the rest white
constexpr qsizetype kAntialiasPoints = 8000; // drawn points over all lines, at most, for antialiasing

// Tableau 10: distinct on white and for the common kinds of colour blindness.
constexpr std::array<QRgb, 10> kPalette = {0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd,
                                           0x8c564b, 0xe377c2, 0x7f7f7f, 0xbcbd22, 0x17becf};

// Sets a flag for the lifetime of a scope.
class FlagGuard {
public:
    explicit FlagGuard(bool& flag)
        : m_flag(flag)
        , m_old(flag) {
        m_flag = true;
    }
    ~FlagGuard() { m_flag = m_old; }
    FlagGuard(const FlagGuard&) = delete;
    FlagGuard& operator=(const FlagGuard&) = delete;

private:
    bool& m_flag;
    bool m_old;
};

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
    m_axisYLinear = new QValueAxis(this);
    m_axisYLinear->setLabelFormat(QStringLiteral("%.3g"));
    m_axisYLinear->setRange(0.0, 1.0);
    m_axisYLog = new QLogValueAxis(this);
    m_axisYLog->setLabelFormat(QStringLiteral("%.3g"));
    m_axisYLog->setBase(10.0);
    m_axisYLog->setMinorTickCount(-1);
    m_axisYLog->setRange(0.01, 1.0);
    m_niceAxis = new QValueAxis(this);
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
    connect(reset, &QShortcut::activated, this, &LossChartView::resetZoom);

    m_frameTimer->setSingleShot(true);
    m_frameTimer->setInterval(kFrameIntervalMs);
    connect(m_frameTimer, &QTimer::timeout, this, &LossChartView::drawFrame);
    // A wider or narrower plot needs a new decimation of every curve.
    connect(m_chart, &QChart::plotAreaChanged, this, [this](const QRectF&) {
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
    std::unique_ptr<Line>& slot = curve.lines[static_cast<size_t>(trace)];
    if (slot)
        return *slot;
    slot = std::make_unique<Line>();
    Line& line = *slot;
    FlagGuard guard(m_applyingRange);
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
    connect(line.bold, &QLineSeries::hovered, this,
            [this, key, trace](const QPointF& point, bool state) { handleHover(key, trace, point, state); });
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
    const QColor color = colorForKey(key);
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
    FlagGuard guard(m_applyingRange);
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
        FlagGuard guard(m_applyingRange);
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
    return found->second.lines[static_cast<size_t>(trace)]->bold->points();
}

QList<QPointF> LossChartView::displayedRawPoints(qint64 key, Trace trace) const {
    auto found = m_curves.find(key);
    if (found == m_curves.end() || !found->second.lines[static_cast<size_t>(trace)])
        return {};
    return found->second.lines[static_cast<size_t>(trace)]->faint->points();
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
        FlagGuard guard(m_applyingRange);
        QAbstractAxis* oldAxis = yAxis();
        for (auto& [key, curve] : m_curves) {
            for (auto& line : curve.lines) {
                if (!line)
                    continue;
                for (QLineSeries* series : {line->bold, line->faint}) {
                    series->detachAxis(oldAxis);
                    series->clear(); // no y <= 0 may meet the log axis; flush() below draws them again
                }
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

QString LossChartView::yAxisTitle() const {
    return m_axisYLinear->titleText();
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

void LossChartView::flush() {
    m_frameTimer->stop();
    drawFrame();
}

void LossChartView::markAllDirty() {
    for (auto& [key, curve] : m_curves) {
        for (auto& line : curve.lines) {
            if (line)
                line->dirty = true;
        }
    }
}

void LossChartView::scheduleFrame() {
    // A chart in a hidden tab only keeps its points; it draws once when shown (see showEvent).
    if (!isVisible()) {
        m_frameDeferred = true;
        return;
    }
    if (!m_frameTimer->isActive())
        m_frameTimer->start();
}

void LossChartView::showEvent(QShowEvent* event) {
    QWidget::showEvent(event);
    if (m_frameDeferred) {
        m_frameDeferred = false;
        markAllDirty();
        scheduleFrame();
    }
}

void LossChartView::drawFrame() {
    // Qt Charts lays out (and strokes, for hit tests) every series each time an axis range or its
    // points change. So: decimate first, empty the series about to change, set the axes once, then
    // hand each series its points with one replace(). Each changed series is laid out once a frame.
    const AxisRange x = xRangeToShow();
    int columns = plotColumns();
    // The columns a line is decimated to: every pixel column while the point budget allows it.
    auto linesColumns = [this](int plot) {
        int lines = 0;
        for (const auto& [key, curve] : m_curves) {
            for (const auto& line : curve.lines) {
                if (curve.visible && line && !line->points.empty())
                    lines += m_smoothing > 0.0 ? 2 : 1;
            }
        }
        return budgetedColumns(m_pointBudget, lines, plot);
    };
    int lineColumns = linesColumns(columns);
    const bool redrawAll = columns != m_drawnColumns || lineColumns != m_lineColumns ||
                           x.min != m_drawnXMin || x.max != m_drawnXMax;

    struct Pending {
        Line* line;
        bool visible;
        QList<QPointF> bold;
        QList<QPointF> faint;
    };
    std::vector<Pending> pending;
    for (auto& [key, curve] : m_curves) {
        for (auto& line : curve.lines) {
            if (!line || (!line->dirty && !redrawAll))
                continue;
            line->dirty = false;
            pending.push_back(Pending{line.get(), curve.visible, {}, {}});
        }
    }
    for (Pending& p : pending)
        decimateLine(*p.line, p.visible, x.min, x.max, lineColumns, p.bold, p.faint);
    const AxisRange y = yRangeToShow();
    {
        FlagGuard guard(m_applyingRange);
        for (Pending& p : pending) {
            if (p.line->bold->count() > 0)
                p.line->bold->clear();
            if (p.line->faint->count() > 0)
                p.line->faint->clear();
        }
        m_axisX->setTickCount(x.ticks);
        m_axisX->setRange(x.min, x.max);
        if (m_logScale) {
            m_axisYLog->setRange(y.min, y.max);
        } else {
            m_axisYLinear->setTickCount(y.ticks);
            m_axisYLinear->setRange(y.min, y.max);
        }
    }
    // New tick labels can change the plot's width; the y range does not depend on the columns.
    if (plotColumns() != columns) {
        columns = plotColumns();
        lineColumns = linesColumns(columns);
        for (Pending& p : pending)
            decimateLine(*p.line, p.visible, x.min, x.max, lineColumns, p.bold, p.faint);
    }
    m_lineColumns = lineColumns;
    m_drawnColumns = columns;
    m_drawnXMin = x.min;
    m_drawnXMax = x.max;
    for (Pending& p : pending) {
        if (!p.bold.isEmpty())
            p.line->bold->replace(p.bold);
        if (!p.faint.isEmpty())
            p.line->faint->replace(p.faint);
    }
    if (pending.empty())
        return;
    // Antialiased or wide lines cost several times as much to lay out and paint: many long curves
    // are drawn with thin, aliased lines.
    qsizetype drawnPoints = 0;
    for (const auto& [key, curve] : m_curves) {
        for (const auto& line : curve.lines) {
            if (line)
                drawnPoints += line->bold->count() + line->faint->count();
        }
    }
    const bool lite = drawnPoints > kAntialiasPoints;
    if (lite != m_lite) {
        // Thin pens without antialiasing take the raster engine's fast path for lines.
        m_lite = lite;
        m_view->setRenderHint(QPainter::Antialiasing, !lite);
        for (auto& [key, curve] : m_curves) {
            for (size_t t = 0; t < curve.lines.size(); ++t) {
                if (curve.lines[t])
                    styleLine(key, Trace(t), *curve.lines[t]);
            }
        }
    }
    Q_EMIT frameDrawn();
}

void LossChartView::decimateLine(Line& line, bool visible, double xMin, double xMax, int columns,
                                 QList<QPointF>& boldPoints, QList<QPointF>& faintPoints) {
    line.drawn = YBounds();
    if (!visible || line.points.empty())
        return;
    line.drawn = line.points.decimate(m_smoothing, xMin, xMax, columns, m_logScale, boldPoints, faintPoints);
}

LossChartView::AxisRange LossChartView::niceRange(double min, double max) const {
    // applyNiceNumbers() on a spare axis: the chart's axes change once a frame, not three times.
    FlagGuard guard(m_applyingRange);
    m_niceAxis->setTickCount(kTickCount);
    m_niceAxis->setRange(min, max);
    m_niceAxis->applyNiceNumbers();
    return {m_niceAxis->min(), m_niceAxis->max(), m_niceAxis->tickCount()};
}

LossChartView::AxisRange LossChartView::xRangeToShow() const {
    if (!m_autoX)
        return {m_zoomXMin, m_zoomXMax, kTickCount};
    // The shown curves decide the range; all of them while every curve is hidden.
    double low = 0.0;
    double high = -1.0;
    bool any = false;
    for (bool visibleOnly : {true, false}) {
        for (const auto& [key, curve] : m_curves) {
            if (visibleOnly && !curve.visible)
                continue;
            for (const auto& line : curve.lines) {
                if (!line || line->points.empty())
                    continue;
                low = any ? std::min(low, line->points.xMin) : line->points.xMin;
                high = any ? std::max(high, line->points.xMax) : line->points.xMax;
                any = true;
            }
        }
        if (any)
            break;
    }
    if (!any)
        return {0.0, 100.0, kTickCount}; // whole-number step labels while empty
    // Round tick values (0, 250, 500 rather than 1, 5001); steps start near 0 anyway.
    return niceRange(std::min(low, 0.0), std::max(high, low + 1.0));
}

LossChartView::AxisRange LossChartView::yRangeToShow() const {
    if (!m_autoY)
        return {m_zoomYMin, m_zoomYMax, kTickCount};
    // The y range fits the points drawn (in the visible x range, of the shown curves).
    YBounds drawn;
    for (const auto& [key, curve] : m_curves) {
        for (const auto& line : curve.lines) {
            if (line)
                drawn.merge(line->drawn);
        }
    }
    const double yMin = drawn.yMin;
    const double yMax = drawn.yMax;
    const double yMinPositive = drawn.yMinPositive;
    if (m_logScale) {
        if (yMinPositive <= 0.0)
            return {0.01, 1.0, kTickCount};
        // Whole decades: a log axis labels the powers of ten only, so each end gets a label.
        const double low = std::pow(10.0, std::floor(std::log10(yMinPositive)));
        const double high = std::pow(10.0, std::ceil(std::log10(yMax)));
        return {low, std::max(high, low * 10.0), kTickCount};
    }
    if (yMin > yMax)
        return {0.0, 1.0, kTickCount};
    const double span = yMax - yMin;
    const double pad = span > 0.0 ? 0.05 * span : std::max(0.5 * std::abs(yMax), 0.5);
    double low = yMin - pad;
    if (yMin >= 0.0 && low < 0.0)
        low = 0.0; // a loss is not negative; don't show room for it
    return niceRange(low, yMax + pad);
}

QAbstractAxis* LossChartView::yAxis() const {
    return m_logScale ? static_cast<QAbstractAxis*>(m_axisYLog) : m_axisYLinear;
}

void LossChartView::attachYAxis(QLineSeries* series) {
    series->attachAxis(yAxis());
}

} // namespace tunelab
