#include "sampler_test_functions.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <utility>

using namespace tunelab;

namespace sampler_bench {

namespace {

double branin(const std::vector<double>& x) {
    const double a = x[1] - 5.1 / (4.0 * M_PI * M_PI) * x[0] * x[0] + 5.0 / M_PI * x[0] - 6.0;
    return a * a + 10.0 * (1.0 - 1.0 / (8.0 * M_PI)) * std::cos(x[0]) + 10.0;
}

double hartmann6(const std::vector<double>& x) {
    static const double a[4][6] = {{10, 3, 17, 3.5, 1.7, 8},
                                   {0.05, 10, 17, 0.1, 8, 14},
                                   {3, 3.5, 1.7, 10, 17, 8},
                                   {17, 8, 0.05, 10, 0.1, 14}};
    static const double p[4][6] = {{.1312, .1696, .5569, .0124, .8283, .5886},
                                   {.2329, .4135, .8307, .3736, .1004, .9991},
                                   {.2348, .1451, .3522, .2883, .3047, .6650},
                                   {.4047, .8828, .8732, .5743, .1091, .0381}};
    static const double c[4] = {1.0, 1.2, 3.0, 3.2};
    double sum = 0.0;
    for (int i = 0; i < 4; ++i) {
        double inner = 0.0;
        for (int j = 0; j < 6; ++j)
            inner += a[i][j] * (x[j] - p[i][j]) * (x[j] - p[i][j]);
        sum -= c[i] * std::exp(-inner);
    }
    return sum;
}

// log1p of Rosenbrock's function in as many dimensions as x has; minimum 0 at (1, ..., 1).
double rosenbrockLog1p(const std::vector<double>& x) {
    double sum = 0.0;
    for (size_t i = 0; i + 1 < x.size(); ++i)
        sum += 100.0 * (x[i + 1] - x[i] * x[i]) * (x[i + 1] - x[i] * x[i]) + (1.0 - x[i]) * (1.0 - x[i]);
    return std::log1p(sum);
}

// Ackley in 5 dimensions on [-32.768, 32.768]^5, minimum 0 at the origin.
double ackley5(const std::vector<double>& x) {
    double squares = 0.0, cosines = 0.0;
    for (double v : x) {
        squares += v * v;
        cosines += std::cos(2.0 * M_PI * v);
    }
    const double d = static_cast<double>(x.size());
    return -20.0 * std::exp(-0.2 * std::sqrt(squares / d)) - std::exp(cosines / d) + 20.0 + M_E;
}

// Levy in 4 dimensions on [-10, 10]^4, minimum 0 at (1, 1, 1, 1).
double levy4(const std::vector<double>& x) {
    auto w = [&](size_t i) { return 1.0 + (x[i] - 1.0) / 4.0; };
    const size_t d = x.size();
    double sum = std::pow(std::sin(M_PI * w(0)), 2.0);
    for (size_t i = 0; i + 1 < d; ++i)
        sum += std::pow(w(i) - 1.0, 2.0) * (1.0 + 10.0 * std::pow(std::sin(M_PI * w(i) + 1.0), 2.0));
    sum += std::pow(w(d - 1) - 1.0, 2.0) * (1.0 + std::pow(std::sin(2.0 * M_PI * w(d - 1)), 2.0));
    return sum;
}

// A made-up training loss over a conditional space: each optimizer is a bowl in log10 of its own
// learning rate with its own best rate and floor. SGD reaches the lowest floor (0), but only with its
// momentum near 0.9; Adam's floor is 0.2 and RMSprop's 0.35. Minimum 0.
const char* kConditionalSpace = R"({"parameters": [
    {"path": "optimizer.type", "kind": "categorical", "choices": ["sgd", "adam", "rmsprop"]},
    {"path": "sgd.lr", "kind": "float", "low": 1e-5, "high": 1, "log": true, "when": {"optimizer.type": ["sgd"]}},
    {"path": "sgd.momentum", "kind": "float", "low": 0.0, "high": 0.99, "when": {"optimizer.type": ["sgd"]}},
    {"path": "adam.lr", "kind": "float", "low": 1e-5, "high": 1, "log": true, "when": {"optimizer.type": ["adam"]}},
    {"path": "rmsprop.lr", "kind": "float", "low": 1e-5, "high": 1, "log": true, "when": {"optimizer.type": ["rmsprop"]}}
]})";

