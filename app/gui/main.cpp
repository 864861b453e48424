#include "store/run_store.h"
#include "study/study_panel.h"
#include "window/main_window.h"

#include "charts/loss_chart_view.h"
#include "common/file_saving.h"
#include "compress/compression_plan.h"
#include "compress/compression_plan_dialog.h"
#include "experiment/data_form.h"
#include "experiment/network_editor.h"
#include "runs/runs_table_model.h"
#include "runs/runs_table_view.h"
#include "study/study_view.h"

#include <QApplication>
#include <QCommandLineOption>
#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDockWidget>
#include <QElapsedTimer>
#include <QPixmap>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QTimer>

#include <QPushButton>

#include <cstdio>
#include <functional>
#include <memory>
#include <optional>

namespace {

// Exit codes; --help lists them with --screenshot.
constexpr int kExitOk = 0;
constexpr int kExitError = 1; // bad arguments, or the screenshot could not be saved
constexpr int kExitRunFailed = 2;

// Calls `then` from the event loop once the window's experiment has its data: data read from files
// loads off the GUI thread after an experiment opens, and Run waits for it.
void whenDataLoaded(tunelab::MainWindow& window, const std::function<void()>& then) {
    tunelab::DataForm* form = window.dataForm();
    if (!form->isLoading()) {
        QTimer::singleShot(0, &window, then);
        return;
    }
    auto connection = std::make_shared<QMetaObject::Connection>();
    *connection = QObject::connect(form, &tunelab::DataForm::dataLoaded, &window, [connection, then](bool) {
        QObject::disconnect(*connection);
        then();
    });
}

// Trains the current experiment for a while, saves the window as a PNG and quits. Works on any
// platform plugin (xcb under Xvfb, offscreen) because the window paints itself into a pixmap.
// Brings forward the tabs named in `tabs` ("Gradient health", "Confusion matrix"), in any of the
// window's tab widgets; with "Differences" every run in the table is selected, else the last one.
void showTabs(tunelab::MainWindow& window, const QStringList& tabs) {
    const auto runs = window.runsModel();
    QList<qint64> ids;
    for (int row = 0; row < runs->runCount(); ++row)
        ids << runs->runAt(row).id;
    if (!ids.isEmpty() && window.runStore()) // without a store a selected run has no curves to show
        window.runsView()->selectRuns(
            tabs.contains(QStringLiteral("Differences")) ? ids : QList<qint64>{ids.back()});
    for (const QString& name : tabs) {
        for (QTabWidget* widget : window.findChildren<QTabWidget*>()) {
            for (int i = 0; i < widget->count(); ++i) {
                if (widget->tabText(i).remove(QLatin1Char('&')).startsWith(name)) // "Differences (2)"
                    widget->setCurrentIndex(i);
            }
        }
    }
}

// Selects the network's layer named `name` (the Network tab's form and graph show it); false when
// the network has none.
bool selectLayer(tunelab::MainWindow& window, const QString& name) {
    tunelab::NetworkEditor* editor = window.networkEditor();
    const auto& layers = editor->model().layers;
    for (size_t row = 0; row < layers.size(); ++row) {
        if (QString::fromStdString(layers[row].name) == name) {
            editor->setCurrentRow(static_cast<int>(row));
            return true;
        }
    }
    std::fprintf(stderr, "tunelab: the network has no layer named %s\n", qPrintable(name));
    return false;
}

// Sizes the docks named in `sizes` by their titles ("Experiment=620,Runs=0"): a side dock's width,
// a top or bottom dock's height, 0 to hide the dock. False (and a message) for a dock or a size
// that is not there.
bool sizeDocks(tunelab::MainWindow& window, const QString& sizes) {
    for (const QString& entry : sizes.split(QLatin1Char(','), Qt::SkipEmptyParts)) {
        const QStringList parts = entry.split(QLatin1Char('='));
        bool number = false;
        const int size = parts.size() == 2 ? parts[1].trimmed().toInt(&number) : 0;
        QDockWidget* dock = nullptr;
        for (QDockWidget* candidate : window.findChildren<QDockWidget*>())
            if (parts.size() == 2 && candidate->windowTitle() == parts[0].trimmed())
                dock = candidate;
        if (!dock || !number || size < 0) {
            std::fprintf(stderr,
                         "tunelab: --docks: no dock title and size in \"%s\" (such as Experiment=620)\n",
                         qPrintable(entry));
            return false;
        }
        if (size == 0) {
            dock->hide();
            continue;
        }
        const Qt::DockWidgetArea area = window.dockWidgetArea(dock);
        const bool side = area == Qt::LeftDockWidgetArea || area == Qt::RightDockWidgetArea;
        window.resizeDocks({dock}, {size}, side ? Qt::Horizontal : Qt::Vertical);
    }
    return true;
}

// What a screenshot shows besides the window as it opens: docks sized ("Experiment=620,Runs=0"), tabs
// brought forward, a network layer selected.
struct ScreenshotView {
    QString docks;
    QStringList tabs;
    QString layer;
    bool isEmpty() const { return docks.isEmpty() && tabs.isEmpty() && layer.isEmpty(); }
};

// Arranges the window as `view` says; false (and a message) when a dock or the layer is not there.
bool arrange(tunelab::MainWindow& window, const ScreenshotView& view) {
    const bool sized = sizeDocks(window, view.docks);
    QCoreApplication::processEvents(); // the docks take their sizes before the tabs show
    showTabs(window, view.tabs);
    QElapsedTimer settle; // what the tabs work out (a confusion matrix) arrives by events
    settle.start();
    while (settle.elapsed() < 1500)
        QCoreApplication::processEvents(QEventLoop::AllEvents, 50);
    // Selected once laid out, so that the graph scrolls to the layer in its final size.
    if (!sized || (!view.layer.isEmpty() && !selectLayer(window, view.layer)))
        return false;
    QCoreApplication::processEvents();
    return true;
}

// Half-way through, `fork` (when given) forks the run with its settings: both curves show.
void scheduleScreenshot(QApplication& app, tunelab::MainWindow& window, const QString& path, double seconds,
                        bool study, const ScreenshotView& view, QSize size,
                        const std::optional<tunelab::ExperimentSpec>& fork) {
    window.setInteractive(false);
    window.studyPanel()->setInteractive(false);
    window.resize(size.isValid() ? size : study ? QSize(1440, 900) : QSize(1280, 800));
    window.show();
    if (study)
        window.studyPanel()->startStudy();
    else
        whenDataLoaded(window, [&window] { window.startRun(); });
    if (fork) {
        QTimer::singleShot(static_cast<int>(seconds * 500.0), &window, [&window, spec = *fork] {
            if (const QString error = window.startFork(window.currentRunId(), spec); !error.isEmpty())
                std::fprintf(stderr, "tunelab: cannot fork: %s\n", qPrintable(error));
        });
    }
    QTimer::singleShot(static_cast<int>(seconds * 1000.0), &window, [&app, &window, path, view] {
        if (!view.isEmpty() && !arrange(window, view)) {
            window.stopRun();
            app.exit(kExitError);
            return;
        }
        window.lossChart()->flush();
        window.studyPanel()->studyView()->flush();
        const QString error = tunelab::saveImagePng(path, window.grab().toImage());
        const bool saved = error.isEmpty();
        const bool failed = window.lastStatus() == tunelab::RunStatus::Failed;
        window.stopRun();
        if (!saved)
            std::fprintf(stderr, "tunelab: could not save the screenshot: %s\n", qPrintable(error));
        else if (failed)
            std::fprintf(stderr, "tunelab: the run failed: %s\n", qPrintable(window.stateText()));
        app.exit(!saved ? kExitError : failed ? kExitRunFailed : kExitOk);
    });
}

// --watch-study: the study grows in the window while other processes run it; saves the window after
// `seconds`.
void scheduleWatchScreenshot(QApplication& app, tunelab::MainWindow& window, const QString& path,
                             double seconds, QSize size) {
    window.setInteractive(false);
    window.resize(size.isValid() ? size : QSize(1280, 800));
    window.show();
    QTimer::singleShot(static_cast<int>(seconds * 1000.0), &window, [&app, &window, path] {
        window.studyPanel()->studyView()->flush();
        const QString error = tunelab::saveImagePng(path, window.grab().toImage());
        if (!error.isEmpty())
            std::fprintf(stderr, "tunelab: could not save the screenshot: %s\n", qPrintable(error));
        app.exit(error.isEmpty() ? kExitOk : kExitError);
    });
}

// --compress: Optimize Model… with the plan's variants on the plan's source run, or on the run of its
// source experiment, which trains first. `opened` gets the dialog, or nullptr when there is none (the
// run is not in the store, did not complete or could not start), from the event loop.
void openCompressionPlan(tunelab::MainWindow& window, const tunelab::CompressionPlan& plan,
                         const std::function<void(tunelab::CompressionPlanDialog*)>& opened) {
    const auto open = [&window, plan, opened](qint64 run) {
        tunelab::CompressionPlanDialog* dialog = window.optimizeModel(run);
        if (dialog)
            dialog->setPlan(plan);
        else
            std::fprintf(stderr, "tunelab: cannot optimize run %lld: %s\n", static_cast<long long>(run),
                         qPrintable(window.stateText()));
        opened(dialog);
    };
    if (plan.sourceRun > 0) {
        QTimer::singleShot(0, &window, [open, run = plan.sourceRun] { open(run); });
        return;
    }
    window.setExperiment(tunelab::parseExperimentSpec(plan.sourceExperimentJson).take()); // the plan read it
    auto connection = std::make_shared<QMetaObject::Connection>();
    *connection = QObject::connect(
        &window, &tunelab::MainWindow::runFinished, &window, [&window, open, opened, connection](qint64 run) {
            QObject::disconnect(*connection);
            if (window.lastStatus() == tunelab::RunStatus::Completed)
                return open(run);
            std::fprintf(stderr, "tunelab: the plan's source did not complete: %s\n",
                         qPrintable(window.stateText()));
            opened(nullptr);
        });
    whenDataLoaded(window, [&window, opened, connection] {
        if (window.startRun())
            return;
        QObject::disconnect(*connection);
        std::fprintf(stderr, "tunelab: the plan's source cannot run: %s\n", qPrintable(window.stateText()));
        opened(nullptr);
    });
}

// Runs the plan in the Optimize Model dialog and saves a PNG of the dialog with its results.
void scheduleCompressionScreenshot(QApplication& app, tunelab::MainWindow& window, const QString& path,
                                   const tunelab::CompressionPlan& plan, QSize size) {
    window.setInteractive(false);
    window.resize(size.isValid() ? size : QSize(1280, 800));
    window.show();
    QObject::connect(
        &window, &tunelab::MainWindow::compressionFinished, &window,
        [&app, &window, path](const QString& error) {
            if (!error.isEmpty()) {
                std::fprintf(stderr, "tunelab: the plan did not run: %s\n", qPrintable(error));
                app.exit(kExitRunFailed);
                return;
            }
            QTimer::singleShot(1500, &window, [&app, &window, path] { // charts lay out their names
                auto* dialog = window.findChild<tunelab::CompressionPlanDialog*>();
                const QString saved =
                    tunelab::saveImagePng(path, dialog ? dialog->grab().toImage() : window.grab().toImage());
                if (!saved.isEmpty())
                    std::fprintf(stderr, "tunelab: could not save the screenshot: %s\n", qPrintable(saved));
                app.exit(saved.isEmpty() ? kExitOk : kExitError);
            });
        });
    openCompressionPlan(window, plan, [&app, &window](tunelab::CompressionPlanDialog* dialog) {
        if (!dialog) {
            app.exit(kExitError);
            return;
        }
        dialog->resize(window.size() - QSize(32, 24));
        dialog->move(window.pos() + QPoint(16, 12));
        dialog->runButton()->click();
        if (!window.isCompressing()) {
            std::fprintf(stderr, "tunelab: cannot run the plan: %s\n", qPrintable(dialog->message()));
            app.exit(kExitError);
        }
    });
}

struct Options {
    QCommandLineOption screenshot{
        QStringLiteral("screenshot"),
        QStringLiteral("Run the experiment, save a PNG of the window to <path> and quit. Exit code 0 when "
                       "saved, 1 when not, 2 when saved but the run failed."),
        QStringLiteral("path")};
    QCommandLineOption db{
        QStringLiteral("db"),
        QStringLiteral("Run store: a file or a postgresql:// URL (default: $TUNELAB_DB or the user data "
                       "folder). With --screenshot, runs are kept only when this is given."),
        QStringLiteral("path")};
    QCommandLineOption study{QStringLiteral("study"),
                             QStringLiteral("Open a study file (docs/studies.md) in the Search tab. With "
                                            "--screenshot, run the study instead of one experiment."),
                             QStringLiteral("path")};
    QCommandLineOption watchStudy{
        QStringLiteral("watch-study"),
        QStringLiteral("Show the stored study <name> of the run store (--db: a file or a postgresql:// URL) "
                       "and follow it as other processes add trials. With --screenshot, save a PNG after "
                       "--run-seconds of watching."),
        QStringLiteral("name")};
    QCommandLineOption show{QStringLiteral("show"),
                            QStringLiteral("With --screenshot: tabs to bring forward first, by their titles, "
                                           "separated by commas (\"Gradient health,Search\")."),
                            QStringLiteral("tabs")};
    QCommandLineOption docks{
        QStringLiteral("docks"),
        QStringLiteral("With --screenshot: dock sizes by the docks' titles, separated by "
                       "commas (\"Experiment=620,Runs=0\"): a width for a side dock, a "
                       "height for a bottom one, 0 to hide the dock."),
        QStringLiteral("sizes")};
    QCommandLineOption selectLayer{
        QStringLiteral("select-layer"),
        QStringLiteral(
            "With --screenshot: the network's layer to select, by name (\"res1/5\"), after --show: "
            "the Network tab's form shows it and its graph scrolls to it."),
        QStringLiteral("name")};
    QCommandLineOption windowSize{QStringLiteral("window-size"),
                                  QStringLiteral("With --screenshot: the window's size, such as 1920x1080 "
                                                 "(default 1280x800; 1440x900 with --study)."),
                                  QStringLiteral("WxH")};
    QCommandLineOption fork{
        QStringLiteral("fork"),
        QStringLiteral("With --screenshot: half-way through --run-seconds, fork the run with "
                       "this experiment's settings (the same data and network)."),
        QStringLiteral("experiment")};
    QCommandLineOption compress{
        QStringLiteral("compress"),
        QStringLiteral(
            "Open Optimize Model… with a compression plan (docs/compression.md) on its source run, "
            "or on its source experiment once trained. With --screenshot, run the plan and save "
            "the dialog with its results."),
        QStringLiteral("plan")};
    QCommandLineOption runSeconds{QStringLiteral("run-seconds"),
                                  QStringLiteral("With --screenshot: seconds to train first (default 3)."),
                                  QStringLiteral("seconds"), QStringLiteral("3")};
};

void setApplicationInfo() {
    QCoreApplication::setOrganizationName(QStringLiteral("TuneLab"));
    QCoreApplication::setApplicationName(QStringLiteral("tunelab"));
    QCoreApplication::setApplicationVersion(QStringLiteral(TUNELAB_VERSION));
}

void describe(QCommandLineParser& parser, const Options& options) {
    parser.setApplicationDescription(
        QStringLiteral("TuneLab: train small neural networks and watch them learn.\n"
                       "Opens the built-in default experiment unless a spec file is given."));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(QStringLiteral("experiment"),
                                 QStringLiteral("Experiment spec (JSON) to open."),
                                 QStringLiteral("[experiment]"));
    parser.addOption(options.screenshot);
    parser.addOption(options.runSeconds);
    parser.addOption(options.show);
    parser.addOption(options.docks);
    parser.addOption(options.selectLayer);
    parser.addOption(options.windowSize);
    parser.addOption(options.db);
    parser.addOption(options.study);
    parser.addOption(options.watchStudy);
    parser.addOption(options.fork);
    parser.addOption(options.compress);
}

// --help and --version print text only, so they must work without a display: they get a
// QCoreApplication, which loads no platform plugin.
bool wantsTextOnly(int argc, char* argv[]) {
    for (int i = 1; i < argc; ++i) {
        const QByteArray arg(argv[i]);
        if (arg == "-h" || arg == "--help" || arg == "-?" || arg == "--help-all" || arg == "-v" ||
            arg == "--version")
            return true;
    }
    return false;
}

} // namespace

