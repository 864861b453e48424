#pragma once

#include "study/study.h"

#include <string>
#include <vector>

namespace tunelab {

// The settings of a study that make no sense for its budget and its experiment's epochs, each in
// words that say what will happen and what to change ("the sampler's 10 random-start trials use
// the whole budget of 5 trials: ..."). The window shows them before Start and the CLI prints them
// as warnings; none of them stops a study, since each can be what the user wants.
std::vector<std::string> studySettingsWarnings(const StudySpec& spec);

} // namespace tunelab
