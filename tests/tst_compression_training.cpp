// Training that compresses: magnitude pruning held through fine-tuning (spec.prune) and knowledge
// distillation from a finished run (spec.distill), and every way they can be asked for wrongly.

#include "collecting_sink.h"
#include "store/run_store.h"
#include "training/distillation.h"
#include "training/network.h"
#include "training/run_manager.h"
#include "training/saved_model.h"
#include "training/trainer.h"
#include "training/training_tensors.h"

#include <torch/torch.h>

#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <limits>
#include <map>
#include <memory>
#include <string>

using namespace tunelab;
using tunelab::test::CollectingSink;
using tunelab::test::layer;

namespace {

ExperimentSpec network(uint64_t seed, int64_t hidden = 32) {
    ExperimentSpec spec = tunelab::test::blobsExperiment(seed);
    spec.model.layers = {layer(LayerType::Linear, hidden), layer(LayerType::ReLU),
                         layer(LayerType::Linear, hidden), layer(LayerType::ReLU),
                         layer(LayerType::Linear, 3)};
    spec.optimizer.type = OptimizerType::AdamW;
    spec.optimizer.weightDecay = 0.01;
    spec.training.epochs = 6;
    return spec;
}

struct Trained {
    RunSummary summary;
    std::vector<char> model;
    std::vector<double> trainLosses;
};

Trained train(const ExperimentSpec& spec, RunOptions options = {}) {
    options.threads = 1;
    RunControl control;
    CollectingSink sink;
    Trained trained;
    trained.summary = trainExperiment(1, spec, options, control, sink);
    for (const RunEvent& event : sink.events()) {
        if (event.kind == RunEventKind::Finished && event.model)
            trained.model = *event.model;
        if (event.kind == RunEventKind::Epoch)
            trained.trainLosses.push_back(event.epoch.trainLoss);
    }
    return trained;
}

std::map<std::string, torch::Tensor> tensorsOf(const std::vector<char>& stateDict) {
    std::map<std::string, torch::Tensor> tensors;
    for (const auto& item : torch::pickle_load(stateDict).toGenericDict())
        tensors[item.key().toStringRef()] = item.value().toTensor();
    return tensors;
}

double zeroShare(const torch::Tensor& tensor) {
    return tensor.eq(0).sum().item<double>() / static_cast<double>(tensor.numel());
}

std::shared_ptr<const TeacherModel> teacherFrom(const ExperimentSpec& spec, const Trained& trained) {
    auto teacher = std::make_shared<TeacherModel>();
    teacher->run = 1;
    teacher->spec = spec;
    teacher->model = trained.model;
    return teacher;
}

// The error of a small spec with `section` added (written with ' for ").
std::string specError(std::string section) {
    std::replace(section.begin(), section.end(), '\'', '"');
    const std::string json = "{\"data\": {\"kind\": \"blobs\"}, \"model\": {\"layers\": ["
                             "{\"type\": \"linear\", \"out_features\": 8}, {\"type\": \"relu\"}, "
                             "{\"type\": \"linear\", \"out_features\": 3}]}, " +
                             section + "}";
    auto parsed = parseExperimentSpec(json);
    return parsed.ok() ? std::string() : parsed.error();
}

} // namespace

