#include "spec/optimizer_catalog.h"

#include "spec/object_reader.h"
#include "spec/optimizer_json.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace tunelab {

namespace {

constexpr double kUnbounded = std::numeric_limits<double>::infinity();

constexpr NumberRange kPositiveRange{0.0, kUnbounded, false, false};
constexpr NumberRange kNonNegativeRange{0.0, kUnbounded, true, false};
constexpr NumberRange kUnitOpenRange{0.0, 1.0, true, false};
constexpr NumberRange kUnitRange{0.0, 1.0, true, true};

const char* const kNonNegativeText = "a number >= 0";
const char* const kUnitOpenText = "a number from 0 to below 1";

OptimizerKey numberKey(const char* json, const char* label, NumberRange range, const char* expected,
                       int decimals, SearchHint search, double OptimizerSpec::*member) {
    return OptimizerKey{json,    label,  OptimizerKeyKind::Number, range, expected, decimals, search, member,
                        nullptr, nullptr};
}

OptimizerKey flagKey(const char* json, const char* label, bool OptimizerSpec::*member) {
    return OptimizerKey{
        json,    label, OptimizerKeyKind::Bool, kUnitRange, "true or false", 0, SearchHint{}, nullptr,
        nullptr, member};
}

// Each key once, in the order forms show them.
const std::vector<OptimizerKey>& keyTable() {
    static const std::vector<OptimizerKey> keys = {
        numberKey("lr", "Learning rate", kPositiveRange, "a positive learning rate", 7,
                  SearchHint{0.1, 10.0, true, true, 1.0}, &OptimizerSpec::lr),
        numberKey("weight_decay", "Weight decay", kNonNegativeRange, kNonNegativeText, 6,
                  SearchHint{1e-6, 1e-2, true, false, 0.0}, &OptimizerSpec::weightDecay),
        numberKey("l1", "L1 penalty", kNonNegativeRange, kNonNegativeText, 6,
                  SearchHint{1e-6, 1e-2, true, false, 0.0}, &OptimizerSpec::l1),
        numberKey("momentum", "Momentum", kUnitOpenRange, kUnitOpenText, 3,
                  SearchHint{0.0, 0.99, false, false, 0.0}, &OptimizerSpec::momentum),
        numberKey("dampening", "Dampening", kUnitRange, "a number from 0 to 1", 3,
                  SearchHint{0.0, 0.9, false, false, 0.0}, &OptimizerSpec::dampening),
        flagKey("nesterov", "Nesterov", &OptimizerSpec::nesterov),
        OptimizerKey{"betas", "Beta", OptimizerKeyKind::Pair, kUnitOpenRange,
                     "two numbers from 0 to below 1 like [0.9, 0.999]", 5,
                     SearchHint{0.8, 0.9999, false, false, 0.0}, &OptimizerSpec::beta1, &OptimizerSpec::beta2,
                     nullptr},
        numberKey("eps", "Epsilon", kPositiveRange, "a positive number", 10,
                  SearchHint{1e-10, 1e-6, true, false, 0.0}, &OptimizerSpec::eps),
        flagKey("amsgrad", "AMSGrad", &OptimizerSpec::amsgrad),
        numberKey("alpha", "Alpha", kUnitOpenRange, kUnitOpenText, 4,
                  SearchHint{0.9, 0.999, false, false, 0.0}, &OptimizerSpec::alpha),
        flagKey("centered", "Centered", &OptimizerSpec::centered),
        numberKey("initial_accumulator", "Initial accumulator", kNonNegativeRange, kNonNegativeText, 4,
                  SearchHint{0.0, 1.0, false, false, 0.0}, &OptimizerSpec::initialAccumulator),
        numberKey("lr_decay", "Learning-rate decay", kNonNegativeRange, kNonNegativeText, 6,
                  SearchHint{0.0, 0.01, false, false, 0.0}, &OptimizerSpec::lrDecay),
    };
    return keys;
}

const OptimizerKey& key(std::string_view json) {
    return *findOptimizerKey(json);
}

OptimizerInfo makeInfo(OptimizerType type, const char* json, const char* display,
                       std::initializer_list<const char*> typeKeys) {
    OptimizerInfo info{type, json, display, OptimizerSpec{}, {}};
    info.defaults.type = type;
    for (const char* name : {"lr", "weight_decay", "l1"})
        info.keys.push_back(&key(name));
    for (const char* name : typeKeys)
        info.keys.push_back(&key(name));
    return info;
}

} // namespace

