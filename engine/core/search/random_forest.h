#pragma once

// Private to the random-forest sampler (rf_sampler.cpp): a small regression forest. It knows nothing
// of search spaces: a row is one number per feature.

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tunelab::detail {

struct ForestSettings {
    int trees = 10;
    // The share of the features tried at each split (at least one).
    double featureRatio = 1.0;
    // A node with fewer rows is a leaf; a split leaves at least minSamplesLeaf rows on each side.
    int minSamplesSplit = 2;
    int minSamplesLeaf = 1;
    int maxDepth = 1 << 20;
    // Each tree learns from n rows drawn with replacement (else from every row once).
    bool bootstrap = true;
    // A numeric feature is tried at one threshold drawn uniformly between its smallest and largest
    // value at the node (extremely randomized trees, Geurts, Ernst and Wehenkel 2006), not at every cut
    // between two values: the trees' steps then spread over the whole range, and their mean changes
    // gradually between the observations rather than in a few shared steps.
    bool randomThresholds = false;
};

// Bagged regression trees. A feature is numeric (split by a threshold) or categorical with k values
// 0..k-1 (split by a set of values: the values present at a node are ordered by their mean target and
// every cut of that order is tried, which finds the best set for squared error). NaN marks a feature
// that does not apply to a row (an inactive conditional parameter); it is never read as a number:
// each split sends such rows to the side that fits them best, learned from the rows at the node.
class RandomForest {
public:
    // categories[f]: 0 for a numeric feature, the number of values of a categorical one.
    explicit RandomForest(std::vector<int> categories, ForestSettings settings = {});

    // Replaces the trees. Deterministic for a given seed and rows in a given order.
    void fit(const std::vector<std::vector<double>>& rows, const std::vector<double>& targets, uint64_t seed);

    // The mean of the trees' predictions, and the variance by the law of total variance over the
    // trees: the mean of the variances of the leaves reached plus the variance of their means.
    void predict(const double* row, double& mean, double& variance) const;

    // The nodes a row passes through in every tree. A row that differs from it in one feature parts
    // from these paths only at nodes that test that feature, so it is predicted without walking each
    // tree from its root (a local search asks for many such rows).
    struct Trace {
        std::vector<int> nodes;    // tree by tree, root first, leaf last
        std::vector<int> leaf;     // per tree, where its leaf is in `nodes`
        std::vector<int> first;    // per tree and feature, the first of its nodes testing it, or -1
        std::vector<int> nextSame; // per entry of `nodes`, the next one of its tree testing the same feature
    };
    void trace(const double* row, Trace& trace) const;
    // The same as predict(row) for a row that equals the traced one except in `feature`. Returns
    // false, and leaves mean and variance alone, when the row reaches the traced row's leaves.
    bool predictChanged(const double* row, const Trace& trace, int feature, double& mean,
                        double& variance) const;

private:
    struct Node {
        double value = 0.0;       // a numeric split's threshold (at or below goes left); a leaf's mean
        double variance = 0.0;    // a leaf's target variance
        int feature = -1;         // -1: a leaf
        int left = 0;             // the left child; the right child follows it
        int categoryOffset = -1;  // a categorical split: into Tree::goesLeft, one entry per value
        bool missingLeft = false; // where rows without the feature go
    };
    struct Tree {
        std::vector<Node> nodes;
        std::vector<char> goesLeft;
    };
    class Builder;
    class LeafList;

    // The child of an inner node that `row` goes to.
    int childFor(const Tree& tree, const Node& node, const double* row) const;
    // The leaf `row` reaches from `start`.
    const Node& leafFrom(const Tree& tree, int start, const double* row) const;
    // The forest's mean and variance from the leaf reached in each tree.
    static void combine(const Node* const* leaves, size_t count, double& mean, double& variance);

    std::vector<int> m_categories;
    ForestSettings m_settings;
    std::vector<Tree> m_trees;
};

} // namespace tunelab::detail
