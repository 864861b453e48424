#pragma once

// Search spaces and helpers shared by the sampler suites.

#include "search/search_space.h"

#include <QtGlobal>

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

} // namespace tunelab::test
