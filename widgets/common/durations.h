#pragma once

#include <QString>

namespace tunelab {

// One way to show a duration everywhere (runs, trials, races, the status bar): "24 ms", "12.3 s",
// "1 min 05 s", "1 h 02 min"; empty for a negative or non-finite value.
QString formatDuration(double seconds);

} // namespace tunelab
