#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace tunelab {

// Edit distance, for "did you mean" suggestions.
size_t editDistance(const std::string& a, const std::string& b);
// The candidate closest to `word` when it is close enough to be a likely typo; empty otherwise.
std::string closestMatch(const std::string& word, const std::vector<std::string>& candidates);

} // namespace tunelab
