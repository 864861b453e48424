#include "study/command_objective.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <optional>
#include <poll.h>
#include <pthread.h>
#include <spawn.h>
#include <string>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

extern char** environ;

namespace tunelab {

namespace {

constexpr size_t kStderrTailBytes = 4096;
constexpr size_t kLongLineBytes = 1 << 20;
constexpr int kPollMilliseconds = 50;
constexpr const char* kReportPrefix = "tunelab:";

// A descriptor that becomes readable when process `pid` exits (Linux 5.3 and later), so the wait for
// a command's exit status is one poll instead of sleeps; -1 where the kernel has none.
int exitNotifier(pid_t pid) {
#ifdef SYS_pidfd_open
    const long fd = ::syscall(SYS_pidfd_open, pid, 0);
    return fd >= 0 ? static_cast<int>(fd) : -1;
#else
    (void)pid;
    return -1;
#endif
}

std::string trimmed(const std::string& text) {
    const char* spaces = " \t\r\n\f\v";
    const size_t first = text.find_first_not_of(spaces);
    if (first == std::string::npos)
        return {};
    const size_t last = text.find_last_not_of(spaces);
    return text.substr(first, last - first + 1);
}

// The whole text as one number (surrounding spaces allowed), or nullopt.
std::optional<double> parseNumber(const std::string& text) {
    const std::string number = trimmed(text);
    if (number.empty())
        return std::nullopt;
    char* end = nullptr;
    errno = 0;
    const double value = std::strtod(number.c_str(), &end);
    if (end != number.c_str() + number.size())
        return std::nullopt;
    return value;
}

// "tunelab: epoch=3 value=0.25" (keys in any order, extra spaces allowed).
bool parseReportLine(const std::string& line, int& epoch, double& value) {
    const std::string text = trimmed(line);
    if (text.rfind(kReportPrefix, 0) != 0)
        return false;
    bool hasEpoch = false;
    bool hasValue = false;
    size_t position = std::strlen(kReportPrefix);
    while (position < text.size()) {
        while (position < text.size() && std::isspace(static_cast<unsigned char>(text[position])))
            ++position;
        size_t end = position;
        while (end < text.size() && !std::isspace(static_cast<unsigned char>(text[end])))
            ++end;
        const std::string field = text.substr(position, end - position);
        position = end;
        const size_t equals = field.find('=');
        if (equals == std::string::npos)
            continue;
        const std::string key = field.substr(0, equals);
        const auto number = parseNumber(field.substr(equals + 1));
        if (!number)
            continue;
        if (key == "epoch" && *number >= 1.0) {
            epoch = static_cast<int>(*number);
            hasEpoch = true;
        } else if (key == "value") {
            value = *number;
            hasValue = true;
        }
    }
    return hasEpoch && hasValue;
}

} // namespace

std::optional<std::vector<double>> parseObjectiveValues(const std::string& line, int count) {
    if (count == 1) {
        const auto value = parseNumber(line);
        return value ? std::optional<std::vector<double>>(std::vector<double>{*value}) : std::nullopt;
    }
    std::vector<double> values;
    std::string field;
    const auto take = [&]() {
        if (field.empty())
            return true;
        const auto value = parseNumber(field);
        field.clear();
        if (!value)
            return false;
        values.push_back(*value);
        return true;
    };
    for (const char c : line) {
        if (c == ',' || std::isspace(static_cast<unsigned char>(c))) {
            if (!take())
                return std::nullopt;
        } else {
            field += c;
        }
    }
    if (!take() || values.size() != static_cast<size_t>(count))
        return std::nullopt;
    return values;
}

namespace {

std::string lastLine(const std::string& text) {
    std::string last;
    size_t start = 0;
    while (start <= text.size()) {
        size_t end = text.find('\n', start);
        if (end == std::string::npos)
            end = text.size();
        const std::string line = trimmed(text.substr(start, end - start));
        if (!line.empty())
            last = line;
        start = end + 1;
    }
    return last;
}

std::string shortened(const std::string& text, size_t limit = 200) {
    return text.size() <= limit ? text : text.substr(0, limit) + "...";
}

// The command's environment: ours, with TUNELAB_PARAMS replaced, built before the child starts.
struct ChildEnvironment {
    std::vector<std::string> entries;
    std::vector<char*> pointers;

