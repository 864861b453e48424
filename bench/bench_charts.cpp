// Chart speed and memory: 50 curves of 100,000 points each in one LossChartView, offscreen.
// Target: a full redraw after a zoom change <= 33 ms (median), GUI process RSS <= 400 MB.
// A redraw here is the decimation of every curve over the new x range, the replace() of every
// series, the events that follow (layout) and the paint of the whole widget (grab()), as after a
// wheel zoom or a reset. Usage: bench_charts [point budget]
#include "charts/loss_chart_view.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QGraphicsView>
#include <QPixmap>
#include <QRandomGenerator>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <vector>

using tunelab::LossChartView;

namespace {

constexpr int kCurves = 50;
constexpr int kPoints = 100000;
constexpr double kTargetMs = 33.0;
constexpr double kTargetMb = 400.0;

double residentMb() {
    std::ifstream statm("/proc/self/statm");
    long pages = 0;
    long resident = 0;
    statm >> pages >> resident;
    return resident * static_cast<double>(sysconf(_SC_PAGESIZE)) / (1024.0 * 1024.0);
}

QVector<QPointF> lossCurve(int count, quint32 seed) {
    QRandomGenerator random(seed);
    const double scale = 1.0 + random.generateDouble();
    const double rate = 2.0 + 3.0 * random.generateDouble();
    QVector<QPointF> points;
    points.reserve(count);
    for (int i = 0; i < count; ++i) {
        const double loss = scale * std::exp(-rate * i / count) + 0.05 + 0.2 * random.generateDouble();
        points.append(QPointF(i + 1, loss));
    }
    return points;
}

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    const size_t n = values.size();
    return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

// Counts the paint events of the plot's viewport, to be sure a redraw did paint.
class PaintCounter : public QObject {
public:
    int paints = 0;

protected:
    bool eventFilter(QObject* watched, QEvent* event) override {
        if (event->type() == QEvent::Paint)
            ++paints;
        return QObject::eventFilter(watched, event);
    }
};

// Times forced redraws, one per zoom change: the frame (decimation, replace()), then the events
// that follow it as in the running app (layout, the paint of the window), or a grab() of the widget.
struct Timings {
    std::vector<double> frame;
    std::vector<double> shown;   // frame + processEvents()
    std::vector<double> grabbed; // frame + grab()
};

Timings timeRedraws(LossChartView& view, const std::vector<std::function<void()>>& zooms,
                    PaintCounter& counter) {
    Timings t;
    for (const auto& zoom : zooms) {
        for (bool grab : {false, true}) {
            zoom();
            QElapsedTimer clock;
            clock.start();
            view.flush();
            const double frame = clock.nsecsElapsed() / 1e6;
            if (grab) {
                const QPixmap image = view.grab();
                t.grabbed.push_back(clock.nsecsElapsed() / 1e6);
                if (image.isNull())
                    std::fprintf(stderr, "grab() failed\n");
            } else {
                const int before = counter.paints;
                QApplication::processEvents();
                t.shown.push_back(clock.nsecsElapsed() / 1e6);
                if (qEnvironmentVariableIsSet("BENCH_VERBOSE"))
                    std::printf("    %.1f ms (%.1f frame)\n", t.shown.back(), frame);
                t.frame.push_back(frame);
                if (counter.paints == before)
                    std::fprintf(stderr, "no paint after a zoom change\n");
            }
            view.setXRange(12345, 23456); // so that the next zoom() changes the range
            view.flush();
            QApplication::processEvents();
        }
    }
    return t;
}

} // namespace

int main(int argc, char** argv) {
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    const double baseMb = residentMb();

    LossChartView view;
    if (argc > 1)
        view.setPointBudget(std::atoi(argv[1])); // try another budget: bench_charts 16000
    view.resize(1280, 800);
    view.show();
    QApplication::processEvents();

    PaintCounter counter;
    view.findChild<QGraphicsView*>()->viewport()->installEventFilter(&counter);

    QElapsedTimer clock;
    clock.start();
    for (int c = 0; c < kCurves; ++c) {
        view.addSeries(c + 1, QStringLiteral("run %1").arg(c + 1));
        view.appendPoints(c + 1, lossCurve(kPoints, 1000 + c));
    }
    const double feedMs = clock.nsecsElapsed() / 1e6;
    clock.restart();
    view.flush();
    view.grab();
    const double firstMs = clock.nsecsElapsed() / 1e6;

    std::vector<std::function<void()>> zooms;
    const double ranges[][2] = {{0, 50000},     {25000, 26000}, {90000, 100000}, {1000, 90000},
                                {40000, 40100}, {0, 100000},    {5000, 65000}};
    for (int round = 0; round < 2; ++round) {
        for (const auto& range : ranges)
            zooms.push_back([&view, range] { view.setXRange(range[0], range[1]); });
        zooms.push_back([&view] { view.resetZoom(); });
        zooms.push_back([&view] { view.zoomX(0.5, 30000); });
    }
    const Timings raw = timeRedraws(view, zooms, counter);
    view.setSmoothing(0.9);
    view.flush();
    QApplication::processEvents();
    const Timings smoothed = timeRedraws(view, zooms, counter);
    const double rssMb = residentMb();

    std::printf("bench_charts: %d curves x %d points, %dx%d widget, %d plot columns, point budget %d "
                "(%d columns a line when smoothed), platform %s\n",
                kCurves, kPoints, view.width(), view.height(), view.plotColumns(), view.pointBudget(),
                view.decimationColumns(), qPrintable(QGuiApplication::platformName()));
    std::printf("  feed (appendPoints, all curves)         %7.1f ms\n", feedMs);
    std::printf("  first frame + paint                     %7.1f ms\n", firstMs);
    auto report = [](const char* name, const Timings& t) {
        std::printf("  %-8s redraw after zoom, median of %zu: %6.1f ms (max %5.1f) with the app's events; "
                    "%6.1f ms with grab(); of which frame %5.1f ms\n",
                    name, t.shown.size(), median(t.shown), *std::max_element(t.shown.begin(), t.shown.end()),
                    median(t.grabbed), median(t.frame));
    };
    report("raw", raw);
    report("smoothed", smoothed);
    std::printf("  RSS %.1f MB (%.1f MB before the chart)\n", rssMb, baseMb);
    const double rawMedian = std::max(median(raw.shown), median(raw.grabbed));
    const double smoothedMedian = std::max(median(smoothed.shown), median(smoothed.grabbed));
    const bool ok = rawMedian <= kTargetMs && smoothedMedian <= kTargetMs && rssMb <= kTargetMb;
    std::printf("  target: redraw <= %.0f ms, RSS <= %.0f MB: %s\n", kTargetMs, kTargetMb,
                ok ? "met" : "MISSED");
    return ok ? 0 : 1;
}
