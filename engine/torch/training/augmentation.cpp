#include "training/augmentation.h"

#include <algorithm>
#include <cmath>

namespace tunelab::detail {

namespace {

constexpr double kPi = 3.14159265358979323846;

// A tensor of one value per row, shaped to broadcast over a batch of `like`'s rank.
torch::Tensor perRow(const torch::Tensor& values, const torch::Tensor& like) {
    std::vector<int64_t> shape(static_cast<size_t>(like.dim()), 1);
    shape[0] = values.size(0);
    return values.to(like.device(), like.scalar_type()).view(shape);
}

// Beta(alpha, alpha) from two Gamma draws.
double betaDraw(double alpha, std::mt19937_64& random) {
    std::gamma_distribution<double> gamma(alpha, 1.0);
    const double a = gamma(random);
    const double b = gamma(random);
    return a + b > 0.0 ? a / (a + b) : 0.5;
}

} // namespace

Augmenter::Augmenter(const AugmentSpec& augment, uint64_t seed)
    : m_augment(augment)
    , m_seed(seed) {
    beginEpoch(1);
}

void Augmenter::beginEpoch(int epoch) {
    const uint64_t epochSeed =
        (m_seed ^ 0xA5A5F00DULL) * 0x9E3779B97F4A7C15ULL + static_cast<uint64_t>(epoch);
    m_generator = at::make_generator<at::CPUGeneratorImpl>(epochSeed);
    m_mixRandom.seed(epochSeed + 1);
}

torch::Tensor Augmenter::uniform(int64_t rows, double low, double high) {
    return torch::rand({rows}, m_generator, torch::kDouble) * (high - low) + low;
}

// Flips and whole-pixel shifts (a crop of the zero-padded image) copy pixels: each sample's window
// is copied into a zeroed batch, mirrored first when drawn so, which costs far less than resampling.
// `flipX`/`flipY` are -1 or 1 per sample, `shiftX`/`shiftY` whole pixels: output pixel j shows the
// (mirrored) input's pixel j + shift, or zero past the edge.
torch::Tensor Augmenter::flipAndShift(const torch::Tensor& x, const torch::Tensor& flipX,
                                      const torch::Tensor& flipY, const torch::Tensor& shiftX,
                                      const torch::Tensor& shiftY) {
    const int64_t rows = x.size(0);
    const int64_t height = x.size(2);
    const int64_t width = x.size(3);
    const auto draws = torch::stack({flipX, flipY, shiftX, shiftY}).to(torch::kDouble).contiguous();
    const auto drawn = draws.accessor<double, 2>();
    const auto mirrorX = drawn[0];
    const auto mirrorY = drawn[1];
    const auto moveX = drawn[2];
    const auto moveY = drawn[3];
    auto out = torch::zeros_like(x);
    if (x.is_cpu() && x.scalar_type() == torch::kFloat) {
        // Plain loops over the rows: a tensor operation per sample costs more than copying its pixels.
        const auto input = x.contiguous();
        const int64_t channels = x.size(1);
        const float* from = input.data_ptr<float>();
        float* to = out.data_ptr<float>();
        for (int64_t i = 0; i < rows; ++i) {
            const auto dx = static_cast<int64_t>(std::llround(moveX[i]));
            const auto dy = static_cast<int64_t>(std::llround(moveY[i]));
            const bool mirrorColumns = mirrorX[i] < 0.0;
            const bool mirrorRows = mirrorY[i] < 0.0;
            const int64_t left = std::max<int64_t>(0, -dx);
            const int64_t right = std::min(width, width - dx);
            for (int64_t c = 0; c < channels; ++c) {
                const float* plane = from + (i * channels + c) * height * width;
                float* target = to + (i * channels + c) * height * width;
                for (int64_t y = std::max<int64_t>(0, -dy); y < std::min(height, height - dy); ++y) {
                    const int64_t sourceRow = mirrorRows ? height - 1 - (y + dy) : y + dy;
                    const float* line = plane + sourceRow * width;
                    float* row = target + y * width;
                    if (mirrorColumns) {
                        for (int64_t column = left; column < right; ++column)
                            row[column] = line[width - 1 - (column + dx)];
                    } else if (right > left) {
                        std::copy(line + left + dx, line + right + dx, row + left);
                    }
                }
            }
        }
        return out;
    }
    for (int64_t i = 0; i < rows; ++i) {
        const auto dx = static_cast<int64_t>(std::llround(moveX[i]));
        const auto dy = static_cast<int64_t>(std::llround(moveY[i]));
        const int64_t left = std::max<int64_t>(0, -dx);
        const int64_t right = std::min(width, width - dx);
        const int64_t top = std::max<int64_t>(0, -dy);
        const int64_t bottom = std::min(height, height - dy);
        if (right <= left || bottom <= top)
            continue;
        torch::Tensor source = x[i];
        if (mirrorY[i] < 0.0)
            source = source.flip({1});
        if (mirrorX[i] < 0.0)
            source = source.flip({2});
        out[i]
            .narrow(1, top, bottom - top)
            .narrow(2, left, right - left)
            .copy_(source.narrow(1, top + dy, bottom - top).narrow(2, left + dx, right - left));
    }
    return out;
}

// Flips, crop with padding, rotation, zoom and shift as one affine map per sample. Only flips and
// whole-pixel shifts: exact copies of pixels (flipAndShift); otherwise bilinear sampling with
// grid_sample, where what comes from outside the image is zero.
torch::Tensor Augmenter::geometric(const torch::Tensor& x, int64_t first, int64_t batchRows) {
    const int64_t rows = x.size(0);
    const double height = static_cast<double>(x.size(2));
    const double width = static_cast<double>(x.size(3));
    auto mine = [&](const torch::Tensor& all) { return all.narrow(0, first, rows); };
    const auto options = torch::TensorOptions().dtype(torch::kDouble);
    torch::Tensor angle = torch::zeros({rows}, options);
    torch::Tensor zoom = torch::ones({rows}, options);
    torch::Tensor flipX = torch::ones({rows}, options);
    torch::Tensor flipY = torch::ones({rows}, options);
    torch::Tensor shiftX = torch::zeros({rows}, options);
    torch::Tensor shiftY = torch::zeros({rows}, options);
    const AugmentSpec& a = m_augment;
    if (a.flipHorizontal)
        flipX = mine(torch::where(torch::rand({batchRows}, m_generator, torch::kDouble) < 0.5, -1.0, 1.0));
    if (a.flipVertical)
        flipY = mine(torch::where(torch::rand({batchRows}, m_generator, torch::kDouble) < 0.5, -1.0, 1.0));
    if (a.rotation > 0.0)
        angle = mine(uniform(batchRows, -a.rotation, a.rotation)) * (kPi / 180.0);
    if (a.scaleMin != 1.0 || a.scaleMax != 1.0)
        zoom = mine(uniform(batchRows, a.scaleMin, a.scaleMax));
    if (a.translate > 0.0) {
        shiftX = mine(uniform(batchRows, -a.translate, a.translate)) * 2.0;
        shiftY = mine(uniform(batchRows, -a.translate, a.translate)) * 2.0;
    }
    if (a.cropPadding > 0) {
        // A crop of the padded image is a shift by whole pixels, in [-padding, padding].
        const int64_t p = a.cropPadding;
        shiftX = shiftX + mine(torch::randint(-p, p + 1, {batchRows}, m_generator, options)) * (2.0 / width);
        shiftY = shiftY + mine(torch::randint(-p, p + 1, {batchRows}, m_generator, options)) * (2.0 / height);
    }
    const bool exact = a.rotation == 0.0 && a.scaleMin == 1.0 && a.scaleMax == 1.0 && a.translate == 0.0;
    if (exact)
        return flipAndShift(x, flipX, flipY, shiftX * (width / 2.0), shiftY * (height / 2.0));
    // Output coordinates to input ones, in grid_sample's [-1, 1] units: flip and zoom, then rotate in
    // pixel space (so non-square images keep their proportions), then shift.
    const auto c = torch::cos(angle);
    const auto s = torch::sin(angle);
    const auto theta = torch::stack({c * flipX / zoom, -s * (height / width) * flipY / zoom, shiftX,
                                     s * (width / height) * flipX / zoom, c * flipY / zoom, shiftY},
                                    1)
                           .view({rows, 2, 3})
                           .to(x.device(), x.scalar_type());
    namespace F = torch::nn::functional;
    const auto grid = F::affine_grid(theta, x.sizes(), /*align_corners=*/false);
    return F::grid_sample(
        x, grid,
        F::GridSampleFuncOptions().mode(torch::kBilinear).padding_mode(torch::kZeros).align_corners(false));
}

// A square of side `cutout` set to zero around a random pixel of every sample (clipped at the edges).
torch::Tensor Augmenter::cutout(const torch::Tensor& x, int64_t first, int64_t batchRows) {
    const int64_t rows = x.size(0);
    const int64_t height = x.size(2);
    const int64_t width = x.size(3);
    const auto options = torch::TensorOptions().dtype(torch::kLong);
    const int64_t half = m_augment.cutout / 2;
    const auto top =
        (torch::randint(0, height, {batchRows}, m_generator, options) - half).narrow(0, first, rows);
    const auto left =
        (torch::randint(0, width, {batchRows}, m_generator, options) - half).narrow(0, first, rows);
    const auto ys = torch::arange(height, options).view({1, 1, height, 1});
    const auto xs = torch::arange(width, options).view({1, 1, 1, width});
    const auto y0 = top.view({rows, 1, 1, 1});
    const auto x0 = left.view({rows, 1, 1, 1});
    const auto inside = (ys >= y0) & (ys < y0 + m_augment.cutout) & (xs >= x0) & (xs < x0 + m_augment.cutout);
    return x * inside.logical_not().to(x.device(), x.scalar_type());
}

TrainingBatch Augmenter::apply(TrainingBatch batch, int64_t first, int64_t batchRows) {
    // A process without rows in this step still draws, so every process's draws stay in step.
    if (!enabled())
        return batch;
    torch::NoGradGuard noGrad;
    const AugmentSpec& a = m_augment;
    const int64_t rows = batch.x.size(0);
    torch::Tensor x = batch.x;
    const bool image = x.dim() == 4;
    if (image && a.geometric())
        x = geometric(x, first, batchRows);
    if (image && a.cutout > 0)
        x = cutout(x, first, batchRows);
    if (a.contrast > 0.0) {
        std::vector<int64_t> sampleDims;
        for (int64_t d = 1; d < x.dim(); ++d)
            sampleDims.push_back(d);
        const auto mean = x.mean(sampleDims, /*keepdim=*/true);
        const auto stretch =
            perRow(uniform(batchRows, 1.0 - a.contrast, 1.0 + a.contrast).narrow(0, first, rows), x);
        x = (x - mean) * stretch + mean;
    }
    if (a.brightness > 0.0)
        x = x + perRow(uniform(batchRows, -a.brightness, a.brightness).narrow(0, first, rows), x);
    if (a.noise > 0.0) {
        std::vector<int64_t> shape = x.sizes().vec();
        shape[0] = batchRows;
        const auto noise = torch::randn(shape, m_generator, torch::TensorOptions().dtype(torch::kFloat))
                               .narrow(0, first, rows)
                               .to(x.device(), x.scalar_type());
        x = torch::add(x, noise, a.noise);
    }
    if (a.mixup > 0.0) {
        // Each sample is mixed with the one `offset` places after it in this process's rows, which
        // keeps the draws the same in every process of a data-parallel run.
        batch.mix = betaDraw(a.mixup, m_mixRandom);
        const int64_t offset =
            rows > 1 ? 1 + static_cast<int64_t>(m_mixRandom() % static_cast<uint64_t>(rows - 1)) : 0;
        const auto partner = torch::roll(x, -offset, 0);
        batch.partnerY = torch::roll(batch.y, -offset, 0);
        x = x * batch.mix + partner * (1.0 - batch.mix);
    }
    batch.x = x.contiguous();
    return batch;
}

} // namespace tunelab::detail