int main(int argc, char* argv[]) {
    const Options options;
    if (wantsTextOnly(argc, argv)) {
        QCoreApplication app(argc, argv);
        setApplicationInfo();
        QCommandLineParser parser;
        describe(parser, options);
        parser.process(app); // prints and exits
        return kExitOk;
    }

    QApplication app(argc, argv);
    setApplicationInfo();
    QGuiApplication::setDesktopFileName(QStringLiteral("tunelab"));
    QCommandLineParser parser;
    describe(parser, options);
    parser.process(app);

    bool secondsOk = false;
    const double seconds = parser.value(options.runSeconds).toDouble(&secondsOk);
    if (!secondsOk || seconds < 0.0 || seconds > 3600.0) {
        std::fprintf(stderr, "tunelab: --run-seconds needs a number of seconds between 0 and 3600\n");
        return kExitError;
    }
    const QStringList positional = parser.positionalArguments();
    if (positional.size() > 1) {
        std::fprintf(stderr, "tunelab: one experiment file at most\n");
        return kExitError;
    }

    tunelab::MainWindow window;
    const bool screenshot = parser.isSet(options.screenshot);
    if (parser.isSet(options.db) || !screenshot) {
        const std::string path = parser.isSet(options.db) ? parser.value(options.db).toStdString()
                                                          : tunelab::RunStore::defaultPath();
        auto store = tunelab::RunStore::open(path);
        if (store.ok())
            window.setRunStore(std::move(store.value()));
        else // still usable: runs are shown but not kept
            std::fprintf(stderr, "tunelab: runs will not be kept: %s\n", store.error().c_str());
    }
    // A study and a fork's charts need a store: a screenshot without --db gets a throwaway one.
    QTemporaryDir scratch;
    if (screenshot && !parser.isSet(options.db) &&
        (parser.isSet(options.study) || parser.isSet(options.fork) || parser.isSet(options.compress))) {
        auto store = tunelab::RunStore::open(scratch.filePath(QStringLiteral("runs.sqlite")).toStdString());
        if (store.ok())
            window.setRunStore(std::move(store.value()));
    }
    if (parser.isSet(options.watchStudy)) {
        const QString location = parser.isSet(options.db)
                                     ? parser.value(options.db)
                                     : QString::fromStdString(tunelab::RunStore::defaultPath());
        QString error;
        if (!window.openStoreLocation(location, parser.value(options.watchStudy), &error)) {
            std::fprintf(stderr, "tunelab: %s\n", qPrintable(error));
            return kExitError;
        }
    }
    std::optional<tunelab::CompressionPlan> plan;
    if (parser.isSet(options.compress)) {
        auto loaded = tunelab::loadCompressionPlan(parser.value(options.compress).toStdString());
        if (!loaded.ok()) {
            std::fprintf(stderr, "tunelab: %s\n", loaded.error().c_str());
            return kExitError;
        }
        plan = loaded.take();
    }
    if (screenshot) {
        if (!positional.isEmpty() && !window.openExperiment(positional.first())) {
            std::fprintf(stderr, "tunelab: %s\n", qPrintable(window.stateText()));
            return kExitError;
        }
        if (parser.isSet(options.study) && !window.openStudyFile(parser.value(options.study)))
            return kExitError;
        QSize size;
        if (parser.isSet(options.windowSize)) {
            const QStringList parts = parser.value(options.windowSize).split(QLatin1Char('x'));
            size = parts.size() == 2 ? QSize(parts[0].toInt(), parts[1].toInt()) : QSize();
            if (!size.isValid() || size.width() < 320 || size.height() < 240) {
                std::fprintf(stderr, "tunelab: --window-size needs WIDTHxHEIGHT, such as 1920x1080\n");
                return kExitError;
            }
        }
        if (parser.isSet(options.watchStudy)) {
            scheduleWatchScreenshot(app, window, parser.value(options.screenshot), seconds, size);
            return app.exec();
        }
        if (plan) {
            scheduleCompressionScreenshot(app, window, parser.value(options.screenshot), *plan, size);
            return app.exec();
        }
        std::optional<tunelab::ExperimentSpec> fork;
        if (parser.isSet(options.fork)) {
            auto loaded = tunelab::loadExperimentSpec(parser.value(options.fork).toStdString());
            if (!loaded.ok()) {
                std::fprintf(stderr, "tunelab: %s\n", loaded.error().c_str());
                return kExitError;
            }
            fork = loaded.take();
        }
        const ScreenshotView view{parser.value(options.docks),
                                  parser.value(options.show).split(QLatin1Char(','), Qt::SkipEmptyParts),
                                  parser.value(options.selectLayer)};
        scheduleScreenshot(app, window, parser.value(options.screenshot), seconds,
                           parser.isSet(options.study), view, size, fork);
        return app.exec();
    }

    window.restoreSettings(positional.isEmpty()); // a file named on the command line wins
    window.show();
    if (!positional.isEmpty())
        window.openExperiment(positional.first()); // shown first, so an error gets its dialog
    if (parser.isSet(options.study))
        window.openStudyFile(parser.value(options.study));
    if (plan)
        openCompressionPlan(window, *plan, [](tunelab::CompressionPlanDialog*) {});
    return app.exec();
}