double optimizerLoss(const Assignment& a) {
    const std::string type = a.at("optimizer.type").json;
    if (type == "\"sgd\"") {
        const double lr = std::log10(a.at("sgd.lr").toDouble());
        const double momentum = a.at("sgd.momentum").toDouble();
        return 0.25 * (lr + 1.5) * (lr + 1.5) + 2.0 * (momentum - 0.9) * (momentum - 0.9);
    }
    if (type == "\"adam\"") {
        const double lr = std::log10(a.at("adam.lr").toDouble());
        return 0.2 + 0.25 * (lr + 3.0) * (lr + 3.0);
    }
    const double lr = std::log10(a.at("rmsprop.lr").toDouble());
    return 0.35 + 0.25 * (lr + 2.5) * (lr + 2.5);
}

// The second set ("dev").
double camel6(const std::vector<double>& x) {
    const double a = x[0] * x[0], b = x[1] * x[1];
    return (4.0 - 2.1 * a + a * a / 3.0) * a + x[0] * x[1] + (-4.0 + 4.0 * b) * b;
}

double goldsteinPrice(const std::vector<double>& x) {
    const double s = x[0] + x[1] + 1.0, t = 2.0 * x[0] - 3.0 * x[1];
    const double a = 1.0 + s * s *
                               (19.0 - 14.0 * x[0] + 3.0 * x[0] * x[0] - 14.0 * x[1] + 6.0 * x[0] * x[1] +
                                3.0 * x[1] * x[1]);
    const double b = 30.0 + t * t *
                                (18.0 - 32.0 * x[0] + 12.0 * x[0] * x[0] + 48.0 * x[1] - 36.0 * x[0] * x[1] +
                                 27.0 * x[1] * x[1]);
    return std::log(a * b);
}

double hartmann3(const std::vector<double>& x) {
    static const double a[4][3] = {{3, 10, 30}, {0.1, 10, 35}, {3, 10, 30}, {0.1, 10, 35}};
    static const double p[4][3] = {
        {.3689, .1170, .2673}, {.4699, .4387, .7470}, {.1091, .8732, .5547}, {.0381, .5743, .8828}};
    static const double c[4] = {1.0, 1.2, 3.0, 3.2};
    double sum = 0.0;
    for (int i = 0; i < 4; ++i) {
        double inner = 0.0;
        for (int j = 0; j < 3; ++j)
            inner += a[i][j] * (x[j] - p[i][j]) * (x[j] - p[i][j]);
        sum -= c[i] * std::exp(-inner);
    }
    return sum;
}

double styblinskiTang(const std::vector<double>& x) {
    double sum = 0.0;
    for (double v : x)
        sum += 0.5 * (v * v * v * v - 16.0 * v * v + 5.0 * v);
    return sum;
}

double rastrigin(const std::vector<double>& x) {
    double sum = 10.0 * static_cast<double>(x.size());
    for (double v : x)
        sum += v * v - 10.0 * std::cos(2.0 * M_PI * v);
    return sum;
}

double griewank(const std::vector<double>& x) {
    double squares = 0.0, product = 1.0;
    for (size_t i = 0; i < x.size(); ++i) {
        squares += x[i] * x[i] / 4000.0;
        product *= std::cos(x[i] / std::sqrt(static_cast<double>(i + 1)));
    }
    return squares - product + 1.0;
}

double schwefel(const std::vector<double>& x) {
    double sum = 418.9829 * static_cast<double>(x.size());
    for (double v : x)
        sum -= v * std::sin(std::sqrt(std::fabs(v)));
    return sum;
}

double michalewicz(const std::vector<double>& x) {
    double sum = 0.0;
    for (size_t i = 0; i < x.size(); ++i)
        sum -= std::sin(x[i]) * std::pow(std::sin(static_cast<double>(i + 1) * x[i] * x[i] / M_PI), 20.0);
    return sum;
}

const char* kNuisanceSpace = R"({"parameters": [
    {"path": "x0", "kind": "float", "low": -5, "high": 5}, {"path": "x1", "kind": "float", "low": -5, "high": 5},
    {"path": "x2", "kind": "float", "low": -5, "high": 5}, {"path": "x3", "kind": "float", "low": -5, "high": 5},
    {"path": "x4", "kind": "float", "low": -5, "high": 5}, {"path": "x5", "kind": "float", "low": -5, "high": 5},
    {"path": "colour", "kind": "categorical", "choices": ["red", "green", "blue", "grey"]}
]})";

// A sphere in 6 dimensions centred away from the middle of the box; the colour does not matter.
double shiftedSphere(const Assignment& a) {
    static const double centre[6] = {1.3, -2.1, 0.7, 3.2, -0.4, -3.6};
    double sum = 0.0;
    for (int i = 0; i < 6; ++i) {
        const double d = a.at("x" + std::to_string(i)).toDouble() - centre[i];
        sum += d * d;
    }
    return sum;
}

