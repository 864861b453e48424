// Study view speed with 2,000 trials of 30 epochs and 6 parameters, offscreen.
// Target: every plot repaint, every live update frame and every selection change <= 50 ms (median),
// so that the view stays smooth while a study runs at 25 updates a second.
// A repaint is a rebuild of the plot's cached picture and the paint of the widget (grab()); a live
// frame is 25 upsertTrial() + addIntermediate() calls and the repaint that the frame timer triggers;
// a selection change is setSelectedTrials() with 300 trials (table rows and the visible plot).
// Usage: bench_study_view [repeats]
#include "study/study_plots.h"
#include "study/study_trials_model.h"
#include "study/study_view.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QPixmap>
#include <QTabWidget>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <random>
#include <sstream>
#include <vector>

using namespace tunelab;

namespace {

constexpr int kTrials = 2000;
constexpr int kEpochs = 30;
constexpr double kTargetMs = 50.0;

const std::vector<std::string> kParameters = {"optimizer.lr",       "optimizer.type",
                                              "optimizer.momentum", "training.batch_size",
                                              "model.dropout",      "model.layers[0].out_features"};

ParamValue number(double value) {
    std::ostringstream text;
    text.precision(17);
    text << value;
    return ParamValue{text.str()};
}

// Learning rate drives the value, momentum applies to sgd only, about 20% of the trials are pruned.
std::vector<TrialRecord> makeTrials(uint64_t seed) {
    std::mt19937_64 random(seed);
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    const char* types[] = {"\"adam\"", "\"sgd\"", "\"rmsprop\""};
    std::vector<TrialRecord> trials;
    for (int i = 0; i < kTrials; ++i) {
        TrialRecord trial;
        trial.number = i;
        const double lr = std::pow(10.0, -5.0 + 4.0 * unit(random));
        const int type = static_cast<int>(random() % 3);
        trial.params["optimizer.lr"] = number(lr);
        trial.params["optimizer.type"] = ParamValue{types[type]};
        if (type == 1)
            trial.params["optimizer.momentum"] = number(unit(random));
        trial.params["training.batch_size"] = number(std::pow(2.0, 4 + static_cast<int>(random() % 5)));
        trial.params["model.dropout"] = number(0.5 * unit(random));
        trial.params["model.layers[0].out_features"] =
            number(std::round(std::pow(2.0, 4 + 5 * unit(random))));
        const double distance = std::log10(lr) + 3.0;
        const double final = 0.05 + 0.08 * distance * distance + 0.02 * unit(random);
        const bool pruned = unit(random) < 0.2;
        const int epochs = pruned ? 3 + static_cast<int>(random() % 10) : kEpochs;
        for (int epoch = 1; epoch <= epochs; ++epoch)
            trial.intermediate[epoch] = final + std::exp(-epoch / 5.0) + 0.01 * unit(random);
        trial.state = pruned ? TrialState::Pruned : TrialState::Complete;
        trial.prunedEpoch = pruned ? epochs : 0;
        trial.value = trial.intermediate.rbegin()->second;
        trial.startedAt = 100.0 * i;
        trial.finishedAt = trial.startedAt + 2.0 * epochs;
        trials.push_back(std::move(trial));
    }
    return trials;
}

double median(std::vector<double> samples) {
    std::sort(samples.begin(), samples.end());
    return samples[samples.size() / 2];
}

double timeMs(const std::function<void()>& work) {
    QElapsedTimer timer;
    timer.start();
    work();
    return static_cast<double>(timer.nsecsElapsed()) / 1e6;
}

bool report(const char* what, const std::vector<double>& samples, double target) {
    const double value = median(samples);
    const bool ok = target <= 0.0 || value <= target;
    if (target > 0.0)
        std::printf("%-44s %8.1f ms median (max %.1f)  target <= %.0f ms  %s\n", what, value,
                    *std::max_element(samples.begin(), samples.end()), target, ok ? "ok" : "SLOW");
    else
        std::printf("%-44s %8.1f ms median (max %.1f)\n", what, value,
                    *std::max_element(samples.begin(), samples.end()));
    return ok;
}

} // namespace

int main(int argc, char** argv) {
    QApplication app(argc, argv);
    const int repeats = argc > 1 ? std::max(1, std::atoi(argv[1])) : 7;
    const std::vector<TrialRecord> trials = makeTrials(42);

    StudyView view;
    view.resize(1400, 900);
    view.setStudy(kParameters, ObjectiveSpec{}, {"optimizer.lr", "model.layers[0].out_features"});
    view.show();
    app.processEvents();
    std::printf("%d trials x %d epochs x %zu parameters, %d repeats\n", kTrials, kEpochs, kParameters.size(),
                repeats);

    bool ok = true;
    std::vector<double> setTrials;
    for (int i = 0; i < repeats; ++i) {
        setTrials.push_back(timeMs([&] {
            view.setTrials(trials);
            view.flush();
            app.processEvents();
        }));
    }
    report("setTrials (model, table, frame)", setTrials, 0.0);

    const char* names[] = {"history", "trial curves", "parallel coordinates", "contour / slice",
                           "importance"};
    std::vector<std::vector<double>> repaints(static_cast<size_t>(view.plotTabs()->count()));
    std::vector<std::vector<double>> frames(repaints.size());
    std::vector<std::vector<double>> selections(repaints.size());
    int64_t nextNumber = kTrials;
    std::mt19937_64 random(7);
    for (int tab = 0; tab < view.plotTabs()->count(); ++tab) {
        view.plotTabs()->setCurrentIndex(tab);
        app.processEvents();
        QWidget* page = view.plotTabs()->currentWidget();
        auto* plot = page->findChild<StudyPlot*>();
        if (!plot)
            plot = qobject_cast<StudyPlot*>(page);
        for (int i = 0; i < repeats; ++i) {
            repaints[static_cast<size_t>(tab)].push_back(timeMs([&] {
                plot->invalidate();
                plot->grab();
            }));
            // A live frame: 25 updates (new trials and epochs of running ones), then one repaint.
            frames[static_cast<size_t>(tab)].push_back(timeMs([&] {
                for (int u = 0; u < 25; ++u) {
                    TrialRecord trial = trials[random() % trials.size()];
                    trial.number = nextNumber++;
                    trial.state = TrialState::Running;
                    trial.intermediate.clear();
                    view.upsertTrial(trial);
                    view.addIntermediate(trial.number, 1, 1.0);
                }
                view.flush();
                plot->grab();
            }));
            std::vector<int64_t> selection;
            for (int s = 0; s < 300; ++s)
                selection.push_back(static_cast<int64_t>(random() % kTrials));
            selections[static_cast<size_t>(tab)].push_back(timeMs([&] {
                view.setSelectedTrials(selection);
                plot->grab();
            }));
        }
        view.setTrials(trials);
        nextNumber = kTrials;
        view.flush();
    }
    for (size_t tab = 0; tab < repaints.size(); ++tab) {
        const std::string plot = names[tab];
        ok &= report(("repaint: " + plot).c_str(), repaints[tab], kTargetMs);
    }
    for (size_t tab = 0; tab < frames.size(); ++tab) {
        const std::string plot = names[tab];
        ok &= report(("25 updates + repaint: " + plot).c_str(), frames[tab], kTargetMs);
    }
    for (size_t tab = 0; tab < selections.size(); ++tab) {
        const std::string plot = names[tab];
        ok &= report(("selection change: " + plot).c_str(), selections[tab], kTargetMs);
    }
    std::printf("%s\n", ok ? "all within target" : "some above target");
    return ok ? 0 : 1;
}
