// Fine-tuning: an experiment that starts from a trained model's weights (init.run, init.file), keeps
// its first layers frozen, and trains a new head; and every way it can be asked for wrongly.

#include "collecting_sink.h"
#include "store/run_store.h"
#include "training/model_export.h"
#include "training/run_manager.h"
#include "training/trainer.h"

#include <torch/torch.h>

#include <QTemporaryDir>
#include <QtTest>

#include <map>
#include <memory>
#include <string>

using namespace tunelab;
using tunelab::test::CollectingSink;
using tunelab::test::layer;

namespace {

// Blobs through linear - batch norm - relu - linear - relu - linear(classes).
ExperimentSpec blobs(int classes, uint64_t seed) {
    ExperimentSpec spec = tunelab::test::blobsExperiment(seed);
    spec.data.classes = classes;
    spec.model.layers = {layer(LayerType::Linear, 16), layer(LayerType::BatchNorm),
                         layer(LayerType::ReLU),       layer(LayerType::Linear, 16),
                         layer(LayerType::ReLU),       layer(LayerType::Linear, classes)};
    spec.optimizer.type = OptimizerType::AdamW;
    spec.optimizer.weightDecay = 0.1; // decoupled: it would shrink frozen weights if they were not held
    spec.training.epochs = 3;
    return spec;
}

struct Trained {
    RunSummary summary;
    std::vector<char> model;
};

Trained train(const ExperimentSpec& spec, std::shared_ptr<const std::vector<char>> weights = {}) {
    RunOptions options;
    options.threads = 1;
    options.initialWeights = std::move(weights);
    RunControl control;
    CollectingSink sink;
    Trained trained;
    trained.summary = trainExperiment(1, spec, options, control, sink);
    for (const RunEvent& event : sink.events())
        if (event.kind == RunEventKind::Finished && event.model)
            trained.model = *event.model;
    return trained;
}

std::map<std::string, torch::Tensor> tensorsOf(const std::vector<char>& stateDict) {
    std::map<std::string, torch::Tensor> tensors;
    for (const auto& item : torch::pickle_load(stateDict).toGenericDict())
        tensors[item.key().toStringRef()] = item.value().toTensor();
    return tensors;
}

} // namespace

