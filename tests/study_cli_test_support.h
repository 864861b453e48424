#pragma once

// The small trained studies the tunelab-cli study suites share: moons with a small MLP.

#include <QtCore/QByteArray>

namespace tunelab::test {

// Moons with a small MLP: trains in well under a second. `samples`, `epochs` and `batch` set its length.
inline QByteArray moonsExperiment(int samples, int epochs, int batch) {
    return R"({"name": "moons-study", "seed": 3, "device": "cpu",
      "data": {"kind": "moons", "samples": )" +
           QByteArray::number(samples) + R"(, "noise": 0.1},
      "model": {"layers": [{"type": "linear", "out_features": 16}, {"type": "relu"}, {"type": "linear", "out_features": 2}]},
      "optimizer": {"type": "adam", "lr": 0.01},
      "training": {"epochs": )" +
           QByteArray::number(epochs) + R"(, "batch_size": )" + QByteArray::number(batch) + "}}";
}

inline QByteArray moonsStudy(const QByteArray& name, int trials) {
    return R"({"name": ")" + name + R"(", "experiment": "experiment.json",
      "space": {"parameters": [
        {"path": "optimizer.lr", "kind": "float", "low": 0.001, "high": 0.1, "log": true},
        {"path": "model.layers[0].out_features", "kind": "int", "low": 4, "high": 32}]},
      "sampler": {"type": "random", "seed": 1}, "budget": {"trials": )" +
           QByteArray::number(trials) + "}}";
}

} // namespace tunelab::test
