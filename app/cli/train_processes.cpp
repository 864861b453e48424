#include "train_processes.h"

#include "common/loopback_port.h"
#include "common/machine_limits.h"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>

extern char** environ;

namespace tunelab::cli {

namespace {

// This process's command line, as it was started.
std::vector<std::string> ownArguments() {
    std::ifstream file("/proc/self/cmdline", std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    std::vector<std::string> arguments;
    size_t start = 0;
    while (start < text.size()) {
        const size_t end = text.find('\0', start);
        arguments.push_back(text.substr(start, end == std::string::npos ? std::string::npos : end - start));
        if (end == std::string::npos)
            break;
        start = end + 1;
    }
    return arguments;
}

// Starts this program again as `rank`, with the variables that name its place in the group. Its
// output goes to stderr: stdout stays rank 0's (with --json, its last line is the run's result).
Result<pid_t> startRank(const std::vector<std::string>& arguments, const DataParallelSettings& group,
                        int rank) {
    const std::string names[] = {
        "RANK=", "WORLD_SIZE=", "LOCAL_WORLD_SIZE=", "MASTER_ADDR=", "MASTER_PORT=", "LOCAL_RANK="};
    std::vector<std::string> variables = {names[0] + std::to_string(rank),
                                          names[1] + std::to_string(group.worldSize),
                                          names[2] + std::to_string(group.worldSize),
                                          names[3] + group.address,
                                          names[4] + std::to_string(group.port),
                                          names[5] + std::to_string(rank)};
    for (char** entry = environ; *entry; ++entry) {
        const std::string variable = *entry;
        const bool replaced = std::any_of(std::begin(names), std::end(names), [&](const std::string& name) {
            return variable.rfind(name, 0) == 0;
        });
        if (!replaced)
            variables.push_back(variable);
    }
    std::vector<char*> argv;
    for (const std::string& argument : arguments)
        argv.push_back(const_cast<char*>(argument.c_str()));
    argv.push_back(nullptr);
    std::vector<char*> envp;
    for (std::string& variable : variables)
        envp.push_back(variable.data());
    envp.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, STDERR_FILENO, STDOUT_FILENO);
    pid_t pid = 0;
    const int error = ::posix_spawn(&pid, "/proc/self/exe", &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (error != 0)
        return Result<pid_t>::failure("--world-size: could not start process " + std::to_string(rank) + ": " +
                                      std::strerror(error));
    return Result<pid_t>(pid);
}

std::string endText(int status) {
    if (WIFEXITED(status))
        return "exited with " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status))
        return std::string("was killed by signal ") + std::to_string(WTERMSIG(status)) + " (" +
               strsignal(WTERMSIG(status)) + ")";
    return "ended";
}

} // namespace

Result<TrainProcesses> joinTrainProcesses(int worldSize) {
    using Joined = Result<TrainProcesses>;
    auto fromEnvironment = dataParallelFromEnvironment();
    if (!fromEnvironment.ok())
        return Joined::failure("data parallel: " + fromEnvironment.error());
    TrainProcesses processes;
    processes.settings = fromEnvironment.value();
    const bool launched = processes.settings.enabled();
    if (worldSize > 0 && launched && worldSize != processes.settings.worldSize)
        return Joined::failure("--world-size " + std::to_string(worldSize) +
                               " disagrees with the launcher's " +
                               std::to_string(processes.settings.worldSize) +
                               " processes (WORLD_SIZE or SLURM_NTASKS): give one or the other");
    if (!launched && worldSize > 1) {
        processes.settings.rank = 0;
        processes.settings.worldSize = worldSize;
        processes.settings.address = "127.0.0.1";
        processes.settings.port = tunelab::freeLoopbackPort();
        if (processes.settings.port == 0)
            return Joined::failure("--world-size: no free port on the loopback interface for the processes "
                                   "to meet at: " +
                                   std::string(std::strerror(errno)));
    }
    if (!processes.settings.enabled())
        return Joined(processes);
    if (const std::string reason = dataParallelUnavailableReason(); !reason.empty())
        return Joined::failure("data parallel: " + reason);
    if (const char* local = std::getenv("LOCAL_WORLD_SIZE"); local && launched)
        processes.localProcesses = std::max(1, std::atoi(local));
    if (launched)
        return Joined(processes);

    processes.localProcesses = worldSize;
    const std::vector<std::string> arguments = ownArguments();
    for (int rank = 1; rank < worldSize; ++rank) {
        auto started = startRank(arguments, processes.settings, rank);
        if (!started.ok()) {
            for (const pid_t pid : processes.started)
                ::kill(pid, SIGTERM);
            waitForStartedRanks(processes);
            return Joined::failure(started.error());
        }
        processes.started.push_back(started.value());
    }
    return Joined(processes);
}

bool waitForStartedRanks(const TrainProcesses& processes) {
    bool allWell = true;
    for (size_t i = 0; i < processes.started.size(); ++i) {
        int status = 0;
        while (::waitpid(processes.started[i], &status, 0) < 0 && errno == EINTR) {
        }
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
            continue;
        allWell = false;
        std::fprintf(stderr, "process %zu of %d (pid %d) %s\n", i + 1, processes.settings.worldSize,
                     static_cast<int>(processes.started[i]), endText(status).c_str());
    }
    return allWell;
}

int threadsPerProcess(int requested, const TrainProcesses& processes) {
    if (requested > 0 || processes.localProcesses <= 1)
        return requested;
    return std::max(1, machineCores() / processes.localProcesses);
}

} // namespace tunelab::cli
