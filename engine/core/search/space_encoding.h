#pragma once

// How the model-based samplers that search a box (GP and random forest) see a space and its trials;
// private to engine/core/search/*_sampler.cpp.

#include "search/sampler_support.h"
#include "search/samplers.h"
#include "search/search_space.h"

#include <cstdint>
#include <vector>

namespace tunelab::sampler_support {

// The columns of a point: one column in [0, 1] per numeric parameter (its unit coordinate), a
// one-hot block per choice parameter (none for a single choice). A parameter that does not apply
// sits at a fixed point: 0.5, or an all-zero block.
class SpaceEncoding {
public:
    struct Condition {
        int parent;
        std::vector<int> allowedChoices;       // parent is a choice parameter
        std::vector<ParamValue> allowedValues; // parent is numeric
    };
    struct Column {
        const SearchParameter* parameter;
        int offset = 0;
        int width = 0; // 1 numeric, k one-hot, 0 none
        bool choice = false;
        std::vector<Condition> conditions;
    };

    explicit SpaceEncoding(const SearchSpace& space);

    int width() const { return m_width; }
    const std::vector<Column>& columns() const { return m_columns; }

    // A trial's point; false when a value cannot be read.
    bool encode(const Assignment& assignment, std::vector<double>& x) const;
    // Makes a raw candidate valid: numeric coordinates snapped to their values, one-hot blocks set to
    // their largest entry, parameters that do not apply put at the fixed point.
    void normalise(std::vector<double>& x) const { normalise(x, nullptr); }
    // The same, also writing what parameterValues would write for the result (in the same pass).
    void normalise(std::vector<double>& x, std::vector<double>* values) const;
    Assignment decode(const std::vector<double>& x) const;
    void randomPoint(Rng& rng, std::vector<double>& x, std::vector<double>* values = nullptr) const;
    // A nearby point: Gaussian steps on numeric columns, an occasional other choice.
    void perturb(Rng& rng, double sigma, std::vector<double>& x) const;
    // One value per parameter that has columns, in column order: the unit coordinate of a numeric
    // parameter, the index of a choice; NaN where the parameter does not apply to the point.
    void parameterValues(const std::vector<double>& x, std::vector<double>& values) const;
    // The number of parameters that have columns (the length of parameterValues).
    int modelledParameters() const { return m_modelled; }

private:
    static void setInactive(const Column& column, std::vector<double>& x);
    bool isActive(const Column& column, const std::vector<double>& x, const char* active,
                  const int* chosen) const;

    std::vector<Column> m_columns;
    std::vector<int> m_byPath; // the columns with a width, by their parameter's path
    int m_width = 0;
    int m_modelled = 0;
};

// The trials a model learns from, read in content order (the number, then the value), so that a
// suggestion does not depend on the order of the history.
struct EncodedHistory {
    // Completed trials, then pruned ones. A pruned trial was stopped for looking worse than its peers:
    // it counts, but never better than the worst completed trial. Failed and waiting trials, values
    // that are not finite and assignments that cannot be read are left out.
    std::vector<std::vector<double>> points;
    std::vector<double> targets;
    // How many of `points` are completed trials (the first ones, by trial number).
    size_t completed = 0;
    // Running trials other than the one being suggested: pending evaluations.
    std::vector<std::vector<double>> running;
};

EncodedHistory encodeHistory(const SpaceEncoding& encoding, const std::vector<FinishedTrial>& history,
                             int64_t trialNumber);

} // namespace tunelab::sampler_support
