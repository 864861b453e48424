#include "search/search_space.h"
#include "spec/spec.h"

#include <algorithm>

#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

using namespace tunelab;

namespace {

// Wraps parameter objects (comma-separated JSON) into a space.
std::string space(const char* parameters) {
    return std::string("{\"parameters\": [") + parameters + "]}";
}

const char* kConditional = R"(
    {"path": "optimizer.momentum", "kind": "float", "low": 0.0, "high": 0.99, "when": {"optimizer.type": ["sgd"]}},
    {"path": "optimizer.nesterov", "kind": "categorical", "choices": [true, false],
     "when": {"optimizer.momentum": [0.9]}},
    {"path": "optimizer.type", "kind": "categorical", "choices": ["adam", "sgd"]},
    {"path": "optimizer.lr", "kind": "float", "low": 1e-4, "high": 0.1, "log": true})";

std::vector<std::string> paths(const std::vector<const SearchParameter*>& parameters) {
    std::vector<std::string> result;
    for (const auto* parameter : parameters)
        result.push_back(parameter->path);
    return result;
}

} // namespace

class TestSearchSpace : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void parsesEveryKind() {
        const auto parsed = parseSearchSpace(space(R"(
            {"path": "optimizer.lr", "kind": "float", "low": 1e-4, "high": 0.1, "log": true},
            {"path": "optimizer.type", "kind": "categorical", "choices": ["adam", "sgd"]},
            {"path": "training.batch_size", "kind": "int", "low": 16, "high": 256, "log": true},
            {"path": "model.layers[1]", "kind": "categorical", "choices": [{"type": "relu"}, {"type": "gelu"}]},
            {"path": "training.epochs", "kind": "fixed", "value": 5},
            {"path": "optimizer.weight_decay", "kind": "float", "values": [0, 0.01]},
            {"path": "model.layers[0].out_features", "kind": "int", "low": 16, "high": 64, "step": 16})"));
        QVERIFY2(parsed.ok(), parsed.error().c_str());
        const SearchSpace& s = parsed.value();
        QCOMPARE(int(s.parameters().size()), 7);
        const SearchParameter* lr = s.find("optimizer.lr");
        QVERIFY(lr && lr->kind == ParamKind::Float && lr->log && lr->low == 1e-4 && lr->high == 0.1);
        const SearchParameter* layer = s.find("model.layers[1]");
        QVERIFY(layer && layer->kind == ParamKind::Categorical);
        QCOMPARE(layer->values.at(1).json, std::string(R"({"type":"gelu"})"));
        QCOMPARE(s.find("training.epochs")->values.at(0).toInt(), int64_t(5));
        QCOMPARE(s.find("optimizer.weight_decay")->values.at(1).toDouble(), 0.01);
        QCOMPARE(s.find("model.layers[0].out_features")->step, 16.0);
        QCOMPARE(s.find("training.batch_size")->step, 1.0);
    }

