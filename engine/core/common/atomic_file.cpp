#include "common/atomic_file.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace tunelab {

namespace {

std::string failure(const std::string& path, const char* what, int error) {
    return path + ": could not " + what + ": " + std::strerror(error);
}

// Writes all of `bytes`, resuming after short writes and signals; returns 0 or the errno.
int writeAll(const detail::AtomicFileCalls& calls, int fd, std::string_view bytes) {
    size_t done = 0;
    while (done < bytes.size()) {
        const ssize_t written = calls.write(fd, bytes.data() + done, bytes.size() - done);
        if (written < 0) {
            if (errno == EINTR)
                continue;
            return errno;
        }
        if (written == 0)
            return EIO;
        done += static_cast<size_t>(written);
    }
    return 0;
}

} // namespace

Result<bool> writeFileAtomically(const std::string& path, std::string_view bytes) {
    return detail::writeFileAtomically(path, bytes, detail::systemFileCalls());
}

namespace detail {

AtomicFileCalls systemFileCalls() {
    return AtomicFileCalls{&::write, &::fsync, &::close, &std::rename};
}

Result<bool> writeFileAtomically(const std::string& path, std::string_view bytes,
                                 const AtomicFileCalls& calls) {
    if (path.empty() || path.back() == '/')
        return Result<bool>::failure("'" + path + "': not a file name");
    struct stat target {};
    mode_t mode = 0644;
    if (::stat(path.c_str(), &target) == 0) {
        if (!S_ISREG(target.st_mode))
            return Result<bool>::failure(path + ": could not write: not a regular file");
        mode = target.st_mode & 07777; // a file written again keeps its permissions
    }

    std::string temporary;
    const int fd = createTemporaryBeside(path, temporary);
    if (fd < 0)
        return Result<bool>::failure(failure(path, "create a temporary file beside it", errno));

    int error = writeAll(calls, fd, bytes);
    const char* step = "write";
    if (error == 0 && ::fchmod(fd, mode) != 0) {
        error = errno;
        step = "set the permissions of";
    }
    if (error == 0 && calls.fsync(fd) != 0) {
        error = errno;
        step = "flush";
    }
    if (calls.close(fd) != 0 && error == 0) {
        error = errno;
        step = "close";
    }
    if (error == 0 && calls.rename(temporary.c_str(), path.c_str()) != 0) {
        error = errno;
        step = "replace";
    }
    if (error != 0) {
        ::unlink(temporary.c_str());
        return Result<bool>::failure(failure(path, step, error));
    }
    syncFolderOf(path);
    return true;
}

} // namespace detail

int createTemporaryBeside(const std::string& path, std::string& temporary) {
    const size_t slash = path.find_last_of('/');
    const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
    temporary =
        (slash == std::string::npos ? std::string() : path.substr(0, slash + 1)) + "." + name + ".tmp-XXXXXX";
    return ::mkstemp(temporary.data());
}

void syncFolderOf(const std::string& path) {
    const size_t slash = path.find_last_of('/');
    const std::string folder = slash == std::string::npos ? std::string(".") : path.substr(0, slash + 1);
    const int folderFd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (folderFd >= 0) {
        ::fsync(folderFd);
        ::close(folderFd);
    }
}

} // namespace tunelab
