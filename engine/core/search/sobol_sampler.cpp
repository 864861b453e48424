#include "search/samplers.h"

#include <array>

namespace tunelab {

namespace {

// Primitive polynomials and initial direction numbers after Joe and Kuo (new-joe-kuo-6.21201),
// for dimensions 2..21; dimension 1 is the van der Corput sequence. Each m_i is odd and below 2^i,
// so every one-dimensional projection of the first 2^k points holds one point per 1/2^k stratum.
struct DirectionEntry {
    int degree;
    uint32_t coefficients;
    std::array<uint32_t, 7> initial;
};

constexpr DirectionEntry kDirections[] = {
    {1, 0, {1}},
    {2, 1, {1, 3}},
    {3, 1, {1, 3, 1}},
    {3, 2, {1, 1, 1}},
    {4, 1, {1, 1, 3, 3}},
    {4, 4, {1, 3, 5, 13}},
    {5, 2, {1, 1, 5, 5, 17}},
    {5, 4, {1, 1, 5, 5, 5}},
    {5, 7, {1, 1, 7, 11, 19}},
    {5, 11, {1, 1, 5, 1, 1}},
    {5, 13, {1, 1, 1, 3, 11}},
    {5, 14, {1, 3, 5, 5, 31}},
    {6, 1, {1, 3, 3, 9, 7, 49}},
    {6, 13, {1, 1, 1, 15, 21, 21}},
    {6, 16, {1, 3, 1, 13, 27, 49}},
    {6, 19, {1, 1, 1, 15, 7, 5}},
    {6, 22, {1, 3, 1, 15, 13, 25}},
    {6, 25, {1, 1, 5, 5, 19, 61}},
    {7, 1, {1, 3, 7, 11, 23, 15, 103}},
    {7, 4, {1, 3, 7, 13, 13, 15, 69}},
};

using DirectionNumbers = std::array<uint32_t, 32>;

DirectionNumbers makeDirections(int dimension) {
    DirectionNumbers v{};
    if (dimension == 0) {
        for (int k = 0; k < 32; ++k)
            v[k] = 1u << (31 - k);
        return v;
    }
    const DirectionEntry& entry = kDirections[dimension - 1];
    const int s = entry.degree;
    for (int k = 0; k < s; ++k)
        v[k] = entry.initial[k] << (31 - k);
    for (int k = s; k < 32; ++k) {
        uint32_t value = v[k - s] ^ (v[k - s] >> s);
        for (int j = 1; j < s; ++j) {
            if ((entry.coefficients >> (s - 1 - j)) & 1u)
                value ^= v[k - j];
        }
        v[k] = value;
    }
    return v;
}

const std::array<DirectionNumbers, SobolSampler::kMaxDimensions>& allDirections() {
    static const auto table = [] {
        std::array<DirectionNumbers, SobolSampler::kMaxDimensions> directions{};
        for (int d = 0; d < SobolSampler::kMaxDimensions; ++d)
            directions[d] = makeDirections(d);
        return directions;
    }();
    return table;
}

} // namespace

uint32_t SobolSampler::sobolInteger(uint64_t index, int dimension) {
    // Gray-code order: the first 2^k points are the same set as in natural order.
    const uint64_t gray = index ^ (index >> 1);
    const DirectionNumbers& v = allDirections()[dimension];
    uint32_t x = 0;
    for (int bit = 0; bit < 32; ++bit) {
        if ((gray >> bit) & 1u)
            x ^= v[bit];
    }
    return x;
}

std::optional<Assignment> SobolSampler::suggest(const SearchSpace& space, int64_t trialNumber,
                                                const std::vector<FinishedTrial>& history) {
    (void)history;
    const uint64_t trialKey = trialStreamKey(m_seed, trialNumber);
    Assignment assignment;
    const auto& parameters = space.parameters();
    for (size_t i = 0; i < parameters.size(); ++i) {
        const SearchParameter& parameter = parameters[i];
        if (!space.isActive(parameter, assignment))
            continue; // the parameter's dimension is skipped for this trial
        double u = 0.0;
        if (static_cast<int>(i) < kMaxDimensions) {
            const uint32_t shift = static_cast<uint32_t>(mixBits(m_seed * 0x100000001B3ull + i) >> 32);
            const uint32_t x = sobolInteger(static_cast<uint64_t>(trialNumber), static_cast<int>(i)) ^ shift;
            u = (static_cast<double>(x) + 0.5) * 0x1.0p-32;
        } else {
            u = static_cast<double>(mixBits(trialKey ^ i) >> 11) * 0x1.0p-53;
        }
        assignment[parameter.path] = valueAtUnit(parameter, u);
    }
    return assignment;
}

} // namespace tunelab
