// The check of saved models' ZIP archives (common/zip_archive_check.h), which reads every byte of a
// model or checkpoint as a store gives it back, damaged or not, before LibTorch is let near it.

#include "common/zip_archive_check.h"
#include "fuzz_support.h"

#include <cstring>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace tunelab;
    const char* bytes = reinterpret_cast<const char*>(data);
    const std::string damage = zipArchiveDamage(bytes, size);
    fuzz::require(damage == zipArchiveDamage(bytes, size), "the same answer twice");
    fuzz::require(damage.size() < 400, "a sentence, not a dump");
    if (size < 4 || std::memcmp(data, "PK\x03\x04", 4) != 0)
        fuzz::require(damage.empty(), "bytes of another format are not judged");
    for (const char c : damage)
        fuzz::require(static_cast<unsigned char>(c) >= 0x20 && c != 0x7F, "no control bytes in the message");
    return 0;
}