double OptimizerKey::numberIn(const OptimizerSpec& optimizer, int element) const {
    return element == 1 && second ? optimizer.*second : optimizer.*number;
}

void OptimizerKey::setNumber(OptimizerSpec& optimizer, double value, int element) const {
    (element == 1 && second ? optimizer.*second : optimizer.*number) = value;
}

bool OptimizerKey::sameIn(const OptimizerSpec& a, const OptimizerSpec& b) const {
    switch (kind) {
    case OptimizerKeyKind::Bool:
        return flagIn(a) == flagIn(b);
    case OptimizerKeyKind::Pair:
        return numberIn(a, 0) == numberIn(b, 0) && numberIn(a, 1) == numberIn(b, 1);
    case OptimizerKeyKind::Number:
        break;
    }
    return numberIn(a) == numberIn(b);
}

void OptimizerKey::copy(const OptimizerSpec& from, OptimizerSpec& to) const {
    if (kind == OptimizerKeyKind::Bool) {
        setFlag(to, flagIn(from));
        return;
    }
    setNumber(to, numberIn(from, 0), 0);
    if (kind == OptimizerKeyKind::Pair)
        setNumber(to, numberIn(from, 1), 1);
}

bool OptimizerInfo::accepts(std::string_view jsonKey) const {
    return jsonKey == "type" || std::any_of(keys.begin(), keys.end(),
                                            [jsonKey](const OptimizerKey* k) { return jsonKey == k->json; });
}

const std::vector<OptimizerInfo>& optimizerCatalog() {
    static const std::vector<OptimizerInfo> catalog = [] {
        std::vector<OptimizerInfo> infos;
        infos.push_back(makeInfo(OptimizerType::Sgd, "sgd", "SGD", {"momentum", "nesterov", "dampening"}));
        infos.push_back(makeInfo(OptimizerType::Adagrad, "adagrad", "Adagrad",
                                 {"eps", "initial_accumulator", "lr_decay"}));
        // PyTorch's Adagrad adds 1e-10 to the denominator, not Adam's 1e-8.
        infos.back().defaults.eps = 1e-10;
        infos.push_back(
            makeInfo(OptimizerType::RmsProp, "rmsprop", "RMSprop", {"alpha", "eps", "momentum", "centered"}));
        infos.push_back(makeInfo(OptimizerType::Adam, "adam", "Adam", {"betas", "eps", "amsgrad"}));
        infos.push_back(makeInfo(OptimizerType::AdamW, "adamw", "AdamW", {"betas", "eps", "amsgrad"}));
        // Decoupled weight decay is the point of AdamW; PyTorch's default.
        infos.back().defaults.weightDecay = 0.01;
        return infos;
    }();
    return catalog;
}

const OptimizerInfo& optimizerInfo(OptimizerType type) {
    for (const OptimizerInfo& info : optimizerCatalog()) {
        if (info.type == type)
            return info;
    }
    return optimizerCatalog().front();
}

const OptimizerInfo* findOptimizer(std::string_view jsonName) {
    for (const OptimizerInfo& info : optimizerCatalog()) {
        if (jsonName == info.json)
            return &info;
    }
    return nullptr;
}

const std::vector<const OptimizerKey*>& allOptimizerKeys() {
    static const std::vector<const OptimizerKey*> keys = [] {
        std::vector<const OptimizerKey*> list;
        for (const OptimizerKey& k : keyTable())
            list.push_back(&k);
        return list;
    }();
    return keys;
}

