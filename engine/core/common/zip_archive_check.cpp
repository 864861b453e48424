#include "common/zip_archive_check.h"

#include <zlib.h>

#include <algorithm>
#include <cstdint>
#include <limits>

namespace tunelab {

namespace {

constexpr uint32_t kLocalHeader = 0x04034b50;
constexpr uint32_t kDirectoryEntry = 0x02014b50;
constexpr uint32_t kEndOfDirectory = 0x06054b50;
constexpr uint32_t kZip64EndOfDirectory = 0x06064b50;
constexpr uint32_t kZip64Locator = 0x07064b50;
constexpr size_t kEndOfDirectorySize = 22;
constexpr size_t kMaxComment = 0xFFFF;
constexpr uint16_t kZip64Extra = 0x0001;
constexpr uint16_t kStored = 0;

// Little-endian reads that know the archive's end: a read past it fails instead of reading on.
class Bytes {
public:
    Bytes(const char* data, size_t size)
        : m_data(reinterpret_cast<const unsigned char*>(data))
        , m_size(size) {}

    size_t size() const { return m_size; }
    bool has(uint64_t offset, uint64_t length) const { return offset <= m_size && length <= m_size - offset; }
    uint64_t read(uint64_t offset, int width) const {
        uint64_t value = 0;
        for (int i = width - 1; i >= 0; --i)
            value = (value << 8) | m_data[offset + static_cast<uint64_t>(i)];
        return value;
    }
    const unsigned char* at(uint64_t offset) const { return m_data + offset; }

private:
    const unsigned char* m_data;
    size_t m_size;
};

uint32_t crc32Of(const unsigned char* data, uint64_t length) {
    uLong crc = crc32(0L, Z_NULL, 0);
    while (length > 0) {
        const uInt chunk = static_cast<uInt>(std::min<uint64_t>(length, uint64_t{1} << 30));
        crc = crc32(crc, data, chunk);
        data += chunk;
        length -= chunk;
    }
    return static_cast<uint32_t>(crc);
}

// An entry's name as it may be shown: control bytes and quotes become '?'.
std::string shownName(const Bytes& bytes, uint64_t offset, uint64_t length) {
    std::string name;
    for (uint64_t i = 0; i < length && i < 200; ++i) {
        const unsigned char c = bytes.at(offset)[i];
        name += c < 0x20 || c == 0x7F || c == '\'' ? '?' : static_cast<char>(c);
    }
    return "'" + name + "'";
}

struct Directory {
    uint64_t entries = 0;
    uint64_t offset = 0;
    uint64_t size = 0;
};

// The end-of-directory record, and the ZIP64 one it may point to; a sentence when there is none.
std::string findDirectory(const Bytes& bytes, Directory& directory) {
    if (bytes.size() < kEndOfDirectorySize)
        return "its directory is missing (the data is cut short)";
    const uint64_t last = bytes.size() - kEndOfDirectorySize;
    const uint64_t first = last > kMaxComment ? last - kMaxComment : 0;
    for (uint64_t end = last + 1; end-- > first;) {
        if (bytes.read(end, 4) != kEndOfDirectory)
            continue;
        directory.entries = bytes.read(end + 10, 2);
        directory.size = bytes.read(end + 12, 4);
        directory.offset = bytes.read(end + 16, 4);
        const bool zip64 =
            directory.entries == 0xFFFF || directory.size == 0xFFFFFFFF || directory.offset == 0xFFFFFFFF;
        if (end >= 20 && bytes.read(end - 20, 4) == kZip64Locator) {
            const uint64_t record = bytes.read(end - 20 + 8, 8);
            if (!bytes.has(record, 56) || bytes.read(record, 4) != kZip64EndOfDirectory)
                return "its ZIP64 directory record is damaged";
            directory.entries = bytes.read(record + 32, 8);
            directory.size = bytes.read(record + 40, 8);
            directory.offset = bytes.read(record + 48, 8);
        } else if (zip64) {
            return "its ZIP64 directory record is missing";
        }
        if (!bytes.has(directory.offset, directory.size))
            return "its directory lies outside the data";
        return {};
    }
    return "its directory is missing (the data is cut short or damaged)";
}

} // namespace

std::string zipArchiveDamage(const char* data, size_t size) {
    const Bytes bytes(data, size);
    if (!bytes.has(0, 4) || bytes.read(0, 4) != kLocalHeader)
        return {};
    Directory directory;
    if (std::string problem = findDirectory(bytes, directory); !problem.empty())
        return problem;
    uint64_t entry = directory.offset;
    const uint64_t directoryEnd = directory.offset + directory.size;
    for (uint64_t index = 0; index < directory.entries; ++index) {
        if (entry + 46 > directoryEnd || bytes.read(entry, 4) != kDirectoryEntry)
            return "its directory is damaged at entry " + std::to_string(index + 1);
        const uint64_t method = bytes.read(entry + 10, 2);
        const auto crc = static_cast<uint32_t>(bytes.read(entry + 16, 4));
        uint64_t stored = bytes.read(entry + 20, 4);
        uint64_t original = bytes.read(entry + 24, 4);
        const uint64_t nameLength = bytes.read(entry + 28, 2);
        const uint64_t extraLength = bytes.read(entry + 30, 2);
        const uint64_t commentLength = bytes.read(entry + 32, 2);
        uint64_t local = bytes.read(entry + 42, 4);
        const uint64_t next = entry + 46 + nameLength + extraLength + commentLength;
        if (next > directoryEnd)
            return "its directory is damaged at entry " + std::to_string(index + 1);
        const std::string name = shownName(bytes, entry + 46, nameLength);
        // ZIP64 sizes and offset, in this order, for the fields that hold 0xFFFFFFFF.
        for (uint64_t extra = entry + 46 + nameLength; extra + 4 <= entry + 46 + nameLength + extraLength;) {
            const uint64_t id = bytes.read(extra, 2), length = bytes.read(extra + 2, 2);
            if (id == kZip64Extra) {
                uint64_t field = extra + 4;
                for (uint64_t* value : {&original, &stored, &local}) {
                    if (*value == 0xFFFFFFFF && field + 8 <= extra + 4 + length) {
                        *value = bytes.read(field, 8);
                        field += 8;
                    }
                }
            }
            extra += 4 + length;
        }
        if (!bytes.has(local, 30) || bytes.read(local, 4) != kLocalHeader)
            return name + " does not start where the directory says";
        const uint64_t start = local + 30 + bytes.read(local + 26, 2) + bytes.read(local + 28, 2);
        if (!bytes.has(start, stored))
            return name + " runs past the end of the data (the data is cut short)";
        if (method == kStored && (stored != original || crc32Of(bytes.at(start), stored) != crc))
            return name + " does not match its CRC-32";
        entry = next;
    }
    return {};
}

} // namespace tunelab
