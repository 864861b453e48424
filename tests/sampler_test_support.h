#pragma once

// Search spaces and helpers shared by the sampler suites.

#include "search/search_space.h"

#include <QtGlobal>
#include <QtTest>

#include <cmath>
#include <set>
#include <string>

namespace tunelab::test {

// Every kind of parameter: log and stepped floats, log and stepped ints, explicit values,
// categorical numbers, strings and objects, and a fixed value.
inline const char* const kMixedSpace = R"({"parameters": [
    {"path": "optimizer.lr", "kind": "float", "low": 1e-4, "high": 0.1, "log": true},
    {"path": "optimizer.weight_decay", "kind": "float", "low": 0.0, "high": 0.3},
    {"path": "data.noise", "kind": "float", "low": 0.05, "high": 0.5, "step": 0.05},
    {"path": "training.batch_size", "kind": "int", "low": 16, "high": 256, "log": true},
    {"path": "model.layers[0].out_features", "kind": "int", "low": 8, "high": 100, "step": 4},
    {"path": "training.epochs", "kind": "int", "low": 1, "high": 3},
    {"path": "training.patience", "kind": "int", "values": [2, 5, 9]},
    {"path": "optimizer.type", "kind": "categorical", "choices": ["adam", "sgd", "rmsprop"]},
    {"path": "model.layers[1]", "kind": "categorical", "choices": [{"type": "relu"}, {"type": "gelu"}]},
    {"path": "schedule.gamma", "kind": "float", "values": [0.1, 0.5]},
    {"path": "seed", "kind": "fixed", "value": 7}
]})";

// Momentum applies only to SGD.
inline const char* const kConditionalSpace = R"({"parameters": [
    {"path": "optimizer.momentum", "kind": "float", "low": 0.0, "high": 0.99, "when": {"optimizer.type": ["sgd"]}},
    {"path": "optimizer.type", "kind": "categorical", "choices": ["adam", "sgd"]},
    {"path": "optimizer.lr", "kind": "float", "low": 1e-4, "high": 0.1, "log": true}
]})";

inline SearchSpace parse(const char* text) {
    auto parsed = parseSearchSpace(text);
    if (!parsed.ok())
        qFatal("%s", parsed.error().c_str());
    return parsed.take();
}

// Whether `value` lies on the grid low + k * step.
inline bool onStep(double value, double low, double step) {
    const double k = (value - low) / step;
    return std::fabs(k - std::round(k)) < 1e-9;
}

// Every value of kMixedSpace's parameters lies in its range, on its step or among its values (a
// failure is recorded in the running test; callers stop on QTest::currentTestFailed()).
inline void verifyMixedAssignment(const Assignment& a) {
    QCOMPARE(int(a.size()), 11);
    const double lr = a.at("optimizer.lr").toDouble();
    QVERIFY(lr >= 1e-4 && lr <= 0.1);
    const double decay = a.at("optimizer.weight_decay").toDouble();
    QVERIFY(decay >= 0.0 && decay <= 0.3);
    const double noise = a.at("data.noise").toDouble();
    QVERIFY2(noise >= 0.05 && noise <= 0.5 + 1e-12 && onStep(noise, 0.05, 0.05),
             a.at("data.noise").json.c_str());
    for (const char* path : {"training.batch_size", "model.layers[0].out_features", "training.epochs"})
        QVERIFY2(a.at(path).json.find('.') == std::string::npos, a.at(path).json.c_str()); // integers
    const int64_t batch = a.at("training.batch_size").toInt();
    QVERIFY(batch >= 16 && batch <= 256);
    const int64_t width = a.at("model.layers[0].out_features").toInt();
    QVERIFY(width >= 8 && width <= 100 && (width - 8) % 4 == 0);
    const int64_t epochs = a.at("training.epochs").toInt();
    QVERIFY(epochs >= 1 && epochs <= 3);
    QVERIFY2(std::set<std::string>({"2", "5", "9"}).count(a.at("training.patience").json),
             a.at("training.patience").json.c_str());
    QVERIFY(std::set<std::string>({"\"adam\"", "\"sgd\"", "\"rmsprop\""}).count(a.at("optimizer.type").json));
    QVERIFY2(std::set<std::string>({R"({"type":"relu"})", R"({"type":"gelu"})"})
                 .count(a.at("model.layers[1]").json),
             a.at("model.layers[1]").json.c_str());
    QVERIFY(std::set<std::string>({"0.1", "0.5"}).count(a.at("schedule.gamma").json));
    QCOMPARE(QString::fromStdString(a.at("seed").json), QString("7"));
}

} // namespace tunelab::test