    void rejectsBadSpaces_data() {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("expected");
        auto row = [](const char* name, const std::string& text, const char* expected) {
            QTest::newRow(name) << QString::fromStdString(text) << QString(expected);
        };
        row("not json", "{", "search space: line 1, column 2: invalid JSON");
        row("no parameters", "{\"params\": []}", "expected an object with a \"parameters\" array");
        row("low above high", space(R"({"path": "optimizer.lr", "kind": "float", "low": 1, "high": 0.5})"),
            "parameters[0] (optimizer.lr): low 1 is above high 0.5");
        row("empty range", space(R"({"path": "optimizer.lr", "kind": "float", "low": 0.1, "high": 0.1})"),
            "parameters[0] (optimizer.lr): low 0.1 equals high 0.1: the range is empty");
        row("float range beyond a double",
            space(R"({"path": "optimizer.lr", "kind": "float", "low": -1e308, "high": 1e308})"),
            "parameters[0] (optimizer.lr): the range [-1e+308, 1e+308] is wider than a double can hold");
        row("int range over all of int64",
            space(
                R"({"path": "training.epochs", "kind": "int", "low": -9223372036854775808, "high": 9223372036854775807})"),
            "parameters[0] (training.epochs): int bounds must lie within -2^53 and 2^53");
        row("int bound past 2^53",
            space(R"({"path": "training.epochs", "kind": "int", "low": 1, "high": 9007199254740994})"),
            "int bounds must lie within -2^53 and 2^53");
        // Read as int64 through a double, 2^63 - 1 was -2^63 in the trials.
        row("int value 2^63 - 1",
            space(R"({"path": "training.epochs", "kind": "int", "values": [1, 9223372036854775807]})"),
            "parameters[0] (training.epochs): values[1] 9223372036854775807: must lie within -2^53 and 2^53");
        row("int value past -2^53",
            space(R"({"path": "training.epochs", "kind": "int", "values": [-9007199254740994]})"),
            "values[0] -9007199254740994: must lie within -2^53 and 2^53");
        row("log of zero",
            space(R"({"path": "optimizer.lr", "kind": "float", "low": 0, "high": 0.1, "log": true})"),
            "parameters[0] (optimizer.lr): log scale needs low > 0 (low is 0)");
        row("int log of negative",
            space(R"({"path": "training.batch_size", "kind": "int", "low": -4, "high": 8, "log": true})"),
            "parameters[0] (training.batch_size): log scale needs low > 0");
        row("int not whole",
            space(R"({"path": "training.batch_size", "kind": "int", "low": 1.5, "high": 8})"),
            "parameters[0] (training.batch_size): \"low\" 1.5 is not an integer");
        row("step with log",
            space(
                R"({"path": "optimizer.lr", "kind": "float", "low": 0.1, "high": 1, "log": true, "step": 0.1})"),
            "parameters[0] (optimizer.lr): step and log cannot be combined");
        row("negative step",
            space(R"({"path": "optimizer.lr", "kind": "float", "low": 0.1, "high": 1, "step": -0.1})"),
            "parameters[0] (optimizer.lr): step must be above 0");
        row("unknown kind", space(R"({"path": "optimizer.lr", "kind": "flaot", "low": 0.1, "high": 1})"),
            "parameters[0] (optimizer.lr): unknown kind 'flaot'; did you mean float?");
        row("unknown key", space(R"({"path": "optimizer.lr", "kind": "float", "lwo": 0.1, "high": 1})"),
            "parameters[0] (optimizer.lr): unknown key 'lwo'; did you mean low?");
        row("missing path", space(R"({"kind": "float", "low": 0.1, "high": 1})"),
            "parameters[0]: needs a \"path\" string");
        row("bad path", space(R"({"path": "model.layers[x]", "kind": "fixed", "value": 1})"),
            "parameters[0] (model.layers[x]): path 'model.layers[x]' is not of the form a.b[0].c");
        row("float values and range",
            space(R"({"path": "optimizer.lr", "kind": "float", "values": [0.1], "low": 0.1, "high": 1})"),
            "parameters[0] (optimizer.lr): \"low\" cannot be combined with \"values\"");
        row("empty choices", space(R"({"path": "optimizer.type", "kind": "categorical", "choices": []})"),
            "parameters[0] (optimizer.type): needs a non-empty \"choices\" array");
        row("duplicate choice",
            space(R"({"path": "optimizer.type", "kind": "categorical", "choices": ["sgd", "sgd"]})"),
            "parameters[0] (optimizer.type): choices[1] \"sgd\" is listed twice");
        row("fixed without value", space(R"({"path": "training.epochs", "kind": "fixed"})"),
            "parameters[0] (training.epochs): needs a \"value\"");
        row("duplicate parameter", space(R"({"path": "optimizer.lr", "kind": "fixed", "value": 0.1},
                                            {"path": "optimizer.lr", "kind": "fixed", "value": 0.2})"),
            "parameters[1] (optimizer.lr): duplicate of parameters[0]");
        row("overlapping parameters", space(R"({"path": "model.layers[0]", "kind": "fixed", "value": {}},
                                     {"path": "model.layers[0].out_features", "kind": "fixed", "value": 2})"),
            "parameters[1] (model.layers[0].out_features): overlaps parameters[0] (model.layers[0])");
        row("condition on unknown parameter",
            space(R"({"path": "optimizer.type", "kind": "categorical", "choices": ["adam", "sgd"]},
                     {"path": "optimizer.momentum", "kind": "float", "low": 0, "high": 0.9,
                      "when": {"optimizer.typ": ["sgd"]}})"),
            "parameters[1] (optimizer.momentum): 'when' names optimizer.typ, which is not a parameter; did "
            "you "
            "mean optimizer.type?");
        row("condition on impossible value",
            space(R"({"path": "optimizer.type", "kind": "categorical", "choices": ["adam", "sgd"]},
                     {"path": "optimizer.momentum", "kind": "float", "low": 0, "high": 0.9,
                      "when": {"optimizer.type": ["sgdd"]}})"),
            "parameters[1] (optimizer.momentum): 'when' value \"sgdd\" is not a value optimizer.type can "
            "take");
        row("cycle", space(R"({"path": "a", "kind": "categorical", "choices": [1, 2], "when": {"b": [1]}},
                              {"path": "b", "kind": "categorical", "choices": [1, 2], "when": {"a": [1]}})"),
            "parameters[0] (a): conditions form a cycle a -> b -> a");
        row("self condition",
            space(R"({"path": "a", "kind": "categorical", "choices": [1, 2], "when": {"a": [1]}})"),
            "parameters[0] (a): conditions form a cycle a -> a");
    }
    void rejectsBadSpaces() {
        QFETCH(QString, text);
        QFETCH(QString, expected);
        const auto parsed = parseSearchSpace(text.toStdString());
        QVERIFY(!parsed.ok());
        const QString error = QString::fromStdString(parsed.error());
        QVERIFY2(error.contains(expected), qPrintable(error));
    }

