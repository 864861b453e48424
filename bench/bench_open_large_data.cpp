// Opening an experiment whose data is a large CSV file: how long the window's GUI thread is blocked,
// and how long until the data is in. The file (rows x 32 features and a label, about 120 MB at the
// default 400,000 rows) is written twice, so that the dataset cache does not answer the second load:
// one copy is opened with MainWindow::setExperiment (the load runs off the GUI thread), the other is
// loaded by DataForm::setSpec, which loads before it returns (the way an experiment opened before).
// A 5 ms timer on the GUI thread records how late it fires meanwhile, and for 100 ms after. Last, a
// window that opened a third copy is closed 200 ms into the load (the load is cancelled, not waited
// for). Run offscreen:
//   QT_QPA_PLATFORM=offscreen build/bench/bench_open_large_data [rows]

#include "gui_thread_probe.h"

#include "experiment/data_form.h"
#include "window/main_window.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QTemporaryDir>
#include <QTimer>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace {

constexpr int kFeatures = 32;

// False when the file cannot be written whole (a full disk leaves no half-written file measured).
bool writeCsv(const QString& path, int rows) {
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly))
        return false;
    const auto write = [&file](const std::string& text) {
        return file.write(text.data(), static_cast<qint64>(text.size())) == static_cast<qint64>(text.size());
    };
    std::string header;
    for (int f = 0; f < kFeatures; ++f)
        header += "f" + std::to_string(f) + ",";
    header += "label\n";
    if (!write(header))
        return false;
    std::mt19937_64 rng(7);
    std::normal_distribution<double> normal;
    std::string line;
    char number[32];
    for (int r = 0; r < rows; ++r) {
        line.clear();
        double first = 0.0;
        for (int f = 0; f < kFeatures; ++f) {
            const double value = normal(rng);
            if (f < 2)
                first += value;
            std::snprintf(number, sizeof number, "%.6f,", value);
            line += number;
        }
        line += first > 0.0 ? "1\n" : "0\n";
        if (!write(line))
            return false;
    }
    return file.flush() && file.error() == QFileDevice::NoError;
}

tunelab::ExperimentSpec experimentOn(const QString& path) {
    tunelab::ExperimentSpec spec = tunelab::defaultExperiment();
    spec.data.kind = tunelab::DataKind::Csv;
    spec.data.path = path.toStdString();
    spec.data.target = "label";
    spec.data.standardize = true;
    return spec;
}

} // namespace

int main(int argc, char* argv[]) {
    QApplication app(argc, argv);
    const int rows = argc > 1 ? std::max(1, atoi(argv[1])) : 400000;
    QTemporaryDir folder;
    const QString opened = folder.filePath(QStringLiteral("opened.csv"));
    const QString loaded = folder.filePath(QStringLiteral("loaded.csv"));
    const QString closed = folder.filePath(QStringLiteral("closed.csv"));
    if (!writeCsv(opened, rows) || !QFile::copy(opened, loaded) || !QFile::copy(opened, closed)) {
        std::fprintf(stderr, "cannot write the CSV files in %s\n", qPrintable(folder.path()));
        return 1;
    }
    const double megabytes = static_cast<double>(QFile(opened).size()) / 1048576.0;

    tunelab::MainWindow window;
    window.setInteractive(false);
    window.resize(1280, 800);
    window.show();
    QCoreApplication::processEvents();

    GuiThreadProbe probe;

    double blocked = 0.0, untilLoaded = 0.0;
    bool ok = false;
    QObject::connect(window.dataForm(), &tunelab::DataForm::dataLoaded, &app, [&](bool loadedOk) {
        untilLoaded = probe.elapsedMs();
        ok = loadedOk;
        QTimer::singleShot(100, &app, [&] { // the timer's next ticks count the window's own work on the data
            probe.stop();
            app.quit();
        });
    });
    QTimer::singleShot(0, &app, [&] {
        probe.start();
        window.setExperiment(experimentOn(opened));
        blocked = probe.elapsedMs();
    });
    app.exec();
    if (!ok) {
        std::fprintf(stderr, "the data did not load: %s\n", qPrintable(window.dataForm()->errorText()));
        return 1;
    }
    std::printf(
        "%d rows, %.0f MB: setExperiment returned after %.1f ms, the data was in after %.0f ms; a 5 ms "
        "timer on the GUI thread fired at most %.1f ms late\n",
        rows, megabytes, blocked, untilLoaded,
        *std::max_element(probe.lateness().begin(), probe.lateness().end()));

    tunelab::DataForm form;
    QElapsedTimer clock;
    clock.start();
    form.setSpec(experimentOn(loaded));
    const double synchronous = static_cast<double>(clock.nsecsElapsed()) / 1e6;
    std::printf("loading the same file on the GUI thread (DataForm::setSpec): blocked %.0f ms (%s)\n",
                synchronous, form.hasData() ? "loaded" : "failed");

    auto closing = std::make_unique<tunelab::MainWindow>();
    closing->setInteractive(false);
    closing->show();
    closing->setExperiment(experimentOn(closed));
    QElapsedTimer sinceOpened;
    sinceOpened.start();
    while (sinceOpened.elapsed() < 200)
        QCoreApplication::processEvents(QEventLoop::AllEvents, 10);
    const bool stillLoading = closing->dataForm()->isLoading();
    clock.restart();
    closing.reset();
    std::printf("closing a window 200 ms into loading a third copy (%s): %.1f ms\n",
                stillLoading ? "still loading" : "already loaded",
                static_cast<double>(clock.nsecsElapsed()) / 1e6);
    return 0;
}
