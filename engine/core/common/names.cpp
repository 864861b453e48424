#include "common/names.h"

#include <cstdio>

namespace tunelab {

std::string nameProblem(std::string_view name) {
    for (size_t i = 0; i < name.size(); ++i) {
        const auto byte = static_cast<unsigned char>(name[i]);
        // C0 controls, DEL, and C1 controls (U+0080..U+009F, in UTF-8 the bytes C2 80..C2 9F).
        const bool c1 =
            byte == 0xC2 && i + 1 < name.size() && (static_cast<unsigned char>(name[i + 1]) & 0xE0) == 0x80;
        if (byte < 0x20 || byte == 0x7F || c1) {
            char code[8];
            std::snprintf(code, sizeof code, "%02X", c1 ? static_cast<unsigned char>(name[i + 1]) : byte);
            return std::string("contains a control character (U+00") + code + ") at byte " +
                   std::to_string(i) + "; names may not hold control characters";
        }
    }
    return {};
}

} // namespace tunelab
