// The flat optimizers against torch.optim: 100-step parameter trajectories compared with the goldens
// that tests/optimizer_reference/generate_goldens.py wrote with torch 1.13 (the ctest
// tst_optimizer_goldens_fresh regenerates them where Debian's Python has torch). The gradient is a
// fixed smooth function of the parameters, computed here exactly as the script does, so the
// trajectory feeds back and a wrong rule anywhere shows at once.

#include "training/optimizers.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <vector>

using namespace tunelab;

namespace {

using Vector = std::vector<double>;

Vector numbers(const QJsonValue& value) {
    Vector out;
    for (const auto& item : value.toArray())
        out.push_back(item.toDouble());
    return out;
}

// f(p) = 1/2 (p - c)^T H (p - c) + sum_i (a_i / w_i) sin(w_i p_i): its gradient, element by element
// in the order of generate_goldens.py's gradient(), so both sides round alike.
struct Problem {
    std::vector<Vector> hessian;
    Vector center, amplitude, frequency, initial;

    Vector gradient(const Vector& p) const {
        Vector g(p.size());
        for (size_t i = 0; i < p.size(); ++i) {
            double value = 0.0;
            for (size_t j = 0; j < p.size(); ++j)
                value += hessian[i][j] * (p[j] - center[j]);
            value += amplitude[i] * std::cos(frequency[i] * p[i]);
            g[i] = value;
        }
        return g;
    }
};

struct Case {
    OptimizerSpec spec;
    double lrGamma = 1.0;
    double gradScale = 1.0;
    std::vector<Vector> trajectory;
};

struct Goldens {
    Problem problem;
    QList<QPair<QString, Case>> cases;
};

OptimizerType optimizerType(const QString& name) {
    for (auto type : {OptimizerType::Sgd, OptimizerType::Adagrad, OptimizerType::RmsProp, OptimizerType::Adam,
                      OptimizerType::AdamW}) {
        if (name == QLatin1String(toString(type)))
            return type;
    }
    qFatal("goldens.json: unknown optimizer type %s", qPrintable(name));
}

// The golden file's optimizer fields (TuneLab's JSON names) set on an OptimizerSpec directly.
OptimizerSpec optimizerSpec(const QJsonObject& json) {
    OptimizerSpec spec;
    spec.type = optimizerType(json.value("type").toString());
    const auto number = [&](const char* key, double fallback) { return json.value(key).toDouble(fallback); };
    spec.lr = number("lr", spec.lr);
    spec.weightDecay = number("weight_decay", spec.weightDecay);
    spec.l1 = number("l1", spec.l1);
    spec.momentum = number("momentum", spec.momentum);
    spec.dampening = number("dampening", spec.dampening);
    spec.nesterov = json.value("nesterov").toBool(spec.nesterov);
    spec.beta1 = number("beta1", spec.beta1);
    spec.beta2 = number("beta2", spec.beta2);
    spec.eps = number("eps", spec.eps);
    spec.amsgrad = json.value("amsgrad").toBool(spec.amsgrad);
    spec.alpha = number("alpha", spec.alpha);
    spec.centered = json.value("centered").toBool(spec.centered);
    spec.initialAccumulator = number("initial_accumulator", spec.initialAccumulator);
    spec.lrDecay = number("lr_decay", spec.lrDecay);
    return spec;
}

const Goldens& goldens() {
    static const Goldens loaded = [] {
        const QString path = QStringLiteral(TUNELAB_SOURCE_DIR "/tests/optimizer_reference/goldens.json");
        QFile file(path);
        if (!file.open(QIODevice::ReadOnly))
            qFatal("cannot read %s", qPrintable(path));
        const QJsonObject root = QJsonDocument::fromJson(file.readAll()).object();
        Goldens out;
        const QJsonObject problem = root.value("problem").toObject();
        for (const auto& row : problem.value("hessian").toArray())
            out.problem.hessian.push_back(numbers(row));
        out.problem.center = numbers(problem.value("center"));
        out.problem.amplitude = numbers(problem.value("sine_amplitude"));
        out.problem.frequency = numbers(problem.value("sine_frequency"));
        out.problem.initial = numbers(problem.value("initial"));
        for (const auto& item : root.value("cases").toArray()) {
            const QJsonObject json = item.toObject();
            Case entry;
            entry.spec = optimizerSpec(json.value("optimizer").toObject());
            entry.lrGamma = json.value("lr_gamma").toDouble(1.0);
            entry.gradScale = json.value("grad_scale").toDouble(1.0);
            for (const auto& row : json.value("trajectory").toArray())
                entry.trajectory.push_back(numbers(row));
            out.cases.append({json.value("name").toString(), entry});
        }
        if (out.cases.isEmpty() || root.value("steps").toInt() != 100)
            qFatal("%s: no cases or not 100 steps", qPrintable(path));
        return out;
    }();
    return loaded;
}

Vector values(const torch::Tensor& tensor) {
    auto doubles = tensor.to(torch::kDouble).contiguous();
    return Vector(doubles.data_ptr<double>(), doubles.data_ptr<double>() + doubles.numel());
}

} // namespace

