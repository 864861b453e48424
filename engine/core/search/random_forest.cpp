#include "search/random_forest.h"

#include <cmath>

// Predicting with a RandomForest; random_forest_fit.cpp grows its trees.

namespace tunelab::detail {

int RandomForest::childFor(const Tree& tree, const Node& node, const double* row) const {
    const size_t feature = static_cast<size_t>(node.feature);
    const double v = row[feature];
    bool left = node.missingLeft;
    if (!std::isnan(v)) {
        const int values = m_categories[feature];
        if (values == 0) {
            left = v <= node.value;
        } else {
            const int c = static_cast<int>(v);
            if (c >= 0 && c < values)
                left = tree.goesLeft[static_cast<size_t>(node.categoryOffset + c)] != 0;
        }
    }
    return node.left + (left ? 0 : 1);
}

const RandomForest::Node& RandomForest::leafFrom(const Tree& tree, int start, const double* row) const {
    // Numeric splits written out without branches on the value: this loop is most of a prediction.
    const Node* nodes = tree.nodes.data();
    const Node* node = nodes + start;
    while (node->feature >= 0) {
        if (node->categoryOffset < 0) {
            const double v = row[node->feature];
            const bool left = (v <= node->value) | (node->missingLeft & std::isnan(v));
            node = nodes + node->left + (left ? 0 : 1);
        } else {
            node = nodes + childFor(tree, *node, row);
        }
    }
    return *node;
}

// The leaf reached in each tree; on the stack for a forest of the usual size (a prediction is
// made tens of thousands of times per suggestion).
class RandomForest::LeafList {
public:
    explicit LeafList(size_t trees) {
        if (trees > kOnStack)
            m_heap.resize(trees);
    }
    const Node*& operator[](size_t t) { return m_heap.empty() ? m_stack[t] : m_heap[t]; }
    const Node* const* data() const { return m_heap.empty() ? m_stack : m_heap.data(); }

private:
    static constexpr size_t kOnStack = 32;
    const Node* m_stack[kOnStack];
    std::vector<const Node*> m_heap;
};

void RandomForest::combine(const Node* const* leaves, size_t count, double& mean, double& variance) {
    // Welford's running mean and spread of the trees' means.
    mean = 0.0;
    double spread = 0.0, variances = 0.0;
    for (size_t t = 0; t < count; ++t) {
        const double delta = leaves[t]->value - mean;
        mean += delta / static_cast<double>(t + 1);
        spread += delta * (leaves[t]->value - mean);
        variances += leaves[t]->variance;
    }
    variance = count == 0 ? 0.0 : (variances + spread) / static_cast<double>(count);
}

void RandomForest::predict(const double* row, double& mean, double& variance) const {
    LeafList leaves(m_trees.size());
    for (size_t t = 0; t < m_trees.size(); ++t)
        leaves[t] = &leafFrom(m_trees[t], 0, row);
    combine(leaves.data(), m_trees.size(), mean, variance);
}

void RandomForest::trace(const double* row, Trace& trace) const {
    const size_t features = m_categories.size();
    trace.nodes.clear();
    trace.nextSame.clear();
    trace.leaf.clear();
    trace.first.assign(m_trees.size() * features, -1);
    std::vector<int> lastSeen(features, -1); // per feature, the last node on this path testing it
    for (size_t t = 0; t < m_trees.size(); ++t) {
        const Tree& tree = m_trees[t];
        std::fill(lastSeen.begin(), lastSeen.end(), -1);
        int at = 0;
        for (;;) {
            const Node& node = tree.nodes[static_cast<size_t>(at)];
            const int index = static_cast<int>(trace.nodes.size());
            trace.nodes.push_back(at);
            trace.nextSame.push_back(-1);
            if (node.feature < 0) {
                trace.leaf.push_back(index);
                break;
            }
            const size_t feature = static_cast<size_t>(node.feature);
            int& seen = lastSeen[feature];
            if (seen < 0)
                trace.first[t * features + feature] = index;
            else
                trace.nextSame[static_cast<size_t>(seen)] = index;
            seen = index;
            at = childFor(tree, node, row);
        }
    }
}

bool RandomForest::predictChanged(const double* row, const Trace& trace, int feature, double& mean,
                                  double& variance) const {
    const size_t features = m_categories.size();
    const double v = row[feature];
    const bool missing = std::isnan(v);
    LeafList leaves(m_trees.size());
    bool changed = false;
    for (size_t t = 0; t < m_trees.size(); ++t) {
        const Tree& tree = m_trees[t];
        const Node* leaf = &tree.nodes[static_cast<size_t>(trace.nodes[static_cast<size_t>(trace.leaf[t])])];
        for (int k = trace.first[t * features + static_cast<size_t>(feature)]; k >= 0;
             k = trace.nextSame[static_cast<size_t>(k)]) {
            const Node& node = tree.nodes[static_cast<size_t>(trace.nodes[static_cast<size_t>(k)])];
            const int child = node.categoryOffset >= 0
                                  ? childFor(tree, node, row)
                                  : node.left + ((v <= node.value) | (node.missingLeft & missing) ? 0 : 1);
            if (child != trace.nodes[static_cast<size_t>(k) + 1]) {
                leaf = &leafFrom(tree, child, row);
                changed = true;
                break;
            }
        }
        leaves[t] = leaf;
    }
    if (changed)
        combine(leaves.data(), m_trees.size(), mean, variance);
    return changed;
}

} // namespace tunelab::detail
