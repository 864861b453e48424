#pragma once

#include <string>

namespace tunelab::cli {

// `value` through the printf `format` (one double conversion), or "-" when it is NaN.
// The format attribute lets the compiler check each caller's literal `format`.
__attribute__((format(printf, 2, 0))) std::string formatNumber(double value, const char* format = "%.4f");

// Seconds since the epoch as local "YYYY-MM-DD HH:MM:SS", or "-" when not set (zero or less).
std::string formatTime(double unixSeconds);

} // namespace tunelab::cli
