#pragma once

// Every file TuneLab writes for the user (exports, saved specs, studies, spaces, pictures) is
// written through writeFileAtomically: a full disk or a failing device leaves the previous file as
// it was and no half-written file behind, and the error says so.

#include "common/result.h"

#include <string>
#include <string_view>
#include <sys/types.h>

namespace tunelab {

// Writes `bytes` to a new temporary file in the folder of `path`, checks every write, flushes it to
// the device (fsync), closes it and renames it over `path` (then syncs the folder). On any failure
// the temporary file is removed, a previous file at `path` is left untouched, and the error names
// the file and the reason (the system's errno text): "out.csv: could not write: File too large".
// A process that may run under a file-size limit ignores SIGXFSZ, so that a write past the limit
// fails with EFBIG here rather than killing it.
Result<bool> writeFileAtomically(const std::string& path, std::string_view bytes);

// Creates a new empty file beside `path`, named ".<name>.tmp-XXXXXX" in the same folder (so a rename
// onto `path` never crosses file systems), and returns its open descriptor with its name in
// `temporary`; -1 with errno set when it cannot.
int createTemporaryBeside(const std::string& path, std::string& temporary);

// Makes a rename or link onto `path` durable: the entry in its folder is on the device once this
// returns. A folder that cannot be synced (some file systems refuse) is left as it is: the write
// itself succeeded.
void syncFolderOf(const std::string& path);

namespace detail {
// The system calls writeFileAtomically makes once its temporary file is open, so that tests can
// make each of them fail (a close that fails is hard to provoke on a local file system).
struct AtomicFileCalls {
    ssize_t (*write)(int fd, const void* data, size_t size);
    int (*fsync)(int fd);
    int (*close)(int fd);
    int (*rename)(const char* from, const char* to);
};
AtomicFileCalls systemFileCalls();
Result<bool> writeFileAtomically(const std::string& path, std::string_view bytes,
                                 const AtomicFileCalls& calls);
} // namespace detail

} // namespace tunelab
