// Image datasets in their original binary formats: MNIST's idx files (optionally gzipped) and
// CIFAR-10's binary batches. Pixels become floats in [0, 1]; errors name the file and what is off.

#include "data/dataset.h"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

namespace tunelab {

namespace {

namespace fs = std::filesystem;

constexpr uint32_t kIdxImagesMagic = 2051;       // 0x00000803: unsigned bytes, 3 dimensions
constexpr uint32_t kIdxLabelsMagic = 2049;       // 0x00000801: unsigned bytes, 1 dimension
constexpr int64_t kMaxImageValues = 500'000'000; // floats kept in memory (2 GB); data.limit reads fewer
constexpr int64_t kCifarPixels = 3 * 32 * 32;
constexpr int64_t kCifarRecord = 1 + kCifarPixels;
constexpr int kCifarBatches = 5;
constexpr size_t kChunk = 1 << 20;

// gzread reads plain files unchanged, so one reader serves both raw and .gz idx files.
class GzReader {
public:
    explicit GzReader(const std::string& path)
        : m_path(path)
        , m_file(gzopen(path.c_str(), "rb")) {}
    ~GzReader() {
        if (m_file)
            gzclose(m_file);
    }
    GzReader(const GzReader&) = delete;
    GzReader& operator=(const GzReader&) = delete;

    bool isOpen() const { return m_file != nullptr; }
    // Whether the file is read as it is (not gzipped); known after the first read.
    bool isPlain() const { return gzdirect(m_file) == 1; }

    // Reads up to `bytes` and returns how many arrived; a short count means the data ended.
    // Returns -1 when the compressed stream is corrupt (error() says why).
    int64_t read(unsigned char* buffer, int64_t bytes) {
        int64_t total = 0;
        while (total < bytes) {
            const auto piece = static_cast<unsigned>(std::min<int64_t>(bytes - total, INT_MAX / 2));
            const int count = gzread(m_file, buffer + total, piece);
            if (count < 0)
                return -1;
            if (count == 0)
                break;
            total += count;
        }
        return total;
    }