    void ordersConditionsFirst() {
        const auto parsed = parseSearchSpace(space(kConditional));
        QVERIFY2(parsed.ok(), parsed.error().c_str());
        std::vector<std::string> order;
        for (const auto& parameter : parsed.value().parameters())
            order.push_back(parameter.path);
        const std::vector<std::string> expected = {"optimizer.type", "optimizer.momentum",
                                                   "optimizer.nesterov", "optimizer.lr"};
        QCOMPARE(order, expected);
    }

    void activatesConditionalParameters_data() {
        QTest::addColumn<QString>("type");
        QTest::addColumn<double>("momentum");
        QTest::addColumn<QStringList>("active");
        const QString all = "optimizer.type,optimizer.momentum,optimizer.nesterov,optimizer.lr";
        QTest::newRow("adam") << "adam" << -1.0 << QString("optimizer.type,optimizer.lr").split(',');
        QTest::newRow("sgd without momentum 0.9")
            << "sgd" << 0.5 << QString("optimizer.type,optimizer.momentum,optimizer.lr").split(',');
        QTest::newRow("sgd with momentum 0.9") << "sgd" << 0.9 << all.split(',');
        // A stale momentum in an adam assignment does not turn nesterov on: momentum itself is inactive.
        QTest::newRow("adam with stale momentum")
            << "adam" << 0.9 << QString("optimizer.type,optimizer.lr").split(',');
    }
    void activatesConditionalParameters() {
        QFETCH(QString, type);
        QFETCH(double, momentum);
        QFETCH(QStringList, active);
        const auto parsed = parseSearchSpace(space(kConditional));
        QVERIFY2(parsed.ok(), parsed.error().c_str());
        const SearchSpace& s = parsed.value();
        // Build the assignment in order, as a sampler does.
        Assignment assignment;
        for (const auto& parameter : s.parameters()) {
            if (!s.isActive(parameter, assignment))
                continue;
            if (parameter.path == "optimizer.type")
                assignment[parameter.path] = ParamValue{"\"" + type.toStdString() + "\""};
            else if (parameter.path == "optimizer.momentum" && momentum >= 0)
                assignment[parameter.path] = ParamValue{QByteArray::number(momentum).toStdString()};
            else if (parameter.path == "optimizer.nesterov")
                assignment[parameter.path] = ParamValue{"true"};
            else if (parameter.path == "optimizer.lr")
                assignment[parameter.path] = ParamValue{"0.01"};
        }
        if (type == "adam" && momentum >= 0)
            assignment["optimizer.momentum"] = ParamValue{"0.9"};
        QStringList actual;
        for (const auto& path : paths(s.activeParameters(assignment)))
            actual << QString::fromStdString(path);
        QCOMPARE(actual, active);
    }