class TestCompressionTraining : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void oneShotGlobalPruningHoldsItsMasksThroughFineTuning() {
        ExperimentSpec spec = network(3);
        spec.prune.sparsity = 0.9;
        const Trained pruned = train(spec);
        QVERIFY(pruned.summary.status == RunStatus::Completed);
        QVERIFY2(pruned.summary.message.find("pruned 90.0 %") != std::string::npos,
                 pruned.summary.message.c_str());
        auto tensors = tensorsOf(pruned.model);
        const auto weights = torch::cat(
            {tensors["0.weight"].flatten(), tensors["2.weight"].flatten(), tensors["4.weight"].flatten()});
        QCOMPARE(zeroShare(weights), std::round(0.9 * weights.numel()) / weights.numel());
        QCOMPARE(zeroShare(tensors["0.bias"]), 0.0); // biases are not pruned
        // Global: one threshold, so the layers end with different sparsities.
        QVERIFY(zeroShare(tensors["0.weight"]) != zeroShare(tensors["2.weight"]));
    }

    void layerScopePrunesEachNamedLayerAlike() {
        ExperimentSpec spec = network(4);
        spec.prune.sparsity = 0.5;
        spec.prune.scope = PruneScope::Layer;
        spec.prune.layers = {0, 2};
        const Trained pruned = train(spec);
        QVERIFY(pruned.summary.status == RunStatus::Completed);
        auto tensors = tensorsOf(pruned.model);
        QCOMPARE(zeroShare(tensors["0.weight"]), 0.5);
        QCOMPARE(zeroShare(tensors["2.weight"]), 0.5);
        QCOMPARE(zeroShare(tensors["4.weight"]), 0.0); // not named
    }

    void gradualPruningFollowsTheCubicScheduleAndStillLearns() {
        ExperimentSpec spec = network(5);
        spec.training.epochs = 8;
        spec.prune.sparsity = 0.8;
        spec.prune.schedule = PruneSchedule::Gradual;
        spec.prune.startEpoch = 2;
        spec.prune.endEpoch = 5;
        const Trained pruned = train(spec);
        QVERIFY(pruned.summary.status == RunStatus::Completed);
        QVERIFY2(pruned.summary.message.find("pruned 80.0 %") != std::string::npos,
                 pruned.summary.message.c_str());
        ExperimentSpec dense = spec;
        dense.prune = PruneSpec{};
        const double denseAccuracy = train(dense).summary.valAccuracy;
        QVERIFY2(
            pruned.summary.valAccuracy >= denseAccuracy - 0.05,
            (std::to_string(pruned.summary.valAccuracy) + " vs " + std::to_string(denseAccuracy)).c_str());
        // The written spec names the end epoch it resolved, and reads back the same.
        const std::string json = experimentSpecToJson(spec);
        auto again = parseExperimentSpec(json);
        QVERIFY2(again.ok(), again.error().c_str());
        QCOMPARE(again.value().prune.lastPruningEpoch(8), 5);
        QVERIFY(again.value().prune.schedule == PruneSchedule::Gradual);
        ExperimentSpec defaults = spec;
        defaults.prune.endEpoch = 0;
        QCOMPARE(defaults.prune.lastPruningEpoch(8), 6); // three quarters of 8 epochs
    }

    void fakeQuantizedTrainingUpdatesTheFloatWeights() {
        ExperimentSpec spec = network(13);
        const Trained plain = train(spec);
        spec.fakeQuantize.enabled = true;
        const Trained aware = train(spec);
        QVERIFY(aware.summary.status == RunStatus::Completed);
        QVERIFY(aware.trainLosses != plain.trainLosses); // the forward pass saw other weights
        QVERIFY(aware.trainLosses.back() < aware.trainLosses.front());
        QVERIFY(aware.summary.valAccuracy >= plain.summary.valAccuracy - 0.1);
        // The saved weights are the float ones, not their int8 rounding: far more distinct values
        // per row than the 255 steps of int8.
        const auto weight = tensorsOf(aware.model)["2.weight"];
        QVERIFY(std::get<0>(at::_unique(weight.flatten())).numel() > 255);

        const std::string json = experimentSpecToJson(spec);
        QVERIFY2(json.find("\"fake_quantize\"") != std::string::npos, json.c_str());
        QVERIFY(parseExperimentSpec(json).value().fakeQuantize.enabled);
        QVERIFY(specError("'fake_quantize': {'per_chanel': true}").find("did you mean") != std::string::npos);
        QVERIFY(specError("'fake_quantize': {'per_channel': false}").empty());
    }

    void roundedActivationsFollowTheTrainingRangeAndSkipValidation() {
        ModelSpec model;
        model.layers = {layer(LayerType::Linear, 3)};
        tunelab::detail::Network quantizing(model, Shape{4}, at::make_generator<at::CPUGeneratorImpl>(3));
        quantizing->fakeQuantizeActivations();
        quantizing->train();
        torch::NoGradGuard noGrad;
        const auto weight = quantizing->named_parameters()["0.weight"];
        const auto bias = quantizing->named_parameters()["0.bias"];
        const auto first = torch::linspace(-1.0, 3.0, 8).reshape({2, 4});
        const auto out = quantizing->forward(first);
        auto [min, max] = quantizing->activationRange(0);
        QCOMPARE(min.item<float>(), -1.0f); // the first batch starts the range
        QCOMPARE(max.item<float>(), 3.0f);
        // 256 steps of 4/255 over [-1, 3], zero at step 64, as the int8 layer would quantize it.
        const auto rounded = torch::fake_quantize_per_tensor_affine(first, 4.0 / 255.0, 64, 0, 255);
        QVERIFY(!torch::equal(rounded, first));
        QVERIFY(torch::allclose(out, torch::linear(rounded, weight, bias), 1e-6, 1e-6));

        quantizing->forward(torch::linspace(-3.0, 5.0, 8).reshape({2, 4}));
        std::tie(min, max) = quantizing->activationRange(0);
        QVERIFY(std::abs(min.item<double>() - -1.02) < 1e-6); // moved a hundredth of the way
        QVERIFY(std::abs(max.item<double>() - 3.02) < 1e-6);
        // A diverging step's infinities and NaNs do not move it.
        auto diverged = torch::zeros({2, 4});
        diverged[0][0] = std::numeric_limits<float>::infinity();
        diverged[1][1] = -std::numeric_limits<float>::infinity();
        quantizing->forward(diverged);
        diverged[0][0] = std::numeric_limits<float>::quiet_NaN();
        quantizing->forward(diverged);
        std::tie(min, max) = quantizing->activationRange(0);
        QVERIFY(std::abs(min.item<double>() - -1.02) < 1e-6);
        QVERIFY(std::abs(max.item<double>() - 3.02) < 1e-6);

        quantizing->eval(); // validation sees the inputs unrounded, and does not move the range
        QVERIFY(torch::equal(quantizing->forward(first), torch::linear(first, weight, bias)));
        QVERIFY(std::abs(quantizing->activationRange(0).first.item<double>() - -1.02) < 1e-6);
    }

    void trainingWithRoundedActivationsDiffersAndKeepsLearning() {
        ExperimentSpec spec = network(13);
        spec.fakeQuantize.enabled = true;
        const Trained weightsOnly = train(spec);
        spec.fakeQuantize.activations = true;
        const Trained rounded = train(spec);
        QVERIFY(rounded.summary.status == RunStatus::Completed);
        QVERIFY(rounded.trainLosses != weightsOnly.trainLosses);
        QVERIFY(rounded.trainLosses.back() < rounded.trainLosses.front());
        QVERIFY(rounded.summary.valAccuracy >= weightsOnly.summary.valAccuracy - 0.1);

        const std::string json = experimentSpecToJson(spec);
        QVERIFY2(json.find("\"activations\": true") != std::string::npos, json.c_str());
        QVERIFY(parseExperimentSpec(json).value().fakeQuantize.activations);
        QVERIFY(!parseExperimentSpec(experimentSpecToJson(network(13))).value().fakeQuantize.activations);
        QVERIFY(specError("'fake_quantize': {'activations': 1}").find("fake_quantize.activations") !=
                std::string::npos);
    }

    void distillationWithAlphaOneIsPlainTraining() {
        const ExperimentSpec teacherSpec = network(6, 64);
        const Trained teacher = train(teacherSpec);
        QVERIFY(teacher.summary.status == RunStatus::Completed);
        ExperimentSpec student = network(6, 4); // the teacher's seed: the same generated rows
        const Trained alone = train(student);
        student.distill.teacherRun = 1;
        student.distill.alpha = 1.0;
        RunOptions options;
        options.teacher = teacherFrom(teacherSpec, teacher);
        const Trained labelsOnly = train(student, options);
        QVERIFY(labelsOnly.summary.status == RunStatus::Completed);
        QCOMPARE(labelsOnly.trainLosses, alone.trainLosses);

        student.distill.alpha = 0.2;
        student.distill.temperature = 3.0;
        const Trained distilled = train(student, options);
        QVERIFY(distilled.summary.status == RunStatus::Completed);
        QVERIFY(distilled.trainLosses != alone.trainLosses);
        QVERIFY(distilled.summary.valAccuracy > 0.8);
    }

    void aTeacherLabelsTheSamplesAsTheStudentSeesThem() {
        // The teacher reads the rows unstandardized, the student standardized: the teacher takes the
        // student's inputs turned into its own, and labels them as it labels its own inputs.
        ExperimentSpec teacherSpec = network(6, 64);
        teacherSpec.data.standardize = false;
        const Trained teacher = train(teacherSpec);
        QVERIFY(teacher.summary.status == RunStatus::Completed);
        ExperimentSpec student = network(6, 4); // the same seed: the same generated rows
        student.data.standardize = true;
        student.distill.teacherRun = 1;
        RunOptions options;
        options.teacher = teacherFrom(teacherSpec, teacher);
        using tunelab::detail::prepareRunData;
        const tunelab::detail::RunData plain = prepareRunData(student, options.teacher.get(), torch::kCPU);
        QVERIFY(plain.tensors.teacherLogits.defined() && !plain.tensors.teacher);
        auto saved = tunelab::detail::loadSavedModel(teacherSpec, teacher.model);
        QVERIFY2(saved.ok(), saved.error().c_str());
        const auto own = saved.value().network->forward(saved.value().features(plain.split.train));
        QCOMPARE(own.sizes(), plain.tensors.teacherLogits.sizes());
        QVERIFY((own - plain.tensors.teacherLogits).abs().max().item<double>() < 1e-4);

        // A run that augments keeps the teacher, which labels each batch as augmented.
        student.augment.mixup = 0.4;
        const tunelab::detail::RunData mixed = prepareRunData(student, options.teacher.get(), torch::kCPU);
        QVERIFY(mixed.tensors.teacher && !mixed.tensors.teacherLogits.defined());
        QVERIFY((mixed.tensors.teacher->logits(mixed.tensors.trainX) - own).abs().max().item<double>() <
                1e-4);

        // With alpha 1 the teacher has no say: the run trains as mixup alone does.
        ExperimentSpec mixupAlone = student;
        mixupAlone.distill = DistillSpec{};
        student.distill.alpha = 1.0;
        QCOMPARE(train(student, options).trainLosses, train(mixupAlone).trainLosses);
        student.distill.alpha = 0.3;
        student.distill.temperature = 2.0;
        const Trained distilled = train(student, options);
        QVERIFY2(distilled.summary.status == RunStatus::Completed, distilled.summary.message.c_str());
        QVERIFY(distilled.trainLosses != train(mixupAlone).trainLosses);
        QVERIFY(distilled.trainLosses.back() < distilled.trainLosses.front());

        // A teacher that reads the rows as images teaches a student that reads them flat.
        ExperimentSpec imageTeacherSpec = network(6, 32);
        imageTeacherSpec.data.inputShape = {1, 2, 2};
        LayerSpec convolution = tunelab::test::layer(LayerType::Conv2d);
        convolution.outChannels = 8;
        convolution.kernelSize = 1;
        imageTeacherSpec.model.layers.insert(imageTeacherSpec.model.layers.begin(),
                                             {convolution, tunelab::test::layer(LayerType::Flatten)});
        const Trained imageTeacher = train(imageTeacherSpec);
        QVERIFY2(imageTeacher.summary.status == RunStatus::Completed, imageTeacher.summary.message.c_str());
        RunOptions imageOptions;
        imageOptions.teacher = teacherFrom(imageTeacherSpec, imageTeacher);
        ExperimentSpec flatStudent = network(6, 4);
        flatStudent.distill.teacherRun = 1;
        flatStudent.augment.noise = 0.05;
        const Trained taughtFlat = train(flatStudent, imageOptions);
        QVERIFY2(taughtFlat.summary.status == RunStatus::Completed, taughtFlat.summary.message.c_str());

        // Generated data of another seed are other samples, which the teacher never learnt.
        ExperimentSpec stranger = network(7, 4);
        stranger.distill.teacherRun = 1;
        const Trained refused = train(stranger, options);
        QVERIFY(refused.summary.status == RunStatus::Failed);
        QVERIFY2(refused.summary.message.find("distill.teacher_run: run 1 was trained on other data (row 0 "
                                              "holds other values") != std::string::npos,
                 refused.summary.message.c_str());
    }

    void aTeacherOfOtherDataIsRefusedByName() {
        ExperimentSpec teacherSpec = network(8);
        teacherSpec.data.classes = 4;
        teacherSpec.model.layers.back().outFeatures = 4;
        const Trained teacher = train(teacherSpec);
        QVERIFY(teacher.summary.status == RunStatus::Completed);
        ExperimentSpec student = network(9, 4);
        student.distill.teacherRun = 1;
        RunOptions options;
        options.teacher = teacherFrom(teacherSpec, teacher);
        const Trained refused = train(student, options);
        QVERIFY(refused.summary.status == RunStatus::Failed);
        QVERIFY2(refused.summary.message.find("distill.teacher_run: run 1 was trained on other data") !=
                     std::string::npos,
                 refused.summary.message.c_str());
        const Trained unhanded = train(student);
        QVERIFY(unhanded.summary.status == RunStatus::Failed);
        QVERIFY(unhanded.summary.message.find("distill.teacher_run") != std::string::npos);
    }

    void aMissingTeacherRunFailsBeforeAnythingIsStored() {
        QTemporaryDir folder;
        auto store = RunStore::open(folder.filePath("runs.db").toStdString());
        QVERIFY(store.ok());
        RunManager manager(store.value().get());
        ExperimentSpec student = network(10, 4);
        student.distill.teacherRun = 42;
        auto started = manager.start(student, RunOptions{});
        QVERIFY(!started.ok());
        QVERIFY2(started.error().find("distill.teacher_run: there is no run 42") != std::string::npos,
                 started.error().c_str());
        QVERIFY(store.value()->listRuns().empty());
    }

    void badPruneAndDistillSectionsNameTheirKeys() {
        QVERIFY(specError(("'prune': {'sparsity': 1.0}")).find("prune.sparsity: expected a share") !=
                std::string::npos);
        QVERIFY(specError(("'prune': {'sparsity': -0.1}")).find("prune.sparsity") != std::string::npos);
        QVERIFY(specError(("'prune': {'scope': 'layer'}")).find("prune.sparsity: missing") !=
                std::string::npos);
        const std::string relu = specError(("'prune': {'sparsity': 0.5, 'layers': [1]}"));
        QVERIFY2(relu.find("prune.layers[0]: model.layers[1] is relu, which has no weights to prune") !=
                     std::string::npos,
                 relu.c_str());
        QVERIFY(specError(("'prune': {'sparsity': 0.5, 'layers': [7]}")).find("no layer 7") !=
                std::string::npos);
        QVERIFY(specError(("'prune': {'sparsity': 0.5, 'start_epoch': 2}")).find("one_shot") !=
                std::string::npos);
        QVERIFY(specError(("'prune': {'sparsity': 0.5, 'schedule': 'gradual', 'end_epoch': 99}"))
                    .find("prune.end_epoch") != std::string::npos);
        QVERIFY(specError(("'distill': {'temperature': 2}")).find("distill.teacher_run: missing") !=
                std::string::npos);
        QVERIFY(specError(("'distill': {'teacher_run': 1, 'alpha': 1.5}")).find("distill.alpha") !=
                std::string::npos);
        QVERIFY(specError(("'distill': {'teacher_run': 1, 'temprature': 2}")).find("did you mean") !=
                std::string::npos);
        QVERIFY(specError(("'distill': {'teacher_run': 1, 'temperature': 2, 'alpha': 0.3}")).empty());
    }
};

QTEST_GUILESS_MAIN(TestCompressionTraining)
#include "tst_compression_training.moc"