const OptimizerKey* findOptimizerKey(std::string_view jsonKey) {
    for (const OptimizerKey& k : keyTable()) {
        if (jsonKey == k.json)
            return &k;
    }
    return nullptr;
}

OptimizerSpec defaultOptimizer(OptimizerType type) {
    return optimizerInfo(type).defaults;
}

std::vector<std::string> optimizerJsonKeys(OptimizerType type) {
    std::vector<std::string> keys{"type"};
    for (const OptimizerKey* k : optimizerInfo(type).keys)
        keys.emplace_back(k->json);
    return keys;
}

nlohmann::ordered_json optimizerJsonObject(const OptimizerSpec& optimizer) {
    const OptimizerInfo& info = optimizerInfo(optimizer.type);
    nlohmann::ordered_json json;
    json["type"] = info.json;
    for (const OptimizerKey* k : info.keys) {
        switch (k->kind) {
        case OptimizerKeyKind::Number:
            json[k->json] = k->numberIn(optimizer);
            break;
        case OptimizerKeyKind::Bool:
            json[k->json] = k->flagIn(optimizer);
            break;
        case OptimizerKeyKind::Pair:
            json[k->json] = {k->numberIn(optimizer, 0), k->numberIn(optimizer, 1)};
            break;
        }
    }
    return json;
}

void readOptimizerObject(const Json& json, const std::string& path, OptimizerSpec& optimizer,
                         std::vector<std::string>& errors) {
    if (!expectObject(json, path, errors))
        return;
    ObjectReader reader(json, path, errors);
    if (!reader.choice("type", optimizerTypeNames(), optimizer.type, true, "optimizer"))
        return;
    const OptimizerInfo& info = optimizerInfo(optimizer.type);
    optimizer = info.defaults;
    for (const OptimizerKey* k : info.keys) {
        const auto valid = [k](double value) { return k->range.contains(value); };
        switch (k->kind) {
        case OptimizerKeyKind::Number:
            reader.number(k->json, optimizer.*(k->number), valid, k->expected);
            break;
        case OptimizerKeyKind::Bool:
            reader.boolean(k->json, optimizer.*(k->flag));
            break;
        case OptimizerKeyKind::Pair:
            if (const Json* pair = reader.find(k->json)) {
                const bool ok = pair->is_array() && pair->size() == 2 && (*pair)[0].is_number() &&
                                (*pair)[1].is_number() && valid((*pair)[0].get<double>()) &&
                                valid((*pair)[1].get<double>());
                if (ok) {
                    k->setNumber(optimizer, (*pair)[0].get<double>(), 0);
                    k->setNumber(optimizer, (*pair)[1].get<double>(), 1);
                } else {
                    reader.error(k->json,
                                 std::string("expected ") + k->expected + ", got " + describeValue(*pair));
                }
            }
            break;
        }
    }
    if (optimizer.nesterov && info.accepts("nesterov")) {
        // PyTorch's rule: Nesterov momentum needs momentum and no dampening.
        if (optimizer.momentum <= 0.0)
            reader.error("nesterov", "Nesterov momentum needs " + reader.pathOf("momentum") + " > 0");
        else if (optimizer.dampening != 0.0)
            reader.error("nesterov", "Nesterov momentum needs " + reader.pathOf("dampening") + " = 0");
    }
    reader.finish(std::string("the ") + info.json + " optimizer");
}

std::string optimizerToJson(const OptimizerSpec& optimizer, int indent) {
    return optimizerJsonObject(optimizer).dump(indent);
}

OptimizerSpec readOptimizerJson(std::string_view jsonText, std::vector<std::string>& errors,
                                const std::string& path) {
    OptimizerSpec optimizer;
    const Json json = Json::parse(jsonText.begin(), jsonText.end(), nullptr, false, true);
    if (json.is_discarded()) {
        errors.push_back(path + ": invalid JSON");
        return optimizer;
    }
    readOptimizerObject(json, path, optimizer, errors);
    return optimizer;
}

} // namespace tunelab
