// training.deterministic: LibTorch's deterministic algorithms for a run, the operations that have none
// named, and the process's settings put back when the last such run ends.

#include "collecting_sink.h"
#include "training/determinism.h"
#include "training/trainer.h"

#include <torch/torch.h>

#include <QtTest>

#include <cstring>
#include <string>
#include <thread>
#include <vector>

using namespace tunelab;
using tunelab::test::CollectingSink;

namespace {

std::string specError(const std::string& training) {
    const std::string json = "{\"name\": \"x\", \"data\": {\"kind\": \"blobs\"}, \"model\": {\"layers\":"
                             " [{\"type\": \"linear\", \"out_features\": 3}]}, \"training\": " +
                             training + "}";
    const auto parsed = parseExperimentSpec(json);
    return parsed.ok() ? std::string() : parsed.errors().front();
}

} // namespace

class TestDeterministicTraining : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void theSpecKeyReadsAndWritesBack() {
        ExperimentSpec spec = tunelab::test::blobsExperiment(2);
        QVERIFY(experimentSpecToJson(spec).find("deterministic") == std::string::npos);
        spec.training.deterministic = true;
        const std::string json = experimentSpecToJson(spec);
        QVERIFY2(json.find("\"deterministic\": true") != std::string::npos, json.c_str());
        QVERIFY(parseExperimentSpec(json).value().training.deterministic);
        QVERIFY(specError("{\"deterministic\": true}").empty());
        const std::string refused = specError("{\"deterministic\": \"yes\"}");
        QVERIFY2(refused.find("training.deterministic") != std::string::npos, refused.c_str());
    }

    void aDeterministicRunOnTheCpuIsTheUsualRun() {
        ExperimentSpec spec = tunelab::test::blobsExperiment(4);
        RunOptions options;
        options.threads = 1;
        RunControl control;
        CollectingSink usual, deterministic;
        trainExperiment(1, spec, options, control, usual);
        spec.training.deterministic = true;
        const RunSummary summary = trainExperiment(2, spec, options, control, deterministic);
        QVERIFY(summary.status == RunStatus::Completed);
        QVERIFY2(summary.message.empty(), summary.message.c_str()); // nothing on the CPU lacks one
        const auto a = usual.steps(), b = deterministic.steps();
        QCOMPARE(a.size(), b.size());
        for (size_t i = 0; i < a.size(); ++i)
            QCOMPARE(std::memcmp(&a[i].trainLoss, &b[i].trainLoss, sizeof(float)), 0);
        QVERIFY(!at::globalContext().deterministicAlgorithms()); // put back after the run
    }

    void operationsWithoutOneAreNamedOnce() {
        auto& context = at::globalContext();
        QVERIFY(!context.deterministicAlgorithms());
        std::vector<std::string> unmet;
        {
            tunelab::detail::DeterministicAlgorithms scope(false);
            QVERIFY(context.deterministicAlgorithms());
            QVERIFY(context.deterministicAlgorithmsWarnOnly()); // the operation still runs
            QVERIFY(context.deterministicCuDNN());
            QVERIFY(!context.benchmarkCuDNN());
            auto tensor = torch::zeros({5});
            tensor.put_(torch::tensor({int64_t{0}}), torch::tensor({1.0f})); // none on the CPU either
            at::Context::alertNotDeterministic("scatter_add_cuda_kernel");
            tensor.put_(torch::tensor({int64_t{1}}), torch::tensor({2.0f}));
            QCOMPARE(tensor[1].item<float>(), 2.0f);
            // LibTorch's warning handler is per thread: another run's operations are not this one's.
            std::thread other([] { at::Context::alertNotDeterministic("another_thread_op"); });
            other.join();
            unmet = scope.unmet();
        }
        QCOMPARE(unmet, (std::vector<std::string>{"put_", "scatter_add_cuda_kernel"}));
        QVERIFY(!context.deterministicAlgorithms());
    }

    void theLastScopeToEndPutsTheSettingsBack() {
        auto& context = at::globalContext();
        auto first = std::make_unique<tunelab::detail::DeterministicAlgorithms>(false);
        auto second = std::make_unique<tunelab::detail::DeterministicAlgorithms>(false);
        first.reset();
        QVERIFY(context.deterministicAlgorithms()); // the second run still trains
        second.reset();
        QVERIFY(!context.deterministicAlgorithms());
        QVERIFY(!context.deterministicCuDNN());
    }
};

QTEST_GUILESS_MAIN(TestDeterministicTraining)
#include "tst_deterministic_training.moc"
