#pragma once

// A full disk without filling one: under RLIMIT_FSIZE, a write that reaches past the limit fails with
// EFBIG (SQLite reports it as a disk I/O error). SIGXFSZ is ignored, as tunelab-cli does itself, so
// the write fails instead of killing the process.

#include <csignal>
#include <sys/resource.h>

namespace tunelab::test {

// Lowers this process's file-size limit for its lifetime (the soft limit only, so it can be raised
// back); the destructor restores the old limit and SIGXFSZ's action.
class FileSizeLimit {
public:
    explicit FileSizeLimit(rlim_t bytes) {
        getrlimit(RLIMIT_FSIZE, &m_old);
        m_oldAction = std::signal(SIGXFSZ, SIG_IGN);
        rlimit limited = m_old;
        limited.rlim_cur = bytes;
        m_set = setrlimit(RLIMIT_FSIZE, &limited) == 0;
    }
    ~FileSizeLimit() {
        setrlimit(RLIMIT_FSIZE, &m_old);
        std::signal(SIGXFSZ, m_oldAction);
    }
    FileSizeLimit(const FileSizeLimit&) = delete;
    FileSizeLimit& operator=(const FileSizeLimit&) = delete;
    bool isSet() const { return m_set; }

private:
    rlimit m_old{};
    void (*m_oldAction)(int) = SIG_DFL;
    bool m_set = false;
};

// For a child process (QProcess::setChildProcessModifier): runs it under the limit.
inline void limitChildFileSize(rlim_t bytes) {
    std::signal(SIGXFSZ, SIG_IGN);
    rlimit limited{};
    getrlimit(RLIMIT_FSIZE, &limited);
    limited.rlim_cur = bytes;
    setrlimit(RLIMIT_FSIZE, &limited);
}

} // namespace tunelab::test
