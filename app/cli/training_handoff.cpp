#include "exit_codes.h"
#include "training_commands.h"

#include <cerrno>
#include <climits>
#include <cstdio>
#include <cstring>
#include <string>
#include <unistd.h>
#include <vector>

// tunelab-cli: a training command is handed to tunelab-cli-training, which links LibTorch.

namespace tunelab::cli {

namespace {

constexpr const char* kTrainingProgram = "tunelab-cli-training";

std::string ownFolder() {
    char path[PATH_MAX];
    const ssize_t length = ::readlink("/proc/self/exe", path, sizeof(path) - 1);
    if (length <= 0)
        return {};
    const std::string self(path, static_cast<size_t>(length));
    return self.substr(0, self.find_last_of('/'));
}

// Beside tunelab-cli in a build folder; in libexec/tunelab once installed.
std::vector<std::string> trainingProgramCandidates() {
    const std::string folder = ownFolder();
    if (folder.empty())
        return {};
    return {folder + "/" + kTrainingProgram, folder + "/../libexec/tunelab/" + kTrainingProgram};
}

} // namespace

int runTrainingCommand(const TrainingCommandLine&, int, char** argv) {
    const std::vector<std::string> candidates = trainingProgramCandidates();
    std::fflush(stdout);
    std::fflush(stderr);
    std::string tried;
    for (const std::string& candidate : candidates) {
        ::execv(candidate.c_str(), argv);
        const int error = errno;
        tried += (tried.empty() ? "" : ", ") + candidate + " (" + std::strerror(error) + ")";
    }
    std::fprintf(stderr,
                 "error: this command trains, and tunelab-cli could not start %s, the part of TuneLab "
                 "that trains: %s; reinstall TuneLab\n",
                 kTrainingProgram, tried.empty() ? "its own path is unknown" : tried.c_str());
    return kExitRunFailed;
}

} // namespace tunelab::cli
