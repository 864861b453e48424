// Structured pruning: hidden linear neurons and conv2d channels physically removed, the layers after
// them narrowed to match, the result an ordinary network that computes what the original did when the
// removed neurons gave nothing; and every way it can be asked for wrongly.

#include "compress/taylor_importance.h"
#include "model/shape_inference.h"
#include "structured_pruning_test_support.h"
#include "training/network.h"
#include "training/saved_model.h"

#include <torch/torch.h>

#include <QtTest>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <string>
#include <tuple>
#include <vector>

using namespace tunelab;
using tunelab::test::layer;
using namespace tunelab::test::pruning;

class TestStructuredPruning : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void removedNeuronsThatGaveNothingChangeNoOutput_data() {
        QTest::addColumn<QString>("network");
        QTest::addColumn<bool>("l2");
        for (const char* network : {"mlp", "cnn", "residual", "concat", "gate"}) {
            QTest::newRow((std::string(network) + ", l1").c_str()) << network << false;
            QTest::newRow((std::string(network) + ", l2").c_str()) << network << true;
        }
    }

    // Half of each group's neurons are made dead (zero weights and bias, and a zero batch norm after
    // them), the same ones in every member of a group that an add ties together: they are the ones
    // removed, tied members keep the same ones, and the narrower network computes the same outputs.
    void removedNeuronsThatGaveNothingChangeNoOutput() {
        QFETCH(QString, network);
        QFETCH(bool, l2);
        const std::map<QString, std::tuple<ModelSpec, Shape, std::vector<std::vector<size_t>>>> cases{
            {"mlp", {mlp(), {10}, {{0}, {3}}}},
            {"cnn", {cnn(), {1, 10, 10}, {{0}, {4}, {7}}}},
            {"residual", {residual(), {1, 8, 8}, {{0, 6, 13}, {3}, {10}}}},
            {"concat", {concatenated(), {1, 6, 6}, {{0}, {2}, {5}}}},
            {"gate", {gated(), {10}, {{0}}}}};
        // The layers whose neurons die together; the output layer is never among them.
        const auto& [model, input, groups] = cases.at(network);
        torch::manual_seed(7);
        Network original = build(model, input, 7);
        std::vector<std::vector<int64_t>> removedOf(model.layers.size());
        {
            torch::NoGradGuard noGrad;
            for (size_t i = 0; i < model.layers.size(); ++i) {
                const std::string name = std::to_string(i);
                if (model.layers[i].type == LayerType::BatchNorm) {
                    tensorOf(original, name + ".weight").uniform_(0.5, 1.5);
                    tensorOf(original, name + ".bias").uniform_(-0.5, 0.5);
                    tensorOf(original, name + ".running_mean").uniform_(-0.5, 0.5);
                    tensorOf(original, name + ".running_var").uniform_(0.5, 2.0);
                    tensorOf(original, name + ".num_batches_tracked").fill_(7);
                }
            }
            for (const auto& group : groups) {
                const int64_t width = tensorOf(original, std::to_string(group[0]) + ".weight").size(0);
                const torch::Tensor order = torch::randperm(width, torch::kLong);
                std::vector<int64_t> removed;
                for (int64_t k = 0; k < width / 2; ++k)
                    removed.push_back(order[k].item<int64_t>());
                const torch::Tensor dead = torch::tensor(removed, torch::kLong);
                for (const size_t member : group) {
                    removedOf[member] = removed;
                    const std::string name = std::to_string(member);
                    tensorOf(original, name + ".weight").index_fill_(0, dead, 0.0);
                    tensorOf(original, name + ".bias").index_fill_(0, dead, 0.0);
                    if (model.layers[member + 1].type == LayerType::BatchNorm) {
                        const std::string norm = std::to_string(member + 1);
                        tensorOf(original, norm + ".weight").index_fill_(0, dead, 0.0);
                        tensorOf(original, norm + ".bias").index_fill_(0, dead, 0.0);
                    }
                }
            }
        }
        const std::vector<char> weights = tunelab::detail::saveStateDict(*original);

        auto shrunk = shrink(model, input, weights, 0.5, l2 ? NeuronImportance::L2 : NeuronImportance::L1);
        QVERIFY2(shrunk.ok(), shrunk.error().c_str());
        const ShrunkNetwork& result = shrunk.value();
        size_t members = 0;
        for (const auto& group : groups)
            members += group.size();
        QCOMPARE(result.layers.size(), members + (network == "gate" ? 1 : 0)); // and the gate's one unit
        for (const auto& shrunkLayer : result.layers) {
            const auto index = static_cast<size_t>(shrunkLayer.layer);
            if (removedOf[index].empty()) {
                QCOMPARE(shrunkLayer.after, shrunkLayer.before); // one unit keeps itself
                continue;
            }
            QCOMPARE(shrunkLayer.after, shrunkLayer.before / 2);
            QCOMPARE(shrunkLayer.kept, others(shrunkLayer.before, removedOf[index]));
            const LayerSpec& spec = result.model.layers[index];
            QCOMPARE(spec.type == LayerType::Linear ? spec.outFeatures : spec.outChannels, shrunkLayer.after);
        }
        if (network == "mlp")
            QCOMPARE(result.model.layers[5].outFeatures, int64_t(4));
        if (network == "cnn")
            QCOMPARE(result.model.layers[9].outFeatures, int64_t(10));
        QVERIFY(inferShapes(result.model, input).ok());

        Network smaller = loadShrunk(result, input);
        if (model.layers[1].type == LayerType::BatchNorm)
            QCOMPARE(tensorOf(smaller, "1.num_batches_tracked").item<int64_t>(), int64_t(7));
        QVERIFY(parameterCount(smaller) < parameterCount(original));
        torch::NoGradGuard noGrad;
        std::vector<int64_t> batch{64};
        batch.insert(batch.end(), input.begin(), input.end());
        const torch::Tensor x = torch::randn(batch);
        const torch::Tensor expected = original->forward(x);
        const torch::Tensor actual = smaller->forward(x);
        QCOMPARE(actual.sizes(), expected.sizes());
        const double difference = (actual - expected).abs().max().item<double>();
        QVERIFY2(difference < 1e-5, std::to_string(difference).c_str());
        QVERIFY(expected.abs().max().item<double>() > 1e-3); // the outputs are not all zero
    }

    // The digits MLP at one half: 64*256+256 + 256*256+256 + 256*10+10 parameters become
    // 64*128+128 + 128*128+128 + 128*10+10; and the shape inference of the new spec agrees.
    void halfOfTheDigitsMlpCutsTheParameters() {
        const Shape input{64};
        Network original = build(digitsMlp(), input, 3);
        QCOMPARE(parameterCount(original), int64_t(85002));
        auto shrunk = shrink(digitsMlp(), input, tunelab::detail::saveStateDict(*original), 0.5);
        QVERIFY2(shrunk.ok(), shrunk.error().c_str());
        Network smaller = loadShrunk(shrunk.value(), input);
        QCOMPARE(parameterCount(smaller), int64_t(26122));
        QCOMPARE(inferShapes(shrunk.value().model, input).totalParams, int64_t(26122));
        QCOMPARE(shrunk.value().model.layers[4].outFeatures, int64_t(10));
    }

    // The kept rows are the ones of largest L1 norm, computed here independently, in their order; the
    // next layer keeps the matching columns.
    void l1KeepsTheNeuronsOfLargestNorm() {
        ModelSpec model;
        model.layers = {layer(LayerType::Linear, 9), layer(LayerType::Tanh), layer(LayerType::Linear, 2)};
        const Shape input{5};
        Network original = build(model, input, 11);
        const torch::Tensor weight = tensorOf(original, "0.weight").detach().clone();
        std::vector<std::pair<double, int64_t>> norms;
        for (int64_t row = 0; row < 9; ++row) {
            double sum = 0.0;
            for (int64_t column = 0; column < 5; ++column)
                sum += std::abs(weight[row][column].item<double>());
            norms.emplace_back(sum, row);
        }
        std::sort(norms.begin(), norms.end());
        std::vector<int64_t> expected;
        for (size_t i = 4; i < norms.size(); ++i) // ceil(9 * (1 - 0.5)) = 5 kept
            expected.push_back(norms[i].second);
        std::sort(expected.begin(), expected.end());
        QVERIFY(expected != std::vector<int64_t>({0, 1, 2, 3, 4})); // the seed gives a real ranking

        auto shrunk = shrink(model, input, tunelab::detail::saveStateDict(*original), 0.5);
        QVERIFY2(shrunk.ok(), shrunk.error().c_str());
        QCOMPARE(shrunk.value().layers.size(), size_t(1));
        QCOMPARE(shrunk.value().layers[0].layer, 0);
        QCOMPARE(shrunk.value().layers[0].before, int64_t(9));
        QCOMPARE(shrunk.value().layers[0].after, int64_t(5));
        QCOMPARE(shrunk.value().layers[0].kept, expected);
        Network smaller = loadShrunk(shrunk.value(), input);
        const torch::Tensor rows = torch::tensor(expected, torch::kLong);
        QVERIFY(torch::equal(tensorOf(smaller, "0.weight"), weight.index_select(0, rows)));
        QVERIFY(
            torch::equal(tensorOf(smaller, "0.bias"), tensorOf(original, "0.bias").index_select(0, rows)));
        QVERIFY(torch::equal(tensorOf(smaller, "2.weight"),
                             tensorOf(original, "2.weight").index_select(1, rows)));
        QVERIFY(torch::equal(tensorOf(smaller, "2.bias"), tensorOf(original, "2.bias")));
    }

    // Row [1, 1, 1, 1] has L1 4 and L2 2; row [3, 0, 0, 0] has L1 3 and L2 3: each norm keeps another.
    void l1AndL2KeepDifferentNeurons() {
        ModelSpec model;
        model.layers = {layer(LayerType::Linear, 2), layer(LayerType::ReLU), layer(LayerType::Linear, 1)};
        const Shape input{4};
        Network original = build(model, input, 5);
        {
            torch::NoGradGuard noGrad;
            tensorOf(original, "0.weight")
                .copy_(torch::tensor({{1.0f, 1.0f, 1.0f, 1.0f}, {3.0f, 0.0f, 0.0f, 0.0f}}));
        }
        const std::vector<char> weights = tunelab::detail::saveStateDict(*original);
        auto l1 = shrink(model, input, weights, 0.5, NeuronImportance::L1);
        auto l2 = shrink(model, input, weights, 0.5, NeuronImportance::L2);
        QVERIFY2(l1.ok(), l1.error().c_str());
        QVERIFY2(l2.ok(), l2.error().c_str());
        QCOMPARE(l1.value().layers[0].kept, std::vector<int64_t>{0});
        QCOMPARE(l2.value().layers[0].kept, std::vector<int64_t>{1});
        Network byL2 = loadShrunk(l2.value(), input);
        QVERIFY(torch::equal(tensorOf(byL2, "0.weight"), torch::tensor({{3.0f, 0.0f, 0.0f, 0.0f}})));
        QVERIFY(torch::equal(tensorOf(byL2, "2.weight"), tensorOf(original, "2.weight").narrow(1, 1, 1)));
    }

    void keptIsTheCeilingAndAtLeastOne_data() {
        QTest::addColumn<int>("width");
        QTest::addColumn<double>("fraction");
        QTest::addColumn<int>("kept");
        QTest::newRow("half of 5") << 5 << 0.5 << 3;
        QTest::newRow("0.3 of 10") << 10 << 0.3 << 7;
        QTest::newRow("0.7 of 10") << 10 << 0.7 << 3;
        QTest::newRow("0.99 of 4") << 4 << 0.99 << 1;
        QTest::newRow("0.01 of 10") << 10 << 0.01 << 10;
        QTest::newRow("none") << 6 << 0.0 << 6;
    }

    void keptIsTheCeilingAndAtLeastOne() {
        QFETCH(int, width);
        QFETCH(double, fraction);
        QFETCH(int, kept);
        ModelSpec model;
        model.layers = {layer(LayerType::Linear, width), layer(LayerType::ReLU), layer(LayerType::Linear, 2)};
        Network original = build(model, {3}, 1);
        auto shrunk = shrink(model, {3}, tunelab::detail::saveStateDict(*original), fraction);
        QVERIFY2(shrunk.ok(), shrunk.error().c_str());
        QCOMPARE(shrunk.value().model.layers[0].outFeatures, int64_t(kept));
        QCOMPARE(shrunk.value().layers[0].after, int64_t(kept));
        loadShrunk(shrunk.value(), {3});
    }

    // Layer norm normalizes over the whole sample: after a conv its [channels, height, width] weight
    // loses whole channels, after a flatten each channel's block of features.
    void layerNormLosesTheSameEntries() {
        ModelSpec model;
        model.layers = {conv(4, 3, 1),
                        layer(LayerType::LayerNorm),
                        layer(LayerType::ReLU),
                        layer(LayerType::Flatten),
                        layer(LayerType::LayerNorm),
                        layer(LayerType::Dropout),
                        layer(LayerType::Linear, 3)};
        const Shape input{2, 3, 3};
        Network original = build(model, input, 9);
        {
            torch::NoGradGuard noGrad;
            tensorOf(original, "0.weight").select(0, 1).mul_(10.0);
            tensorOf(original, "0.weight").select(0, 3).mul_(10.0);
            tensorOf(original, "1.weight").copy_(torch::arange(36, torch::kFloat).view({4, 3, 3}));
            tensorOf(original, "4.weight").copy_(torch::arange(36, torch::kFloat));
        }
        auto shrunk = shrink(model, input, tunelab::detail::saveStateDict(*original), 0.5);
        QVERIFY2(shrunk.ok(), shrunk.error().c_str());
        QCOMPARE(shrunk.value().layers[0].kept, std::vector<int64_t>({1, 3}));
        Network smaller = loadShrunk(shrunk.value(), input);
        const torch::Tensor blocks =
            torch::cat({torch::arange(9, 18), torch::arange(27, 36)}).to(torch::kFloat);
        QVERIFY(torch::equal(tensorOf(smaller, "1.weight").flatten(), blocks));
        QVERIFY(torch::equal(tensorOf(smaller, "4.weight"), blocks));
        QCOMPARE(tensorOf(smaller, "6.weight").size(1), int64_t(18));
        QVERIFY(torch::equal(tensorOf(smaller, "6.weight"),
                             tensorOf(original, "6.weight").index_select(1, blocks.to(torch::kLong))));
    }

    // Two layers added together are ranked on the sum of their norms: alone, the first would keep
    // neurons 0 and 2 and the second 1 and 3; together both keep 0 and 1.
    void layersAddedTogetherAreRankedTogether() {
        const ModelSpec model = addedPair();
        const Shape input{3};
        Network original = build(model, input, 8);
        {
            torch::NoGradGuard noGrad;
            tensorOf(original, "0.weight")
                .copy_(torch::tensor({10.0f, 1.0f, 2.0f, 0.5f}).view({4, 1}).expand({4, 3}));
            tensorOf(original, "1.weight")
                .copy_(torch::tensor({0.5f, 9.0f, 1.0f, 3.0f}).view({4, 1}).expand({4, 3}));
        }
        auto shrunk = shrink(model, input, tunelab::detail::saveStateDict(*original), 0.5);
        QVERIFY2(shrunk.ok(), shrunk.error().c_str());
        QCOMPARE(shrunk.value().layers.size(), size_t(2));
        QCOMPARE(shrunk.value().layers[0].kept, std::vector<int64_t>({0, 1}));
        QCOMPARE(shrunk.value().layers[1].kept, std::vector<int64_t>({0, 1}));
        loadShrunk(shrunk.value(), input);
    }

    // Taylor importance sees what follows a neuron: four hidden neurons with the largest incoming
    // weights feed nothing (their outgoing weights are zero), so they cost the loss nothing and go,
    // where a norm would keep them.
    void taylorRemovesWhatTheLossDoesNotNeed() {
        ModelSpec model;
        model.layers = {layer(LayerType::Linear, 8), layer(LayerType::Tanh), layer(LayerType::Linear, 3)};
        const Shape input{4};
        Network network = build(model, input, 21);
        {
            torch::NoGradGuard noGrad;
            tensorOf(network, "0.weight").slice(0, 0, 4).mul_(20.0);
            tensorOf(network, "2.weight").slice(1, 0, 4).zero_();
        }
        torch::manual_seed(21);
        const torch::Tensor x = torch::randn({48, 4});
        const torch::Tensor y = torch::randint(0, 3, {48}, torch::kLong);
        auto scores = tunelab::detail::taylorContributions(model, *network, x, y, LossSpec{}, 16);
        QVERIFY2(scores.ok(), scores.ok() ? "" : scores.error().c_str());
        QCOMPARE(scores.value().batches, int64_t(3));
        QCOMPARE(scores.value().layers.at(0).size(), size_t(3 * 8));
        QCOMPARE(scores.value().layers.at(2).size(), size_t(3 * 3));
        for (int64_t batch = 0; batch < 3; ++batch)
            for (size_t neuron = 0; neuron < 4; ++neuron)
                QCOMPARE(scores.value().layers.at(0)[static_cast<size_t>(batch) * 8 + neuron], 0.0);

        const std::vector<char> weights = tunelab::detail::saveStateDict(*network);
        StructuredPruneOptions options;
        options.fraction = 0.5;
        options.importance = NeuronImportance::Taylor;
        options.taylor = scores.value();
        auto taylor = tunelab::detail::shrinkNetwork(model, input, weights, options);
        QVERIFY2(taylor.ok(), taylor.error().c_str());
        QCOMPARE(taylor.value().layers[0].kept, std::vector<int64_t>({4, 5, 6, 7}));
        auto l1 = shrink(model, input, weights, 0.5);
        QVERIFY2(l1.ok(), l1.error().c_str());
        QCOMPARE(l1.value().layers[0].kept, std::vector<int64_t>({0, 1, 2, 3}));
    }

    // Layers added together lose a channel together, so their contributions are added per batch before
    // squaring: here they cancel on channels 0 and 1, which go, where squaring each alone would keep them.
    void taylorScoresOfAGroupAreAddedBeforeSquaring() {
        const ModelSpec model = addedPair();
        const Shape input{3};
        Network network = build(model, input, 8);
        StructuredPruneOptions options;
        options.fraction = 0.5;
        options.importance = NeuronImportance::Taylor;
        options.taylor.batches = 1;
        options.taylor.layers[0] = {1.0, -1.0, 0.1, 0.0};
        options.taylor.layers[1] = {-1.0, 1.0, 0.0, 0.2};
        const std::vector<char> weights = tunelab::detail::saveStateDict(*network);
        auto shrunk = tunelab::detail::shrinkNetwork(model, input, weights, options);
        QVERIFY2(shrunk.ok(), shrunk.error().c_str());
        QCOMPARE(shrunk.value().layers[0].kept, std::vector<int64_t>({2, 3}));
        QCOMPARE(shrunk.value().layers[1].kept, std::vector<int64_t>({2, 3}));

        options.taylor.layers.erase(1);
        auto missing = tunelab::detail::shrinkNetwork(model, input, weights, options);
        QVERIFY(!missing.ok());
        QVERIFY2(missing.error().find("model.layers[1] (linear)") != std::string::npos &&
                     missing.error().find("Taylor") != std::string::npos,
                 missing.error().c_str());
    }

    // Channels the network's input or output holds stay, and so do those a merge meets laid out
    // differently (a concat of two added to one layer): only the layer in between is cut.
    void groupsTheInputOrAMismatchedMergeHoldsStayWhole() {
        ModelSpec model;
        model.layers = {named(layer(LayerType::Linear, 4), "p"),
                        named(layer(LayerType::Linear, 4), "q", {"input"}),
                        named(layer(LayerType::Concat), "pq", {"p", "q"}),
                        named(layer(LayerType::Linear, 8), "r", {"input"}),
                        named(layer(LayerType::Add), "sum", {"pq", "r"}),
                        layer(LayerType::ReLU),
                        layer(LayerType::Linear, 6),
                        layer(LayerType::ReLU),
                        layer(LayerType::Linear, 3)};
        const Shape input{10};
        Network original = build(model, input, 5);
        auto shrunk = shrink(model, input, tunelab::detail::saveStateDict(*original), 0.5);
        QVERIFY2(shrunk.ok(), shrunk.error().c_str());
        std::vector<std::pair<int, int64_t>> widths;
        for (const auto& shrunkLayer : shrunk.value().layers)
            widths.emplace_back(shrunkLayer.layer, shrunkLayer.after);
        QCOMPARE(widths, (std::vector<std::pair<int, int64_t>>{{0, 4}, {1, 4}, {3, 8}, {6, 3}}));
        loadShrunk(shrunk.value(), input);

        ModelSpec throughInput;
        throughInput.layers = {named(conv(4, 3, 1), "a"),
                               named(layer(LayerType::Add), "skip", {"a", "input"}), layer(LayerType::ReLU),
                               layer(LayerType::Flatten), layer(LayerType::Linear, 2)};
        const Shape image{4, 5, 5};
        Network skip = build(throughInput, image, 5);
        auto refused = shrink(throughInput, image, tunelab::detail::saveStateDict(*skip), 0.5);
        QVERIFY(!refused.ok());
        QVERIFY2(refused.error().find("nothing to prune") != std::string::npos, refused.error().c_str());
    }

    // The shipped residual example: its stages are cut as groups, and the result trains as any network.
    void theResidualExampleHalves() {
        auto spec = loadExperimentSpec(TUNELAB_SOURCE_DIR "/resources/experiments/digits-resnet.json");
        QVERIFY2(spec.ok(), spec.ok() ? "" : spec.error().c_str());
        const ModelSpec& model = spec.value().model;
        const Shape input{1, 8, 8};
        Network original = build(model, input, 3);
        auto shrunk = shrink(model, input, tunelab::detail::saveStateDict(*original), 0.5);
        QVERIFY2(shrunk.ok(), shrunk.error().c_str());
        const ShapeReport before = inferShapes(model, input);
        const ShapeReport after = inferShapes(shrunk.value().model, input);
        QVERIFY(after.ok());
        QVERIFY2(after.totalParams < before.totalParams / 2,
                 (std::to_string(before.totalParams) + " -> " + std::to_string(after.totalParams)).c_str());
        Network smaller = loadShrunk(shrunk.value(), input);
        QCOMPARE(parameterCount(smaller), after.totalParams);
        torch::NoGradGuard noGrad;
        QCOMPARE(smaller->forward(torch::randn({4, 1, 8, 8})).sizes(), (std::vector<int64_t>{4, 10}));
    }

    void refusesWhatItCannotDo() {
        const Shape input{10};
        Network original = build(mlp(), input, 2);
        const std::vector<char> weights = tunelab::detail::saveStateDict(*original);
        auto errorOf = [](const Result<ShrunkNetwork>& result) {
            return result.ok() ? std::string("(no error)") : result.error();
        };
        auto contains = [](const std::string& text, const std::string& part) {
            return text.find(part) != std::string::npos;
        };

        for (double fraction : {1.0, -0.1, 1.5, std::numeric_limits<double>::quiet_NaN()}) {
            const std::string error = errorOf(shrink(mlp(), input, weights, fraction));
            QVERIFY2(contains(error, "fraction") && contains(error, "[0, 1)"), error.c_str());
        }

        ModelSpec wider = mlp();
        wider.layers[0].outFeatures = 20;
        std::string error = errorOf(shrink(wider, input, weights, 0.5));
        QVERIFY2(contains(error, "model.layers[0] (linear)") && contains(error, "'0.weight'"), error.c_str());

        ModelSpec fewerNorms = mlp();
        fewerNorms.layers[1].type = LayerType::ReLU;
        error = errorOf(shrink(fewerNorms, input, weights, 0.5));
        QVERIFY2(contains(error, "model.layers[1]") && contains(error, "no place for"), error.c_str());

        error = errorOf(shrink(mlp(), input, {'n', 'o', 't'}, 0.5));
        QVERIFY2(contains(error, "state dict"), error.c_str());
        error = errorOf(shrink(mlp(), input, {}, 0.5));
        QVERIFY2(contains(error, "state dict"), error.c_str());

        ModelSpec single;
        single.layers = {layer(LayerType::Linear, 3)};
        Network head = build(single, input, 2);
        error = errorOf(shrink(single, input, tunelab::detail::saveStateDict(*head), 0.5));
        QVERIFY2(contains(error, "nothing to prune"), error.c_str());

        ModelSpec normsOnly;
        normsOnly.layers = {layer(LayerType::BatchNorm), layer(LayerType::ReLU), layer(LayerType::Linear, 3)};
        Network normed = build(normsOnly, input, 2);
        error = errorOf(shrink(normsOnly, input, tunelab::detail::saveStateDict(*normed), 0.5));
        QVERIFY2(contains(error, "nothing to prune"), error.c_str());

        error = errorOf(shrink(cnn(), input, weights, 0.5)); // a conv2d on flat features
        QVERIFY2(contains(error, "layer 0"), error.c_str());

        // A layer type this build does not know, after a pruned layer: refused, never guessed.
        ModelSpec unknown;
        unknown.layers = {layer(LayerType::Linear, 6), layer(static_cast<LayerType>(99)),
                          layer(LayerType::Linear, 2)};
        Network strange = build(unknown, input, 2);
        error = errorOf(shrink(unknown, input, tunelab::detail::saveStateDict(*strange), 0.5));
        QVERIFY2(contains(error, "model.layers[1]") && contains(error, "cannot carry"), error.c_str());

        torch::NoGradGuard noGrad;
        tensorOf(original, "3.weight")[0][0] = std::numeric_limits<float>::quiet_NaN();
        error = errorOf(shrink(mlp(), input, tunelab::detail::saveStateDict(*original), 0.5));
        QVERIFY2(contains(error, "model.layers[3] (linear)") && contains(error, "finite"), error.c_str());
    }

    // Not asserted (timings depend on the machine): batch-1 CPU latency of the digits MLP before and
    // after removing half of its hidden neurons, on one thread.
    void latencyOfTheDigitsMlp() {
        const Shape input{64};
        Network original = build(digitsMlp(), input, 4);
        auto shrunk = shrink(digitsMlp(), input, tunelab::detail::saveStateDict(*original), 0.5);
        QVERIFY2(shrunk.ok(), shrunk.error().c_str());
        Network smaller = loadShrunk(shrunk.value(), input);
        const int threads = torch::get_num_threads();
        torch::set_num_threads(1);
        const torch::Tensor x = torch::randn({1, 64});
        const int repeats = 500;
        const double before = medianForwardMicroseconds(original, x, repeats);
        const double after = medianForwardMicroseconds(smaller, x, repeats);
        torch::set_num_threads(threads);
        qDebug(
            "digits MLP 64-256-256-10 -> 64-128-128-10, batch 1, 1 thread, median of %d: %.1f us -> %.1f us "
            "(%.2fx), %lld -> %lld parameters",
            repeats, before, after, before / after, static_cast<long long>(parameterCount(original)),
            static_cast<long long>(parameterCount(smaller)));
    }
};

QTEST_GUILESS_MAIN(TestStructuredPruning)
#include "tst_structured_pruning.moc"
