// A trial's complete experiment spec: the base experiment with the trial's parameters applied.
#include "search/search_space.h"

#include "spec/spec_keys.h"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace tunelab {

using json = nlohmann::json;

namespace {

// The object at a dotted path of keys and [n] indexes ("model.layers[2]"), or nullptr.
json* objectAt(json& root, const std::string& path) {
    json* node = &root;
    size_t begin = 0;
    while (node && begin < path.size()) {
        const size_t end = std::min(path.find('.', begin), path.size());
        std::string step = path.substr(begin, end - begin);
        std::vector<size_t> indexes;
        while (!step.empty() && step.back() == ']') {
            const size_t open = step.rfind('[');
            if (open == std::string::npos)
                return nullptr;
            const std::string digits = step.substr(open + 1, step.size() - open - 2);
            if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos)
                return nullptr;
            indexes.insert(indexes.begin(), std::stoul(digits));
            step.erase(open);
        }
        node = node->is_object() && node->contains(step) ? &(*node)[step] : nullptr;
        for (size_t index : indexes)
            node = node && node->is_array() && index < node->size() ? &(*node)[index] : nullptr;
        begin = end + 1;
    }
    return node;
}

} // namespace

Result<std::string> trialExperimentJson(const std::string& baseExperimentJson, const Assignment& params) {
    auto applied = applyAssignment(baseExperimentJson, params);
    if (!applied.ok())
        return applied;
    // A trial that switches an object's "type" (optimizer.type: adam -> sgd) inherits the base's keys
    // of the old type (betas, eps), which the new type rejects. Keep the keys the new type accepts,
    // and any the trial sets itself (a wrong one is then reported, not silently dropped).
    json root = json::parse(applied.value(), nullptr, false, true);
    bool changed = false;
    const std::string suffix = ".type";
    for (const auto& [path, value] : params) {
        if (path.size() <= suffix.size() ||
            path.compare(path.size() - suffix.size(), suffix.size(), suffix) != 0)
            continue;
        const std::string objectPath = path.substr(0, path.size() - suffix.size());
        json* object = objectAt(root, objectPath);
        if (!object || !object->is_object() || !object->contains("type") || !(*object)["type"].is_string())
            continue;
        const auto keys = keysForType(objectPath, (*object)["type"].get<std::string>());
        if (!keys)
            continue;
        for (auto it = object->begin(); it != object->end();) {
            const std::string key = it.key();
            const std::string keyPath = objectPath + "." + key;
            const bool setByTrial = std::any_of(params.begin(), params.end(), [&keyPath](const auto& param) {
                const std::string& p = param.first;
                return p.rfind(keyPath, 0) == 0 &&
                       (p.size() == keyPath.size() || p[keyPath.size()] == '[' || p[keyPath.size()] == '.');
            });
            if (setByTrial || std::find(keys->begin(), keys->end(), key) != keys->end()) {
                ++it;
            } else {
                it = object->erase(it);
                changed = true;
            }
        }
    }
    return changed ? root.dump(2) : applied;
}

} // namespace tunelab