    explicit ChildEnvironment(const std::string& paramsJson) {
        const std::string key = "TUNELAB_PARAMS=";
        for (char** variable = environ; variable && *variable; ++variable) {
            if (std::strncmp(*variable, key.c_str(), key.size()) != 0)
                entries.emplace_back(*variable);
        }
        entries.push_back(key + paramsJson);
        for (auto& entry : entries)
            pointers.push_back(entry.data());
        pointers.push_back(nullptr);
    }
};

struct Pipe {
    int readEnd = -1;
    int writeEnd = -1;
    // Close-on-exec, so that a command started by another trial thread at the same moment does not
    // inherit (and hold open) this trial's pipes.
    bool open() {
        int fds[2];
        if (pipe2(fds, O_CLOEXEC) != 0)
            return false;
        readEnd = fds[0];
        writeEnd = fds[1];
        return true;
    }
    static void closeFd(int& fd) {
        if (fd >= 0)
            ::close(fd);
        fd = -1;
    }
    void closeBoth() {
        closeFd(readEnd);
        closeFd(writeEnd);
    }
};

// Blocks SIGPIPE on the calling thread while it writes to a command that may not read its stdin,
// so the write fails with EPIPE instead of ending the process; a pending SIGPIPE is consumed.
class SigpipeBlock {
public:
    SigpipeBlock() {
        sigemptyset(&m_set);
        sigaddset(&m_set, SIGPIPE);
        pthread_sigmask(SIG_BLOCK, &m_set, &m_previous);
    }
    ~SigpipeBlock() {
        const timespec zero{0, 0};
        while (sigtimedwait(&m_set, nullptr, &zero) > 0) {
        }
        pthread_sigmask(SIG_SETMASK, &m_previous, nullptr);
    }

private:
    sigset_t m_set;
    sigset_t m_previous;
};

TrialOutcome failed(std::string message) {
    TrialOutcome outcome;
    outcome.state = TrialState::Failed;
    outcome.message = std::move(message);
    return outcome;
}

} // namespace

std::string paramsToJson(const Assignment& params) {
    nlohmann::ordered_json object = nlohmann::ordered_json::object();
    for (const auto& [path, value] : params) {
        auto parsed = nlohmann::ordered_json::parse(value.json, nullptr, false);
        object[path] = parsed.is_discarded() ? nlohmann::ordered_json(value.json) : parsed;
    }
    return object.dump();
}

// Runs on one of the study runner's worker threads.
TrialOutcome CommandObjective::evaluate(const TrialTask& task, TrialReporter& reporter) {
    if (m_settings.command.empty())
        return failed("no command to run");
    const std::string paramsJson = paramsToJson(task.params);
    ChildEnvironment environment(paramsJson);
    const char* shell = "/bin/sh";
    const char* arguments[] = {"sh", "-c", m_settings.command.c_str(), nullptr};

    Pipe input, output, errors;
    if (!input.open() || !output.open() || !errors.open()) {
        const std::string reason = std::strerror(errno);
        input.closeBoth();
        output.closeBoth();
        errors.closeBoth();
        return failed("cannot create pipes for the command: " + reason);
    }

    SigpipeBlock sigpipeBlock;
    // posix_spawn, not fork: glibc starts the child without copying this process's page tables,
    // which with LibTorch loaded made each launch cost tens of milliseconds. The child gets its
    // own process group (a timeout or a stop ends everything it started), no blocked signals,
    // SIGPIPE's default action, and the pipes as its standard streams; every other descriptor
    // of ours is close-on-exec.
    posix_spawnattr_t attributes;
    posix_spawn_file_actions_t actions;
    posix_spawnattr_init(&attributes);
    posix_spawn_file_actions_init(&actions);
    sigset_t none;
    sigemptyset(&none);
    sigset_t defaults;
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    posix_spawnattr_setflags(&attributes,
                             POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    posix_spawnattr_setpgroup(&attributes, 0);
    posix_spawnattr_setsigmask(&attributes, &none);
    posix_spawnattr_setsigdefault(&attributes, &defaults);
    posix_spawn_file_actions_adddup2(&actions, input.readEnd, STDIN_FILENO);
    posix_spawn_file_actions_adddup2(&actions, output.writeEnd, STDOUT_FILENO);
    posix_spawn_file_actions_adddup2(&actions, errors.writeEnd, STDERR_FILENO);
    pid_t pid = -1;
    const int spawned = posix_spawn(&pid, shell, &actions, &attributes, const_cast<char* const*>(arguments),
                                    environment.pointers.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    if (spawned != 0) {
        input.closeBoth();
        output.closeBoth();
        errors.closeBoth();
        return failed(std::string("cannot start the command: ") + std::strerror(spawned));
    }
    Pipe::closeFd(input.readEnd);
    Pipe::closeFd(output.writeEnd);
    Pipe::closeFd(errors.writeEnd);
    fcntl(input.writeEnd, F_SETFL, fcntl(input.writeEnd, F_GETFL) | O_NONBLOCK);
    const int exitFd = exitNotifier(pid);
    int exitWaitMicroseconds = 100; // without exitFd: the first sleep, doubled up to 5 ms

    size_t inputWritten = 0;
    std::string stdoutPending; // the incomplete last line
    std::string lastStdoutLine;
    std::string stderrTail;
    bool stdoutOpen = true;
    bool stderrOpen = true;
    bool exited = false;
    int status = 0;
    bool timedOut = false;
    bool stopped = false;
    bool pruned = false;
    bool commandPaused = false;
    int lastEpoch = 0;
    double lastReported = kNoValue;

    using Clock = std::chrono::steady_clock;
    Clock::duration activeTime{};
    Clock::time_point lastTick = Clock::now();

    auto killGroup = [pid](int signal) { ::kill(-pid, signal); };

    auto handleStdoutLine = [&](const std::string& line) {
        int epoch = 0;
        double value = 0.0;
        if (parseReportLine(line, epoch, value)) {
            lastEpoch = epoch;
            lastReported = value;
            if (!pruned && reporter.report(epoch, value))
                pruned = true;
            return;
        }
        const std::string text = trimmed(line);
        if (!text.empty())
            lastStdoutLine = text;
    };

    char buffer[8192];
    while (true) {
        if (input.writeEnd >= 0) {
            while (inputWritten < paramsJson.size()) {
                const ssize_t written = ::write(input.writeEnd, paramsJson.data() + inputWritten,
                                                paramsJson.size() - inputWritten);
                if (written > 0) {
                    inputWritten += static_cast<size_t>(written);
                } else {
                    if (written < 0 && errno == EINTR)
                        continue;
                    if (written < 0 && errno == EAGAIN)
                        break;
                    inputWritten = paramsJson.size(); // EPIPE: the command does not read stdin
                }
            }
            if (inputWritten >= paramsJson.size())
                Pipe::closeFd(input.writeEnd);
        }

        // Whether the exit was seen before this poll: only then does a poll that finds nothing mean
        // that something the shell started holds the pipes. A command that writes its result and
        // exits between the poll and the waitpid below (a thread descheduled on a loaded machine)
        // has its output still in the pipe, and the next poll reads it.
        const bool exitedBeforePoll = exited;
        pollfd fds[4];
        nfds_t count = 0;
        int stdoutIndex = -1, stderrIndex = -1, inputIndex = -1;
        if (stdoutOpen) {
            stdoutIndex = static_cast<int>(count);
            fds[count++] = {output.readEnd, POLLIN, 0};
        }
        if (stderrOpen) {
            stderrIndex = static_cast<int>(count);
            fds[count++] = {errors.readEnd, POLLIN, 0};
        }
        if (input.writeEnd >= 0) {
            inputIndex = static_cast<int>(count);
            fds[count++] = {input.writeEnd, POLLOUT, 0};
        }
        // Once the pipes are closed, only the exit is left to wait for.
        if (exitFd >= 0 && !exited)
            fds[count++] = {exitFd, POLLIN, 0};
        const int ready = count > 0 ? ::poll(fds, count, kPollMilliseconds) : 0;
        if (count == 0) {
            ::usleep(static_cast<useconds_t>(exitWaitMicroseconds));
            exitWaitMicroseconds = std::min(2 * exitWaitMicroseconds, 5000);
        }
        if (ready > 0) {
            if (stdoutIndex >= 0 && fds[stdoutIndex].revents) {
                const ssize_t n = ::read(output.readEnd, buffer, sizeof buffer);
                if (n > 0) {
                    stdoutPending.append(buffer, static_cast<size_t>(n));
                    size_t newline;
                    while ((newline = stdoutPending.find('\n')) != std::string::npos) {
                        handleStdoutLine(stdoutPending.substr(0, newline));
                        stdoutPending.erase(0, newline + 1);
                    }
                    // A line this long is no number; keep its end only, for the message.
                    if (stdoutPending.size() > kLongLineBytes)
                        stdoutPending.erase(0, stdoutPending.size() - kStderrTailBytes);
                } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
                    stdoutOpen = false;
                }
            }
            if (stderrIndex >= 0 && fds[stderrIndex].revents) {
                const ssize_t n = ::read(errors.readEnd, buffer, sizeof buffer);
                if (n > 0) {
                    stderrTail.append(buffer, static_cast<size_t>(n));
                    if (stderrTail.size() > 2 * kStderrTailBytes)
                        stderrTail.erase(0, stderrTail.size() - kStderrTailBytes);
                } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
                    stderrOpen = false;
                }
            }
            if (inputIndex >= 0 && (fds[inputIndex].revents & (POLLERR | POLLHUP)))
                Pipe::closeFd(input.writeEnd);
        }

        if (!exited && ::waitpid(pid, &status, WNOHANG) == pid)
            exited = true;
        if (!stdoutOpen && !stderrOpen && exited)
            break;
        if (exitedBeforePoll && ready == 0) {
            // The shell is gone but something it started still holds the pipes: what was
            // written is read; the rest of the group is ended below.
            break;
        }

        const Clock::time_point now = Clock::now();
        const bool pauseNow = reporter.paused();
        if (!commandPaused)
            activeTime += now - lastTick;
        lastTick = now;
        if (pauseNow != commandPaused && !exited) {
            killGroup(pauseNow ? SIGSTOP : SIGCONT);
            commandPaused = pauseNow;
        }
        if (reporter.stopRequested()) {
            stopped = true;
            break;
        }
        if (pruned)
            break;
        if (m_settings.timeoutSeconds > 0.0 &&
            std::chrono::duration<double>(activeTime).count() > m_settings.timeoutSeconds) {
            timedOut = true;
            break;
        }
    }

    // Ends whatever is left of the command's process group (all of it on stop, prune or timeout).
    if (commandPaused)
        killGroup(SIGCONT);
    killGroup(SIGKILL);
    if (!exited) {
        while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
        }
    }
    Pipe::closeFd(input.writeEnd);
    Pipe::closeFd(output.readEnd);
    Pipe::closeFd(errors.readEnd);
    if (exitFd >= 0)
        ::close(exitFd);
    if (!trimmed(stdoutPending).empty())
        handleStdoutLine(stdoutPending);

