#include "terminal_output.h"

#include <cerrno>
#include <iostream>
#include <streambuf>
#include <string>

#include <unistd.h>

namespace tunelab::cli {

namespace {

// One safe stream: the file descriptor it writes to, the stream it replaced, and a lead byte of a
// possible C1 control held back until the next write shows what follows it.
struct SafeStream {
    int fd = -1;
    std::FILE* original = nullptr;
    std::FILE* safe = nullptr;
    bool heldLeadByte = false;
};

SafeStream g_out;
SafeStream g_err;

bool writeAll(int fd, const char* data, size_t size) {
    while (size > 0) {
        const ssize_t written = ::write(fd, data, size);
        if (written < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        data += written;
        size -= static_cast<size_t>(written);
    }
    return true;
}

void appendEscape(std::string& text, unsigned char byte) {
    static const char digits[] = "0123456789abcdef";
    text += "\\x";
    text += digits[byte >> 4];
    text += digits[byte & 0x0f];
}

// fopencookie's write function: escapes and writes `size` bytes, returns how many it took.
ssize_t writeEscaped(void* cookie, const char* data, size_t size) {
    auto* stream = static_cast<SafeStream*>(cookie);
    std::string text;
    text.reserve(size + 8);
    size_t i = 0;
    if (stream->heldLeadByte && size > 0) {
        stream->heldLeadByte = false;
        const auto next = static_cast<unsigned char>(data[0]);
        if ((next & 0xE0) == 0x80) { // C2 80..C2 9F: a C1 control
            appendEscape(text, 0xC2);
            appendEscape(text, next);
            i = 1;
        } else {
            text += '\xC2';
        }
    }
    for (; i < size; ++i) {
        const auto byte = static_cast<unsigned char>(data[i]);
        if (byte == 0xC2) {
            if (i + 1 == size) {
                stream->heldLeadByte = true; // decided by the next write
                break;
            }
            const auto next = static_cast<unsigned char>(data[i + 1]);
            if ((next & 0xE0) == 0x80) {
                appendEscape(text, byte);
                appendEscape(text, next);
                ++i;
                continue;
            }
            text += data[i];
        } else if ((byte < 0x20 && byte != '\n' && byte != '\t') || byte == 0x7F) {
            appendEscape(text, byte);
        } else {
            text += data[i];
        }
    }
    if (!writeAll(stream->fd, text.data(), text.size()))
        return -1;
    return static_cast<ssize_t>(size);
}

int closeSafe(void* cookie) {
    auto* stream = static_cast<SafeStream*>(cookie);
    if (stream->heldLeadByte) {
        stream->heldLeadByte = false;
        writeAll(stream->fd, "\xC2", 1);
    }
    return 0;
}

// std::cout and std::cerr write into the safe C streams, in the same order as printf.
class StdioBuffer : public std::streambuf {
public:
    explicit StdioBuffer(std::FILE* stream)
        : m_stream(stream) {}

protected:
    int_type overflow(int_type character) override {
        if (traits_type::eq_int_type(character, traits_type::eof()))
            return traits_type::not_eof(character);
        return std::fputc(character, m_stream) == EOF ? traits_type::eof() : character;
    }
    std::streamsize xsputn(const char* data, std::streamsize count) override {
        return static_cast<std::streamsize>(std::fwrite(data, 1, static_cast<size_t>(count), m_stream));
    }
    int sync() override { return std::fflush(m_stream) == 0 ? 0 : -1; }

private:
    std::FILE* m_stream;
};

bool install(SafeStream& stream, std::FILE* original, int bufferMode) {
    stream.fd = fileno(original);
    stream.original = original;
    cookie_io_functions_t functions{};
    functions.write = writeEscaped;
    functions.close = closeSafe;
    stream.safe = fopencookie(&stream, "w", functions);
    if (!stream.safe)
        return false;
    std::setvbuf(stream.safe, nullptr, bufferMode, bufferMode == _IONBF ? 0 : BUFSIZ);
    return true;
}

} // namespace

void installTerminalSafeOutput() {
    if (g_out.safe)
        return;
    std::fflush(stdout);
    std::fflush(stderr);
    // stdout keeps C's rule (line-buffered on a terminal, fully buffered into a pipe); stderr stays
    // unbuffered so that nothing is lost when the process dies.
    const int outMode = isatty(fileno(stdout)) ? _IOLBF : _IOFBF;
    if (!install(g_out, stdout, outMode) || !install(g_err, stderr, _IONBF))
        return; // out of memory this early: print as before rather than not at all
    stdout = g_out.safe;
    stderr = g_err.safe;
    static StdioBuffer outBuffer(g_out.safe);
    static StdioBuffer errBuffer(g_err.safe);
    std::cout.rdbuf(&outBuffer);
    std::cerr.rdbuf(&errBuffer);
    std::clog.rdbuf(&errBuffer);
}

std::FILE* unescapedStream(std::FILE* stream) {
    for (SafeStream* safe : {&g_out, &g_err}) {
        if (safe->safe && stream == safe->safe) {
            std::fflush(stream);
            return safe->original;
        }
    }
    return stream;
}

} // namespace tunelab::cli