// The third set ("heldout"): kinds the reported and development sets lack. An ill-conditioned rotated
// ellipsoid (8-D), Rosenbrock in 10-D, a shifted Rastrigin in 8-D, two noisy functions (the noise is added by
// the bench, see kNoisySphereSd and kNoisyHartmannSd), a sphere over 8 integers and a space that mixes
// floats, integers and a categorical. These functions measure; they must never be used to choose a constant
// of any sampler or of the bench: a constant tuned while looking at them would make them one more development
// set. The shifts, the rotation and the centres were drawn once with numpy.random.default_rng(20240917)
// (shifts uniform in [-4, 4] rounded to 4 decimals, the rotation the Q of a QR decomposition of a
// standard normal 8x8 matrix with R's diagonal made positive) and are written here and in
// bench_sampler_suite.py as the same constants.

// BBOB f10 (ellipsoid, rotated), 8-D on [-5, 5]^8: its x_opt and R, without its random f_opt.
const double kEllipsoidShift[8] = {2.9998, -2.8089, 0.0687, -2.8193, -3.6014, -3.3686, -2.4593, -0.5176};
const double kEllipsoidRotation[8][8] = {
    {0.2772238548150554, -0.008289811658894511, -0.6668407250894668, 0.6314159851629906, 0.03533048643251286,
     0.10749255551925518, -0.21521215459364346, -0.14351428548576334},
    {-0.7050217347898085, -0.11723166497733455, -0.28269648585915647, 0.19687376716535904,
     -0.2950179264962291, -0.16597283786029235, 0.4933297607141054, -0.11210572785475714},
    {-0.3341450009443473, 0.4242656804642007, 0.08593471175315306, 0.12934460574974624, 0.061147153794393456,
     0.8068840768231356, -0.032788360169271155, 0.16838938384894403},
    {-0.15429992800487233, -0.426508090978767, 0.35480907588782934, 0.30591723710511964, -0.5405639751838083,
     0.06971026903476538, -0.5144296797161348, 0.11445835927824617},
    {-0.12094595051253992, -0.21976335811938294, 0.4668910290620544, 0.5093844409412692, 0.6166826249363085,
     -0.056891202463480645, 0.1340628676597548, -0.24105908091130532},
    {-0.186134882867652, 0.7262400918707511, 0.1496356575212353, 0.22082016227907997, -0.06888473257038528,
     -0.5084892774354813, -0.31842485398706477, -0.045562275884791927},
    {-0.4894323993974114, -0.20613077200612534, -0.3052459440462144, -0.33590895643762064, 0.4286021284103115,
     -0.04785808620776417, -0.5660414794515162, -0.07458539084563032},
    {-0.042564623945247904, -0.07789092809186508, -0.09262148698581667, 0.17655115613091504,
     0.2168535066194532, -0.20220925290611488, 0.06947162868386159, 0.9271633475503496}};
const double kRastriginShift[8] = {-0.727, -2.4702, -0.6233, 0.3012, 2.0041, -0.6076, -1.772, -0.2775};
const double kNoisySphereCentre[6] = {3.3632, 0.8862, 1.1093, 3.6206, -3.1277, 2.0257};
const int kIntegerCentre[8] = {6, 5, 6, -8, -8, 8, -7, 5};
const double kMixedFloatCentre[4] = {0.8513, 0.6372, 0.8016, 0.1796};
const int kMixedIntCentre[2] = {6, 6};
const double kMixedChoicePenalty[3] = {0.5, 0.0, 2.0}; // for "a", "b", "c"

// Standard deviations of the Gaussian noise added to each trial's value.
constexpr double kNoisySphereSd = 0.5;
constexpr double kNoisyHartmannSd = 0.1;

// BBOB's oscillation T_osz, applied to each coordinate.
double oscillate(double v) {
    if (v == 0.0)
        return 0.0;
    const double logAbs = std::log(std::fabs(v));
    const double c1 = v > 0.0 ? 10.0 : 5.5, c2 = v > 0.0 ? 7.9 : 3.1;
    return std::copysign(std::exp(logAbs + 0.049 * (std::sin(c1 * logAbs) + std::sin(c2 * logAbs))), v);
}