    void appliesAssignments_data() {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("value");
        QTest::addColumn<QString>("check");
        QTest::newRow("nested key") << "optimizer.lr"
                                    << "0.05"
                                    << "lr";
        QTest::newRow("array element field") << "model.layers[0].out_features"
                                             << "17"
                                             << "out_features";
        QTest::newRow("layer sub-object") << "model.layers[1]"
                                          << R"({"type": "gelu"})"
                                          << "layer";
        QTest::newRow("enum by name") << "optimizer.type"
                                      << "\"adam\""
                                      << "type";
        QTest::newRow("new key in object") << "optimizer.momentum"
                                           << "0.9"
                                           << "momentum";
    }
    void appliesAssignments() {
        QFETCH(QString, path);
        QFETCH(QString, value);
        QFETCH(QString, check);
        // The resolved default spec lists every Adam key, which SGD would reject; a study's base keeps
        // the optimizer sparse so that optimizer.type can change.
        QJsonObject root =
            QJsonDocument::fromJson(QByteArray::fromStdString(experimentSpecToJson(defaultExperiment())))
                .object();
        root["optimizer"] = QJsonObject{{"type", "sgd"}, {"lr", 0.01}};
        const std::string base = QJsonDocument(root).toJson().toStdString();
        Assignment assignment;
        assignment[path.toStdString()] = ParamValue{value.toStdString()};
        const auto applied = applyAssignment(base, assignment);
        QVERIFY2(applied.ok(), applied.error().c_str());
        const auto spec = parseExperimentSpec(applied.value());
        QVERIFY2(spec.ok(), spec.error().c_str());
        const ExperimentSpec& s = spec.value();
        if (check == "lr")
            QCOMPARE(s.optimizer.lr, 0.05);
        else if (check == "out_features")
            QCOMPARE(s.model.layers.at(0).outFeatures, int64_t(17));
        else if (check == "layer")
            QVERIFY(s.model.layers.at(1).type == LayerType::GELU);
        else if (check == "type")
            QVERIFY(s.optimizer.type == OptimizerType::Adam);
        else if (check == "momentum")
            QCOMPARE(s.optimizer.momentum, 0.9);
        else
            QFAIL("unknown check");
        // Everything else is untouched.
        QCOMPARE(s.training.epochs, defaultExperiment().training.epochs);
    }

    void applyNamesMissingPaths_data() {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("expected");
        QTest::newRow("index past the end") << "model.layers[9].out_features"
                                            << "model.layers[9].out_features: model.layers[9] does not exist";
        QTest::newRow("missing parent") << "optimiser.lr"
                                        << "optimiser.lr: optimiser does not exist";
        QTest::newRow("index into object") << "optimizer[0]"
                                           << "optimizer[0]: optimizer is not an array";
    }
    void applyNamesMissingPaths() {
        QFETCH(QString, path);
        QFETCH(QString, expected);
        Assignment assignment;
        assignment[path.toStdString()] = ParamValue{"1"};
        const auto applied = applyAssignment(experimentSpecToJson(defaultExperiment()), assignment);
        QVERIFY(!applied.ok());
        QVERIFY2(QString::fromStdString(applied.error()).contains(expected), applied.error().c_str());
    }

