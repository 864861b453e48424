#include "search/random_forest.h"

#include "search/sampler_support.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <utility>

// Growing the trees of a RandomForest; random_forest.cpp predicts with them.

namespace tunelab::detail {

using sampler_support::Rng;

namespace {

// The best split found so far at a node. Sums are of targets centred on the node's mean, so the
// score of a side is sum^2 / count and a split's gain is the drop in squared error.
struct Split {
    double gain = 0.0;
    int feature = -1;
    bool missingLeft = false;
    bool activity = false;          // rows without the feature on the left, every row with it on the right
    size_t cut = 0;                 // numeric: active rows (in value order) on the left; categorical: values
    double threshold = 0.0;         // numeric, with random thresholds: the threshold drawn
    std::vector<int> categoryOrder; // categorical: the values present, by mean target
};

// One side of a split: the sum of its centred targets and its number of rows (a row drawn twice by
// the bootstrap counts twice).
struct Side {
    double sum = 0.0;
    int count = 0;
};

} // namespace

// Grows the trees of one fit. Every feature's rows are sorted once; each tree keeps the rows its
// bootstrap drew, with the number of times each was drawn as its weight, in that order per feature,
// and a split partitions every feature's range stably, so a node's rows stay sorted by every feature
// without sorting again.
class RandomForest::Builder {
public:
    Builder(const RandomForest& forest, const std::vector<std::vector<double>>& rows,
            const std::vector<double>& targets)
        : m_categories(forest.m_categories)
        , m_settings(forest.m_settings)
        , m_targets(targets)
        , m_features(forest.m_categories.size()) {
        const size_t n = rows.size();
        m_columns.assign(m_features, std::vector<double>(n));
        m_rowOrder.assign(m_features, std::vector<int>(n));
        for (size_t f = 0; f < m_features; ++f) {
            for (size_t r = 0; r < n; ++r)
                m_columns[f][r] = rows[r][f];
            std::vector<int>& order = m_rowOrder[f];
            std::iota(order.begin(), order.end(), 0);
            const std::vector<double>& column = m_columns[f];
            std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
                const double va = column[static_cast<size_t>(a)], vb = column[static_cast<size_t>(b)];
                if (std::isnan(va) || std::isnan(vb))
                    return !std::isnan(va) && std::isnan(vb);
                return va < vb;
            });
        }
        m_goesLeft.assign(n, 0);
        m_weight.assign(n, 0);
        m_weightedTarget.assign(n, 0.0);
        m_centred.assign(n, 0.0);
        m_candidates.resize(m_features);
        m_reciprocal.resize(n + 1, 0.0);
        for (size_t k = 1; k <= n; ++k)
            m_reciprocal[k] = 1.0 / static_cast<double>(k);
    }

    Tree grow(Rng& rng) {
        drawSamples(rng);
        Tree tree;
        struct Pending {
            int node;
            size_t begin, end;
            int depth;
        };
        std::vector<Pending> stack = {{0, 0, m_order[0].size(), 0}};
        tree.nodes.emplace_back();
        Split split;
        while (!stack.empty()) {
            const Pending at = stack.back();
            stack.pop_back();
            if (!findSplit(at.begin, at.end, at.depth, rng, split)) {
                makeLeaf(tree.nodes[static_cast<size_t>(at.node)], at.begin, at.end);
                continue;
            }
            const size_t middle = applySplit(split, at.begin, at.end, rng, tree, at.node);
            const int left = static_cast<int>(tree.nodes.size());
            tree.nodes.emplace_back();
            tree.nodes.emplace_back();
            tree.nodes[static_cast<size_t>(at.node)].left = left;
            stack.push_back({left + 1, middle, at.end, at.depth + 1});
            stack.push_back({left, at.begin, middle, at.depth + 1});
        }
        return tree;
    }

