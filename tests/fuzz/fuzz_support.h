#pragma once

// Shared by the fuzz targets: a scratch folder of this process for the readers that take a path,
// and a check that stops the program (so libFuzzer and the replay tests report it) when an
// invariant of a reader does not hold.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tunelab::fuzz {

// A folder of this process under the temporary folder, created on first use and removed at exit.
const std::string& scratchFolder();

// A folder `name` inside the scratch folder, created on first use.
std::string scratchSubfolder(const std::string& name);

// Writes the bytes to `path`, replacing the file.
void writeFile(const std::string& path, std::string_view bytes);

// Removes the files of the scratch folder (not the folder).
void clearScratchFolder();

// Whether two JSON texts hold the same value (object keys in any order).
bool sameJson(std::string_view a, std::string_view b);

// Prints the message and aborts when `condition` is false.
void require(bool condition, const std::string& message);

// Reads `input` with `parse`; when it is accepted, requires that `write` gives JSON that reads
// back and writes again to the same JSON value. Returns the first reading.
template <typename Parse, typename Write>
auto checkRoundTrip(std::string_view input, Parse parse, Write write, const std::string& what) {
    auto first = parse(input);
    if (!first.ok())
        return first;
    const std::string json = write(first.value());
    const auto again = parse(json);
    require(again.ok(), "the written " + what + " does not read back: " + again.error() + "\n" + json);
    require(sameJson(write(again.value()), json), "the " + what + " changes on a second round trip\n" + json);
    return first;
}

inline std::string_view bytesOf(const uint8_t* data, size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

} // namespace tunelab::fuzz
