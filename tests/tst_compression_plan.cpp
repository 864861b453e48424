// Compression plans: what they read, the experiments their variants train, and every mistake a plan
// can hold, each refused with its place named.

#include "compress/compression_plan.h"
#include "compress/compression_results.h"

#include <QtTest>

#include <algorithm>
#include <string>

using namespace tunelab;

namespace {

// A plan with `variants` (written with ' for ") on an inline blobs experiment.
std::string planWith(std::string variants, std::string source = {}) {
    if (source.empty())
        source = "{'experiment': {'name': 'blobs', 'data': {'kind': 'blobs'}, 'model': {'layers': ["
                 "{'type': 'linear', 'out_features': 16}, {'type': 'relu'}, {'type': 'linear', "
                 "'out_features': 3}]},"
                 " 'training': {'epochs': 4}}}";
    std::string text = "{'name': 'plan', 'source': " + source + ", 'variants': " + variants + "}";
    std::replace(text.begin(), text.end(), '\'', '"');
    return text;
}

std::string planError(const std::string& variants, const std::string& source = {}) {
    auto plan = parseCompressionPlan(planWith(variants, source));
    return plan.ok() ? std::string() : plan.error();
}

bool mentions(const std::string& text, const std::string& part) {
    if (text.find(part) != std::string::npos)
        return true;
    qWarning("%s", text.c_str());
    return false;
}

} // namespace

