#pragma once

#include <string>
#include <string_view>

namespace tunelab::cli {

// `value` through the printf `format` (one double conversion), or "-" when it is NaN.
// The format attribute lets the compiler check each caller's literal `format`.
__attribute__((format(printf, 2, 0))) std::string formatNumber(double value, const char* format = "%.4f");

// Seconds since the epoch as local "YYYY-MM-DD HH:MM:SS", or "-" when not set (zero or less).
std::string formatTime(double unixSeconds);

// `text` safe to print on a terminal: control characters (C0, DEL and C1, which can move the cursor,
// clear the screen or set the window title) are written as \xNN escapes.
std::string terminalText(std::string_view text);

} // namespace tunelab::cli
