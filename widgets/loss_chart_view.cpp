#include "widgets/loss_chart_view.h"

#include <QChart>
#include <QChartView>
#include <QComboBox>
#include <QCursor>
#include <QFile>
#include <QFileDialog>
#include <QGraphicsLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLegend>
#include <QLegendMarker>
#include <QLineSeries>
#include <QLogValueAxis>
#include <QMouseEvent>
#include <QPainter>
#include <QShortcut>
#include <QSignalBlocker>
#include <QSlider>
#include <QTimer>
#include <QToolButton>
#include <QToolTip>
#include <QVBoxLayout>
#include <QValueAxis>
#include <QWheelEvent>

#include <algorithm>
#include <cmath>
#include <limits>

namespace tunelab {

namespace {

constexpr int kTickCount = 6;
constexpr float kFaintMix = 0.35f; // of the run colour in the faint raw line, the rest white
constexpr size_t kBlockSize = LossChartView::kBlockSize;
using BlockExtremes = LossChartView::BlockExtremes;
constexpr int kMinColumns = 64;              // decimation columns per line, at least
constexpr qsizetype kAntialiasPoints = 8000; // drawn points over all lines, at most, for antialiasing

// Tableau 10: distinct on white and for the common kinds of colour blindness.
constexpr std::array<QRgb, 10> kPalette = {0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd,
                                           0x8c564b, 0xe377c2, 0x7f7f7f, 0xbcbd22, 0x17becf};

// Summarises the blocks of kBlockSize points that are complete since the last call.
void extendBlocks(BlockExtremes& blocks, const double* ys, size_t size) {
    for (size_t b = blocks.low.size(); (b + 1) * kBlockSize <= size; ++b) {
        size_t low = b * kBlockSize;
        size_t high = low;
        for (size_t k = low + 1; k < (b + 1) * kBlockSize; ++k) {
            if (ys[k] < ys[low])
                low = k;
            if (ys[k] > ys[high])
                high = k;
        }
        blocks.low.push_back(static_cast<quint32>(low));
        blocks.high.push_back(static_cast<quint32>(high));
    }
}

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

struct Decimated {
    QList<QPointF> points;
    // Bounds of the emitted points inside [xMin, xMax]; yMin > yMax while there are none.
    double yMin = 0.0;
    double yMax = -1.0;
    double yMinPositive = 0.0;
};

// Decimates a curve to at most two points per pixel column of [xMin, xMax]: the lowest and the
// highest point of each column, in the order they occur. A loss spike or dip narrower than a pixel
// stays visible, which averaging or striding would hide. Where x never decreases only the visible
// range is scanned, plus one neighbour on each side so the line runs on to the plot's edges; a
// narrow range therefore shows every point. Otherwise all points are clamped into the columns.
// Finds the lowest and the highest y in [begin, end) (above floor), using the block extremes for
// the blocks that lie wholly inside. low and high stay at `none` where no y is above floor.
void scanExtremes(const double* ys, const BlockExtremes& blocks, size_t begin, size_t end, double floor,
                  size_t none, size_t& low, size_t& high) {
    low = high = none;
    double lowY = std::numeric_limits<double>::infinity();
    double highY = -lowY;
    auto scan = [&](size_t from, size_t to) {
        for (size_t k = from; k < to; ++k) {
            const double y = ys[k];
            if (y <= floor)
                continue;
            if (y < lowY) {
                lowY = y;
                low = k;
            }
            if (y > highY) {
                highY = y;
                high = k;
            }
        }
    };
    const size_t firstBlock = (begin + kBlockSize - 1) / kBlockSize;
    const size_t lastBlock = std::min(end / kBlockSize, blocks.low.size());
    if (firstBlock >= lastBlock) {
        scan(begin, end);
        return;
    }
    scan(begin, firstBlock * kBlockSize);
    for (size_t b = firstBlock; b < lastBlock; ++b) {
        const size_t l = blocks.low[b];
        const size_t h = blocks.high[b];
        if (ys[l] <= floor) { // only the log scale's floor cuts into a block
            scan(b * kBlockSize, (b + 1) * kBlockSize);
            continue;
        }
        // Earlier indices win ties, as in scan().
        if (ys[l] < lowY) {
            lowY = ys[l];
            low = l;
        }
        if (ys[h] > highY) {
            highY = ys[h];
            high = h;
        }
    }
    scan(lastBlock * kBlockSize, end);
}

Decimated decimateMinMax(const std::vector<double>& xs, const double* ys, const BlockExtremes& blocks,
                         bool sorted, double xMin, double xMax, int columns, bool positiveOnly) {
    Decimated out;
    const size_t size = xs.size();
    if (size == 0 || columns <= 0)
        return out;
    size_t begin = 0;
    size_t end = size;
    if (sorted) {
        begin = static_cast<size_t>(std::lower_bound(xs.begin(), xs.end(), xMin) - xs.begin());
        end = static_cast<size_t>(std::upper_bound(xs.begin() + begin, xs.end(), xMax) - xs.begin());
    }
    const double span = xMax - xMin;
    const double perX = span > 0.0 ? columns / span : 0.0;
    out.points.reserve(std::min<qsizetype>(qsizetype(end - begin), 2 * qsizetype(columns)) + 4);

    auto keep = [&](size_t i) { return !positiveOnly || ys[i] > 0.0; };
    auto note = [&](double y) {
        if (out.yMin > out.yMax) {
            out.yMin = out.yMax = y;
        } else {
            out.yMin = std::min(out.yMin, y);
            out.yMax = std::max(out.yMax, y);
        }
        if (y > 0.0 && (out.yMinPositive <= 0.0 || y < out.yMinPositive))
            out.yMinPositive = y;
    };
    if (sorted && begin > 0 && keep(begin - 1))
        out.points.append(QPointF(xs[begin - 1], ys[begin - 1]));

    if (sorted && perX > 0.0) {
        // x never decreases: each column is a contiguous run of points, found by bisection, and its
        // extremes come from a tight loop over y.
        const double* x = xs.data();
        const double floor = positiveOnly ? 0.0 : -std::numeric_limits<double>::infinity();
        size_t i = begin;
        int c = 0;
        while (i < end) {
            c = std::max(c, std::min(static_cast<int>((x[i] - xMin) * perX), columns - 1));
            const size_t j =
                c + 1 >= columns
                    ? end
                    : static_cast<size_t>(std::lower_bound(x + i, x + end, xMin + (c + 1) / perX) - x);
            if (j == i) { // rounding put x[i] one column early
                ++c;
                continue;
            }
            size_t low = end;
            size_t high = end;
            scanExtremes(ys, blocks, i, j, floor, end, low, high);
            if (low != end) {
                const size_t first = std::min(low, high);
                const size_t second = std::max(low, high);
                out.points.append(QPointF(x[first], ys[first]));
                if (second != first)
                    out.points.append(QPointF(x[second], ys[second]));
                note(ys[low]);
                note(ys[high]);
            }
            i = j;
            ++c;
        }
        if (end < size && keep(end))
            out.points.append(QPointF(xs[end], ys[end]));
        return out;
    }

    int column = -1;
    size_t low = 0;
    size_t high = 0;
    bool open = false;
    auto emitColumn = [&] {
        if (!open)
            return;
        const size_t first = std::min(low, high);
        const size_t second = std::max(low, high);
        out.points.append(QPointF(xs[first], ys[first]));
        if (second != first)
            out.points.append(QPointF(xs[second], ys[second]));
        if (sorted || (xs[low] >= xMin && xs[low] <= xMax))
            note(ys[low]);
        if (sorted || (xs[high] >= xMin && xs[high] <= xMax))
            note(ys[high]);
    };
    for (size_t i = begin; i < end; ++i) {
        if (!keep(i))
            continue;
        const double y = ys[i];
        const int c = std::clamp(static_cast<int>((xs[i] - xMin) * perX), 0, columns - 1);
        if (c != column || !open) {
            emitColumn();
            column = c;
            low = high = i;
            open = true;
            continue;
        }
        if (y < ys[low])
            low = i;
        if (y > ys[high])
            high = i;
    }
    emitColumn();
    if (sorted && end < size && keep(end))
        out.points.append(QPointF(xs[end], ys[end]));
    return out;
}

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

QByteArray csvField(const QString& text) {
    QByteArray bytes = text.toUtf8();
    if (bytes.contains(',') || bytes.contains('"') || bytes.contains('\n') || bytes.contains('\r'))
        bytes = '"' + bytes.replace("\"", "\"\"") + '"';
    return bytes;
}

} // namespace

// The plot: a QChartView with wheel zoom on x and right- or middle-drag panning added to its
// rubber band. Ranges set here reach LossChartView through the axes' rangeChanged signals.
class ChartCanvas : public QChartView {
public:
    ChartCanvas(QChart* chart, LossChartView* owner)
        : QChartView(chart, owner)
        , m_owner(owner) {
        setRubberBand(QChartView::RectangleRubberBand);
    }

protected:
    void wheelEvent(QWheelEvent* event) override {
        const QRectF plot = chart()->plotArea();
        const QPointF pos = event->position();
        if (event->angleDelta().y() == 0 || plot.width() <= 0.0 || !plot.contains(pos)) {
            QChartView::wheelEvent(event);
            return;
        }
        const double fraction = (pos.x() - plot.left()) / plot.width();
        const double low = m_owner->visibleXMin();
        const double center = low + fraction * (m_owner->visibleXMax() - low);
        m_owner->zoomX(std::pow(0.85, event->angleDelta().y() / 120.0), center);
        event->accept();
    }
    void mousePressEvent(QMouseEvent* event) override {
        if (event->button() == Qt::RightButton || event->button() == Qt::MiddleButton) {
            m_panning = true;
            m_lastPos = event->position();
            setCursor(Qt::ClosedHandCursor);
            event->accept();
            return;
        }
        QChartView::mousePressEvent(event);
    }
    void mouseMoveEvent(QMouseEvent* event) override {
        if (m_panning) {
            const QPointF delta = event->position() - m_lastPos;
            m_lastPos = event->position();
            chart()->scroll(-delta.x(), delta.y());
            event->accept();
            return;
        }
        QChartView::mouseMoveEvent(event);
    }
    void mouseReleaseEvent(QMouseEvent* event) override {
        if (m_panning && (event->button() == Qt::RightButton || event->button() == Qt::MiddleButton)) {
            m_panning = false;
            unsetCursor();
            event->accept();
            return;
        }
        QChartView::mouseReleaseEvent(event); // not a right click: that would zoom out
    }

private:
    LossChartView* m_owner;
    bool m_panning = false;
    QPointF m_lastPos;
};

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

void LossChartView::buildToolBar() {
    m_toolBar = new QWidget(this);
    auto* layout = new QHBoxLayout(m_toolBar);
    layout->setContentsMargins(4, 2, 4, 2);

    layout->addWidget(new QLabel(tr("Smoothing"), m_toolBar));
    m_smoothingSlider = new QSlider(Qt::Horizontal, m_toolBar);
    m_smoothingSlider->setRange(0, 99);
    m_smoothingSlider->setMaximumWidth(160);
    m_smoothingSlider->setToolTip(tr("Exponential moving average; the raw curve stays faint behind"));
    layout->addWidget(m_smoothingSlider);
    m_smoothingLabel = new QLabel(QStringLiteral("0.00"), m_toolBar);
    layout->addWidget(m_smoothingLabel);
    connect(m_smoothingSlider, &QSlider::valueChanged, this,
            [this](int value) { setSmoothing(value / 100.0); });
    layout->addStretch(1);

    m_logButton = new QToolButton(m_toolBar);
    m_logButton->setText(tr("Log y"));
    m_logButton->setCheckable(true);
    connect(m_logButton, &QToolButton::toggled, this, &LossChartView::setLogScale);
    layout->addWidget(m_logButton);

    m_xModeBox = new QComboBox(m_toolBar);
    m_xModeBox->addItem(tr("Step"), int(XAxisMode::Step));
    m_xModeBox->addItem(tr("Epoch"), int(XAxisMode::Epoch));
    m_xModeBox->addItem(tr("Wall time"), int(XAxisMode::WallTime));
    m_xModeBox->setToolTip(tr("Unit of the x axis"));
    connect(m_xModeBox, &QComboBox::activated, this,
            [this](int index) { setXAxisMode(XAxisMode(m_xModeBox->itemData(index).toInt())); });
    layout->addWidget(m_xModeBox);

    auto addButton = [&](const QString& text, const QString& tip, auto slot) {
        auto* button = new QToolButton(m_toolBar);
        button->setText(text);
        button->setToolTip(tip);
        connect(button, &QToolButton::clicked, this, slot);
        layout->addWidget(button);
    };
    addButton(tr("Reset zoom"), tr("Follow the data again (Ctrl+0)"), &LossChartView::resetZoom);
    addButton(tr("PNG…"), tr("Save the chart as a PNG image"), &LossChartView::choosePngFile);
    addButton(tr("CSV…"), tr("Save the data of the shown curves as CSV"), &LossChartView::chooseCsvFile);
}

void LossChartView::setToolBarVisible(bool visible) {
    m_toolBar->setVisible(visible);
}

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
    line.x.reserve(line.x.size() + static_cast<size_t>(points.size()));
    line.y.reserve(line.y.size() + static_cast<size_t>(points.size()));
    bool added = false;
    for (const QPointF& point : points) {
        if (!std::isfinite(point.x()) || !std::isfinite(point.y()))
            continue;
        if (line.x.empty()) {
            line.xMin = line.xMax = point.x();
        } else {
            if (point.x() < line.x.back())
                line.sorted = false;
            line.xMin = std::min(line.xMin, point.x());
            line.xMax = std::max(line.xMax, point.x());
        }
        line.x.push_back(point.x());
        line.y.push_back(point.y());
        added = true;
    }
    if (added) {
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
            std::vector<double>().swap(line->x);
            std::vector<double>().swap(line->y);
            std::vector<double>().swap(line->smoothed);
            line->rawBlocks = {};
            line->smoothedBlocks = {};
            line->smoothedCount = 0;
            line->sorted = true;
            line->xMin = 0.0;
            line->xMax = -1.0;
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
    return static_cast<qsizetype>(found->second.lines[static_cast<size_t>(trace)]->x.size());
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
            line->smoothedCount = 0;
            line->smoothedBlocks = {};
            if (amount == 0.0)
                std::vector<double>().swap(line->smoothed);
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

void LossChartView::setXRange(double min, double max) {
    if (!std::isfinite(min) || !std::isfinite(max) || !(max > min))
        return;
    m_autoX = false;
    m_zoomXMin = min;
    m_zoomXMax = max;
    markAllDirty();
    scheduleFrame();
    Q_EMIT zoomChanged();
}

void LossChartView::setYRange(double min, double max) {
    if (!std::isfinite(min) || !std::isfinite(max) || !(max > min) || (m_logScale && min <= 0.0))
        return;
    m_autoY = false;
    m_zoomYMin = min;
    m_zoomYMax = max;
    scheduleFrame();
    Q_EMIT zoomChanged();
}

void LossChartView::zoomX(double factor, double centerX) {
    if (!(factor > 0.0) || !std::isfinite(centerX))
        return;
    const double low = visibleXMin();
    const double high = visibleXMax();
    setXRange(centerX - (centerX - low) * factor, centerX + (high - centerX) * factor);
}

void LossChartView::resetZoom() {
    m_autoX = m_autoY = true;
    markAllDirty();
    scheduleFrame();
    Q_EMIT zoomChanged();
}

double LossChartView::visibleXMin() const {
    return m_autoX ? m_axisX->min() : m_zoomXMin;
}

double LossChartView::visibleXMax() const {
    return m_autoX ? m_axisX->max() : m_zoomXMax;
}

double LossChartView::visibleYMin() const {
    return m_logScale ? m_axisYLog->min() : m_axisYLinear->min();
}

double LossChartView::visibleYMax() const {
    return m_logScale ? m_axisYLog->max() : m_axisYLinear->max();
}

void LossChartView::handleAxisRangeChanged(bool xAxis) {
    if (m_applyingRange)
        return;
    if (xAxis) {
        m_autoX = false;
        m_zoomXMin = m_axisX->min();
        m_zoomXMax = m_axisX->max();
        markAllDirty(); // the new range is decimated from the full data
    } else {
        m_autoY = false;
        m_zoomYMin = visibleYMin();
        m_zoomYMax = visibleYMax();
    }
    scheduleFrame();
    Q_EMIT zoomChanged();
}

QString LossChartView::hoverText(qint64 key, double x, Trace trace) const {
    auto found = m_curves.find(key);
    if (found == m_curves.end() || !found->second.lines[static_cast<size_t>(trace)])
        return QString();
    const Line& line = *found->second.lines[static_cast<size_t>(trace)];
    if (line.x.empty())
        return QString();
    size_t nearest = 0;
    if (line.sorted) {
        const size_t after =
            static_cast<size_t>(std::lower_bound(line.x.begin(), line.x.end(), x) - line.x.begin());
        nearest = std::min(after, line.x.size() - 1);
        if (after > 0 && (after == line.x.size() || x - line.x[after - 1] <= line.x[after] - x))
            nearest = after - 1;
    } else {
        for (size_t i = 1; i < line.x.size(); ++i) {
            if (std::abs(line.x[i] - x) < std::abs(line.x[nearest] - x))
                nearest = i;
        }
    }
    QString where;
    switch (m_xMode) {
    case XAxisMode::Step:
        where = tr("step %1").arg(QString::number(line.x[nearest], 'g', 12));
        break;
    case XAxisMode::Epoch:
        where = tr("epoch %1").arg(QString::number(line.x[nearest], 'g', 12));
        break;
    case XAxisMode::WallTime:
        where = tr("%1 s").arg(QString::number(line.x[nearest], 'f', 1));
        break;
    }
    QString text = QStringLiteral("%1 — %2: %3")
                       .arg(lineLabel(key, trace), where, QString::number(line.y[nearest], 'g', 6));
    if (m_smoothing > 0.0 && nearest < line.smoothedCount)
        text += tr(" (smoothed %1)").arg(QString::number(line.smoothed[nearest], 'g', 6));
    return text;
}

void LossChartView::handleHover(qint64 key, Trace trace, const QPointF& point, bool state) {
    if (!state) {
        QToolTip::hideText();
        return;
    }
    QToolTip::showText(QCursor::pos(), hoverText(key, point.x(), trace), m_view);
}

bool LossChartView::exportPng(const QString& path) {
    flush();
    if (m_chart->layout())
        m_chart->layout()->activate(); // axes placed for the new ranges now, not at the next event
    const QPixmap image = m_view->grab();
    return !image.isNull() && image.save(path, "PNG");
}

bool LossChartView::exportCsv(const QString& path) const {
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate))
        return false;
    QByteArray chunk("series,x,y\n");
    for (const auto& [key, curve] : m_curves) {
        if (!curve.visible)
            continue;
        for (size_t t = 0; t < curve.lines.size(); ++t) {
            const Line* line = curve.lines[t].get();
            if (!line || line->x.empty())
                continue;
            QString label = lineLabel(key, Trace(t));
            if (m_metric == Metric::EpochLoss && Trace(t) == Trace::Primary)
                label = tr("%1 (train)").arg(label);
            const QByteArray field = csvField(label) + ',';
            for (size_t i = 0; i < line->x.size(); ++i) {
                chunk += field;
                chunk += QByteArray::number(line->x[i], 'g', QLocale::FloatingPointShortest);
                chunk += ',';
                chunk += QByteArray::number(line->y[i], 'g', QLocale::FloatingPointShortest);
                chunk += '\n';
                if (chunk.size() > (1 << 20)) {
                    if (file.write(chunk) != chunk.size())
                        return false;
                    chunk.clear();
                }
            }
        }
    }
    return file.write(chunk) == chunk.size() && file.flush();
}