// log10(1 + f) with f = sum_i 10^(6 i / 7) z_i^2, z = T_osz(R (x - shift)): condition 1e6, minimum 0
// at the shift.
double ellipsoid8(const std::vector<double>& x) {
    double sum = 0.0;
    for (int i = 0; i < 8; ++i) {
        double rotated = 0.0;
        for (int j = 0; j < 8; ++j)
            rotated += kEllipsoidRotation[i][j] * (x[j] - kEllipsoidShift[j]);
        const double z = oscillate(rotated);
        sum += std::pow(10.0, 6.0 * i / 7.0) * z * z;
    }
    return std::log10(1.0 + sum);
}

// Rastrigin of x - shift on [-5.12, 5.12]^8: 10 d + sum z_i^2 - 10 cos(2 pi z_i), minimum 0 at the
// shift.
double rastrigin8(const std::vector<double>& x) {
    double sum = 80.0;
    for (int i = 0; i < 8; ++i) {
        const double z = x[i] - kRastriginShift[i];
        sum += z * z - 10.0 * std::cos(2.0 * M_PI * z);
    }
    return sum;
}

// sum (x_i - centre_i)^2 on [-5, 5]^6, minimum 0 (the noise is added by the bench).
double noisySphere6(const std::vector<double>& x) {
    double sum = 0.0;
    for (int i = 0; i < 6; ++i)
        sum += (x[i] - kNoisySphereCentre[i]) * (x[i] - kNoisySphereCentre[i]);
    return sum;
}

const char* const kIntegerSphereSpace = R"({"parameters": [
    {"path": "x0", "kind": "int", "low": -10, "high": 10}, {"path": "x1", "kind": "int", "low": -10, "high": 10},
    {"path": "x2", "kind": "int", "low": -10, "high": 10}, {"path": "x3", "kind": "int", "low": -10, "high": 10},
    {"path": "x4", "kind": "int", "low": -10, "high": 10}, {"path": "x5", "kind": "int", "low": -10, "high": 10},
    {"path": "x6", "kind": "int", "low": -10, "high": 10}, {"path": "x7", "kind": "int", "low": -10, "high": 10}
]})";

// sum (x_i - c_i)^2 over 8 integers in [-10, 10], minimum 0 at the (non-zero) centres.
double integerSphere8(const Assignment& a) {
    double sum = 0.0;
    for (int i = 0; i < 8; ++i) {
        const double d = static_cast<double>(a.at("x" + std::to_string(i)).toInt() - kIntegerCentre[i]);
        sum += d * d;
    }
    return sum;
}

const char* const kMixedSpace = R"({"parameters": [
    {"path": "x0", "kind": "float", "low": 0, "high": 1}, {"path": "x1", "kind": "float", "low": 0, "high": 1},
    {"path": "x2", "kind": "float", "low": 0, "high": 1}, {"path": "x3", "kind": "float", "low": 0, "high": 1},
    {"path": "n0", "kind": "int", "low": 0, "high": 20}, {"path": "n1", "kind": "int", "low": 0, "high": 20},
    {"path": "choice", "kind": "categorical", "choices": ["a", "b", "c"]}
]})";

// sum (x_i - a_i)^2 + sum ((n_j - b_j) / 10)^2 + the choice's penalty (0.5, 0 or 2); minimum 0 at the
// centres with choice "b".
double mixedIntCat(const Assignment& a) {
    double sum = 0.0;
    for (int i = 0; i < 4; ++i) {
        const double d = a.at("x" + std::to_string(i)).toDouble() - kMixedFloatCentre[i];
        sum += d * d;
    }
    for (int j = 0; j < 2; ++j) {
        const double d =
            static_cast<double>(a.at("n" + std::to_string(j)).toInt() - kMixedIntCentre[j]) / 10.0;
        sum += d * d;
    }
    const std::string choice = a.at("choice").json;
    return sum + kMixedChoicePenalty[choice == "\"a\"" ? 0 : choice == "\"b\"" ? 1 : 2];
}

SearchSpace parsedSpace(const std::string& json) {
    auto parsed = parseSearchSpace(json);
    if (!parsed.ok()) {
        std::fprintf(stderr, "%s\n", parsed.error().c_str());
        std::exit(1);
    }
    return parsed.take();
}

// A function of x0..x(d-1), each a float parameter with the function's bounds.
TestFunction boxFunction(const std::string& name, const std::vector<std::pair<double, double>>& bounds,
                         double (*function)(const std::vector<double>&), double minimum,
                         double noiseSd = 0.0) {
    std::string json = R"({"parameters": [)";
    for (size_t i = 0; i < bounds.size(); ++i) {
        char item[160];
        std::snprintf(item, sizeof item,
                      R"(%s{"path": "x%zu", "kind": "float", "low": %.17g, "high": %.17g})",
                      i == 0 ? "" : ", ", i, bounds[i].first, bounds[i].second);
        json += item;
    }
    json += "]}";
    const size_t dimensions = bounds.size();
    auto value = [function, dimensions](const Assignment& a) {
        std::vector<double> x;
        for (size_t i = 0; i < dimensions; ++i)
            x.push_back(a.at("x" + std::to_string(i)).toDouble());
        return function(x);
    };
    return {name, parsedSpace(json), value, minimum, noiseSd};
}

