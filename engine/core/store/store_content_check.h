#pragma once

// Private to the run store's .cpp files.

#include "store/sql_connection.h"

#include <string>
#include <vector>

namespace tunelab::detail {

// What the store's rows hold that cannot be used, past what the database checks of itself: runs and
// studies whose stored JSON does not parse (a run that could no longer be continued or shown), and
// saved models and checkpoints whose archives are damaged (they would load with changed weights).
// One line per problem, naming the run or study; empty when all is well.
std::vector<std::string> storedContentProblems(sql::Connection& db);

} // namespace tunelab::detail