class TestCompressionPlan : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void readsEveryKindOfVariant() {
        auto plan = parseCompressionPlan(planWith(
            "[{'name': 'p90', 'kind': 'prune', 'sparsity': 0.9, 'schedule': 'gradual', 'epochs': 3, 'lr': "
            "0.001},"
            " {'name': 's50', 'kind': 'structured', 'fraction': 0.5, 'importance': 'l2'},"
            " {'name': 'q', 'kind': 'int8', 'per_channel': false, 'calibration_rows': 64, 'batch': 64},"
            " {'name': 'kd', 'kind': 'distill', 'temperature': 3, 'alpha': 0.25, 'compare_alone': false,"
            "  'student': {'layers': [{'type': 'linear', 'out_features': 3}]}},"
            " {'name': 's25', 'kind': 'structured', 'fraction': 0.25, 'importance': 'taylor'}]"));
        QVERIFY2(plan.ok(), plan.error().c_str());
        const CompressionPlan& read = plan.value();
        QCOMPARE(read.variants.size(), size_t(5));
        QVERIFY(read.variants[4].importance == PruneImportance::Taylor);
        QVERIFY(read.variants[0].kind == VariantKind::Prune);
        QCOMPARE(read.variants[0].epochs, 3);
        QVERIFY(read.variants[1].importance == PruneImportance::L2);
        QCOMPARE(read.variants[1].fraction, 0.5);
        QVERIFY(!read.variants[2].perChannel);
        QCOMPARE(read.variants[2].calibrationRows, int64_t(64));
        QCOMPARE(read.variants[2].decisionBatch, 64);
        QCOMPARE(read.variants[3].temperature, 3.0);
        QVERIFY(!read.variants[3].compareAlone);
        QCOMPARE(read.latencyThreads, 1);
    }

    void aQuantizationAwareVariantFineTunesTheSource() {
        auto plan = parseCompressionPlan(planWith(
            "[{'name': 'qat', 'kind': 'qat', 'per_channel': false, 'epochs': 2, 'all_int8': true}]"));
        QVERIFY2(plan.ok(), plan.error().c_str());
        const CompressionVariant& variant = plan.value().variants[0];
        QVERIFY(variant.kind == VariantKind::Qat);
        QVERIFY(variant.allInt8);
        const ExperimentSpec source = parseExperimentSpec(plan.value().sourceExperimentJson).take();
        auto spec = variantExperiment(variant, source, 5);
        QVERIFY2(spec.ok(), spec.error().c_str());
        QCOMPARE(spec.value().init.run, int64_t(5));
        QVERIFY(spec.value().fakeQuantize.enabled);
        QVERIFY(!spec.value().fakeQuantize.perChannel);
        QVERIFY(spec.value().fakeQuantize.activations); // a qat variant rounds activations by default
        QCOMPARE(spec.value().training.epochs, 2);

        auto weightsOnly =
            parseCompressionPlan(planWith("[{'name': 'qat', 'kind': 'qat', 'activations': false}]"));
        QVERIFY2(weightsOnly.ok(), weightsOnly.error().c_str());
        QVERIFY(!weightsOnly.value().variants[0].qatActivations);
        QVERIFY(
            !variantExperiment(weightsOnly.value().variants[0], source, 5).value().fakeQuantize.activations);
        // int8 does not train, so it has no activations to round while training.
        auto int8 = parseCompressionPlan(planWith("[{'name': 'q', 'kind': 'int8', 'activations': true}]"));
        QVERIFY(!int8.ok());
        QVERIFY2(int8.error().find("activations") != std::string::npos, int8.error().c_str());
    }

    void variantsTrainTheSourceWithTheirKeys() {
        auto plan = parseCompressionPlan(
            planWith("[{'name': 'p90', 'kind': 'prune', 'sparsity': 0.9, 'epochs': 2, 'lr': 0.0005},"
                     " {'name': 'kd', 'kind': 'distill', 'student': {'layers': [{'type': 'linear', "
                     "'out_features': 3}]}}]"));
        QVERIFY2(plan.ok(), plan.error().c_str());
        const ExperimentSpec source = parseExperimentSpec(plan.value().sourceExperimentJson).take();
        auto pruned = variantExperiment(plan.value().variants[0], source, 12);
        QVERIFY2(pruned.ok(), pruned.error().c_str());
        QCOMPARE(pruned.value().init.run, int64_t(12));
        QCOMPARE(pruned.value().prune.sparsity, 0.9);
        QCOMPARE(pruned.value().training.epochs, 2);
        QCOMPARE(pruned.value().optimizer.lr, 0.0005);
        QCOMPARE(pruned.value().name, std::string("blobs / p90"));
        auto student = variantExperiment(plan.value().variants[1], source, 12);
        QVERIFY(student.ok());
        QCOMPARE(student.value().distill.teacherRun, int64_t(12));
        QCOMPARE(student.value().model.layers.size(), size_t(1));
        QCOMPARE(student.value().training.epochs, 4); // the source's
        auto alone = variantExperiment(plan.value().variants[1], source, 12, true);
        QVERIFY(alone.ok());
        QVERIFY(!alone.value().distill.enabled());
        QCOMPARE(alone.value().seed, student.value().seed);
        QCOMPARE(student.value().augment.mixup, 0.0); // the source's augment
    }

    void distilledStudentsMayMixSamplesAndTheStudentAloneDoesToo() {
        auto plan = parseCompressionPlan(planWith(
            "[{'name': 'kd', 'kind': 'distill', 'mixup': 0.4, 'student': {'layers': [{'type': 'linear', "
            "'out_features': 3}]}}]"));
        QVERIFY2(plan.ok(), plan.error().c_str());
        QCOMPARE(plan.value().variants[0].mixup, 0.4);
        const ExperimentSpec source = parseExperimentSpec(plan.value().sourceExperimentJson).take();
        auto student = variantExperiment(plan.value().variants[0], source, 12);
        QVERIFY2(student.ok(), student.error().c_str());
        QCOMPARE(student.value().augment.mixup, 0.4);
        QVERIFY(student.value().distill.enabled());
        auto alone = variantExperiment(plan.value().variants[0], source, 12, true);
        QVERIFY2(alone.ok(), alone.error().c_str());
        QCOMPARE(alone.value().augment.mixup, 0.4);
        QVERIFY(mentions(planError("[{'name': 'k', 'kind': 'distill', 'mixup': -1, 'student': {'layers': "
                                   "[{'type': 'linear', 'out_features': 3}]}}]"),
                         "variants[0].mixup"));
    }

    void mistakesAreRefusedWithTheirPlace() {
        QVERIFY(mentions(planError("[{'name': 'p', 'kind': 'prune', 'sparsity': 1.0}]"),
                         "variants[0]: sparsity"));
        QVERIFY(mentions(planError("[{'name': 'p', 'kind': 'prune'}]"), "variants[0].sparsity: missing"));
        QVERIFY(mentions(planError("[{'name': 'p', 'kind': 'prune', 'sparsity': 0.5, 'layers': [1]}]"),
                         "variants[0]: layers[0]: model.layers[1] is relu"));
        QVERIFY(mentions(planError("[{'name': 'p', 'kind': 'shrink'}]"), "variants[0].kind: unknown kind"));
        QVERIFY(mentions(planError("[{'name': 's', 'kind': 'structured', 'fraction': 1}]"),
                         "variants[0].fraction"));
        QVERIFY(mentions(planError("[{'name': 's', 'kind': 'structured', 'importance': 'l3'}]"),
                         "variants[0].importance"));
        QVERIFY(mentions(planError("[{'name': 'q', 'kind': 'int8', 'batch': 32}]"),
                         "variants[0].batch: expected 1 or 64"));
        QVERIFY(mentions(planError("[{'name': 'q', 'kind': 'int8', 'epochs': 3}]"),
                         "variants[0].epochs: unknown key for a variant of kind int8"));
        QVERIFY(mentions(planError("[{'name': 'k', 'kind': 'distill'}]"), "variants[0].student: missing"));
        QVERIFY(mentions(
            planError("[{'name': 'k', 'kind': 'distill', 'student': {'layers': [{'type': 'lineer'}]}}]"),
            "variants[0]: student.layers[0].type"));
        QVERIFY(mentions(planError("[{'name': 'a', 'kind': 'int8'}, {'name': 'a', 'kind': 'int8'}]"),
                         "variants[1].name: \"a\" is already the name"));
        QVERIFY(mentions(planError("[]"), "variants: expected a non-empty list"));
        QVERIFY(mentions(planError("[{'name': 'q', 'kind': 'int8'}]", "{'run': 3, 'experiment': {}}"),
                         "source: give \"run\""));
        QVERIFY(mentions(planError("[{'name': 'q', 'kind': 'int8'}]", "{'run': 0}"), "source.run"));
        QVERIFY(planError("[{'name': 'q', 'kind': 'int8'}]", "{'run': 3}").empty());
    }

    void paretoFrontsKeepWhatNothingBeats() {
        CompressionResult result;
        auto model = [](const char* name, double accuracy, int64_t bytes, double ms) {
            VariantResult variant;
            variant.name = name;
            variant.valAccuracy = accuracy;
            variant.sizeBytes = bytes;
            variant.latencyMs = ms;
            return variant;
        };
        result.source = model("source", 0.97, 1000, 1.0);
        result.variants = {model("smaller", 0.96, 300, 1.1), model("worse", 0.95, 400, 0.5),
                           model("tie", 0.97, 1000, 1.0), model("failed", 0.99, 10, 0.1)};
        result.variants[3].status = RunStatus::Failed;
        markParetoFronts(result);
        QVERIFY(result.source.paretoSize && result.source.paretoLatency);
        QVERIFY(result.variants[0].paretoSize && !result.variants[0].paretoLatency);
        QVERIFY(!result.variants[1].paretoSize && result.variants[1].paretoLatency);
        QVERIFY(result.variants[2].paretoSize); // equal is not beaten
        QVERIFY(!result.variants[3].paretoSize && !result.variants[3].paretoLatency);
    }
};

QTEST_GUILESS_MAIN(TestCompressionPlan)
#include "tst_compression_plan.moc"
