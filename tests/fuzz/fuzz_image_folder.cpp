// The image folder reader: the input is one image file of class "a"; class "b" holds a valid 2x2
// PNG, so that a readable input makes a dataset of two rows.

#include "data/dataset.h"
#include "fuzz_support.h"

namespace {

// A 2x2 gray PNG.
constexpr unsigned char kValidPng[] = {0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d,
                                       0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x02,
                                       0x08, 0x00, 0x00, 0x00, 0x00, 0x57, 0xdd, 0x52, 0xf8, 0x00, 0x00, 0x00,
                                       0x0e, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x60, 0xf8, 0xcf, 0xd0,
                                       0xe0, 0x00, 0x00, 0x05, 0x42, 0x01, 0xc0, 0x70, 0x36, 0x36, 0xd6, 0x00,
                                       0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    using namespace tunelab;
    static const std::string folder = [] {
        const std::string root = fuzz::scratchSubfolder("images");
        fuzz::scratchSubfolder("images/a");
        fuzz::scratchSubfolder("images/b");
        fuzz::writeFile(root + "/b/valid.png",
                        std::string_view(reinterpret_cast<const char*>(kValidPng), sizeof(kValidPng)));
        return root;
    }();
    fuzz::writeFile(folder + "/a/input.png", fuzz::bytesOf(data, size));
    DataSpec spec;
    spec.kind = DataKind::ImageFolder;
    spec.path = folder;
    spec.imageSize = {4, 4};
    const auto dataset = loadImageFolderDataset(spec);
    if (dataset.ok()) {
        const Dataset& loaded = dataset.value();
        fuzz::require(loaded.rows == 2 && loaded.classes == 2, "two images in two classes");
        const int64_t channels = loaded.sampleShape[0];
        fuzz::require(channels == 1 || channels == 3, "gray or colour");
        fuzz::require(loaded.features.size() == static_cast<size_t>(2 * channels * 16),
                      "4x4 pixels per image");
        for (float value : loaded.features)
            fuzz::require(value >= 0.0f && value <= 1.0f, "pixels in [0, 1]");
    }
    return 0;
}
