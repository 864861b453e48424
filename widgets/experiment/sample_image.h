#pragma once

#include <QImage>

namespace tunelab {

// One image sample, [channels, height, width] floats in row-major order, as a picture: one channel
// is gray, three or more are red, green and blue from the first three. Values are 0..1 (image files,
// scaled CSV pixels); anything outside is clamped. Any thread.
QImage sampleImage(const float* pixels, int channels, int height, int width);

} // namespace tunelab
