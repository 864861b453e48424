#pragma once

// Integer arithmetic that cannot overflow: sizes, parameter and FLOP counts computed from what a user
// typed saturate at the largest int64 instead of wrapping round to a small or negative number.

#include <cstdint>
#include <initializer_list>
#include <limits>

namespace tunelab {

constexpr int64_t kSaturated = std::numeric_limits<int64_t>::max();

// a * b, or kSaturated when the true product (of non-negative factors) does not fit.
inline int64_t saturatingMultiply(int64_t a, int64_t b) {
    int64_t product = 0;
    if (__builtin_mul_overflow(a, b, &product))
        return kSaturated;
    return product;
}

inline int64_t saturatingMultiply(std::initializer_list<int64_t> factors) {
    int64_t product = 1;
    for (const int64_t factor : factors)
        product = saturatingMultiply(product, factor);
    return product;
}

// a + b, or kSaturated when the true sum (of non-negative terms) does not fit.
inline int64_t saturatingAdd(int64_t a, int64_t b) {
    int64_t sum = 0;
    if (__builtin_add_overflow(a, b, &sum))
        return kSaturated;
    return sum;
}

} // namespace tunelab
