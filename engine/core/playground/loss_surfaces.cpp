#include "playground/loss_surfaces.h"

#include <cmath>

namespace tunelab {

namespace {

constexpr double kPi = 3.14159265358979323846;

// A non-positive or non-finite condition number would turn the quadratic into a saddle or NaN.
double safeConditionNumber(const Surface& surface) {
    const double c = surface.conditionNumber;
    return std::isfinite(c) && c > 0.0 ? c : 1.0;
}

} // namespace

const char* toString(SurfaceKind kind) {
    switch (kind) {
    case SurfaceKind::Rosenbrock:
        return "rosenbrock";
    case SurfaceKind::Beale:
        return "beale";
    case SurfaceKind::Himmelblau:
        return "himmelblau";
    case SurfaceKind::Saddle:
        return "saddle";
    case SurfaceKind::IllConditionedQuadratic:
        return "quadratic";
    case SurfaceKind::Rastrigin:
        return "rastrigin";
    }
    return "unknown";
}

std::vector<SurfaceKind> allSurfaceKinds() {
    return {SurfaceKind::Rosenbrock,
            SurfaceKind::Beale,
            SurfaceKind::Himmelblau,
            SurfaceKind::Saddle,
            SurfaceKind::IllConditionedQuadratic,
            SurfaceKind::Rastrigin};
}

// The formulas are repeated with torch operations in engine/torch/trajectories.cpp, where autograd
// differentiates them; tst_trajectories checks that both agree.
double surfaceValue(const Surface& surface, double x, double y) {
    switch (surface.kind) {
    case SurfaceKind::Rosenbrock:
        return (1.0 - x) * (1.0 - x) + 100.0 * (y - x * x) * (y - x * x);
    case SurfaceKind::Beale: {
        const double a = 1.5 - x + x * y;
        const double b = 2.25 - x + x * y * y;
        const double c = 2.625 - x + x * y * y * y;
        return a * a + b * b + c * c;
    }
    case SurfaceKind::Himmelblau: {
        const double a = x * x + y - 11.0;
        const double b = x + y * y - 7.0;
        return a * a + b * b;
    }
    case SurfaceKind::Saddle:
        // A saddle at the origin between two minima at (0, +-1): along y the origin is a maximum.
        return x * x + 0.25 * y * y * y * y - 0.5 * y * y;
    case SurfaceKind::IllConditionedQuadratic:
        return 0.5 * (x * x + safeConditionNumber(surface) * y * y);
    case SurfaceKind::Rastrigin:
        return 20.0 + x * x - 10.0 * std::cos(2.0 * kPi * x) + y * y - 10.0 * std::cos(2.0 * kPi * y);
    }
    return 0.0;
}

SurfaceBounds surfaceBounds(const Surface& surface) {
    switch (surface.kind) {
    case SurfaceKind::Rosenbrock:
        return {-2.0, 2.0, -1.0, 3.0};
    case SurfaceKind::Beale:
        return {-4.5, 4.5, -4.5, 4.5};
    case SurfaceKind::Himmelblau:
        return {-5.0, 5.0, -5.0, 5.0};
    case SurfaceKind::Saddle:
        return {-2.0, 2.0, -2.0, 2.0};
    case SurfaceKind::IllConditionedQuadratic:
        return {-2.5, 2.5, -2.5, 2.5};
    case SurfaceKind::Rastrigin:
        return {-5.12, 5.12, -5.12, 5.12};
    }
    return {-1.0, 1.0, -1.0, 1.0};
}

std::vector<std::pair<double, double>> surfaceMinima(const Surface& surface) {
    switch (surface.kind) {
    case SurfaceKind::Rosenbrock:
        return {{1.0, 1.0}};
    case SurfaceKind::Beale:
        return {{3.0, 0.5}};
    case SurfaceKind::Himmelblau:
        return {{3.0, 2.0},
                {-2.805118086952745, 3.131312518250573},
                {-3.779310253377747, -3.283185991286170},
                {3.584428340330492, -1.848126526964404}};
    case SurfaceKind::Saddle:
        return {{0.0, -1.0}, {0.0, 1.0}};
    case SurfaceKind::IllConditionedQuadratic:
    case SurfaceKind::Rastrigin:
        return {{0.0, 0.0}};
    }
    return {};
}

std::pair<double, double> defaultStart(const Surface& surface) {
    switch (surface.kind) {
    case SurfaceKind::Rosenbrock:
        return {-1.2, 1.0};
    case SurfaceKind::Beale:
        return {1.0, 1.5};
    case SurfaceKind::Himmelblau:
        // Next to the central maximum: different optimizers drain into different minima.
        return {-0.27, -0.9};
    case SurfaceKind::Saddle:
        // Just off the ridge: plain gradient descent slows down at the saddle before it escapes.
        return {-1.8, 0.01};
    case SurfaceKind::IllConditionedQuadratic:
        return {-2.2, 1.5};
    case SurfaceKind::Rastrigin:
        return {-3.3, 2.6};
    }
    return {0.0, 0.0};
}

} // namespace tunelab
