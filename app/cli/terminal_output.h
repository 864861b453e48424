#pragma once

#include <cstdio>

namespace tunelab::cli {

// Makes everything tunelab-cli prints safe for a terminal: stdout, stderr, std::cout and std::cerr
// are replaced by streams that write control characters (C0 other than newline and tab, DEL, and the
// C1 controls U+0080..U+009F) as \xNN escapes. Names, keys and messages come from files and stores
// the user may not trust; an escape sequence in one of them could otherwise set the window title,
// clear the screen or rewrite what was printed before. Call once, first thing in main().
void installTerminalSafeOutput();

// The stream under `stream` that writes bytes as they are, for the few places that move the cursor
// on purpose (the progress bar); `stream` itself when it is not one of the safe streams. Flushes
// `stream` first so that the two keep their order.
std::FILE* unescapedStream(std::FILE* stream);

} // namespace tunelab::cli