Q_DECLARE_METATYPE(Case)

class OptimizersTest : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void trajectoryMatchesTorch_data();
    void trajectoryMatchesTorch();
    void oldRulesWouldFail();
};

// One row per golden case and per path: the whole-buffer tensor path in float64 (the path CUDA and
// non-float32 buffers take), and the fused float32 CPU loop in every instruction-set build this CPU
// runs (the trainer takes the first).
void OptimizersTest::trajectoryMatchesTorch_data() {
    QTest::addColumn<Case>("golden");
    QTest::addColumn<int>("build"); // -1: the tensor path; -2: the step a CUDA graph replays
    for (const auto& [name, golden] : goldens().cases) {
        QTest::addRow("%s/tensors-float64", qPrintable(name)) << golden << -1;
        QTest::addRow("%s/replayable-float32", qPrintable(name)) << golden << -2;
        const auto& builds = tunelab::detail::fusedKernelBuilds();
        for (int build = 0; build < static_cast<int>(builds.size()); ++build)
            QTest::addRow("%s/fused-float32-%s", qPrintable(name), builds[build]->name) << golden << build;
    }
}

// Tolerances, relative to the parameters' scale (|error| <= tolerance * max(1, |torch.optim's value|),
// so a parameter passing through zero is judged like the others):
// - float64 tensor path: 1e-12. It runs the same LibTorch kernels as torch.optim in the same order
//   and is bit-identical here; the bound leaves room for another libm's cos in the gradient.
// - fused float32: 1e-5. Each step rounds the parameters and the state to float32 (relative 6e-8;
//   the loops may also contract into FMAs and fold the bias corrections differently); over 100
//   steps that accumulates to at most 100 x 6e-8 = 6e-6 on these contracting trajectories. Measured:
//   at most 3.5e-6 (centered RMSprop, whose sqrt(E[g^2] - E[g]^2) cancels), and torch.optim itself
//   run in float32 strays up to 1.3e-6 from its float64 goldens. A rule change moves them by far
//   more (dampening, amsgrad, centering, lr decay: 1e-3 and up; oldRulesWouldFail checks), and so
//   did forming 1 - beta2 in float (1.2e-5 on Adam, since 1 - float(0.999) is off by 1.3e-5).
void OptimizersTest::trajectoryMatchesTorch() {
    QFETCH(Case, golden);
    QFETCH(int, build);
    const Problem& problem = goldens().problem;
    const bool fused = build >= 0;
    // The replayable step (stepWithScalars) reads the step's numbers from a float tensor, as a
    // recorded CUDA graph does, on float32 buffers as on a GPU: the fused loop's tolerance.
    const bool replayable = build == -2;
    const auto dtype = fused || replayable ? torch::kFloat : torch::kDouble;
    const double tolerance = fused || replayable ? 1e-5 : 1e-12;

    auto params = torch::tensor(problem.initial, torch::kDouble).to(dtype);
    auto grads = torch::zeros_like(params);
    auto optimizer = fused ? tunelab::detail::makeOptimizer(golden.spec, params,
                                                            *tunelab::detail::fusedKernelBuilds()[build])
                           : tunelab::detail::makeOptimizer(golden.spec, params);
    QCOMPARE(optimizer->fusedCpu(), fused || replayable);

    double worst = 0.0;
    for (size_t step = 0; step < golden.trajectory.size(); ++step) {
        grads.copy_(torch::tensor(problem.gradient(values(params)), torch::kDouble));
        const double lr = golden.spec.lr * std::pow(golden.lrGamma, static_cast<double>(step));
        if (replayable) {
            const torch::Tensor scalars = optimizer->nextStepScalars(lr);
            grads.mul_(golden.gradScale);
            optimizer->stepWithScalars(params, grads, scalars);
        } else {
            optimizer->step(params, grads, lr, golden.gradScale);
        }
        if (fused)
            QVERIFY2(grads.eq(0).all().item<bool>(), "the fused step leaves the gradient zeroed");
        const Vector got = values(params);
        const Vector& want = golden.trajectory[step];
        QCOMPARE(got.size(), want.size());
        for (size_t i = 0; i < got.size(); ++i) {
            const double error = std::abs(got[i] - want[i]) / std::max(1.0, std::abs(want[i]));
            worst = std::max(worst, error);
            if (!(error <= tolerance))
                QFAIL(qPrintable(
                    QStringLiteral(
                        "step %1, parameter %2: %3, torch.optim %4 (relative error %5, tolerance %6)")
                        .arg(step + 1)
                        .arg(i)
                        .arg(got[i], 0, 'g', 17)
                        .arg(want[i], 0, 'g', 17)
                        .arg(error, 0, 'g', 3)
                        .arg(tolerance, 0, 'g', 3)));
        }
    }
    if (qEnvironmentVariableIsSet("TUNELAB_PRINT_ERRORS"))
        qInfo("largest error %.3g", worst);
}