    void checksPathsAgainstBase_data() {
        QTest::addColumn<QString>("parameter");
        QTest::addColumn<QString>("expected");
        QTest::newRow("valid") << R"({"path": "optimizer.lr", "kind": "float", "low": 1e-4, "high": 0.1})"
                               << "";
        QTest::newRow("valid layer field")
            << R"({"path": "model.layers[2].out_features", "kind": "int", "low": 8, "high": 64})"
            << "";
        QTest::newRow("missing parent")
            << R"({"path": "optimiser.lr", "kind": "float", "low": 1e-4, "high": 0.1})"
            << "parameters[0] (optimiser.lr): optimiser does not exist in the base experiment";
        QTest::newRow("missing layer")
            << R"({"path": "model.layers[7].out_features", "kind": "int", "low": 8, "high": 64})"
            << "parameters[0] (model.layers[7].out_features): model.layers[7] does not exist";
        QTest::newRow("unknown key")
            << R"({"path": "optimizer.momentm", "kind": "float", "low": 0, "high": 0.9})"
            << "parameters[0] (optimizer.momentm): the experiment rejects 0.0: ";
        QTest::newRow("bad choice")
            << R"({"path": "optimizer.type", "kind": "categorical", "choices": ["adamm"]})"
            << "parameters[0] (optimizer.type): the experiment rejects \"adamm\": ";
    }
    void checksPathsAgainstBase() {
        QFETCH(QString, parameter);
        QFETCH(QString, expected);
        const auto parsed = parseSearchSpace(space(parameter.toUtf8().constData()));
        QVERIFY2(parsed.ok(), parsed.error().c_str());
        const auto errors = checkAgainstBase(parsed.value(), experimentSpecToJson(defaultExperiment()));
        if (expected.isEmpty()) {
            QVERIFY2(errors.empty(), errors.empty() ? "" : errors.front().c_str());
        } else {
            QCOMPARE(int(errors.size()), 1);
            QVERIFY2(QString::fromStdString(errors.front()).startsWith(expected), errors.front().c_str());
        }
    }

