#pragma once

#include "engine/result.h"
#include "engine/spec.h"

#include <string>
#include <vector>

namespace tunelab {

// Two-dimensional test surfaces for the loss-landscape playground (docs/playground.md), and the
// paths real LibTorch optimizers take on them.

enum class SurfaceKind { Rosenbrock, Beale, Himmelblau, Saddle, IllConditionedQuadratic, Rastrigin };

struct Surface {
    SurfaceKind kind = SurfaceKind::Rosenbrock;
    double conditionNumber = 10.0; // IllConditionedQuadratic: f = (x^2 + c y^2) / 2
};

struct SurfaceBounds {
    double xMin, xMax, yMin, yMax;
};

const char* toString(SurfaceKind kind);
std::vector<SurfaceKind> allSurfaceKinds();
double surfaceValue(const Surface& surface, double x, double y);
SurfaceBounds surfaceBounds(const Surface& surface); // a view that shows the interesting part
std::vector<std::pair<double, double>> surfaceMinima(const Surface& surface);
// A good default start point for the playground.
std::pair<double, double> defaultStart(const Surface& surface);

struct TrajectoryPoint {
    double x = 0.0, y = 0.0, loss = 0.0;
};

// The path of `optimizer` (its type, lr, momentum, betas... as in an experiment spec) from
// (x0, y0) for `steps` steps on the surface, computed with the real LibTorch optimizer on one
// two-element tensor; point 0 is the start. Stops early (and says so) when the point leaves the
// finite range. Implemented in tunelab_engine.
struct Trajectory {
    std::vector<TrajectoryPoint> points;
    bool diverged = false;
};
Result<Trajectory> optimizerTrajectory(const Surface& surface, const OptimizerSpec& optimizer, double x0,
                                       double y0, int steps);

} // namespace tunelab
