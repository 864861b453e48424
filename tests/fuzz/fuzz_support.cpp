#include "fuzz_support.h"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <system_error>

namespace tunelab::fuzz {

namespace fs = std::filesystem;

namespace {

void removeScratchFolder() {
    std::error_code ignored;
    fs::remove_all(scratchFolder(), ignored);
}

} // namespace

const std::string& scratchFolder() {
    // Never destroyed: removeScratchFolder runs at exit, after the statics are gone.
    static const std::string& folder = *new std::string([] {
        std::error_code code;
        fs::path base = fs::temp_directory_path(code);
        if (code)
            base = "/tmp";
        std::string pattern = (base / "tunelab-fuzz-XXXXXX").string();
        if (!mkdtemp(pattern.data())) {
            std::perror("mkdtemp");
            std::abort();
        }
        std::atexit(removeScratchFolder);
        return pattern;
    }());
    return folder;
}

std::string scratchSubfolder(const std::string& name) {
    const std::string path = scratchFolder() + "/" + name;
    std::error_code code;
    fs::create_directories(path, code);
    require(!code, "cannot create " + path + ": " + code.message());
    return path;
}

void writeFile(const std::string& path, std::string_view bytes) {
    std::ofstream file(path, std::ios::binary | std::ios::trunc);
    file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    require(static_cast<bool>(file), "cannot write " + path);
}

void clearScratchFolder() {
    std::error_code code;
    for (const auto& entry : fs::directory_iterator(scratchFolder(), code))
        fs::remove_all(entry.path(), code);
}

bool sameJson(std::string_view a, std::string_view b) {
    return nlohmann::json::parse(a, nullptr, false) == nlohmann::json::parse(b, nullptr, false);
}

void require(bool condition, const std::string& message) {
    if (condition)
        return;
    std::fprintf(stderr, "fuzz check failed: %s\n", message.c_str());
    std::abort();
}

} // namespace tunelab::fuzz
