#pragma once

// The one description of TuneLab's optimizers: for each type its JSON name, display name and the keys
// it accepts; for each key its label, kind, valid range with the reader's message, a starting range
// for a search and where it lives in OptimizerSpec; and each type's defaults. The spec reader and
// writer, the training form, the race set-ups, search-space suggestions and a trial's experiment all
// ask this catalog instead of keeping their own lists.

#include "spec/number_rules.h"
#include "spec/spec.h"

#include <string>
#include <string_view>
#include <vector>

namespace tunelab {

enum class OptimizerKeyKind {
    Number, // one number
    Bool,   // true or false
    Pair,   // two numbers, each in the key's range: "betas": [0.9, 0.999]
};

// Where a search over the key starts. With `relative`, low and high multiply the current value and
// the range stays at or below `limit`.
struct SearchHint {
    double low = 0.0;
    double high = 1.0;
    bool log = false;
    bool relative = false;
    double limit = 0.0;
};

struct OptimizerKey {
    const char* json;  // "momentum"
    const char* label; // "Momentum"; a pair's elements add " 1" and " 2"
    OptimizerKeyKind kind;
    NumberRange range;    // numbers and each element of a pair
    const char* expected; // the reader's message: "a number from 0 to below 1"
    int decimals;         // digits after the point a form shows
    SearchHint search;
    double OptimizerSpec::*number; // Number, and a pair's first element
    double OptimizerSpec::*second; // a pair's second element
    bool OptimizerSpec::*flag;     // Bool

    // The value of a number or of a pair's element (0 or 1) in `optimizer`.
    double numberIn(const OptimizerSpec& optimizer, int element = 0) const;
    void setNumber(OptimizerSpec& optimizer, double value, int element = 0) const;
    bool flagIn(const OptimizerSpec& optimizer) const { return optimizer.*flag; }
    void setFlag(OptimizerSpec& optimizer, bool value) const { optimizer.*flag = value; }
    // Whether the key holds the same value in both.
    bool sameIn(const OptimizerSpec& a, const OptimizerSpec& b) const;
    // Copies the key's value from `from` into `to`.
    void copy(const OptimizerSpec& from, OptimizerSpec& to) const;
};

struct OptimizerInfo {
    OptimizerType type;
    const char* json;    // "adamw"
    const char* display; // "AdamW"
    // Every key's default for this type (AdamW: weight_decay 0.01; Adagrad: eps 1e-10).
    OptimizerSpec defaults;
    // The keys besides "type", in the order the writer writes them.
    std::vector<const OptimizerKey*> keys;

    bool accepts(std::string_view jsonKey) const;
};

// Every optimizer, in the order forms offer them.
const std::vector<OptimizerInfo>& optimizerCatalog();
const OptimizerInfo& optimizerInfo(OptimizerType type);
// nullptr for a name that is no optimizer's.
const OptimizerInfo* findOptimizer(std::string_view jsonName);
// Every key of any optimizer, once each, in the order forms show them.
const std::vector<const OptimizerKey*>& allOptimizerKeys();
// nullptr for a key that no optimizer accepts.
const OptimizerKey* findOptimizerKey(std::string_view jsonKey);
// The optimizer of `type` with every key at its default.
OptimizerSpec defaultOptimizer(OptimizerType type);
// The JSON keys `type` accepts, "type" first.
std::vector<std::string> optimizerJsonKeys(OptimizerType type);

// The "optimizer" object as JSON with every key of its type written out, which reads back to the
// same optimizer. indent < 0 gives one line.
std::string optimizerToJson(const OptimizerSpec& optimizer, int indent = -1);
// Reads an "optimizer" object. Keys that are missing take the type's defaults; every problem is
// added to `errors`, naming `path` ("optimizer.momentum: ..."), and the returned optimizer holds
// whatever could be read.
OptimizerSpec readOptimizerJson(std::string_view jsonText, std::vector<std::string>& errors,
                                const std::string& path = "optimizer");

} // namespace tunelab
