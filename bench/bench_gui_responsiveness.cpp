// GUI responsiveness while training: 8 runs stream metrics into the workbench (all shown in the
// charts, all in the runs table, all recorded in a run store) while a 5 ms timer on the GUI
// thread records how late it fires. Also the start-up time to a usable window, counted from the
// process's start (library loading included). Run offscreen:
//   QT_QPA_PLATFORM=offscreen build/bench/bench_gui_responsiveness [runs] [seconds]

#include "gui_thread_probe.h"

#include "runs/runs_table_view.h"
#include "store/run_store.h"
#include "window/main_window.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QTemporaryDir>
#include <QTimer>

#include <algorithm>
#include <cstdio>
#include <unistd.h>
#include <vector>

namespace {

// Seconds since this process started, from /proc (start time in clock ticks since boot).
double processAgeSeconds() {
    QFile stat(QStringLiteral("/proc/self/stat"));
    QFile uptime(QStringLiteral("/proc/uptime"));
    if (!stat.open(QIODevice::ReadOnly) || !uptime.open(QIODevice::ReadOnly))
        return -1.0;
    const QByteArray text = stat.readAll();
    const QList<QByteArray> fields = text.mid(text.lastIndexOf(')') + 2).split(' ');
    const double started = fields.value(19).toDouble() / static_cast<double>(sysconf(_SC_CLK_TCK));
    return uptime.readAll().split(' ').value(0).toDouble() - started;
}

double residentMegabytes() {
    QFile statm(QStringLiteral("/proc/self/statm"));
    if (!statm.open(QIODevice::ReadOnly))
        return -1.0;
    return statm.readAll().split(' ').value(1).toDouble() * static_cast<double>(sysconf(_SC_PAGESIZE)) /
           1048576.0;
}

double percentile(std::vector<double> values, double fraction) {
    if (values.empty())
        return 0.0;
    std::sort(values.begin(), values.end());
    return values[std::min(values.size() - 1,
                           static_cast<size_t>(fraction * static_cast<double>(values.size())))];
}

} // namespace

int main(int argc, char* argv[]) {
    QApplication app(argc, argv);
    const int runs = argc > 1 ? std::max(1, atoi(argv[1])) : 8;
    const int seconds = argc > 2 ? std::max(1, atoi(argv[2])) : 10;

    QElapsedTimer construction;
    construction.start();
    tunelab::MainWindow window;
    window.setInteractive(false);
    QTemporaryDir folder;
    auto store = tunelab::RunStore::open(folder.filePath(QStringLiteral("runs.sqlite")).toStdString());
    if (!store.ok()) {
        std::fprintf(stderr, "%s\n", store.error().c_str());
        return 1;
    }
    window.setRunStore(std::move(store.value()));
    window.resize(1280, 800);
    window.show();
    QCoreApplication::processEvents();
    const double startup = processAgeSeconds();
    std::printf("start-up: usable window %.3f s after the process started (window itself %.0f ms)\n", startup,
                construction.nsecsElapsed() / 1e6);

    tunelab::ExperimentSpec spec = tunelab::defaultExperiment();
    spec.training.epochs = 100000; // streams until stopped
    window.setExperiment(spec);
    QList<qint64> ids;
    for (int i = 0; i < runs; ++i) {
        spec.seed = static_cast<uint64_t>(i + 1);
        window.setExperiment(spec);
        if (!window.startRun())
            return 1;
        ids << window.currentRunId();
    }
    window.runsView()->selectRuns(ids); // every run's curves on the charts

    GuiThreadProbe probe;
    QTimer::singleShot(1000, [&] { probe.start(); }); // after the runs are under way
    QTimer::singleShot(1000 + seconds * 1000, [&] {
        probe.stop();
        app.quit();
    });
    app.exec();
    const std::vector<double>& lateness = probe.lateness();
    const double rss = residentMegabytes();
    std::printf(
        "%d runs, %zu timer ticks over %d s: lateness p50 %.2f ms, p99 %.2f ms, max %.2f ms; RSS %.0f MB\n",
        runs, lateness.size(), seconds, percentile(lateness, 0.5), percentile(lateness, 0.99),
        percentile(lateness, 1.0), rss);
    return 0;
}