// The goldens can tell the rules apart: each option the fidelity rests on moves its trajectory far
// beyond the tolerances above, so dropping it would fail trajectoryMatchesTorch.
void OptimizersTest::oldRulesWouldFail() {
    const Problem& problem = goldens().problem;
    for (const auto& [name, golden] : goldens().cases) {
        OptimizerSpec without = golden.spec;
        without.dampening = 0.0;
        without.amsgrad = false;
        without.centered = false;
        without.lrDecay = 0.0;
        without.l1 = 0.0;
        if (without.dampening == golden.spec.dampening && without.amsgrad == golden.spec.amsgrad &&
            without.centered == golden.spec.centered && without.lrDecay == golden.spec.lrDecay &&
            without.l1 == golden.spec.l1)
            continue;
        auto params = torch::tensor(problem.initial, torch::kDouble);
        auto grads = torch::zeros_like(params);
        auto optimizer = tunelab::detail::makeOptimizer(without, params);
        double largest = 0.0;
        for (size_t step = 0; step < golden.trajectory.size(); ++step) {
            grads.copy_(torch::tensor(problem.gradient(values(params)), torch::kDouble));
            optimizer->step(params, grads,
                            golden.spec.lr * std::pow(golden.lrGamma, static_cast<double>(step)),
                            golden.gradScale);
            const Vector got = values(params);
            for (size_t i = 0; i < got.size(); ++i)
                largest = std::max(largest, std::abs(got[i] - golden.trajectory[step][i]));
        }
        QVERIFY2(largest > 1e-3,
                 qPrintable(name + QStringLiteral(": the option barely moves the trajectory")));
    }
}

QTEST_GUILESS_MAIN(OptimizersTest)
#include "tst_optimizers.moc"
