#pragma once

// Reading a file a user named (a spec, a study, a space, a data file) without trusting it: only a
// regular file, and only up to a size that TuneLab can use.

#include "common/result.h"

#include <atomic>
#include <cstdint>
#include <string>

namespace tunelab {

// JSON files (experiments, studies, races, spaces) are small; anything near this is a mistake.
constexpr uint64_t kMaxJsonFileBytes = uint64_t(64) << 20;

// The whole file. Refuses what is not a regular file (a folder, a FIFO that would block forever, a
// device such as /dev/zero that never ends) and files over `maxBytes`; the message names the path
// and the reason, never the file's content. When `stop` is set from another thread while it reads,
// it stops soon and returns an empty string (the caller, who set it, knows why).
Result<std::string> readRegularFile(const std::string& path, uint64_t maxBytes,
                                    const std::atomic<bool>* stop = nullptr);

} // namespace tunelab
