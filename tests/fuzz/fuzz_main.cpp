// The fuzz targets without libFuzzer: each argument is an input file, or a folder whose files are
// inputs, run once through LLVMFuzzerTestOneInput. The regression tests (ctest) replay
// tests/fuzz/regressions/<target>/ and the seed corpus this way in every build.

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

namespace fs = std::filesystem;

bool runFile(const fs::path& path) {
    std::ifstream file(path, std::ios::binary);
    if (!file) {
        std::fprintf(stderr, "cannot read %s\n", path.c_str());
        return false;
    }
    const std::vector<char> bytes((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    std::fprintf(stderr, "running %s (%zu bytes)\n", path.c_str(), bytes.size());
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
    return true;
}

} // namespace

int main(int argc, char** argv) {
    int inputs = 0;
    bool readable = true;
    for (int i = 1; i < argc; ++i) {
        const fs::path argument(argv[i]);
        std::error_code code;
        if (!fs::is_directory(argument, code)) {
            readable = runFile(argument) && readable;
            ++inputs;
            continue;
        }
        std::vector<fs::path> files;
        for (const auto& entry : fs::directory_iterator(argument, code)) {
            if (entry.is_regular_file() && entry.path().filename().string().front() != '.')
                files.push_back(entry.path());
        }
        std::sort(files.begin(), files.end());
        for (const auto& file : files) {
            readable = runFile(file) && readable;
            ++inputs;
        }
    }
    std::fprintf(stderr, "%d inputs ran\n", inputs);
    return readable ? 0 : 1;
}
