#pragma once

#include "study/study_runner.h"

#include <optional>
#include <string>
#include <vector>

namespace tunelab {

// Evaluates a trial by running a shell command (`/bin/sh -c`): the parameters go to it as one JSON
// object in the environment variable TUNELAB_PARAMS and on stdin, and the objective is the number
// on the last non-empty line it prints. A study with several objectives reads that many numbers from
// the line, separated by spaces or commas, in the study's order. A command that exits non-zero, runs
// past the timeout or prints no number fails the trial, with a message saying which and the end of
// its output.
struct CommandObjectiveSettings {
    std::string command;
    double timeoutSeconds = 0.0; // 0: no limit
    int objectives = 1;
};

// The `count` numbers of a line, separated by spaces or commas; nullopt when it holds anything else
// or another count.
std::optional<std::vector<double>> parseObjectiveValues(const std::string& line, int count);

class CommandObjective : public TrialObjective {
public:
    explicit CommandObjective(CommandObjectiveSettings settings)
        : m_settings(std::move(settings)) {}
    TrialOutcome evaluate(const TrialTask& task, TrialReporter& reporter) override;

private:
    CommandObjectiveSettings m_settings;
};

// The parameters of a trial as one JSON object, values typed ({"lr": 0.01, "opt": "sgd"}).
std::string paramsToJson(const Assignment& params);

} // namespace tunelab