class TestFineTune : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void frozenLayersKeepTheirWeightsAndANewHeadTrains() {
        const Trained source = train(blobs(3, 5));
        QVERIFY(source.summary.status == RunStatus::Completed);
        ExperimentSpec tuned = blobs(4, 6); // another task: four classes, so another head
        tuned.init.run = 1;
        tuned.init.freezeLayers = 3;
        const Trained fine = train(tuned, std::make_shared<const std::vector<char>>(source.model));
        QVERIFY(fine.summary.status == RunStatus::Completed);
        QVERIFY2(fine.summary.message.find("layer 5 started fresh") != std::string::npos,
                 fine.summary.message.c_str());
        const auto before = tensorsOf(source.model);
        const auto after = tensorsOf(fine.model);
        // Layers 0-2 (linear, batch norm with its statistics) are exactly the source's.
        for (const char* name :
             {"0.weight", "0.bias", "1.weight", "1.bias", "1.running_mean", "1.running_var"})
            QVERIFY2(torch::equal(before.at(name), after.at(name)), name);
        // Layer 3 started from the source and trained on; the head is another shape.
        QVERIFY(!torch::equal(before.at("3.weight"), after.at("3.weight")));
        QCOMPARE(after.at("5.weight").size(0), int64_t{4});
    }

    void batchNormStatisticsTrainWhenAskedTo() {
        const Trained source = train(blobs(3, 5));
        ExperimentSpec tuned = blobs(3, 7);
        tuned.init.run = 1;
        tuned.init.freezeLayers = 2;
        tuned.init.freezeBatchNorm = false;
        const Trained fine = train(tuned, std::make_shared<const std::vector<char>>(source.model));
        const auto before = tensorsOf(source.model);
        const auto after = tensorsOf(fine.model);
        QVERIFY(torch::equal(before.at("1.weight"), after.at("1.weight")));
        QVERIFY(!torch::equal(before.at("1.running_mean"), after.at("1.running_mean")));
    }

    void anExportedStateDictFileInitialises() {
        const ExperimentSpec sourceSpec = blobs(3, 5);
        const Trained source = train(sourceSpec);
        QTemporaryDir folder;
        const std::string file = folder.filePath("source.pth").toStdString();
        QVERIFY(exportModel(sourceSpec, source.model, ExportFormat::StateDict, file).ok());
        ExperimentSpec tuned = blobs(3, 8);
        tuned.init.file = file;
        tuned.init.freezeLayers = 1;
        const Trained fine = train(tuned);
        QVERIFY(fine.summary.status == RunStatus::Completed);
        QVERIFY2(fine.summary.message.empty(), fine.summary.message.c_str()); // every layer matched
        QVERIFY(torch::equal(tensorsOf(source.model).at("0.weight"), tensorsOf(fine.model).at("0.weight")));
    }

    void weightsThatFitNothingOrAreMissingFailWithAMessage() {
        const Trained source = train(blobs(3, 5));
        // Another task (four classes) through narrower layers: no parameter has the source's shape.
        ExperimentSpec other = blobs(4, 5);
        other.model.layers[0].outFeatures = 9;
        other.model.layers[3].outFeatures = 9;
        other.init.run = 1;
        // Every layer has another shape: nothing to start from is an error, not a silent fresh start.
        const Trained none = train(other, std::make_shared<const std::vector<char>>(source.model));
        QVERIFY(none.summary.status == RunStatus::Failed);
        QVERIFY2(none.summary.message.find("match no layer") != std::string::npos,
                 none.summary.message.c_str());

        ExperimentSpec missing = blobs(3, 5);
        missing.init.file = "/nonexistent/weights.pth";
        const Trained noFile = train(missing);
        QVERIFY(noFile.summary.status == RunStatus::Failed);
        QVERIFY2(noFile.summary.message.find("init.file") != std::string::npos,
                 noFile.summary.message.c_str());

        ExperimentSpec garbage = blobs(3, 5);
        garbage.init.run = 1;
        const Trained notAStateDict =
            train(garbage, std::make_shared<const std::vector<char>>(std::vector<char>{'n', 'o', 'p', 'e'}));
        QVERIFY(notAStateDict.summary.status == RunStatus::Failed);
        QVERIFY2(notAStateDict.summary.message.find("not a state dict") != std::string::npos,
                 notAStateDict.summary.message.c_str());
    }

    void theRunManagerReadsTheSourceRunFromItsStore() {
        QTemporaryDir folder;
        auto store = RunStore::open(folder.filePath("runs.sqlite").toStdString()).take();
        RunManager manager(store.get());
        RunOptions options;
        options.threads = 1;
        ExperimentSpec tuned = blobs(3, 5);
        tuned.init.run = 42;
        const auto refused = manager.start(tuned, options);
        QVERIFY(!refused.ok());
        QVERIFY2(refused.error().find("there is no run 42") != std::string::npos, refused.error().c_str());
        const auto source = manager.start(blobs(3, 5), options);
        QVERIFY(source.ok());
        manager.waitForAll();
        store->flush();
        tuned.init.run = source.value();
        tuned.init.freezeLayers = 1;
        const auto fine = manager.start(tuned, options);
        QVERIFY2(fine.ok(), fine.ok() ? "" : fine.error().c_str());
        manager.waitForAll();
        store->flush();
        QVERIFY(store->run(fine.value())->status == RunStatus::Completed);
        QVERIFY(torch::equal(tensorsOf(store->model(source.value())).at("0.weight"),
                             tensorsOf(store->model(fine.value())).at("0.weight")));
    }

    void theSpecSaysWhatCannotWork_data() {
        QTest::addColumn<QString>("init");
        QTest::addColumn<QString>("message");
        QTest::newRow("both") << "{\"run\": 3, \"file\": \"a.pth\"}"
                              << "init: give run or file, not both";
        QTest::newRow("too many frozen") << "{\"run\": 3, \"freeze_layers\": 9}"
                                         << "init.freeze_layers: 9 layers to freeze, but the network has 3";
        QTest::newRow("all frozen") << "{\"run\": 3, \"freeze_layers\": 3}"
                                    << "leaves nothing to train";
        QTest::newRow("freezing random weights") << "{\"freeze_layers\": 1}"
                                                 << "freezing needs trained weights";
        QTest::newRow("negative run") << "{\"run\": -2}"
                                      << "init.run: expected a run id";
        QTest::newRow("unknown key") << "{\"run\": 3, \"freeze\": 1}"
                                     << "init.freeze";
    }

    void theSpecSaysWhatCannotWork() {
        QFETCH(QString, init);
        QFETCH(QString, message);
        const std::string text =
            "{\"data\": {\"kind\": \"blobs\"}, \"model\": {\"layers\": [{\"type\": \"linear\",\n"
            "            \"out_features\": 8}, {\"type\": \"relu\"}, {\"type\": \"linear\", "
            "\"out_features\": 2}]}, \"init\": " +
            init.toStdString() + "}";
        const auto parsed = parseExperimentSpec(text);
        QVERIFY(!parsed.ok());
        QVERIFY2(parsed.error().find(message.toStdString()) != std::string::npos, parsed.error().c_str());
    }

    void theSpecRoundTrips() {
        const std::string text =
            "{\"data\": {\"kind\": \"blobs\"}, \"model\": {\"layers\": [{\"type\": \"linear\",\n"
            "            \"out_features\": 8}, {\"type\": \"relu\"}, {\"type\": \"linear\", "
            "\"out_features\": 2}]},\n"
            "            \"init\": {\"file\": \"weights/source.pth\", \"freeze_layers\": 1, "
            "\"freeze_batch_norm\": false}}";
        const auto parsed = parseExperimentSpec(text, "/data/project");
        QVERIFY2(parsed.ok(), parsed.ok() ? "" : parsed.error().c_str());
        QCOMPARE(parsed.value().init.file, std::string("/data/project/weights/source.pth"));
        QCOMPARE(parsed.value().init.freezeLayers, 1);
        QVERIFY(!parsed.value().init.freezeBatchNorm);
        const auto again = parseExperimentSpec(experimentSpecToJson(parsed.value()));
        QVERIFY(again.ok());
        QCOMPARE(experimentSpecToJson(again.value()), experimentSpecToJson(parsed.value()));
    }

    void aLayersLearningRateMultiplierScalesItsUpdates() {
        // Plain SGD, one full-batch step: half the learning rate on layer 0 is half its update.
        ExperimentSpec spec = blobs(3, 11);
        spec.model.layers[1].type = LayerType::ReLU; // no batch norm: one step is one update
        spec.optimizer = OptimizerSpec{};
        spec.optimizer.type = OptimizerType::Sgd;
        spec.optimizer.lr = 0.1;
        spec.training.epochs = 1;
        spec.training.fullBatch = true;
        ExperimentSpec halved = spec;
        halved.model.layers[0].lrMultiplier = 0.5;
        ExperimentSpec slower = spec;
        slower.optimizer.lr = 0.05;
        const auto scaled = tensorsOf(train(halved).model);
        const auto reference = tensorsOf(train(slower).model);
        const auto full = tensorsOf(train(spec).model);
        QVERIFY(torch::allclose(scaled.at("0.weight"), reference.at("0.weight"), 1e-6, 1e-7));
        QVERIFY(torch::equal(scaled.at("3.weight"), full.at("3.weight"))); // other layers at 1

        // Adam normalises gradients, so the multiplier scales the update itself; 0 holds a layer.
        ExperimentSpec adam = blobs(3, 12);
        adam.model.layers[3].lrMultiplier = 0.0;
        const Trained held = train(adam);
        QVERIFY(held.summary.status == RunStatus::Completed);
        ExperimentSpec untrained = adam;
        untrained.training.epochs = 1;
        untrained.optimizer.lr = 1e-12;
        QVERIFY(torch::equal(tensorsOf(held.model).at("3.weight"),
                             tensorsOf(train(untrained).model).at("3.weight")));
        const std::string json = experimentSpecToJson(adam);
        QVERIFY(json.find("\"lr_multiplier\": 0.0") != std::string::npos);
        QCOMPARE(parseExperimentSpec(json).value().model.layers[3].lrMultiplier, 0.0);
    }

    void aLearningRateMultiplierOnlyWhereThereAreWeights() {
        const std::string head = "{\"data\": {\"kind\": \"blobs\"}, \"model\": {\"layers\": [";
        auto error = [&](const std::string& layers) {
            auto parsed = parseExperimentSpec(head + layers + "]}}");
            return parsed.ok() ? std::string() : parsed.error();
        };
        QVERIFY(error("{\"type\": \"linear\", \"out_features\": 3, \"lr_multiplier\": 0.1}").empty());
        QVERIFY(error("{\"type\": \"linear\", \"out_features\": 3, \"lr_multiplier\": 101}")
                    .find("model.layers[0].lr_multiplier: expected a multiplier from 0 to 100") !=
                std::string::npos);
        QVERIFY(
            error("{\"type\": \"relu\", \"lr_multiplier\": 0.1}, {\"type\": \"linear\", \"out_features\": 3}")
                .find("model.layers[0].lr_multiplier: unknown key") != std::string::npos);
    }
};

QTEST_GUILESS_MAIN(TestFineTune)
#include "tst_fine_tune.moc"