void LossChartView::choosePngFile() {
    const QString path =
        QFileDialog::getSaveFileName(this, tr("Export Chart"), QString(), tr("PNG images (*.png)"));
    if (!path.isEmpty())
        exportPng(path);
}

void LossChartView::chooseCsvFile() {
    const QString path =
        QFileDialog::getSaveFileName(this, tr("Export Chart Data"), QString(), tr("CSV files (*.csv)"));
    if (!path.isEmpty())
        exportCsv(path);
}

void LossChartView::setPointBudget(int points) {
    m_pointBudget = std::max(points, 2 * kMinColumns);
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
    if (!m_frameTimer->isActive())
        m_frameTimer->start();
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
                if (curve.visible && line && !line->x.empty())
                    lines += m_smoothing > 0.0 ? 2 : 1;
            }
        }
        return std::clamp(m_pointBudget / (2 * std::max(lines, 1)), std::min(kMinColumns, plot), plot);
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
    line.drawnYMin = 0.0;
    line.drawnYMax = -1.0;
    line.drawnYMinPositive = 0.0;
    if (!visible || line.x.empty())
        return;
    const bool smooth = m_smoothing > 0.0;
    if (smooth && line.smoothedCount < line.y.size()) {
        // Extends the moving average over the points that arrived since the last frame.
        line.smoothed.resize(line.y.size());
        const double a = m_smoothing;
        double s = line.smoothedCount > 0 ? line.smoothed[line.smoothedCount - 1] : line.y[0];
        for (size_t i = line.smoothedCount; i < line.y.size(); ++i) {
            s = i == 0 ? line.y[0] : a * s + (1.0 - a) * line.y[i];
            line.smoothed[i] = s;
        }
        line.smoothedCount = line.y.size();
    }
    extendBlocks(line.rawBlocks, line.y.data(), line.y.size());
    if (smooth)
        extendBlocks(line.smoothedBlocks, line.smoothed.data(), line.smoothedCount);
    Decimated bold = smooth ? decimateMinMax(line.x, line.smoothed.data(), line.smoothedBlocks, line.sorted,
                                             xMin, xMax, columns, m_logScale)
                            : decimateMinMax(line.x, line.y.data(), line.rawBlocks, line.sorted, xMin, xMax,
                                             columns, m_logScale);
    line.drawnYMin = bold.yMin;
    line.drawnYMax = bold.yMax;
    line.drawnYMinPositive = bold.yMinPositive;
    boldPoints = std::move(bold.points);
    if (!smooth)
        return;
    Decimated faint =
        decimateMinMax(line.x, line.y.data(), line.rawBlocks, line.sorted, xMin, xMax, columns, m_logScale);
    if (faint.yMin <= faint.yMax) {
        const bool any = line.drawnYMin <= line.drawnYMax;
        line.drawnYMin = any ? std::min(line.drawnYMin, faint.yMin) : faint.yMin;
        line.drawnYMax = any ? std::max(line.drawnYMax, faint.yMax) : faint.yMax;
        if (faint.yMinPositive > 0.0 &&
            (line.drawnYMinPositive <= 0.0 || faint.yMinPositive < line.drawnYMinPositive))
            line.drawnYMinPositive = faint.yMinPositive;
    }
    faintPoints = std::move(faint.points);
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
                if (!line || line->x.empty())
                    continue;
                low = any ? std::min(low, line->xMin) : line->xMin;
                high = any ? std::max(high, line->xMax) : line->xMax;
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
    double yMin = 0.0;
    double yMax = -1.0;
    double yMinPositive = 0.0;
    for (const auto& [key, curve] : m_curves) {
        for (const auto& line : curve.lines) {
            if (!line || line->drawnYMin > line->drawnYMax)
                continue;
            const bool any = yMin <= yMax;
            yMin = any ? std::min(yMin, line->drawnYMin) : line->drawnYMin;
            yMax = any ? std::max(yMax, line->drawnYMax) : line->drawnYMax;
            if (line->drawnYMinPositive > 0.0 &&
                (yMinPositive <= 0.0 || line->drawnYMinPositive < yMinPositive))
                yMinPositive = line->drawnYMinPositive;
        }
    }
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
