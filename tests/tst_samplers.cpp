#include "search/samplers.h"

#include "sampler_test_support.h"

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <memory>
#include <set>

using namespace tunelab;
using namespace tunelab::test;

namespace {

std::unique_ptr<Sampler> makeSampler(const QString& kind, uint64_t seed) {
    if (kind == "random")
        return std::make_unique<RandomSampler>(seed);
    return std::make_unique<SobolSampler>(seed);
}

Assignment suggestOrFail(Sampler& sampler, const SearchSpace& space, int64_t trial) {
    auto suggested = sampler.suggest(space, trial, {});
    if (!suggested)
        qFatal("no suggestion for trial %lld", static_cast<long long>(trial));
    return *suggested;
}

} // namespace

class TestSamplers : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void samplersAreDeterministic_data() {
        QTest::addColumn<QString>("kind");
        QTest::newRow("random") << "random";
        QTest::newRow("sobol") << "sobol";
    }
    void samplersAreDeterministic() {
        QFETCH(QString, kind);
        const SearchSpace space = parse(kMixedSpace);
        auto first = makeSampler(kind, 42);
        std::vector<Assignment> forward;
        for (int64_t trial = 0; trial < 50; ++trial)
            forward.push_back(suggestOrFail(*first, space, trial));
        // A second instance asked in reverse order, as a resumed or parallel study might.
        auto second = makeSampler(kind, 42);
        for (int64_t trial = 49; trial >= 0; --trial)
            QVERIFY(suggestOrFail(*second, space, trial) == forward[static_cast<size_t>(trial)]);
        // History does not change the suggestion.
        std::vector<FinishedTrial> history = {{0, forward[0], 1.0, TrialState::Complete}};
        QVERIFY(*second->suggest(space, 7, history) == forward[7]);
        // Another seed gives other values.
        auto other = makeSampler(kind, 43);
        int same = 0;
        for (int64_t trial = 0; trial < 50; ++trial)
            same += suggestOrFail(*other, space, trial) == forward[static_cast<size_t>(trial)] ? 1 : 0;
        QCOMPARE(same, 0);
        // Successive trials differ.
        QVERIFY(forward[0] != forward[1]);
    }

    void valuesStayInBoundsAndOnSteps_data() {
        QTest::addColumn<QString>("kind");
        QTest::newRow("random") << "random";
        QTest::newRow("sobol") << "sobol";
    }
    void valuesStayInBoundsAndOnSteps() {
        QFETCH(QString, kind);
        const SearchSpace space = parse(kMixedSpace);
        auto sampler = makeSampler(kind, 3);
        std::set<int64_t> epochs;
        std::set<std::string> types, layers;
        for (int64_t trial = 0; trial < 2000; ++trial) {
            const Assignment a = suggestOrFail(*sampler, space, trial);
            verifyMixedAssignment(a);
            if (QTest::currentTestFailed())
                return;
            epochs.insert(a.at("training.epochs").toInt());
            types.insert(a.at("optimizer.type").json);
            layers.insert(a.at("model.layers[1]").json);
        }
        QCOMPARE(epochs, (std::set<int64_t>{1, 2, 3}));
        QCOMPARE(types, (std::set<std::string>{"\"adam\"", "\"sgd\"", "\"rmsprop\""}));
        QCOMPARE(layers, (std::set<std::string>{R"({"type":"gelu"})", R"({"type":"relu"})"}));
    }

    void logScaleIsLogUniform_data() {
        QTest::addColumn<QString>("kind");
        QTest::newRow("random") << "random";
        QTest::newRow("sobol") << "sobol";
    }
    void logScaleIsLogUniform() {
        QFETCH(QString, kind);
        const SearchSpace space = parse(kMixedSpace);
        auto sampler = makeSampler(kind, 11);
        std::vector<double> logLr, logBatch;
        for (int64_t trial = 0; trial < 2001; ++trial) {
            const Assignment a = suggestOrFail(*sampler, space, trial);
            logLr.push_back(std::log10(a.at("optimizer.lr").toDouble()));
            logBatch.push_back(std::log2(double(a.at("training.batch_size").toInt())));
        }
        auto median = [](std::vector<double> values) {
            std::nth_element(values.begin(), values.begin() + values.size() / 2, values.end());
            return values[values.size() / 2];
        };
        // lr in [1e-4, 0.1]: log10 middle -2.5; a uniform draw would put the median near 0.05.
        QVERIFY2(std::fabs(median(logLr) + 2.5) < 0.15, qPrintable(QString::number(median(logLr))));
        // batch size in [16, 256]: log2 middle 6.
        QVERIFY2(std::fabs(median(logBatch) - 6.0) < 0.3, qPrintable(QString::number(median(logBatch))));
    }

    void inactiveParametersAreNeverSampled_data() {
        QTest::addColumn<QString>("kind");
        QTest::newRow("random") << "random";
        QTest::newRow("sobol") << "sobol";
    }
    void inactiveParametersAreNeverSampled() {
        QFETCH(QString, kind);
        const SearchSpace space = parse(kConditionalSpace);
        auto sampler = makeSampler(kind, 5);
        int adam = 0, sgd = 0;
        for (int64_t trial = 0; trial < 500; ++trial) {
            const Assignment a = suggestOrFail(*sampler, space, trial);
            const std::string type = a.at("optimizer.type").json;
            QVERIFY(a.count("optimizer.lr") == 1);
            if (type == "\"adam\"") {
                ++adam;
                QVERIFY(a.count("optimizer.momentum") == 0);
                QCOMPARE(int(a.size()), 2);
            } else {
                ++sgd;
                QCOMPARE(type, std::string("\"sgd\""));
                QVERIFY(a.count("optimizer.momentum") == 1);
                const double momentum = a.at("optimizer.momentum").toDouble();
                QVERIFY(momentum >= 0.0 && momentum <= 0.99);
            }
        }
        QVERIFY(adam > 150 && sgd > 150);
    }

    void gridVisitsEveryCombinationOnce_data() {
        QTest::addColumn<QString>("text");
        QTest::addColumn<int>("size");
        QTest::newRow("product") << R"({"parameters": [
            {"path": "optimizer.lr", "kind": "float", "values": [0.001, 0.01, 0.1]},
            {"path": "optimizer.type", "kind": "categorical", "choices": ["adam", "sgd"]},
            {"path": "model.layers[0].out_features", "kind": "int", "low": 16, "high": 48, "step": 16},
            {"path": "training.epochs", "kind": "fixed", "value": 5}]})"
                                 << 3 * 2 * 3;
        // adam x lr + sgd x lr x momentum.
        QTest::newRow("conditional") << R"({"parameters": [
            {"path": "optimizer.momentum", "kind": "float", "values": [0.5, 0.9],
             "when": {"optimizer.type": ["sgd"]}},
            {"path": "optimizer.type", "kind": "categorical", "choices": ["adam", "sgd"]},
            {"path": "optimizer.lr", "kind": "float", "values": [0.001, 0.01]}]})"
                                     << 2 + 2 * 2;
        QTest::newRow("int log range") << R"({"parameters": [
            {"path": "training.batch_size", "kind": "int", "low": 30, "high": 34, "log": true}]})"
                                       << 5;
    }
    void gridVisitsEveryCombinationOnce() {
        QFETCH(QString, text);
        QFETCH(int, size);
        const QByteArray bytes = text.toUtf8();
        const SearchSpace space = parse(bytes.constData());
        auto created = GridSampler::create(space);
        QVERIFY2(created.ok(), created.error().c_str());
        GridSampler grid = created.take();
        QCOMPARE(grid.gridSize(), int64_t(size));
        std::set<Assignment> seen;
        std::vector<Assignment> order;
        for (int64_t trial = 0; trial < size; ++trial) {
            const auto a = grid.suggest(space, trial, {});
            QVERIFY(a.has_value());
            // Only active parameters: momentum exactly for sgd.
            if (a->count("optimizer.type") && space.find("optimizer.momentum"))
                QCOMPARE(a->count("optimizer.momentum") == 1, a->at("optimizer.type").json == "\"sgd\"");
            QVERIFY2(seen.insert(*a).second, "a combination came twice");
            order.push_back(*a);
        }
        QVERIFY(!grid.suggest(space, size, {}).has_value());
        QVERIFY(!grid.suggest(space, size + 10, {}).has_value());
        // Resuming: a fresh sampler gives trial N the same combination.
        GridSampler resumed = GridSampler::create(space).take();
        for (int64_t trial = size - 1; trial >= 0; --trial)
            QVERIFY(*resumed.suggest(space, trial, {}) == order[static_cast<size_t>(trial)]);
    }

    void gridNeedsExplicitFloatValues() {
        const SearchSpace space = parse(kConditionalSpace);
        const auto created = GridSampler::create(space);
        QVERIFY(!created.ok());
        QVERIFY2(QString::fromStdString(created.error())
                     .contains("grid search needs explicit values for float parameter optimizer.momentum"),
                 created.error().c_str());
        QVERIFY2(QString::fromStdString(created.error()).contains("float parameter optimizer.lr"),
                 created.error().c_str());
    }

    void gridTooLargeIsRefusedBeforeItIsBuilt() {
        // 2^21 combinations of 21 unconditional parameters: refused from the counts alone (building the
        // first million points of such a grid took seconds and gigabytes; of 40 parameters, minutes).
        std::string text = "{\"parameters\": [";
        for (int i = 0; i < 21; ++i)
            text += std::string(i ? ", " : "") + "{\"path\": \"p" + std::to_string(i) +
                    "\", \"kind\": \"int\", \"values\": [0, 1]}";
        text += "]}";
        const SearchSpace space = parse(text.c_str());
        const auto created = GridSampler::create(space);
        QVERIFY(!created.ok());
        QVERIFY2(QString::fromStdString(created.error())
                     .contains("the grid has at least 2.097e+06 points, more than 1000000"),
                 created.error().c_str());
    }

    void sobolDimensionsAreStratified() {
        // Every one-dimensional projection of the first 2^k unscrambled points puts one point in
        // each interval of width 1/2^k.
        for (int dimension = 0; dimension < SobolSampler::kMaxDimensions; ++dimension) {
            for (int k = 1; k <= 10; ++k) {
                std::set<uint32_t> strata;
                for (uint64_t i = 0; i < (1u << k); ++i)
                    strata.insert(SobolSampler::sobolInteger(i, dimension) >> (32 - k));
                QVERIFY2(int(strata.size()) == (1 << k),
                         qPrintable(QString("dimension %1, k %2").arg(dimension).arg(k)));
            }
        }
        // The first two dimensions form a (0, m, 2)-net: every 2^a x 2^(m-a) box holds one point.
        const int m = 8;
        for (int a = 0; a <= m; ++a) {
            std::set<std::pair<uint32_t, uint32_t>> boxes;
            for (uint64_t i = 0; i < (1u << m); ++i) {
                const uint32_t x = a == 0 ? 0 : SobolSampler::sobolInteger(i, 0) >> (32 - a);
                const uint32_t y = a == m ? 0 : SobolSampler::sobolInteger(i, 1) >> (32 - (m - a));
                boxes.insert({x, y});
            }
            QCOMPARE(int(boxes.size()), 1 << m);
        }
    }

    void scrambledSobolStaysStratified_data() {
        QTest::addColumn<qulonglong>("seed");
        QTest::newRow("seed 0") << qulonglong(0);
        QTest::newRow("seed 1") << qulonglong(1);
        QTest::newRow("seed 12345") << qulonglong(12345);
    }
    void scrambledSobolStaysStratified() {
        QFETCH(qulonglong, seed);
        const SearchSpace space = parse(R"({"parameters": [
            {"path": "x", "kind": "float", "low": 0, "high": 1},
            {"path": "y", "kind": "float", "low": 0, "high": 1}]})");
        SobolSampler sampler(seed);
        for (int k = 1; k <= 8; ++k) {
            const int count = 1 << k;
            std::set<int> xs, ys;
            for (int64_t trial = 0; trial < count; ++trial) {
                const Assignment a = suggestOrFail(sampler, space, trial);
                xs.insert(int(std::floor(a.at("x").toDouble() * count)));
                ys.insert(int(std::floor(a.at("y").toDouble() * count)));
            }
            QCOMPARE(int(xs.size()), count);
            QCOMPARE(int(ys.size()), count);
        }
        // The shift depends on the seed: another seed moves the first point.
        SobolSampler other(seed + 1);
        QVERIFY(suggestOrFail(other, space, 0) != suggestOrFail(sampler, space, 0));
    }

    void sobolKeepsDimensionsOfInactiveParameters() {
        // The same space without the condition: lr keeps its dimension whether momentum applies or not.
        const SearchSpace conditional = parse(kConditionalSpace);
        QString plainText = QString(kConditionalSpace);
        plainText.replace(R"(, "when": {"optimizer.type": ["sgd"]})", "");
        const QByteArray plainBytes = plainText.toUtf8();
        const SearchSpace plain = parse(plainBytes.constData());
        QVERIFY(plain.parameters().front().when.empty());
        QCOMPARE(plain.parameters().at(0).path, std::string("optimizer.momentum"));
        QCOMPARE(conditional.parameters().at(0).path, std::string("optimizer.type"));
        SobolSampler sampler(21);
        for (int64_t trial = 0; trial < 64; ++trial) {
            const Assignment a = suggestOrFail(sampler, conditional, trial);
            const Assignment b = suggestOrFail(sampler, plain, trial);
            QCOMPARE(a.at("optimizer.lr"), b.at("optimizer.lr"));
            // In the conditional space type is dimension 0 and momentum dimension 1; in the plain one
            // the file order holds (momentum 0, type 1), so only lr (dimension 2) lines up.
        }
    }

    void stepValuesAreWrittenCleanly() {
        const SearchSpace space = parse(R"({"parameters": [
            {"path": "data.noise", "kind": "float", "low": 0.05, "high": 0.5, "step": 0.05}]})");
        const SearchParameter& parameter = space.parameters().front();
        QCOMPARE(valueAtUnit(parameter, 0.25).json, std::string("0.15"));
        QCOMPARE(valueAtUnit(parameter, 0.0).json, std::string("0.05"));
        QCOMPARE(valueAtUnit(parameter, 0.99).json, std::string("0.5"));
    }

    void categoricalsFollowTheUnitInterval() {
        const SearchSpace space = parse(R"({"parameters": [
            {"path": "optimizer.type", "kind": "categorical", "choices": ["adam", "sgd", "adamw", "rmsprop"]}]})");
        const SearchParameter& parameter = space.parameters().front();
        QCOMPARE(valueAtUnit(parameter, 0.0).json, std::string("\"adam\""));
        QCOMPARE(valueAtUnit(parameter, 0.26).json, std::string("\"sgd\""));
        QCOMPARE(valueAtUnit(parameter, 0.999999).json, std::string("\"rmsprop\""));
        // Sobol over 4 trials gives each choice once.
        SobolSampler sampler(9);
        std::set<std::string> choices;
        for (int64_t trial = 0; trial < 4; ++trial)
            choices.insert(suggestOrFail(sampler, space, trial).at("optimizer.type").json);
        QCOMPARE(int(choices.size()), 4);
    }
};

QTEST_APPLESS_MAIN(TestSamplers)
#include "tst_samplers.moc"
