// Image folders (data.kind "image_folder"): one sub-folder per class, holding PNG, JPEG, BMP or GIF
// files, as torchvision's ImageFolder reads them. Images are decoded with stb_image (Debian's
// libstb), resized with stb_image_resize when data.image_size asks for it, and become floats in
// [0, 1], channels first. Every error names the file and what is wrong with it.

#include "data/dataset.h"

#if defined(TUNELAB_HAVE_STB)

#include <stb_image.h>
#include <stb_image_resize.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <thread>

namespace tunelab {

namespace {

namespace fs = std::filesystem;

constexpr int64_t kMaxFolderValues = 500'000'000; // floats kept in memory (2 GB); data.limit reads fewer
constexpr int64_t kMaxFileBytes = 256ll << 20;    // a bigger file is no training image
constexpr int64_t kMaxDecodedPixels = 64'000'000; // width x height of one image before resizing
constexpr int kMaxSide = 16384; // and each side: resizing a wider image takes memory in proportion

struct ImageFile {
    std::string path;
    int label = 0;
};

bool isImageName(const std::string& name) {
    const size_t dot = name.rfind('.');
    if (name.empty() || name[0] == '.' || dot == std::string::npos)
        return false;
    std::string extension = name.substr(dot + 1);
    std::transform(extension.begin(), extension.end(), extension.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return extension == "png" || extension == "jpg" || extension == "jpeg" || extension == "bmp" ||
           extension == "gif";
}

// The readable path of `path` below the data folder, for messages.
std::string shown(const fs::path& path, const fs::path& root) {
    return (root.filename() / path.lexically_relative(root)).string();
}

// The class folders (sorted by name) and their image files (sorted by name), or why not.
Result<std::vector<ImageFile>> listImages(const fs::path& root, std::vector<std::string>& classes) {
    using Listed = Result<std::vector<ImageFile>>;
    std::error_code error;
    if (!fs::is_directory(root, error))
        return Listed::failure("data.path: " + root.string() +
                               (fs::exists(root, error) ? " is not a folder" : " does not exist") +
                               "; an image folder holds one sub-folder of images per class");
    std::vector<fs::path> folders;
    for (const auto& entry : fs::directory_iterator(root, error))
        if (entry.is_directory(error) && entry.path().filename().string()[0] != '.')
            folders.push_back(entry.path());
    if (error)
        return Listed::failure("data.path: " + root.string() + ": cannot be read: " + error.message());
    std::sort(folders.begin(), folders.end());
    if (folders.size() < 2)
        return Listed::failure("data.path: " + root.string() + " has " +
                               (folders.empty()
                                    ? std::string("no class folders")
                                    : "one class folder ('" + folders[0].filename().string() + "')") +
                               "; an image folder holds one sub-folder of images per class, and "
                               "classification needs at least two");
    std::vector<ImageFile> files;
    for (size_t label = 0; label < folders.size(); ++label) {
        std::vector<std::string> names;
        for (const auto& entry : fs::directory_iterator(folders[label], error))
            if (entry.is_regular_file(error) && isImageName(entry.path().filename().string()))
                names.push_back(entry.path().string());
        if (error)
            return Listed::failure(shown(folders[label], root) + ": cannot be read: " + error.message());
        if (names.empty())
            return Listed::failure(shown(folders[label], root) +
                                   ": no images (PNG, JPEG, BMP or GIF files) in this class folder");
        std::sort(names.begin(), names.end());
        for (std::string& name : names)
            files.push_back({std::move(name), static_cast<int>(label)});
        classes.push_back(folders[label].filename().string());
    }
    return Listed(std::move(files));
}

// At most `limit` files, taken from the classes in turn so that every class keeps its share.
std::vector<ImageFile> limited(const std::vector<ImageFile>& files, int classes, int64_t limit) {
    if (limit <= 0 || limit >= static_cast<int64_t>(files.size()))
        return files;
    std::vector<std::vector<ImageFile>> byClass(static_cast<size_t>(classes));
    for (const ImageFile& file : files)
        byClass[static_cast<size_t>(file.label)].push_back(file);
    std::vector<ImageFile> kept;
    for (size_t round = 0; static_cast<int64_t>(kept.size()) < limit; ++round)
        for (const auto& members : byClass)
            if (round < members.size() && static_cast<int64_t>(kept.size()) < limit)
                kept.push_back(members[round]);
    std::stable_sort(kept.begin(), kept.end(),
                     [](const ImageFile& a, const ImageFile& b) { return a.label < b.label; });
    return kept;
}

// A PNG's chunks must fit in the file: the decoder reserves what a chunk's length says before it reads
// the chunk, so a few damaged bytes could otherwise ask for gigabytes. "" when they fit (or not a PNG).
std::string pngChunkProblem(const std::vector<unsigned char>& bytes) {
    static const unsigned char signature[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (bytes.size() < sizeof(signature) ||
        !std::equal(std::begin(signature), std::end(signature), bytes.begin()))
        return {};
    size_t at = sizeof(signature);
    while (at + 8 <= bytes.size()) {
        const uint64_t length = (uint64_t(bytes[at]) << 24) | (uint64_t(bytes[at + 1]) << 16) |
                                (uint64_t(bytes[at + 2]) << 8) | uint64_t(bytes[at + 3]);
        if (length + 12 > bytes.size() - at)
            return "a damaged PNG (a chunk of " + std::to_string(length) + " bytes at byte " +
                   std::to_string(at) + " runs past the end of the file)";
        if (std::equal(bytes.begin() + static_cast<std::ptrdiff_t>(at + 4),
                       bytes.begin() + static_cast<std::ptrdiff_t>(at + 8), "IEND"))
            return {};
        at += 12 + static_cast<size_t>(length);
    }
    return {};
}

struct Decoded {
    int width = 0;
    int height = 0;
    bool colour = false;               // the file has colour channels (not only gray, with or without alpha)
    std::vector<unsigned char> pixels; // height x width x channels
};

Result<Decoded> decode(const std::string& path, const std::string& name, int channels) {
    using Found = Result<Decoded>;
    std::ifstream file(path, std::ios::binary | std::ios::ate);
    if (!file)
        return Found::failure(name + ": cannot be opened");
    const std::streamoff size = file.tellg();
    if (size <= 0)
        return Found::failure(name + ": the file is empty");
    if (size > kMaxFileBytes)
        return Found::failure(name + ": " + std::to_string(size >> 20) +
                              " MB is too large for a training image");
    std::vector<unsigned char> bytes(static_cast<size_t>(size));
    file.seekg(0);
    if (!file.read(reinterpret_cast<char*>(bytes.data()), size))
        return Found::failure(name + ": cannot be read");
    if (const std::string problem = pngChunkProblem(bytes); !problem.empty())
        return Found::failure(name + ": " + problem);
    Decoded image;
    int fileChannels = 0;
    if (!stbi_info_from_memory(bytes.data(), static_cast<int>(size), &image.width, &image.height,
                               &fileChannels))
        return Found::failure(name + ": not an image TuneLab can read (" + stbi_failure_reason() + ")");
    if (image.width <= 0 || image.height <= 0)
        return Found::failure(name + ": the image has no pixels (" + std::to_string(image.width) + "x" +
                              std::to_string(image.height) + ")");
    if (static_cast<int64_t>(image.width) * image.height > kMaxDecodedPixels || image.width > kMaxSide ||
        image.height > kMaxSide)
        return Found::failure(name + ": " + std::to_string(image.width) + "x" + std::to_string(image.height) +
                              " pixels is too large for a training image (at most 64 million pixels, 16384 a "
                              "side)");
    std::unique_ptr<unsigned char, void (*)(void*)> pixels(
        stbi_load_from_memory(bytes.data(), static_cast<int>(size), &image.width, &image.height,
                              &fileChannels, channels),
        stbi_image_free);
    if (!pixels)
        return Found::failure(name + ": cannot be decoded (" + stbi_failure_reason() + ")");
    image.colour = fileChannels >= 3;
    image.pixels.assign(pixels.get(),
                        pixels.get() + static_cast<size_t>(image.width) * image.height * channels);
    return Found(std::move(image));
}

} // namespace

Result<Dataset> loadImageFolderDataset(const DataSpec& spec, const LoadCancel* cancel) {
    using Loaded = Result<Dataset>;
    const fs::path root(spec.path);
    std::vector<std::string> classes;
    auto listed = listImages(root, classes);
    if (!listed.ok())
        return Loaded(Errors{listed.errors()});
    const std::vector<ImageFile> files =
        limited(listed.value(), static_cast<int>(classes.size()), spec.limit);
    // The first image fixes the size unless data.image_size does, and whether the images are gray
    // (one channel) or colour (three) unless data.grayscale makes them all gray.
    const std::string firstName = shown(files[0].path, root);
    auto first = decode(files[0].path, firstName, 3);
    if (!first.ok())
        return Loaded(Errors{first.errors()});
    const int channels = spec.grayscale || !first.value().colour ? 1 : 3;
    int64_t height = spec.imageSize.empty() ? first.value().height : spec.imageSize[0];
    int64_t width = spec.imageSize.empty() ? first.value().width : spec.imageSize[1];
    const std::string sizeSource = spec.imageSize.empty() ? firstName : std::string("data.image_size");
    const int64_t perImage = channels * height * width;
    const auto rows = static_cast<int64_t>(files.size());
    if (perImage > 0 && rows > kMaxFolderValues / perImage)
        return Loaded::failure("data.path: " + std::to_string(rows) + " images of " +
                               std::to_string(perImage) +
                               " values are more than TuneLab holds in memory; set data.limit or a smaller "
                               "data.image_size");

    Dataset data;
    data.task = TaskKind::Classification;
    data.classes = static_cast<int>(classes.size());
    data.classNames = classes;
    data.sampleShape = {channels, height, width};
    data.rows = rows;
    data.features.assign(static_cast<size_t>(rows * perImage), 0.0f);
    data.targets.resize(static_cast<size_t>(rows));

    // Decoding is independent per file: a few threads share the list; the first error (in file order) wins.
    std::atomic<int64_t> next{0};
    std::mutex failureLock;
    int64_t failedAt = rows;
    std::string failure;
    auto work = [&] {
        std::vector<unsigned char> resized;
        for (int64_t row = next++; row < rows && !loadCancelled(cancel); row = next++) {
            const ImageFile& file = files[static_cast<size_t>(row)];
            const std::string name = shown(file.path, root);
            auto decoded = decode(file.path, name, channels);
            std::string problem = decoded.ok() ? std::string() : decoded.error();
            const unsigned char* pixels = nullptr;
            if (decoded.ok() && decoded.value().colour && channels == 1 && !spec.grayscale)
                problem = name + " has colour but " + firstName +
                          " is gray; set data.grayscale to read them all as gray";
            if (problem.empty() && decoded.ok()) {
                const Decoded& image = decoded.value();
                pixels = image.pixels.data();
                if (image.height != height || image.width != width) {
                    if (spec.imageSize.empty()) {
                        problem = name + " is " + std::to_string(image.width) + "x" +
                                  std::to_string(image.height) + " pixels but " + sizeSource + " is " +
                                  std::to_string(width) + "x" + std::to_string(height) +
                                  "; set data.image_size to resize them all";
                    } else {
                        resized.resize(static_cast<size_t>(perImage));
                        if (!stbir_resize_uint8(image.pixels.data(), image.width, image.height, 0,
                                                resized.data(), static_cast<int>(width),
                                                static_cast<int>(height), 0, channels))
                            problem = name + ": cannot be resized to " + std::to_string(width) + "x" +
                                      std::to_string(height);
                        pixels = resized.data();
                    }
                }
            }
            if (!problem.empty()) {
                std::lock_guard<std::mutex> lock(failureLock);
                if (row < failedAt) {
                    failedAt = row;
                    failure = "data: " + problem;
                }
                continue;
            }
            float* out = data.features.data() + row * perImage;
            const int64_t plane = height * width;
            for (int64_t p = 0; p < plane; ++p)
                for (int c = 0; c < channels; ++c)
                    out[c * plane + p] = static_cast<float>(pixels[p * channels + c]) / 255.0f;
            data.targets[static_cast<size_t>(row)] = static_cast<float>(file.label);
        }
    };
    const unsigned threads = std::clamp<unsigned>(std::thread::hardware_concurrency(), 1u, 8u);
    std::vector<std::thread> workers;
    for (unsigned i = 1; i < threads && rows > 64; ++i)
        workers.emplace_back(work);
    work();
    for (std::thread& worker : workers)
        worker.join();
    if (loadCancelled(cancel))
        return Loaded::failure(kDataLoadCancelled);
    if (!failure.empty())
        return Loaded::failure(failure);

    data.source = root.filename().string() + " (" + std::to_string(rows) + " images in " +
                  std::to_string(classes.size()) + " classes" +
                  (static_cast<int64_t>(listed.value().size()) > rows
                       ? ", first " + std::to_string(rows) + " of " + std::to_string(listed.value().size())
                       : std::string()) +
                  ")";
    return Loaded(std::move(data));
}

} // namespace tunelab

#else

namespace tunelab {

Result<Dataset> loadImageFolderDataset(const DataSpec&, const LoadCancel*) {
    return Result<Dataset>::failure("data.kind: this TuneLab was built without libstb-dev, which reads image "
                                    "folders; install it and build again");
}

} // namespace tunelab

#endif
