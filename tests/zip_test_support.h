#pragma once

// A ZIP archive of stored (uncompressed) entries, as LibTorch writes them, for tests of the checks on
// saved models that do not link LibTorch.

#include <zlib.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace tunelab::test {

inline void appendLittleEndian(std::vector<char>& bytes, uint64_t value, int width) {
    for (int i = 0; i < width; ++i)
        bytes.push_back(static_cast<char>((value >> (8 * i)) & 0xFF));
}

inline std::vector<char> storedZip(const std::vector<std::pair<std::string, std::string>>& entries) {
    std::vector<char> archive, directory;
    for (const auto& [name, data] : entries) {
        const auto crc = static_cast<uint32_t>(
            crc32(0L, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(data.size())));
        const uint64_t offset = archive.size();
        appendLittleEndian(archive, 0x04034b50, 4);
        for (uint64_t value : {20, 0, 0, 0, 0})
            appendLittleEndian(archive, value, 2); // version, flags, method (stored), time, date
        appendLittleEndian(archive, crc, 4);
        appendLittleEndian(archive, data.size(), 4);
        appendLittleEndian(archive, data.size(), 4);
        appendLittleEndian(archive, name.size(), 2);
        appendLittleEndian(archive, 0, 2);
        archive.insert(archive.end(), name.begin(), name.end());
        archive.insert(archive.end(), data.begin(), data.end());

        appendLittleEndian(directory, 0x02014b50, 4);
        for (uint64_t value : {20, 20, 0, 0, 0, 0})
            appendLittleEndian(directory, value, 2); // made by, needed, flags, method, time, date
        appendLittleEndian(directory, crc, 4);
        appendLittleEndian(directory, data.size(), 4);
        appendLittleEndian(directory, data.size(), 4);
        appendLittleEndian(directory, name.size(), 2);
        for (uint64_t value : {0, 0, 0, 0})
            appendLittleEndian(directory, value, 2); // extra, comment, disk, internal attributes
        appendLittleEndian(directory, 0, 4);         // external attributes
        appendLittleEndian(directory, offset, 4);
        directory.insert(directory.end(), name.begin(), name.end());
    }
    const uint64_t directoryOffset = archive.size();
    archive.insert(archive.end(), directory.begin(), directory.end());
    appendLittleEndian(archive, 0x06054b50, 4);
    appendLittleEndian(archive, 0, 2);
    appendLittleEndian(archive, 0, 2);
    appendLittleEndian(archive, entries.size(), 2);
    appendLittleEndian(archive, entries.size(), 2);
    appendLittleEndian(archive, directory.size(), 4);
    appendLittleEndian(archive, directoryOffset, 4);
    appendLittleEndian(archive, 0, 2);
    return archive;
}

} // namespace tunelab::test
