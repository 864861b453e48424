// A trial's complete experiment spec: the base experiment with the trial's parameters applied.
#include "search/search_space.h"

#include "spec/spec.h"

#include <nlohmann/json.hpp>

#include <set>

namespace tunelab {

using json = nlohmann::json;

Result<std::string> trialExperimentJson(const std::string& baseExperimentJson, const Assignment& params) {
    auto applied = applyAssignment(baseExperimentJson, params);
    if (!applied.ok())
        return applied;
    // A trial that switches an object's "type" (optimizer.type: adam -> sgd) inherits the base's keys
    // of the old type (betas, eps), which the new type rejects. Drop the keys the spec reader names
    // as unknown inside such an object, as long as the trial did not set them itself.
    std::set<std::string> switchedObjects;
    for (const auto& [path, value] : params) {
        const std::string suffix = ".type";
        if (path.size() > suffix.size() &&
            path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0)
            switchedObjects.insert(path.substr(0, path.size() - suffix.size()));
    }
    if (switchedObjects.empty())
        return applied;
    json root = json::parse(applied.value(), nullptr, false, true);
    for (int attempt = 0; attempt < 8; ++attempt) {
        const auto parsed = parseExperimentSpec(root.dump());
        if (parsed.ok())
            break;
        bool removed = false;
        for (const auto& message : parsed.errors()) {
            for (const auto& object : switchedObjects) {
                // Messages read "optimizer.betas: unknown key ..." for keys of another type.
                if (message.rfind(object + ".", 0) != 0 || message.find("unknown key") == std::string::npos)
                    continue;
                const auto colon = message.find(':');
                const std::string key = message.substr(object.size() + 1, colon - object.size() - 1);
                if (params.count(object + "." + key) || key.find_first_of(".[") != std::string::npos)
                    continue;
                json* target = &root;
                std::string rest = object;
                // Walk simple dotted keys (optimizer, schedule); arrays keep the error.
                while (!rest.empty() && target && target->is_object()) {
                    const auto dot = rest.find('.');
                    const std::string step = rest.substr(0, dot);
                    target = target->contains(step) ? &(*target)[step] : nullptr;
                    rest = dot == std::string::npos ? "" : rest.substr(dot + 1);
                }
                if (target && target->is_object() && target->erase(key) > 0)
                    removed = true;
            }
        }
        if (!removed)
            break;
    }
    return root.dump(2);
}

} // namespace tunelab