    std::string error() const {
        int code = Z_OK;
        const char* message = gzerror(m_file, &code);
        if (code == Z_ERRNO)
            return std::strerror(errno);
        std::string text = message ? message : "unknown error";
        // zlib prefixes the path, which our messages already name.
        if (text.compare(0, m_path.size() + 2, m_path + ": ") == 0)
            text.erase(0, m_path.size() + 2);
        return text;
    }

private:
    std::string m_path;
    gzFile m_file;
};

uint32_t bigEndian(const unsigned char* bytes) {
    return (uint32_t(bytes[0]) << 24) | (uint32_t(bytes[1]) << 16) | (uint32_t(bytes[2]) << 8) |
           uint32_t(bytes[3]);
}

std::string checkFolder(const std::string& path, const std::string& holds) {
    if (path.empty())
        return "data.path: missing; expected the folder that holds " + holds;
    std::error_code code;
    const fs::file_status status = fs::status(path, code);
    if (code || !fs::exists(status))
        return "data.path: cannot open folder '" + path +
               "': " + (code ? code.message() : std::string(std::strerror(ENOENT)));
    if (!fs::is_directory(status))
        return "data.path: '" + path + "' is a file; expected the folder that holds " + holds;
    return {};
}

bool isFile(const fs::path& path) {
    std::error_code code;
    return fs::is_regular_file(path, code);
}

// The official names use a dash ("train-images-idx3-ubyte"); some mirrors use a dot.
std::string findIdxFile(const std::string& folder, const std::string& stem, const std::string& type) {
    for (const std::string& name :
         {stem + "-" + type, stem + "-" + type + ".gz", stem + "." + type, stem + "." + type + ".gz"}) {
        if (isFile(fs::path(folder) / name))
            return (fs::path(folder) / name).string();
    }
    return {};
}

std::string nameOf(const std::string& path) {
    return fs::path(path).filename().string();
}

std::vector<std::string> pixelNames(int64_t count) {
    std::vector<std::string> names;
    names.reserve(static_cast<size_t>(count));
    for (int64_t i = 0; i < count; ++i)
        names.push_back("pixel" + std::to_string(i));
    return names;
}

std::string truncatedMessage(const std::string& name, int64_t expected, int64_t found, const char* what) {
    return name + ": truncated: expected " + std::to_string(expected) + " bytes of " + what + ", found " +
           std::to_string(found);
}

// For a plain (not gzipped) idx file: an error when the file is shorter than its header claims.
std::string checkPlainSize(const GzReader& reader, const std::string& path, const std::string& name,
                           int64_t headerBytes, int64_t wanted, const char* what) {
    if (!reader.isPlain())
        return {};
    std::error_code code;
    const auto size = static_cast<int64_t>(fs::file_size(path, code));
    if (code || size - headerBytes >= wanted)
        return {};
    return truncatedMessage(name, wanted, std::max<int64_t>(0, size - headerBytes), what);
}

// Reads the idx header: the magic number and `dims` big-endian sizes.
Result<std::vector<uint32_t>> readIdxHeader(GzReader& reader, const std::string& name, uint32_t magic,
                                            int dims) {
    std::array<unsigned char, 16> header{};
    const int64_t bytes = 4 + 4 * int64_t(dims);
    const int64_t found = reader.read(header.data(), bytes);
    if (found < 0)
        return Result<std::vector<uint32_t>>::failure(name + ": cannot decompress: " + reader.error());
    // The magic number goes first: a wrong file is a better diagnosis than a short header.
    const uint32_t actual = bigEndian(header.data());
    if (found >= 4 && actual != magic) {
        std::string message = name + ": not an idx " + (magic == kIdxImagesMagic ? "image" : "label") +
                              " file: magic number " + std::to_string(actual) + ", expected " +
                              std::to_string(magic);
        if (actual == kIdxImagesMagic || actual == kIdxLabelsMagic)
            message += actual == kIdxImagesMagic ? " (this is an image file)" : " (this is a label file)";
        return Result<std::vector<uint32_t>>::failure(message);
    }
    if (found < bytes)
        return Result<std::vector<uint32_t>>::failure(name + ": truncated: the " + std::to_string(bytes) +
                                                      "-byte header is incomplete, found " +
                                                      std::to_string(found) + " bytes");
    std::vector<uint32_t> sizes;
    for (int i = 0; i < dims; ++i)
        sizes.push_back(bigEndian(header.data() + 4 + 4 * i));
    return sizes;
}

Result<Dataset> loadMnist(const DataSpec& spec) {
    if (std::string problem = checkFolder(spec.path, "train-images-idx3-ubyte and train-labels-idx1-ubyte");
        !problem.empty())
        return Result<Dataset>::failure(problem);
    const std::string imagesPath = findIdxFile(spec.path, "train-images", "idx3-ubyte");
    const std::string labelsPath = findIdxFile(spec.path, "train-labels", "idx1-ubyte");
    if (imagesPath.empty() || labelsPath.empty())
        return Result<Dataset>::failure(
            "data.path: no MNIST " + std::string(imagesPath.empty() ? "images" : "labels") + " in '" +
            spec.path + "'; expected " +
            (imagesPath.empty() ? "train-images-idx3-ubyte" : "train-labels-idx1-ubyte") +
            " or the same name with .gz");
    const std::string imagesName = nameOf(imagesPath), labelsName = nameOf(labelsPath);

    GzReader images(imagesPath), labels(labelsPath);
    if (!images.isOpen() || !labels.isOpen())
        return Result<Dataset>::failure("data.path: cannot open '" +
                                        (images.isOpen() ? labelsPath : imagesPath) +
                                        "': " + std::strerror(errno));
    auto imageHeader = readIdxHeader(images, imagesName, kIdxImagesMagic, 3);
    if (!imageHeader.ok())
        return Result<Dataset>(Errors{imageHeader.errors()});
    auto labelHeader = readIdxHeader(labels, labelsName, kIdxLabelsMagic, 1);
    if (!labelHeader.ok())
        return Result<Dataset>(Errors{labelHeader.errors()});
    const int64_t count = imageHeader.value()[0], height = imageHeader.value()[1],
                  width = imageHeader.value()[2];
    if (labelHeader.value()[0] != count)
        return Result<Dataset>::failure(labelsName + ": " + std::to_string(labelHeader.value()[0]) +
                                        " labels but " + imagesName + " holds " + std::to_string(count) +
                                        " images");
    if (count == 0)
        return Result<Dataset>::failure(imagesName + ": the file holds no images");
    if (height == 0 || width == 0 || height > 65535 || width > 65535)
        return Result<Dataset>::failure(imagesName + ": implausible image size " + std::to_string(height) +
                                        "x" + std::to_string(width));
    const int64_t rows = spec.limit > 0 ? std::min<int64_t>(spec.limit, count) : count;
    const int64_t pixels = height * width;
    if (pixels > kMaxImageValues || rows > kMaxImageValues / pixels)
        return Result<Dataset>::failure(imagesName + ": " + std::to_string(rows) + " images of " +
                                        std::to_string(pixels) +
                                        " pixels do not fit in memory; set data.limit");

    // A header may claim far more than the file holds: a plain file is measured before anything
    // is allocated, and a gzipped one (whose size says little) grows the dataset only as data arrives.
    const int64_t expected = rows * pixels;
    if (std::string problem = checkPlainSize(labels, labelsPath, labelsName, 8, rows, "labels");
        !problem.empty())
        return Result<Dataset>::failure(problem);
    if (std::string problem = checkPlainSize(images, imagesPath, imagesName, 16, expected, "pixels");
        !problem.empty())
        return Result<Dataset>::failure(problem);

    Dataset data;
    data.rows = rows;
    data.sampleShape = {1, height, width};
    std::vector<unsigned char> chunk(kChunk);
    int maxLabel = 0;
    while (static_cast<int64_t>(data.targets.size()) < rows) {
        const auto done = static_cast<int64_t>(data.targets.size());
        const int64_t wanted = std::min<int64_t>(rows - done, static_cast<int64_t>(kChunk));
        const int64_t found = labels.read(chunk.data(), wanted);
        if (found < 0)
            return Result<Dataset>::failure(labelsName + ": cannot decompress: " + labels.error());
        for (int64_t i = 0; i < found; ++i) {
            maxLabel = std::max<int>(maxLabel, chunk[static_cast<size_t>(i)]);
            data.targets.push_back(chunk[static_cast<size_t>(i)]);
        }
        if (found < wanted)
            return Result<Dataset>::failure(truncatedMessage(labelsName, rows, done + found, "labels"));
    }

    if (images.isPlain())
        data.features.reserve(static_cast<size_t>(expected));
    int64_t done = 0;
    while (done < expected) {
        const int64_t wanted = std::min<int64_t>(expected - done, static_cast<int64_t>(kChunk));
        const int64_t found = images.read(chunk.data(), wanted);
        if (found < 0)
            return Result<Dataset>::failure(imagesName + ": cannot decompress: " + images.error());
        for (int64_t i = 0; i < found; ++i)
            data.features.push_back(chunk[static_cast<size_t>(i)] * (1.0f / 255.0f));
        done += found;
        if (found < wanted)
            return Result<Dataset>::failure(truncatedMessage(imagesName, expected, done, "pixels"));
    }
    // Fashion-MNIST has ten classes like MNIST; EMNIST ships the same format with more.
    data.classes = std::max(10, maxLabel + 1);
    data.source = "MNIST (" + (rows < count ? "first " + std::to_string(rows) + " of " : std::string()) +
                  std::to_string(count) + " images of " + std::to_string(height) + "x" +
                  std::to_string(width) + ")";
    data.featureNames = pixelNames(pixels);
    return data;
}

std::vector<fs::path> cifarBatches(const fs::path& folder) {
    std::vector<fs::path> batches;
    for (int i = 1; i <= kCifarBatches; ++i) {
        const fs::path path = folder / ("data_batch_" + std::to_string(i) + ".bin");
        if (isFile(path))
            batches.push_back(path);
    }
    return batches;
}

Result<Dataset> loadCifar10(const DataSpec& spec) {
    if (std::string problem = checkFolder(spec.path, "data_batch_1.bin to data_batch_5.bin");
        !problem.empty())
        return Result<Dataset>::failure(problem);
    fs::path folder(spec.path);
    std::vector<fs::path> batches = cifarBatches(folder);
    if (batches.empty() && !cifarBatches(folder / "cifar-10-batches-bin").empty()) {
        // The archive unpacks into this subfolder; accept the folder the user downloaded into.
        folder /= "cifar-10-batches-bin";
        batches = cifarBatches(folder);
    }
    if (batches.empty()) {
        std::string message =
            "data.path: no CIFAR-10 batches in '" + spec.path +
            "'; expected data_batch_1.bin to data_batch_5.bin (the binary version of CIFAR-10)";
        if (isFile(folder / "data_batch_1"))
            message += "; data_batch_1 without .bin is the Python version";
        return Result<Dataset>::failure(message);
    }

    int64_t total = 0;
    std::vector<int64_t> records;
    for (const auto& batch : batches) {
        std::error_code code;
        const auto size = static_cast<int64_t>(fs::file_size(batch, code));
        if (code)
            return Result<Dataset>::failure("data.path: cannot read '" + batch.string() +
                                            "': " + code.message());
        if (size == 0 || size % kCifarRecord != 0)
            return Result<Dataset>::failure(
                batch.filename().string() + ": " + std::to_string(size) + " bytes is not a whole number of " +
                std::to_string(kCifarRecord) + "-byte records (1 label byte + 3072 pixel bytes)");
        records.push_back(size / kCifarRecord);
        total += size / kCifarRecord;
    }
    const int64_t rows = spec.limit > 0 ? std::min<int64_t>(spec.limit, total) : total;
    if (rows * kCifarPixels > kMaxImageValues)
        return Result<Dataset>::failure("data.path: " + std::to_string(rows) +
                                        " CIFAR-10 images do not fit in memory; set data.limit");

    Dataset data;
    data.rows = rows;
    data.sampleShape = {3, 32, 32};
    data.classes = 10;
    data.features.resize(static_cast<size_t>(rows * kCifarPixels));
    data.targets.resize(static_cast<size_t>(rows));
    std::vector<unsigned char> record(static_cast<size_t>(kCifarRecord));
    int64_t row = 0;
    for (size_t b = 0; b < batches.size() && row < rows; ++b) {
        const std::string name = batches[b].filename().string();
        const std::unique_ptr<FILE, int (*)(FILE*)> file(std::fopen(batches[b].string().c_str(), "rb"),
                                                         &std::fclose);
        if (!file)
            return Result<Dataset>::failure("data.path: cannot open '" + batches[b].string() +
                                            "': " + std::strerror(errno));
        for (int64_t r = 0; r < records[b] && row < rows; ++r, ++row) {
            if (std::fread(record.data(), 1, record.size(), file.get()) != record.size())
                return Result<Dataset>::failure(name + ": truncated: record " + std::to_string(r + 1) +
                                                " is incomplete (the file changed while reading?)");
            if (record[0] > 9)
                return Result<Dataset>::failure(name + ": record " + std::to_string(r + 1) + " has label " +
                                                std::to_string(record[0]) + "; expected 0 to 9");
            data.targets[static_cast<size_t>(row)] = record[0];
            float* pixels = data.features.data() + static_cast<size_t>(row * kCifarPixels);
            for (int64_t i = 0; i < kCifarPixels; ++i)
                pixels[i] = record[static_cast<size_t>(i + 1)] * (1.0f / 255.0f);
        }
    }
    data.source = "CIFAR-10 (" + (rows < total ? "first " + std::to_string(rows) + " of " : std::string()) +
                  std::to_string(total) + " images from " + std::to_string(batches.size()) +
                  (batches.size() == 1 ? " batch)" : " batches)");
    data.featureNames = pixelNames(kCifarPixels);
    return data;
}

} // namespace

Result<Dataset> loadMnistDataset(const DataSpec& spec) {
    try {
        return loadMnist(spec);
    } catch (const std::bad_alloc&) {
        return Result<Dataset>::failure("data.path: not enough memory to load MNIST from '" + spec.path +
                                        "'; set data.limit");
    } catch (const std::exception& error) {
        return Result<Dataset>::failure("data.path: cannot load MNIST from '" + spec.path +
                                        "': " + error.what());
    }
}

Result<Dataset> loadCifar10Dataset(const DataSpec& spec) {
    try {
        return loadCifar10(spec);
    } catch (const std::bad_alloc&) {
        return Result<Dataset>::failure("data.path: not enough memory to load CIFAR-10 from '" + spec.path +
                                        "'; set data.limit");
    } catch (const std::exception& error) {
        return Result<Dataset>::failure("data.path: cannot load CIFAR-10 from '" + spec.path +
                                        "': " + error.what());
    }
}

} // namespace tunelab
