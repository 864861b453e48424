#pragma once

#include "common/result.h"
#include "spec/spec.h"

#include <string>
#include <vector>

namespace tunelab {

// Two-dimensional test surfaces for the loss-landscape playground (docs/playground.md), and the
// paths optimizers take on them.

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

// An optimizer's path on a surface (computed by playground/trajectories.h in the LibTorch library);
// point 0 is the start. `diverged`: it stopped early because the point left the finite range.
struct Trajectory {
    std::vector<TrajectoryPoint> points;
    bool diverged = false;
};

} // namespace tunelab
