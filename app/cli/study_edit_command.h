#pragma once

#include "study_command.h"

namespace tunelab::cli {

// The study verbs that change a stored study without running it: `study enqueue` (a chosen
// parameter set, run first), `study copy` (the same settings under a new name with a new seed), and
// --add-trials of `study run` and `study resume` (a raised budget, kept in the store).

int enqueueStudyCommand(RunStore& store, const StudyOptions& options);
int copyStudyCommand(RunStore& store, const StudyOptions& options);
// Raises the stored trial budget to `count` past the larger of the budget and the trials the study
// has, and updates `study` to match; false, after printing why, when the store refused.
bool addStudyTrials(RunStore& store, LoadedStudy& study, int64_t count);

} // namespace tunelab::cli