private:
    void drawSamples(Rng& rng) {
        const size_t n = m_targets.size();
        std::fill(m_weight.begin(), m_weight.end(), m_settings.bootstrap ? 0 : 1);
        if (m_settings.bootstrap) {
            for (size_t i = 0; i < n; ++i)
                ++m_weight[rng.index(n)];
        }
        for (size_t r = 0; r < n; ++r)
            m_weightedTarget[r] = m_weight[r] * m_targets[r];
        // With no feature at all, m_order[0] still lists the rows (the tree is one leaf).
        m_order.assign(std::max<size_t>(1, m_features), {});
        for (size_t f = 0; f < m_order.size(); ++f) {
            m_order[f].reserve(n);
            for (size_t i = 0; i < n; ++i) {
                const int row = m_features == 0 ? static_cast<int>(i) : m_rowOrder[f][i];
                if (m_weight[static_cast<size_t>(row)] > 0)
                    m_order[f].push_back(row);
            }
        }
    }

    // The weighted count and centred sum of rows [begin, end) of `order`.
    Side sideOf(const int* order, size_t begin, size_t end) const {
        Side side;
        for (size_t i = begin; i < end; ++i) {
            side.sum += m_centred[static_cast<size_t>(order[i])];
            side.count += m_weight[static_cast<size_t>(order[i])];
        }
        return side;
    }

    void makeLeaf(Node& node, size_t begin, size_t end) const {
        const int* rows = m_order[0].data();
        double sum = 0.0, count = 0.0;
        for (size_t i = begin; i < end; ++i) {
            sum += m_weightedTarget[static_cast<size_t>(rows[i])];
            count += m_weight[static_cast<size_t>(rows[i])];
        }
        node.value = count > 0 ? sum / count : 0.0;
        double squares = 0.0;
        for (size_t i = begin; i < end; ++i) {
            const double d = m_targets[static_cast<size_t>(rows[i])] - node.value;
            squares += m_weight[static_cast<size_t>(rows[i])] * d * d;
        }
        node.variance = count > 0 ? squares / count : 0.0;
    }

    bool findSplit(size_t begin, size_t end, int depth, Rng& rng, Split& best) {
        if (m_features == 0 || depth >= m_settings.maxDepth)
            return false;
        const int* rows = m_order[0].data();
        double sum = 0.0;
        int count = 0;
        for (size_t i = begin; i < end; ++i) {
            sum += m_weightedTarget[static_cast<size_t>(rows[i])];
            count += m_weight[static_cast<size_t>(rows[i])];
        }
        if (count < std::max(2, m_settings.minSamplesSplit))
            return false;
        const double centre = sum / count;
        double squares = 0.0;
        m_node = {0.0, count};
        for (size_t i = begin; i < end; ++i) {
            const size_t row = static_cast<size_t>(rows[i]);
            const double d = m_targets[row] - centre;
            squares += m_weight[row] * d * d;
            // Each row's weighted target centred on the node's mean, so sides sum without cancelling.
            m_centred[row] = m_weight[row] * d;
            m_node.sum += m_centred[row];
        }
        if (!(squares > 0.0))
            return false;

        std::iota(m_candidates.begin(), m_candidates.end(), size_t{0});
        size_t tried = m_features;
        if (m_settings.featureRatio < 1.0) {
            tried = std::max<size_t>(1, static_cast<size_t>(std::floor(m_settings.featureRatio *
                                                                       static_cast<double>(m_features))));
            for (size_t i = 0; i < tried; ++i)
                std::swap(m_candidates[i], m_candidates[i + rng.index(m_features - i)]);
        }
        best.gain = 1e-12 * squares; // a split must explain more than rounding
        best.feature = -1;
        // No split can explain more than all of the node's squared error: once one does, later
        // features could only tie, and a tie keeps the earlier feature.
        const double perfect = squares * (1.0 - 1e-12);
        for (size_t i = 0; i < tried && !(best.feature >= 0 && best.gain >= perfect); ++i) {
            if (m_categories[m_candidates[i]] > 0)
                scanCategorical(m_candidates[i], begin, end, best);
            else
                scanNumeric(m_candidates[i], begin, end, rng, best);
        }
        return best.feature >= 0;
    }

    // Whether a split with these two sides beats `best`; if so its gain is now best.gain.
    bool beats(const Side& left, const Side& right, Split& best) const {
        const int least = std::max(1, m_settings.minSamplesLeaf);
        if (left.count < least || right.count < least)
            return false;
        // sum^2 / count per side, by a table of reciprocals: divisions would dominate the fit.
        const double gain = left.sum * left.sum * m_reciprocal[static_cast<size_t>(left.count)] +
                            right.sum * right.sum * m_reciprocal[static_cast<size_t>(right.count)];
        if (!(gain > best.gain))
            return false;
        best.gain = gain;
        return true;
    }

    static void keep(Split& best, size_t feature, bool missingLeft, bool activity, size_t cut) {
        best.feature = static_cast<int>(feature);
        best.missingLeft = missingLeft;
        best.activity = activity;
        best.cut = cut;
    }

    // Active rows are split between distinct values, rows without the feature go to one side or the
    // other; the split that sends every row without the feature one way and the rest the other is
    // tried too.
    void scanNumeric(size_t feature, size_t begin, size_t end, Rng& rng, Split& best) {
        const int* order = m_order[feature].data();
        const double* column = m_columns[feature].data();
        size_t activeEnd = end;
        while (activeEnd > begin && std::isnan(column[order[activeEnd - 1]]))
            --activeEnd;
        if (activeEnd == end && column[order[begin]] == column[order[end - 1]])
            return; // one value and nothing missing: no split
        const Side missing = sideOf(order, activeEnd, end);
        const Side active{m_node.sum - missing.sum, m_node.count - missing.count};
        if (missing.count > 0 && active.count > 0 && beats(missing, active, best))
            keep(best, feature, true, true, 0);
        if (m_settings.randomThresholds) {
            if (activeEnd > begin)
                tryRandomThreshold(feature, begin, activeEnd, missing, active, rng, best);
            return;
        }
        // The scan keeps its best in locals: this loop is most of a fit.
        const double* centred = m_centred.data();
        const int* weights = m_weight.data();
        const double* reciprocal = m_reciprocal.data();
        const int least = std::max(1, m_settings.minSamplesLeaf);
        double bestGain = best.gain;
        size_t bestCut = 0;
        bool bestMissingLeft = false;
        double leftSum = 0.0;
        int leftCount = 0;
        double next = activeEnd > begin ? column[order[begin]] : 0.0;
        if (missing.count == 0 && least == 1) {
            // The usual case, without the checks that cannot fail: every row has the feature and
            // both sides of a cut between two values hold a row.
            for (size_t i = begin; i + 1 < activeEnd; ++i) {
                const double current = next;
                next = column[order[i + 1]];
                leftSum += centred[order[i]];
                leftCount += weights[order[i]];
                if (!(current < next))
                    continue;
                const double rightSum = active.sum - leftSum;
                const double gain = leftSum * leftSum * reciprocal[leftCount] +
                                    rightSum * rightSum * reciprocal[active.count - leftCount];
                if (gain > bestGain) {
                    bestGain = gain;
                    bestCut = i + 1 - begin;
                }
            }
            if (bestCut > 0) {
                best.gain = bestGain;
                keep(best, feature, false, false, bestCut);
            }
            return;
        }
        for (size_t i = begin; i + 1 < activeEnd; ++i) {
            const double current = next;
            next = column[order[i + 1]];
            leftSum += centred[order[i]];
            leftCount += weights[order[i]];
            if (!(current < next))
                continue;
            const double rightSum = active.sum - leftSum;
            const int rightCount = active.count - leftCount;
            // Rows without the feature on the right, then on the left.
            const double withRight = rightSum + missing.sum;
            const int withRightCount = rightCount + missing.count;
            if (leftCount >= least && withRightCount >= least) {
                const double gain = leftSum * leftSum * reciprocal[leftCount] +
                                    withRight * withRight * reciprocal[withRightCount];
                if (gain > bestGain) {
                    bestGain = gain;
                    bestCut = i + 1 - begin;
                    bestMissingLeft = false;
                }
            }
            if (missing.count == 0)
                continue;
            const double withLeft = leftSum + missing.sum;
            const int withLeftCount = leftCount + missing.count;
            if (withLeftCount >= least && rightCount >= least) {
                const double gain = withLeft * withLeft * reciprocal[withLeftCount] +
                                    rightSum * rightSum * reciprocal[rightCount];
                if (gain > bestGain) {
                    bestGain = gain;
                    bestCut = i + 1 - begin;
                    bestMissingLeft = true;
                }
            }
        }
        if (bestCut > 0) {
            best.gain = bestGain;
            keep(best, feature, bestMissingLeft, false, bestCut);
        }
    }

    // One threshold drawn between the smallest and largest active value, with the rows without the
    // feature on either side.
    void tryRandomThreshold(size_t feature, size_t begin, size_t activeEnd, const Side& missing,
                            const Side& active, Rng& rng, Split& best) {
        const int* order = m_order[feature].data();
        const double* column = m_columns[feature].data();
        const double low = column[order[begin]], high = column[order[activeEnd - 1]];
        if (!(low < high))
            return;
        double threshold = low + rng.uniform() * (high - low);
        if (!(threshold >= low && threshold < high))
            threshold = low;
        Side left;
        size_t i = begin;
        for (; column[order[i]] <= threshold; ++i) {
            left.sum += m_centred[static_cast<size_t>(order[i])];
            left.count += m_weight[static_cast<size_t>(order[i])];
        }
        const Side right{active.sum - left.sum, active.count - left.count};
        if (beats(left, {right.sum + missing.sum, right.count + missing.count}, best)) {
            keep(best, feature, false, false, i - begin);
            best.threshold = threshold;
        }
        if (missing.count > 0 && beats({left.sum + missing.sum, left.count + missing.count}, right, best)) {
            keep(best, feature, true, false, i - begin);
            best.threshold = threshold;
        }
    }

    // The values present at the node, ordered by their mean target; each cut of that order is a set.
    void scanCategorical(size_t feature, size_t begin, size_t end, Split& best) {
        const size_t values = static_cast<size_t>(m_categories[feature]);
        m_byValue.assign(values, Side{});
        Side missing;
        const int* order = m_order[feature].data();
        const double* column = m_columns[feature].data();
        for (size_t i = begin; i < end; ++i) {
            const double v = column[order[i]];
            Side& side = std::isnan(v) ? missing : m_byValue[std::min(values - 1, static_cast<size_t>(v))];
            side.sum += m_centred[static_cast<size_t>(order[i])];
            side.count += m_weight[static_cast<size_t>(order[i])];
        }
        m_present.clear();
        Side active;
        for (size_t c = 0; c < values; ++c) {
            Side& side = m_byValue[c];
            if (side.count == 0)
                continue;
            m_present.push_back(static_cast<int>(c));
            active.sum += side.sum;
            active.count += side.count;
        }
        if (missing.count > 0 && active.count > 0 && beats(missing, active, best)) {
            keep(best, feature, true, true, 0);
            best.categoryOrder = m_present;
        }
        // A stable insertion sort by mean: few values, and no allocation per node.
        auto meanOf = [&](int c) {
            const Side& side = m_byValue[static_cast<size_t>(c)];
            return side.sum / side.count;
        };
        for (size_t i = 1; i < m_present.size(); ++i) {
            const int c = m_present[i];
            const double mean = meanOf(c);
            size_t j = i;
            for (; j > 0 && meanOf(m_present[j - 1]) > mean; --j)
                m_present[j] = m_present[j - 1];
            m_present[j] = c;
        }
        Side left;
        for (size_t k = 0; k + 1 < m_present.size(); ++k) {
            const Side& side = m_byValue[static_cast<size_t>(m_present[k])];
            left.sum += side.sum;
            left.count += side.count;
            const Side right{active.sum - left.sum, active.count - left.count};
            bool improved = false;
            if (beats(left, {right.sum + missing.sum, right.count + missing.count}, best)) {
                keep(best, feature, false, false, k + 1);
                improved = true;
            }
            if (missing.count > 0 &&
                beats({left.sum + missing.sum, left.count + missing.count}, right, best)) {
                keep(best, feature, true, false, k + 1);
                improved = true;
            }
            if (improved)
                best.categoryOrder = m_present;
        }
    }

    // Writes the split into the node and partitions every feature's rows; returns where the right
    // side begins.
    size_t applySplit(const Split& split, size_t begin, size_t end, Rng& rng, Tree& tree, int nodeIndex) {
        const size_t feature = static_cast<size_t>(split.feature);
        const int* order = m_order[feature].data();
        const double* column = m_columns[feature].data();
        bool anyMissing = false;
        for (size_t i = begin; i < end && !anyMissing; ++i)
            anyMissing = std::isnan(column[order[i]]);
        Node node;
        node.feature = split.feature;
        // With no row lacking the feature here there is nothing to learn from: either side.
        node.missingLeft = anyMissing ? split.missingLeft : rng.uniform() < 0.5;
        const size_t values = static_cast<size_t>(m_categories[feature]);
        if (values > 0) {
            node.categoryOffset = static_cast<int>(tree.goesLeft.size());
            tree.goesLeft.resize(tree.goesLeft.size() + values, 2);
            char* goesLeft = &tree.goesLeft[static_cast<size_t>(node.categoryOffset)];
            for (size_t k = 0; k < split.categoryOrder.size(); ++k)
                goesLeft[split.categoryOrder[k]] = !split.activity && k < split.cut ? 1 : 0;
            // A value no row here has: either side, so the trees disagree about it.
            for (size_t c = 0; c < values; ++c) {
                if (goesLeft[c] == 2)
                    goesLeft[c] = split.activity ? 0 : (rng.uniform() < 0.5 ? 1 : 0);
            }
        } else if (split.activity) {
            node.value = -std::numeric_limits<double>::infinity();
        } else if (m_settings.randomThresholds) {
            node.value = split.threshold;
        } else {
            // Anywhere between the two values, so that the trees' steps spread over the gap.
            const double low = column[order[begin + split.cut - 1]];
            const double high = column[order[begin + split.cut]];
            node.value = low + rng.uniform() * (high - low);
            if (!(node.value >= low && node.value < high))
                node.value = low;
        }
        const char* goesLeft =
            values > 0 ? &tree.goesLeft[static_cast<size_t>(node.categoryOffset)] : nullptr;
        size_t leftRows = 0;
        for (size_t i = begin; i < end; ++i) {
            const double v = column[order[i]];
            bool left = node.missingLeft;
            if (!std::isnan(v))
                left =
                    goesLeft ? goesLeft[std::min(values - 1, static_cast<size_t>(v))] != 0 : v <= node.value;
            m_goesLeft[static_cast<size_t>(order[i])] = left ? 1 : 0;
            leftRows += left ? 1 : 0;
        }
        m_buffer.resize(end - begin);
        const char* side = m_goesLeft.data();
        for (size_t f = 0; f < m_features; ++f) {
            int* rows = m_order[f].data();
            int* right = m_buffer.data();
            size_t write = begin;
            for (size_t i = begin; i < end; ++i) {
                const int row = rows[i];
                if (side[row])
                    rows[write++] = row;
                else
                    *right++ = row;
            }
            std::copy(m_buffer.data(), right, rows + write);
        }
        tree.nodes[static_cast<size_t>(nodeIndex)] = node;
        return begin + leftRows;
    }

    const std::vector<int>& m_categories;
    const ForestSettings& m_settings;
    const std::vector<double>& m_targets;
    size_t m_features;
    std::vector<std::vector<double>> m_columns; // [feature][row]
    std::vector<std::vector<int>> m_rowOrder;   // [feature]: rows by value, NaN last
    std::vector<std::vector<int>> m_order;      // [feature]: the tree's rows, node by node, by value
    std::vector<int> m_weight;                  // [row]: times the tree's bootstrap drew it
    std::vector<double> m_weightedTarget;       // [row]: weight * target
    std::vector<double> m_centred;              // [row]: weight * (target - the mean at the node being split)
    std::vector<char> m_goesLeft;               // [row]: its side in the split being applied
    std::vector<int> m_buffer;
    std::vector<size_t> m_candidates; // the features tried at a node
    std::vector<Side> m_byValue;
    std::vector<int> m_present;
    std::vector<double> m_reciprocal; // [k]: 1 / k
    Side m_node; // the node being split: its centred sum (zero but for rounding) and count
};

RandomForest::RandomForest(std::vector<int> categories, ForestSettings settings)
    : m_categories(std::move(categories))
    , m_settings(settings) {}

void RandomForest::fit(const std::vector<std::vector<double>>& rows, const std::vector<double>& targets,
                       uint64_t seed) {
    m_trees.clear();
    if (rows.empty() || rows.size() != targets.size())
        return;
    Builder builder(*this, rows, targets);
    Rng rng(seed);
    for (int t = 0; t < std::max(1, m_settings.trees); ++t)
        m_trees.push_back(builder.grow(rng));
}

} // namespace tunelab::detail