    TrialOutcome outcome;
    if (stopped) {
        outcome.state = TrialState::Waiting;
        outcome.message = "stopped";
        return outcome;
    }
    if (pruned) {
        outcome.state = TrialState::Pruned;
        outcome.value = lastReported;
        outcome.prunedEpoch = lastEpoch;
        outcome.message = "pruned at epoch " + std::to_string(lastEpoch);
        return outcome;
    }
    if (timedOut) {
        char text[64];
        std::snprintf(text, sizeof text, "timed out after %g s", m_settings.timeoutSeconds);
        return failed(text);
    }
    const std::string stderrLine = shortened(lastLine(stderrTail));
    if (WIFSIGNALED(status))
        return failed("command was killed by signal " + std::to_string(WTERMSIG(status)) +
                      (stderrLine.empty() ? std::string() : ": " + stderrLine));
    if (WIFEXITED(status) && WEXITSTATUS(status) != 0)
        return failed("command exited with status " + std::to_string(WEXITSTATUS(status)) +
                      (stderrLine.empty() ? std::string() : ": " + stderrLine));
    const int count = std::max(1, m_settings.objectives);
    const auto values = parseObjectiveValues(lastStdoutLine, count);
    if (!values)
        return failed(count == 1
                          ? "the last line of output is not a number: '" + shortened(lastStdoutLine) + "'"
                          : "the last line of output is not " + std::to_string(count) +
                                " numbers (one per objective): '" + shortened(lastStdoutLine) + "'");
    for (const double value : *values)
        if (!std::isfinite(value))
            return failed((count == 1 ? "the last line of output is not a finite number: '"
                                      : "the last line of output holds a value that is not finite: '") +
                          shortened(lastStdoutLine) + "'");
    outcome.state = TrialState::Complete;
    outcome.value = values->front();
    outcome.moreValues.assign(values->begin() + 1, values->end());
    return outcome;
}

} // namespace tunelab
