#pragma once

// Private to the engine: included only by engine .cpp files.

#include <functional>

namespace tunelab::detail {

// The median wall time of one call of `forward`, in milliseconds, over `repeats` calls after a
// tenth as many (at least 5) unmeasured ones that warm caches and allocators. Every variant of a
// compression plan is measured by this on the same thread count, in the same process.
double medianMilliseconds(const std::function<void()>& forward, int repeats);

} // namespace tunelab::detail