    // A written-out Adam base (betas, eps) with a search over the optimizer type and SGD's momentum:
    // momentum is checked together with type sgd, and sgd drops Adam's keys.
    void checksConditionalParametersWhereTheyApply() {
        ExperimentSpec base = defaultExperiment();
        base.optimizer.type = OptimizerType::Adam;
        const auto parsed = parseSearchSpace(R"({"parameters": [
            {"path": "optimizer.type", "kind": "categorical", "choices": ["sgd", "adam"]},
            {"path": "optimizer.momentum", "kind": "float", "low": 0, "high": 0.99, "when": {"optimizer.type": "sgd"}},
            {"path": "optimizer.nesterov", "kind": "categorical", "choices": [true, false],
             "when": {"optimizer.type": "adam"}}]})");
        QVERIFY2(parsed.ok(), parsed.error().c_str());
        const auto errors = checkAgainstBase(parsed.value(), experimentSpecToJson(base));
        // nesterov applies with Adam, which rejects it; momentum with SGD is fine.
        QCOMPARE(int(errors.size()), 1);
        QVERIFY2(QString::fromStdString(errors.front())
                     .startsWith("parameters[2] (optimizer.nesterov): the experiment rejects true"),
                 errors.front().c_str());
    }

    void numericAccessors() {
        QCOMPARE(ParamValue{"0.25"}.toDouble(), 0.25);
        QCOMPARE(ParamValue{"64"}.toInt(), int64_t(64));
        QVERIFY(ParamValue{"1e-3"}.isNumber());
        QVERIFY(!ParamValue{"\"sgd\""}.isNumber());
        QCOMPARE(ParamValue{"\"sgd\""}.toDouble(), 0.0);
        // Every JSON form of a number, and nothing else, reads as one; the text is read exactly.
        QCOMPARE(ParamValue{"-3.5E-4"}.toDouble(), -3.5e-4);
        QCOMPARE(ParamValue{"0.1"}.toDouble(), 0.1);
        QCOMPARE(ParamValue{"1e+2"}.toDouble(), 100.0);
        QCOMPARE(ParamValue{"-0"}.toDouble(), 0.0);
        for (const char* notNumber : {"true", "null", "[1]", "{\"a\": 1}", "\"1\"", "-", "", "1 2"})
            QVERIFY2(!ParamValue{notNumber}.isNumber(), notNumber);
    }

    void suggestsRanges_data() {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("value");
        QTest::addColumn<QString>("kind");
        QTest::addColumn<double>("low");
        QTest::addColumn<double>("high");
        QTest::addColumn<bool>("log");
        QTest::addColumn<QString>("firstValue"); // categorical: the first choice
        QTest::addColumn<int>("valueCount");
        QTest::newRow("lr") << "optimizer.lr"
                            << "0.001"
                            << "float" << 1e-4 << 1e-2 << true << "" << 0;
        QTest::newRow("lr clipped") << "optimizer.lr"
                                    << "0.5"
                                    << "float" << 0.05 << 1.0 << true << "" << 0;
        QTest::newRow("weight decay") << "optimizer.weight_decay"
                                      << "0.0"
                                      << "float" << 1e-6 << 1e-2 << true << "" << 0;
        QTest::newRow("momentum") << "optimizer.momentum"
                                  << "0.9"
                                  << "float" << 0.0 << 0.99 << false << "" << 0;
        QTest::newRow("adagrad eps") << "optimizer.eps"
                                     << "1e-10"
                                     << "float" << 1e-10 << 1e-6 << true << "" << 0;
        QTest::newRow("dampening") << "optimizer.dampening"
                                   << "0.0"
                                   << "float" << 0.0 << 0.9 << false << "" << 0;
        QTest::newRow("lr_decay") << "optimizer.lr_decay"
                                  << "0.0"
                                  << "float" << 0.0 << 0.01 << false << "" << 0;
        QTest::newRow("amsgrad") << "optimizer.amsgrad"
                                 << "false"
                                 << "categorical" << 0.0 << 0.0 << false << "true" << 2;
        QTest::newRow("batchnorm momentum") << "model.layers[1].momentum"
                                            << "0.1"
                                            << "float" << 0.0 << 0.99 << false << "" << 0;
        QTest::newRow("dropout") << "model.layers[2].p"
                                 << "0.1"
                                 << "float" << 0.0 << 0.5 << false << "" << 0;
        QTest::newRow("beta") << "optimizer.betas[1]"
                              << "0.999"
                              << "float" << 0.8 << 0.9999 << false << "" << 0;
        QTest::newRow("batch") << "training.batch_size"
                               << "64"
                               << "int" << 16.0 << 256.0 << true << "" << 0;
        QTest::newRow("batch 2") << "training.batch_size"
                                 << "2"
                                 << "int" << 1.0 << 8.0 << true << "" << 0;
        QTest::newRow("epochs") << "training.epochs"
                                << "10"
                                << "int" << 5.0 << 20.0 << false << "" << 0;
        QTest::newRow("width") << "model.layers[0].out_features"
                               << "64"
                               << "int" << 16.0 << 256.0 << true << "" << 0;
        QTest::newRow("channels") << "model.layers[0].out_channels"
                                  << "8"
                                  << "int" << 2.0 << 32.0 << true << "" << 0;
        QTest::newRow("kernel") << "model.layers[0].kernel_size"
                                << "3"
                                << "categorical" << 0.0 << 0.0 << false << "1" << 4;
        QTest::newRow("optimizer type") << "optimizer.type"
                                        << "\"adam\""
                                        << "categorical" << 0.0 << 0.0 << false << "\"sgd\"" << 5;
        QTest::newRow("activation layer")
            << "model.layers[1]"
            << R"({"type":"relu"})"
            << "categorical" << 0.0 << 0.0 << false << R"({"type":"relu"})" << 7;
        QTest::newRow("bool") << "optimizer.nesterov"
                              << "false"
                              << "categorical" << 0.0 << 0.0 << false << "true" << 2;
        QTest::newRow("string") << "device"
                                << "\"cpu\""
                                << "categorical" << 0.0 << 0.0 << false << "\"cpu\"" << 1;
        QTest::newRow("other float") << "schedule.gamma"
                                     << "0.1"
                                     << "float" << 0.05 << 0.2 << false << "" << 0;
        QTest::newRow("other zero") << "training.grad_clip_norm"
                                    << "0.0"
                                    << "float" << 0.0 << 1.0 << false << "" << 0;
        QTest::newRow("other int") << "schedule.patience"
                                   << "5"
                                   << "int" << 2.0 << 10.0 << false << "" << 0;
    }

    void suggestsRanges() {
        QFETCH(QString, path);
        QFETCH(QString, value);
        QFETCH(QString, kind);
        QFETCH(double, low);
        QFETCH(double, high);
        QFETCH(bool, log);
        QFETCH(QString, firstValue);
        QFETCH(int, valueCount);
        const SearchParameter parameter = suggestedParameter(path.toStdString(), value.toStdString());
        QCOMPARE(QString::fromLatin1(toString(parameter.kind)), kind);
        QCOMPARE(parameter.path, path.toStdString());
        QCOMPARE(int(parameter.values.size()), valueCount);
        if (valueCount == 0) {
            QVERIFY2(qFuzzyCompare(parameter.low + 1.0, low + 1.0), QByteArray::number(parameter.low));
            QVERIFY2(qFuzzyCompare(parameter.high, high), QByteArray::number(parameter.high));
            QCOMPARE(parameter.log, log);
        } else {
            QCOMPARE(QString::fromStdString(parameter.values.front().json), firstValue);
        }
        // Every suggestion is a valid one-parameter space.
        const auto parsed = parseSearchSpace(searchSpaceToJson({parameter}));
        QVERIFY2(parsed.ok(), parsed.ok() ? "" : parsed.error().c_str());
    }

    void suggestedActivationsAreAllActivations() {
        const SearchParameter parameter = suggestedParameter("model.layers[1]", R"({"type":"gelu"})");
        QCOMPARE(parameter.kind, ParamKind::Categorical);
        for (const auto& choice : parameter.values) {
            const auto object = QJsonDocument::fromJson(QByteArray::fromStdString(choice.json)).object();
            QVERIFY2(object.value("type").isString(), choice.json.c_str());
        }
        QVERIFY(std::any_of(parameter.values.begin(), parameter.values.end(),
                            [](const ParamValue& v) { return v.json == R"({"type":"gelu"})"; }));
        // A layer with parameters is not an activation: it stays as it is.
        const SearchParameter linear =
            suggestedParameter("model.layers[0]", R"({"out_features":8,"type":"linear"})");
        QCOMPARE(int(linear.values.size()), 1);
    }

    void writesSpacesThatParseBack_data() {
        QTest::addColumn<QString>("parameters");
        QTest::newRow("every kind") << QString::fromLatin1(R"(
            {"path": "optimizer.lr", "kind": "float", "low": 1e-4, "high": 0.1, "log": true},
            {"path": "optimizer.type", "kind": "categorical", "choices": ["adam", "sgd"]},
            {"path": "training.batch_size", "kind": "int", "low": 16, "high": 256, "log": true},
            {"path": "model.layers[1]", "kind": "categorical", "choices": [{"type": "relu"}, {"type": "gelu"}]},
            {"path": "training.epochs", "kind": "fixed", "value": 5},
            {"path": "optimizer.weight_decay", "kind": "float", "values": [0, 0.01]},
            {"path": "model.layers[0].out_features", "kind": "int", "low": 16, "high": 64, "step": 16},
            {"path": "schedule.gamma", "kind": "float", "low": 0.1, "high": 0.9, "step": 0.2})");
        QTest::newRow("conditions") << QString::fromLatin1(kConditional);
    }

    void writesSpacesThatParseBack() {
        QFETCH(QString, parameters);
        const auto first = parseSearchSpace(space(parameters.toLatin1().constData()));
        QVERIFY2(first.ok(), first.ok() ? "" : first.error().c_str());
        const std::vector<SearchParameter> original = editableParameters(first.value());
        for (size_t i = 0; i < original.size(); ++i)
            QCOMPARE(original[i].index, int(i));
        const std::string written = searchSpaceToJson(original);
        const auto second = parseSearchSpace(written);
        QVERIFY2(second.ok(), written.c_str());
        const std::vector<SearchParameter> again = editableParameters(second.value());
        QCOMPARE(again.size(), original.size());
        for (size_t i = 0; i < original.size(); ++i) {
            const SearchParameter& a = original[i];
            const SearchParameter& b = again[i];
            QCOMPARE(b.path, a.path);
            QCOMPARE(b.kind, a.kind);
            QCOMPARE(b.low, a.low);
            QCOMPARE(b.high, a.high);
            QCOMPARE(b.log, a.log);
            QCOMPARE(b.step, a.step);
            QCOMPARE(b.values, a.values);
            QCOMPARE(b.when.size(), a.when.size());
            for (size_t c = 0; c < a.when.size(); ++c) {
                QCOMPARE(b.when[c].parameter, a.when[c].parameter);
                QCOMPARE(b.when[c].values, a.when[c].values);
            }
        }
        // Writing is stable: a second round trip gives the same text.
        QCOMPARE(searchSpaceToJson(again), written);
    }

    void writtenMistakesKeepTheirPlace() {
        SearchParameter lr = suggestedParameter("optimizer.lr", "0.01");
        lr.low = 1.0;
        lr.high = 0.5;
        SearchParameter momentum = suggestedParameter("optimizer.momentum", "0.9");
        momentum.index = 1;
        momentum.when.push_back({"optimizer.typ", {ParamValue{"\"sgd\""}}});
        const auto parsed = parseSearchSpace(searchSpaceToJson({lr, momentum}));
        QVERIFY(!parsed.ok());
        QVERIFY2(parsed.error().find("parameters[0] (optimizer.lr): low 1 is above high 0.5") !=
                     std::string::npos,
                 parsed.error().c_str());
        lr.low = 0.001;
        const auto conditioned = parseSearchSpace(searchSpaceToJson({lr, momentum}));
        QVERIFY(!conditioned.ok());
        QVERIFY2(conditioned.error().find("parameters[1] (optimizer.momentum): 'when' names optimizer.typ") !=
                     std::string::npos,
                 conditioned.error().c_str());
    }

    void readsValuesAtPaths_data() {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("expected");
        QTest::newRow("number") << "optimizer.lr"
                                << "0.01";
        QTest::newRow("layer key") << "model.layers[0].out_features"
                                   << "8";
        QTest::newRow("layer") << "model.layers[1]"
                               << R"({"type":"relu"})";
        QTest::newRow("missing key") << "optimizer.momentum"
                                     << "";
        QTest::newRow("missing layer") << "model.layers[5]"
                                       << "";
        QTest::newRow("bad path") << "model..layers"
                                  << "";
    }

    void readsValuesAtPaths() {
        QFETCH(QString, path);
        QFETCH(QString, expected);
        const char* base =
            R"({"optimizer": {"type": "adam", "lr": 0.01}, "model": {"layers": [{"type": "linear", "out_features": 8}, {"type": "relu"}]}})";
        QCOMPARE(QString::fromStdString(valueAtPath(base, path.toStdString())), expected);
    }
};

QTEST_APPLESS_MAIN(TestSearchSpace)
#include "tst_search_space.moc"