using Bounds = std::vector<std::pair<double, double>>;

double alpine(const std::vector<double>& x) {
    double sum = 0.0;
    for (double v : x)
        sum += std::fabs(v * std::sin(v) + 0.1 * v);
    return sum;
}

} // namespace

std::vector<TestFunction> reportedFunctions() {
    return {
        boxFunction("branin", {{-5, 10}, {0, 15}}, branin, 0.397887),
        boxFunction("hartmann6", Bounds(6, {0.0, 1.0}), hartmann6, -3.32237),
        boxFunction("rosenbrock4", Bounds(4, {-2.0, 2.0}), rosenbrockLog1p, 0.0),
        {"optimizer", parsedSpace(kConditionalSpace), optimizerLoss, 0.0},
        boxFunction("ackley5", Bounds(5, {-32.768, 32.768}), ackley5, 0.0),
        boxFunction("levy4", Bounds(4, {-10.0, 10.0}), levy4, 0.0),
    };
}

std::vector<TestFunction> devFunctions() {
    return {
        boxFunction("camel6", {{-3, 3}, {-2, 2}}, camel6, -1.031628),
        boxFunction("goldstein", {{-2, 2}, {-2, 2}}, goldsteinPrice, std::log(3.0)),
        boxFunction("hartmann3", Bounds(3, {0.0, 1.0}), hartmann3, -3.86278),
        boxFunction("styblinski3", Bounds(3, {-5.0, 5.0}), styblinskiTang, -117.49797),
        boxFunction("rastrigin3", Bounds(3, {-5.12, 5.12}), rastrigin, 0.0),
        boxFunction("griewank4", Bounds(4, {-600.0, 600.0}), griewank, 0.0),
        boxFunction("schwefel4", Bounds(4, {-500.0, 500.0}), schwefel, 0.0),
        boxFunction("michalewicz5", Bounds(5, {0.0, M_PI}), michalewicz, -4.687658),
        {"sphere6+cat", parsedSpace(kNuisanceSpace), shiftedSphere, 0.0},
    };
}

// A fourth set ("dev8"): development functions in 8-10 dimensions, multimodal and smooth, for work on
// the samplers' behaviour as the dimension grows.
std::vector<TestFunction> highDevFunctions() {
    return {
        boxFunction("styblinski8", Bounds(8, {-5.0, 5.0}), styblinskiTang, -39.16617 * 8),
        boxFunction("levy8", Bounds(8, {-10.0, 10.0}), levy4, 0.0),
        boxFunction("ackley8", Bounds(8, {-32.768, 32.768}), ackley5, 0.0),
        boxFunction("michalewicz10", Bounds(10, {0.0, M_PI}), michalewicz, -9.66015),
        boxFunction("schwefel8", Bounds(8, {-500.0, 500.0}), schwefel, 0.0),
        boxFunction("griewank8", Bounds(8, {-600.0, 600.0}), griewank, 0.0),
        boxFunction("alpine8", Bounds(8, {-10.0, 10.0}), alpine, 0.0),
    };
}

// Never used to choose a constant (see the third set above).
std::vector<TestFunction> heldoutFunctions() {
    return {
        boxFunction("ellipsoid8", Bounds(8, {-5.0, 5.0}), ellipsoid8, 0.0),
        boxFunction("rosenbrock10", Bounds(10, {-2.0, 2.0}), rosenbrockLog1p, 0.0),
        boxFunction("rastrigin8", Bounds(8, {-5.12, 5.12}), rastrigin8, 0.0),
        boxFunction("noisy_sphere6", Bounds(6, {-5.0, 5.0}), noisySphere6, 0.0, kNoisySphereSd),
        boxFunction("noisy_hartmann6", Bounds(6, {0.0, 1.0}), hartmann6, -3.32237, kNoisyHartmannSd),
        {"integer_sphere8", parsedSpace(kIntegerSphereSpace), integerSphere8, 0.0},
        {"mixed_int_cat", parsedSpace(kMixedSpace), mixedIntCat, 0.0},
    };
}

} // namespace sampler_bench
