#pragma once

#include "common/result.h"
#include "playground/loss_surfaces.h"
#include "spec/spec.h"

namespace tunelab {

// The path of `optimizer` (its type, lr, momentum, betas... as in an experiment spec) from
// (x0, y0) for `steps` steps on the surface, computed with the real LibTorch optimizer on one
// two-element tensor; point 0 is the start. Stops early (and says so) when the point leaves the
// finite range.
Result<Trajectory> optimizerTrajectory(const Surface& surface, const OptimizerSpec& optimizer, double x0,
                                       double y0, int steps);

} // namespace tunelab
