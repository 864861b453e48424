// Augmentation's share of training time, measured in one process (no process start, no data
// loading): the same small CNN trained on generated images of 28x28x1 and 32x32x3 in batches of
// 128, without and with augmentation, alternating, one intra-op thread; and the time
// detail::Augmenter::apply takes per batch on its own. The reported augmentation is flip + crop
// (4 pixels of padding) + Gaussian noise; every augmentation TuneLab has is the held-out line.
// End-to-end differences of a few percent are within this machine's run-to-run spread; the time
// apply() takes beside a plain step's is the steadier measure of what augmentation costs.
// Run by hand: build/bench/bench_augmentation_cost [rounds]; bench/README.md has the numbers.

#include "training/augmentation.h"
#include "training/trainer.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

using namespace tunelab;

namespace {

struct DiscardingSink : RunEventSink {
    void onRunEvent(const RunEvent&) override {}
};

LayerSpec layer(LayerType type, int64_t width = 0) {
    LayerSpec spec;
    spec.type = type;
    spec.outFeatures = width;
    spec.outChannels = width;
    spec.kernelSize = type == LayerType::Conv2d ? 3 : 2;
    spec.padding = type == LayerType::Conv2d ? 1 : 0;
    return spec;
}

ExperimentSpec imagesExperiment(int64_t side, int64_t channels) {
    ExperimentSpec spec;
    spec.seed = 1;
    spec.device = "cpu";
    spec.data.kind = DataKind::Blobs; // generated points read as images: no files, no decoding
    spec.data.samples = 1792;
    spec.data.classes = 10;
    spec.data.features = static_cast<int>(side * side * channels);
    spec.data.inputShape = {channels, side, side};
    spec.data.validationFraction = 0.0;
    spec.model.layers = {layer(LayerType::Conv2d, 16), layer(LayerType::ReLU),
                         layer(LayerType::MaxPool2d),  layer(LayerType::Conv2d, 32),
                         layer(LayerType::ReLU),       layer(LayerType::MaxPool2d),
                         layer(LayerType::Flatten),    layer(LayerType::Linear, 64),
                         layer(LayerType::ReLU),       layer(LayerType::Linear, 10)};
    spec.optimizer.lr = 0.001;
    spec.training.epochs = 3;
    spec.training.batchSize = 128;
    return spec;
}

AugmentSpec reported() {
    AugmentSpec augment;
    augment.flipHorizontal = true;
    augment.cropPadding = 4;
    augment.noise = 0.05;
    return augment;
}

AugmentSpec everything() {
    AugmentSpec augment = reported();
    augment.rotation = 10;
    augment.scaleMin = 0.9;
    augment.scaleMax = 1.1;
    augment.translate = 0.05;
    augment.brightness = 0.1;
    augment.contrast = 0.2;
    augment.cutout = 8;
    augment.mixup = 0.2;
    return augment;
}

double trainSeconds(const ExperimentSpec& spec) {
    RunOptions options;
    options.threads = 1;
    RunControl control;
    DiscardingSink sink;
    return trainExperiment(1, spec, options, control, sink).trainSeconds;
}

double applyMilliseconds(const AugmentSpec& augment, int64_t side, int64_t channels) {
    tunelab::detail::Augmenter augmenter(augment, 1);
    tunelab::detail::TrainingBatch batch;
    batch.x = torch::rand({128, channels, side, side});
    batch.y = torch::zeros({128}, torch::kLong);
    augmenter.apply(batch, 0, 128);
    const auto start = std::chrono::steady_clock::now();
    constexpr int kRepeats = 100;
    for (int i = 0; i < kRepeats; ++i)
        augmenter.apply(batch, 0, 128);
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count() /
           kRepeats;
}

double median(std::vector<double> values) {
    std::sort(values.begin(), values.end());
    return values[values.size() / 2];
}

} // namespace

int main(int argc, char** argv) {
    const int rounds = argc > 1 ? std::max(1, std::atoi(argv[1])) : 5;
    // Optionally an image folder of 32x32 colour images (bench_augmentation.py writes one) instead of
    // generated samples, for the 32x32x3 lines.
    const std::string folder = argc > 2 ? argv[2] : "";
    torch::set_num_threads(1);
    if (std::getenv("FTZ"))
        at::globalContext().setFlushDenormal(true);
    std::printf("images    augmentation       train s, plain / augmented (median of %d)  end to end  "
                "apply ms/batch  apply / plain step\n",
                rounds);
    for (const auto& [side, channels] : {std::pair<int64_t, int64_t>{28, 1}, {32, 3}}) {
        ExperimentSpec plain = imagesExperiment(side, channels);
        if (!folder.empty() && channels == 3) {
            plain.data = DataSpec{};
            plain.data.kind = DataKind::ImageFolder;
            plain.data.path = folder;
            plain.data.validationFraction = 0.0;
        }
        for (const auto& [name, augment] :
             {std::pair<const char*, AugmentSpec>{"flip+crop+noise", reported()},
              {"every (held out)", everything()}}) {
            ExperimentSpec augmented = plain;
            augmented.augment = augment;
            std::vector<double> without, with;
            for (int round = 0; round < rounds; ++round) {
                without.push_back(trainSeconds(plain));
                with.push_back(trainSeconds(augmented));
            }
            const double a = median(without);
            const double b = median(with);
            // 1,792 rows in batches of 128: 14 steps an epoch.
            const double stepMilliseconds = a * 1000.0 / (14.0 * plain.training.epochs);
            const double apply = applyMilliseconds(augment, side, channels);
            std::printf("%2lldx%2lldx%lld  %-17s  %.3f / %.3f                        %+6.1f %%     %6.2f     "
                        "     %5.1f %%\n",
                        static_cast<long long>(side), static_cast<long long>(side),
                        static_cast<long long>(channels), name, a, b, (b / a - 1.0) * 100.0, apply,
                        apply / stepMilliseconds * 100.0);
        }
    }
    return 0;
}
