#include "store/run_store.h"

#include "store/run_store_impl.h"

#include <cassert>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <exception>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <optional>
#include <sstream>
#include <thread>

#include <signal.h>
#include <unistd.h>

namespace tunelab {

namespace {

using sql::Statement;

std::string hostName() {
    char name[256] = {};
    if (gethostname(name, sizeof name - 1) != 0)
        return std::string();
    return name;
}

} // namespace

std::string interruptedMessage(int64_t pid, const std::string& host) {
    return "the process that ran it (pid " + std::to_string(pid) + " on " + host +
           ") ended before the run finished";
}

double storeClockNow() {
    using namespace std::chrono;
    return duration<double>(system_clock::now().time_since_epoch()).count();
}

RunStore::Impl::Impl()
    : host(hostName())
    , pid(getpid())
    , started(processStartTicks(pid)) {}

RunStore::Impl::~Impl() {
    if (writer.joinable()) {
        {
            std::lock_guard<std::mutex> lock(queueMutex);
            stopping = true;
        }
        wake.notify_all();
        writer.join();
    }
}

Result<bool> RunStore::Impl::prepareWrites() {
    sql::Connection& db = *writeDb;
    insertRun = Statement(db, "INSERT INTO runs(name, status, spec_json, created_at, owner_pid, owner_host,"
                              " owner_started, parent_run_id, parent_epoch, heartbeat_at)"
                              " VALUES(?, 'queued', ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id");
    saveCheckpoint = Statement(
        db, upsertSql("run_checkpoints", {"run_id"}, {"epoch", "step", "parameters", "optimizer", "state"}));
    markStarted =
        Statement(db, "UPDATE runs SET status = 'running', device = ?, started_at = ?,"
                      " owner_pid = ?, owner_host = ?, owner_started = ?, heartbeat_at = ? WHERE id = ?");
    insertStep = Statement(db, upsertSql("step_metrics", {"run_id", "step"},
                                         {"epoch", "train_loss", "learning_rate", "grad_norm"}));
    insertEpoch = Statement(db, upsertSql("epoch_metrics", {"run_id", "epoch"},
                                          {"step", "train_loss", "val_loss", "val_accuracy", "val_mae",
                                           "learning_rate", "seconds"}));
    markFinished = Statement(db, "UPDATE runs SET status = ?, finished_at = ?, epochs = ?, steps = ?,"
                                 " train_seconds = ?, steps_per_second = ?, train_loss = ?, val_loss = ?,"
                                 " val_accuracy = ?, val_mae = ?, best_epoch = ?, error = ?,"
                                 " device = COALESCE(?, device), model = COALESCE(?, model),"
                                 " initial_parameters_hash = ?, batch_order_hash = ? WHERE id = ?");
    // Metric rows go with their run (ON DELETE CASCADE).
    deleteRun = Statement(db, "DELETE FROM runs WHERE id = ?");
    insertTrialValue = Statement(db, upsertSql("trial_values", {"trial_id", "epoch"}, {"value"}));
    insertLayerHealth =
        Statement(db, upsertSql("layer_health", {"run_id", "step", "layer"}, {"grad_norm", "update_ratio"}));
    insertHistogram = Statement(
        db, upsertSql("weight_histograms", {"run_id", "epoch", "layer"}, {"low", "high", "counts"}));
    for (const Statement* statement :
         {&insertRun, &saveCheckpoint, &markStarted, &insertStep, &insertEpoch, &markFinished, &deleteRun,
          &insertTrialValue, &insertLayerHealth, &insertHistogram}) {
        if (!statement->valid())
            return Result<bool>::failure(path + ": " + statement->error());
    }
    return true;
}

Result<bool> RunStore::Impl::startWriting(std::unique_ptr<sql::Connection> writeConnection,
                                          std::unique_ptr<sql::Connection> readConnection) {
    writeDb = std::move(writeConnection);
    auto marked = markInterruptedRuns();
    if (!marked.ok())
        return marked;
    auto prepared = prepareWrites();
    if (!prepared.ok())
        return prepared;
    readDb = std::move(readConnection);
    writer = std::thread([this] { writerLoop(); });
    return true;
}

bool RunStore::Impl::ownerIsGone(int64_t ownerPid, const std::string& ownerHost, int64_t ownerStarted) const {
    // Another host's pids mean nothing here, so its runs are never assumed dead. EPERM means
    // the process exists under another user.
    if (ownerPid <= 0 || ownerPid == pid || ownerHost != host)
        return false;
    if (kill(static_cast<pid_t>(ownerPid), 0) == -1 && errno == ESRCH)
        return true;
    // Alive, but maybe another process that got the pid after the owner died (or a reboot).
    const int64_t startedNow = processStartTicks(ownerPid);
    return ownerStarted > 0 && startedNow > 0 && startedNow != ownerStarted;
}

int64_t processStartTicks(int64_t processId) {
    std::ifstream stat("/proc/" + std::to_string(processId) + "/stat");
    std::string line;
    if (!stat || !std::getline(stat, line))
        return 0;
    // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so count from the last ')'.
    const auto close = line.rfind(')');
    if (close == std::string::npos)
        return 0;
    std::istringstream fields(line.substr(close + 1));
    std::string field;
    for (int index = 3; index <= 22 && fields >> field; ++index) {
        if (index == 22)
            return std::strtoll(field.c_str(), nullptr, 10);
    }
    return 0;
}

// Persists what reads would report anyway, so other tools (sqlite3, a later server) agree.
Result<bool> RunStore::Impl::markInterruptedRuns() {
    sql::Connection& db = *writeDb;
    std::string error;
    if (db.exec(db.beginWrite(), error) != sql::Outcome::Ok)
        return Result<bool>::failure(path + ": " + error);
    std::vector<std::pair<RunId, int64_t>> dead;
    Statement select(db, "SELECT id, owner_pid, owner_started FROM runs WHERE status IN ('queued', 'running')"
                         " AND owner_host = ?" +
                             db.lockRowsSkipLocked());
    select.bind(host);
    while (select.next()) {
        if (ownerIsGone(select.integer(1), host, select.integer(2)))
            dead.emplace_back(select.integer(0), select.integer(1));
    }
    Statement update(db, "UPDATE runs SET status = 'interrupted', error = COALESCE(error, ?)"
                         " WHERE id = ? AND status IN ('queued', 'running')");
    bool ok = select.error().empty() && update.valid();
    for (const auto& [id, ownerPid] : dead)
        ok = ok && update.run(interruptedMessage(ownerPid, host), id);
    if (!ok || db.exec("COMMIT", error) != sql::Outcome::Ok) {
        std::string message = !select.error().empty()   ? select.error()
                              : !update.error().empty() ? update.error()
                                                        : error;
        db.exec("ROLLBACK", error);
        return Result<bool>::failure(path + ": " + message);
    }
    return true;
}

std::string upsertSql(const std::string& table, const std::vector<std::string>& keys,
                      const std::vector<std::string>& values) {
    std::string columns, placeholders, conflict, updates;
    for (const auto& key : keys) {
        columns += (columns.empty() ? "" : ", ") + key;
        placeholders += placeholders.empty() ? "?" : ", ?";
        conflict += (conflict.empty() ? "" : ", ") + key;
    }
    for (const auto& value : values) {
        columns += ", " + value;
        placeholders += ", ?";
        updates += (updates.empty() ? "" : ", ") + value + " = excluded." + value;
    }
    return "INSERT INTO " + table + "(" + columns + ") VALUES(" + placeholders + ") ON CONFLICT(" + conflict +
           ") DO UPDATE SET " + updates;
}

RunStore::RunStore(std::unique_ptr<Impl> impl)
    : m_impl(std::move(impl)) {}

RunStore::~RunStore() = default; // Impl's destructor drains the queue and stops the writer

std::string RunStore::defaultPath() {
    const auto env = [](const char* name) {
        const char* value = std::getenv(name);
        return std::string(value ? value : "");
    };
    if (!env("TUNELAB_DB").empty())
        return env("TUNELAB_DB");
    if (!env("XDG_DATA_HOME").empty())
        return env("XDG_DATA_HOME") + "/tunelab/runs.sqlite";
    return env("HOME") + "/.local/share/tunelab/runs.sqlite";
}

const std::string& RunStore::path() const {
    return m_impl->path;
}

const std::string& RunStore::location() const {
    return m_impl->location.empty() ? m_impl->path : m_impl->location;
}

} // namespace tunelab
