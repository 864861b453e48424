#include "common/file_text.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace tunelab {

namespace {

const char* kindOf(mode_t mode) {
    if (S_ISDIR(mode))
        return "a folder";
    if (S_ISFIFO(mode))
        return "a pipe (FIFO)";
    if (S_ISCHR(mode) || S_ISBLK(mode))
        return "a device";
    if (S_ISSOCK(mode))
        return "a socket";
    return "not a regular file";
}

std::string sizeText(uint64_t bytes) {
    return bytes >= (uint64_t(1) << 20) ? std::to_string(bytes >> 20) + " MiB"
                                        : std::to_string(bytes) + " bytes";
}

} // namespace

Result<std::string> readRegularFile(const std::string& path, uint64_t maxBytes,
                                    const std::atomic<bool>* stop) {
    // O_NONBLOCK: opening a FIFO must not wait for a writer before fstat can refuse it.
    const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return Result<std::string>::failure(path + ": cannot open: " + std::strerror(errno));
    struct Closer {
        int fd;
        ~Closer() {
            if (fd >= 0)
                ::close(fd);
        }
    } closer{fd};
    struct stat info {};
    if (::fstat(fd, &info) != 0)
        return Result<std::string>::failure(path + ": cannot read: " + std::strerror(errno));
    if (!S_ISREG(info.st_mode))
        return Result<std::string>::failure(path + ": is " + std::string(kindOf(info.st_mode)) +
                                            ", not a file TuneLab can read");
    if (static_cast<uint64_t>(info.st_size) > maxBytes)
        return Result<std::string>::failure(path + ": is " + sizeText(static_cast<uint64_t>(info.st_size)) +
                                            ", more than the " + sizeText(maxBytes) +
                                            " TuneLab reads from such a file");
    const int flags = ::fcntl(fd, F_GETFL);
    if (flags >= 0)
        ::fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
    // Read through stdio in 64 KiB pieces, as the CSV reader always has: reading a large file into
    // one exact allocation measurably slowed the training that followed in the same process
    // (digits: about -20%), most likely through glibc's dynamic mmap and trim thresholds.
    const std::unique_ptr<FILE, int (*)(FILE*)> file(::fdopen(closer.fd, "rb"), &std::fclose);
    if (!file)
        return Result<std::string>::failure(path + ": cannot read: " + std::strerror(errno));
    closer.fd = -1; // the FILE owns it now
    std::string text;
    char buffer[1 << 16];
    size_t count = 0;
    while ((count = std::fread(buffer, 1, sizeof buffer, file.get())) > 0) {
        if (stop != nullptr && stop->load(std::memory_order_relaxed))
            return std::string();
        text.append(buffer, count);
        if (text.size() > maxBytes) // it grew while being read
            return Result<std::string>::failure(path + ": grew past the " + sizeText(maxBytes) +
                                                " TuneLab reads from such a file");
    }
    if (std::ferror(file.get()))
        return Result<std::string>::failure(path + ": cannot read: " + std::strerror(errno));
    return text;
}

} // namespace tunelab
