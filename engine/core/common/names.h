#pragma once

// Names a user gives (experiments, studies, race set-ups) end up in tables, file names and terminals.

#include <string>
#include <string_view>

namespace tunelab {

// "" when `name` is fine to show anywhere, else why not: a control character (a NUL would cut the
// name short in C APIs; an escape sequence would drive the user's terminal).
std::string nameProblem(std::string_view name);

} // namespace tunelab
