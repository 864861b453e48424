#pragma once

// Which keys an object of the experiment spec with a switchable "type" accepts for each type, so that
// a trial that switches optimizer.type keeps exactly the keys the new type reads.

#include <optional>
#include <string>
#include <vector>

namespace tunelab {

// The keys ("type" first) of the object at `objectPath` when its type is `typeName`: the optimizer
// (from the optimizer catalog), the schedule, the loss and a model layer ("model.layers[2]"), the
// keys the spec reader reads for that type. nullopt for another object or a name that is no type.
std::optional<std::vector<std::string>> keysForType(const std::string& objectPath,
                                                    const std::string& typeName);

} // namespace tunelab
