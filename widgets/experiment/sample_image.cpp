#include "experiment/sample_image.h"

#include <algorithm>

namespace tunelab {

QImage sampleImage(const float* pixels, int channels, int height, int width) {
    QImage image(width, height, QImage::Format_RGB32);
    const qsizetype plane = static_cast<qsizetype>(height) * width;
    auto level = [&](int channel, int y, int x) {
        const float value = pixels[channel * plane + static_cast<qsizetype>(y) * width + x];
        return static_cast<int>((value > 0.0f ? std::min(value, 1.0f) : 0.0f) * 255.0f); // NaN: black
    };
    for (int y = 0; y < height; ++y) {
        auto* line = reinterpret_cast<QRgb*>(image.scanLine(y));
        for (int x = 0; x < width; ++x) {
            const int red = level(0, y, x);
            line[x] = channels >= 3 ? qRgb(red, level(1, y, x), level(2, y, x)) : qRgb(red, red, red);
        }
    }
    return image;
}

} // namespace tunelab
