#include "store/run_store.h"

#include "store/run_store_impl.h"
#include "store/sqlite_util.h"

#include <cassert>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
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

// Migration N takes the schema from version N-1 to N and runs in one transaction together with
// the version bump; entry 0 is the empty file. Later versions append here. The SQL stays close to what
// PostgreSQL accepts so a server backend can reuse the same shape (AUTOINCREMENT -> identity, BLOB -> BYTEA).
const std::vector<std::vector<const char*>> kMigrations = {
    {},
    {
        "CREATE TABLE schema_meta(key TEXT PRIMARY KEY, value)",
        "CREATE TABLE runs("
        " id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT, status TEXT, spec_json TEXT, device TEXT,"
        " created_at REAL, started_at REAL, finished_at REAL, epochs INTEGER, steps INTEGER,"
        " train_seconds REAL, steps_per_second REAL, train_loss REAL, val_loss REAL, val_accuracy REAL,"
        " val_mae REAL, best_epoch INTEGER, error TEXT, model BLOB, owner_pid INTEGER, owner_host TEXT)",
        "CREATE INDEX runs_status ON runs(status)",
        "CREATE TABLE step_metrics("
        " run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE, step INTEGER NOT NULL,"
        " epoch INTEGER, train_loss REAL, learning_rate REAL, grad_norm REAL,"
        " PRIMARY KEY(run_id, step)) WITHOUT ROWID",
        "CREATE TABLE epoch_metrics("
        " run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE, epoch INTEGER NOT NULL,"
        " step INTEGER, train_loss REAL, val_loss REAL, val_accuracy REAL, val_mae REAL,"
        " learning_rate REAL, seconds REAL, PRIMARY KEY(run_id, epoch)) WITHOUT ROWID",
    },
    {
        // Studies and their trials. A trial points at its training run; deleting the run keeps
        // the trial (run_id becomes NULL), deleting the study takes its trials along.
        "CREATE TABLE studies("
        " id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE, spec_json TEXT, created_at REAL)",
        "CREATE TABLE trials("
        " id INTEGER PRIMARY KEY AUTOINCREMENT,"
        " study_id INTEGER NOT NULL REFERENCES studies(id) ON DELETE CASCADE, number INTEGER NOT NULL,"
        " state TEXT NOT NULL, value REAL, run_id INTEGER REFERENCES runs(id) ON DELETE SET NULL,"
        " params_json TEXT, message TEXT, pruned_epoch INTEGER, requeues INTEGER NOT NULL DEFAULT 0,"
        " started_at REAL, finished_at REAL, owner_pid INTEGER, owner_host TEXT,"
        " UNIQUE(study_id, number))",
        "CREATE INDEX trials_study_state ON trials(study_id, state)",
        "CREATE INDEX trials_run ON trials(run_id)",
        // One row per applied parameter, so trials can be filtered by a parameter in SQL.
        "CREATE TABLE trial_params("
        " trial_id INTEGER NOT NULL REFERENCES trials(id) ON DELETE CASCADE, name TEXT NOT NULL,"
        " value_json TEXT NOT NULL, PRIMARY KEY(trial_id, name)) WITHOUT ROWID",
        "CREATE INDEX trial_params_name ON trial_params(name, value_json)",
        "CREATE TABLE trial_values("
        " trial_id INTEGER NOT NULL REFERENCES trials(id) ON DELETE CASCADE, epoch INTEGER NOT NULL,"
        " value REAL, PRIMARY KEY(trial_id, epoch)) WITHOUT ROWID",
    },
    {
        // Gradient health: per-layer samples taken at the metric flushes, weight histograms at
        // epoch ends (counts as little-endian int32 values, one per equal-width bin).
        "CREATE TABLE layer_health("
        " run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE, step INTEGER NOT NULL,"
        " layer INTEGER NOT NULL, grad_norm REAL, update_ratio REAL,"
        " PRIMARY KEY(run_id, step, layer)) WITHOUT ROWID",
        "CREATE TABLE weight_histograms("
        " run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE, epoch INTEGER NOT NULL,"
        " layer INTEGER NOT NULL, low REAL, high REAL, counts BLOB,"
        " PRIMARY KEY(run_id, epoch, layer)) WITHOUT ROWID",
    },
    {
        // Fairness evidence of a finished run (16 hex digits each): its initial parameters and
        // the order its training rows were batched in.
        "ALTER TABLE runs ADD COLUMN initial_parameters_hash TEXT",
        "ALTER TABLE runs ADD COLUMN batch_order_hash TEXT",
        // When the owner process started (clock ticks after boot, /proc/PID/stat), so that a pid
        // the system has since given to another process does not keep a dead run alive.
        "ALTER TABLE runs ADD COLUMN owner_started INTEGER",
        "ALTER TABLE trials ADD COLUMN owner_started INTEGER",
    },
};

constexpr int kBusyTimeoutMs = 5000;

using sqlite::Database;
using sqlite::exec;
using sqlite::Statement;
using sqlite::textOrNull;

double unixNow() {
    return storeClockNow();
}

std::string hostName() {
    char name[256] = {};
    if (gethostname(name, sizeof name - 1) != 0)
        return std::string();
    return name;
}

// The message for a failed call, naming the file; a file that is not SQLite at all says so.
std::string failure(sqlite3* db, const std::string& path, const std::string& error) {
    if ((sqlite3_errcode(db) & 0xff) == SQLITE_NOTADB)
        return path + " is not a TuneLab run store: " + error;
    return path + ": " + error;
}

// Opens one connection with the settings every connection needs.
Result<Database> openConnection(const std::string& path, bool readOnly = false) {
    sqlite3* raw = nullptr;
    const int flags = readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
    const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
    Database db(raw);
    if (rc != SQLITE_OK)
        return Result<Database>::failure(path + ": " + (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc)));
    sqlite3_extended_result_codes(raw, 0);
    sqlite3_busy_timeout(raw, kBusyTimeoutMs);
    // Neither pragma writes to the file. synchronous=NORMAL in WAL mode syncs only at checkpoints:
    // a commit is a write() into the WAL, so it survives a killed process (the OS still holds the
    // pages); only a power cut or kernel crash may drop the last commits, and even then the file
    // stays consistent. A killed process is what we must survive, at no fsync per batch.
    std::string error;
    if (exec(raw, "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;", error) != SQLITE_OK)
        return Result<Database>::failure(failure(raw, path, error));
    return Result<Database>(std::move(db));
}

// 0 for an empty file. A database that holds other tables but no schema_meta belongs to
// someone else; migrating it would write our tables into their file.
Result<int> usableSchemaVersion(sqlite3* db, const std::string& path) {
    Statement tables(db, "SELECT count(*), sum(name = 'schema_meta') FROM sqlite_master WHERE type = 'table'"
                         " AND name NOT LIKE 'sqlite_%'");
    if (!tables.next())
        return Result<int>::failure(failure(db, path, tables.error()));
    int version = 0;
    if (tables.integer(1) == 0) {
        if (tables.integer(0) != 0)
            return Result<int>::failure(path + " is not a TuneLab run store: it holds other tables");
    } else {
        Statement select(db, "SELECT value FROM schema_meta WHERE key = 'schema_version'");
        if (select.next())
            version = static_cast<int>(select.integer(0));
        else if (!select.error().empty())
            return Result<int>::failure(path + ": " + select.error());
    }
    if (version > RunStore::kSchemaVersion)
        return Result<int>::failure(path + ": schema version " + std::to_string(version) +
                                    " is newer than this TuneLab understands (" +
                                    std::to_string(RunStore::kSchemaVersion) + ")");
    return version;
}

Result<bool> migrate(sqlite3* db, const std::string& path) {
    assert(kMigrations.size() == static_cast<size_t>(RunStore::kSchemaVersion) + 1);
    // Look before changing anything: switching to WAL rewrites the header of a file that may
    // be someone else's database or a newer TuneLab's store.
    auto checked = usableSchemaVersion(db, path);
    if (!checked.ok())
        return Result<bool>::failure(checked.error());
    // WAL lets readers run beside the writer; the mode is stored in the file.
    std::string error;
    if (exec(db, "PRAGMA journal_mode=WAL", error) != SQLITE_OK)
        return Result<bool>::failure(path + ": " + error);
    for (;;) {
        // IMMEDIATE takes the write lock before the version is read, so two processes opening a
        // new file at once cannot both apply the same migration.
        if (exec(db, "BEGIN IMMEDIATE", error) != SQLITE_OK)
            return Result<bool>::failure(path + ": " + error);
        auto version = usableSchemaVersion(db, path);
        if (!version.ok() || version.value() == RunStore::kSchemaVersion) {
            std::string ignored;
            exec(db, "ROLLBACK", ignored);
            return version.ok() ? Result<bool>(true) : Result<bool>::failure(version.error());
        }
        const int target = version.value() + 1;
        for (const char* sql : kMigrations[target]) {
            if (exec(db, sql, error) != SQLITE_OK)
                break;
        }
        Statement setVersion(db,
                             "INSERT OR REPLACE INTO schema_meta(key, value) VALUES('schema_version', ?)");
        if (!error.empty() || !setVersion.run(target) || exec(db, "COMMIT", error) != SQLITE_OK) {
            std::string ignored;
            exec(db, "ROLLBACK", ignored);
            return Result<bool>::failure(path + ": migration to schema version " + std::to_string(target) +
                                         " failed: " + (error.empty() ? setVersion.error() : error));
        }
    }
}

// NaN is stored as NULL and read back as NaN; infinities are stored as they are.
std::vector<char> histogramBlob(const std::vector<int32_t>& counts) {
    std::vector<char> bytes(counts.size() * sizeof(int32_t));
    for (size_t i = 0; i < counts.size(); ++i) {
        const auto value = static_cast<uint32_t>(counts[i]);
        for (size_t byte = 0; byte < sizeof(int32_t); ++byte)
            bytes[i * sizeof(int32_t) + byte] = static_cast<char>((value >> (8 * byte)) & 0xff);
    }
    return bytes;
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
    sqlite3* db = writeDb.get();
    insertRun = Statement(db, "INSERT INTO runs(name, status, spec_json, created_at, owner_pid, owner_host,"
                              " owner_started) VALUES(?, 'queued', ?, ?, ?, ?, ?)");
    markStarted = Statement(db, "UPDATE runs SET status = 'running', device = ?, started_at = ?,"
                                " owner_pid = ?, owner_host = ?, owner_started = ? WHERE id = ?");
    insertStep = Statement(db, "INSERT OR REPLACE INTO step_metrics(run_id, step, epoch, train_loss,"
                               " learning_rate, grad_norm) VALUES(?, ?, ?, ?, ?, ?)");
    insertEpoch = Statement(db, "INSERT OR REPLACE INTO epoch_metrics(run_id, epoch, step, train_loss,"
                                " val_loss, val_accuracy, val_mae, learning_rate, seconds)"
                                " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?)");
    markFinished = Statement(db, "UPDATE runs SET status = ?, finished_at = ?, epochs = ?, steps = ?,"
                                 " train_seconds = ?, steps_per_second = ?, train_loss = ?, val_loss = ?,"
                                 " val_accuracy = ?, val_mae = ?, best_epoch = ?, error = ?,"
                                 " device = COALESCE(?, device), model = COALESCE(?, model),"
                                 " initial_parameters_hash = ?, batch_order_hash = ? WHERE id = ?");
    // Metric rows go with their run (ON DELETE CASCADE).
    deleteRun = Statement(db, "DELETE FROM runs WHERE id = ?");
    insertTrialValue =
        Statement(db, "INSERT OR REPLACE INTO trial_values(trial_id, epoch, value) VALUES(?, ?, ?)");
    insertLayerHealth = Statement(db, "INSERT OR REPLACE INTO layer_health(run_id, step, layer, grad_norm,"
                                      " update_ratio) VALUES(?, ?, ?, ?, ?)");
    insertHistogram =
        Statement(db, "INSERT OR REPLACE INTO weight_histograms(run_id, epoch, layer, low, high,"
                      " counts) VALUES(?, ?, ?, ?, ?, ?)");
    for (const Statement* statement : {&insertRun, &markStarted, &insertStep, &insertEpoch, &markFinished,
                                       &deleteRun, &insertTrialValue, &insertLayerHealth, &insertHistogram}) {
        if (!statement->valid())
            return Result<bool>::failure(path + ": " + statement->error());
    }
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
    sqlite3* db = writeDb.get();
    std::string error;
    if (exec(db, "BEGIN IMMEDIATE", error) != SQLITE_OK)
        return Result<bool>::failure(path + ": " + error);
    std::vector<std::pair<RunId, int64_t>> dead;
    Statement select(db, "SELECT id, owner_pid, owner_started FROM runs WHERE status IN ('queued', 'running')"
                         " AND owner_host = ?");
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
    if (!ok || exec(db, "COMMIT", error) != SQLITE_OK) {
        std::string message = !select.error().empty()   ? select.error()
                              : !update.error().empty() ? update.error()
                                                        : error;
        exec(db, "ROLLBACK", error);
        return Result<bool>::failure(path + ": " + message);
    }
    return true;
}

// Writer thread.
void RunStore::Impl::writerLoop() {
    std::unique_lock<std::mutex> lock(queueMutex);
    for (;;) {
        wake.wait(lock, [this] { return stopping || !queue.empty(); });
        if (queue.empty())
            return; // stopping, and everything queued before is committed
        // Everything queued while the previous batch was committing goes into one transaction.
        std::deque<PendingWrite> batch;
        batch.swap(queue);
        const uint64_t handled = queuedCount;
        committed.notify_all(); // the queue has room again
        lock.unlock();
        writeBatch(batch);
        lock.lock();
        committedCount = handled;
        committed.notify_all();
    }
}

void RunStore::Impl::writeBatch(std::deque<PendingWrite>& batch) {
    std::string error;
    int rc = SQLITE_OK;
    // A long write by another process can outlast the busy timeout; the batch is rolled back
    // as a whole, so trying again cannot apply anything twice. While the store is open the batch
    // waits for the file as long as it takes (training threads wait for room in the queue
    // meanwhile); once it is closing, it gives up after a few tries rather than hang the exit.
    for (int attempt = 0;; ++attempt) {
        error.clear();
        rc = applyBatch(batch, error);
        if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
            break;
        bool closing = false;
        {
            std::lock_guard<std::mutex> lock(queueMutex);
            closing = stopping;
        }
        if (closing && attempt >= 2)
            break;
        if (attempt == 0)
            report("the store file is locked by another process; " + std::to_string(batch.size()) +
                   " run updates wait for it");
    }
    if (rc != SQLITE_OK)
        report("could not save " + std::to_string(batch.size()) + " run updates: " + error);
    for (auto& write : batch) {
        if (write.afterCommit)
            write.afterCommit();
        if (write.operationDone)
            write.operationDone->set_value(rc != SQLITE_OK ? path + ": " + error : write.operationError);
        if (!write.created)
            continue;
        if (rc != SQLITE_OK || !write.createError.empty())
            write.created->set_value(Result<RunId>::failure(
                path + ": could not record the run: " + (rc != SQLITE_OK ? error : write.createError)));
        else
            write.created->set_value(write.createdId);
    }
}

// Writer thread. One transaction for the whole batch; returns the result code that ended it.
int RunStore::Impl::applyBatch(std::deque<PendingWrite>& batch, std::string& error) {
    sqlite3* db = writeDb.get();
    int rc = exec(db, "BEGIN IMMEDIATE", error);
    if (rc != SQLITE_OK)
        return rc;
    for (auto& write : batch) {
        std::string writeError = apply(write);
        if (writeError.empty())
            continue;
        if (sqlite3_get_autocommit(db)) {
            // SQLite rolled the whole transaction back (disk full, I/O error): nothing was saved.
            error = writeError;
            return sqlite3_errcode(db) & 0xff;
        }
        // A single statement failed (an event for a run that does not exist): skip it only.
        if (write.created)
            write.createError = writeError;
        else if (write.operationDone)
            write.operationError = writeError;
        else if (write.operation)
            report(writeError); // nobody waits for a queued operation: say it here
        else
            report("run " + std::to_string(write.event.runId) + ": " + writeError);
    }
    rc = exec(db, "COMMIT", error);
    if (rc != SQLITE_OK) {
        std::string ignored;
        exec(db, "ROLLBACK", ignored);
    }
    return rc;
}

// Writer thread. Returns an error message, empty on success.
std::string RunStore::Impl::apply(PendingWrite& write) {
    const RunEvent& event = write.event;
    const double at = write.queuedAt;
    if (write.operation) {
        // A savepoint makes each operation all or nothing inside the shared batch transaction.
        write.operationError.clear(); // from an attempt that was rolled back
        sqlite3* db = writeDb.get();
        std::string error;
        if (exec(db, "SAVEPOINT operation", error) != SQLITE_OK)
            return error;
        std::string operationError = write.operation(db);
        if (sqlite3_get_autocommit(db))
            return operationError.empty() ? std::string("the transaction was rolled back") : operationError;
        if (!operationError.empty())
            exec(db, "ROLLBACK TO operation", error);
        exec(db, "RELEASE operation", error);
        return operationError;
    }
    if (write.afterCommit)
        return std::string(); // a flushAsync marker: nothing to write
    if (write.created) {
        write.createError.clear(); // from an attempt that was rolled back
        if (!insertRun.run(write.name, write.specJson, at, pid, host, started))
            return insertRun.error();
        write.createdId = sqlite3_last_insert_rowid(writeDb.get());
        return std::string();
    }
    if (write.deleteRun)
        return deleteRun.run(event.runId) ? std::string() : deleteRun.error();
    switch (event.kind) {
    case RunEventKind::Started:
        if (!markStarted.run(event.device, at, pid, host, started, event.runId))
            return markStarted.error();
        break;
    case RunEventKind::Steps:
        for (const StepRecord& s : event.steps) {
            if (!insertStep.run(event.runId, s.step, s.epoch, s.trainLoss, s.learningRate, s.gradNorm))
                return insertStep.error();
        }
        for (const LayerHealthSample& h : event.layerHealth) {
            if (!insertLayerHealth.run(event.runId, h.step, h.layer, h.gradNorm, h.updateRatio))
                return insertLayerHealth.error();
        }
        break;
    case RunEventKind::Epoch: {
        const EpochRecord& e = event.epoch;
        if (!insertEpoch.run(event.runId, e.epoch, e.step, e.trainLoss, e.valLoss, e.valAccuracy, e.valMae,
                             e.learningRate, e.seconds))
            return insertEpoch.error();
        for (const WeightHistogram& h : event.histograms) {
            const std::vector<char> counts = histogramBlob(h.counts);
            if (!insertHistogram.run(event.runId, h.epoch, h.layer, h.low, h.high, &counts))
                return insertHistogram.error();
        }
        break;
    }
    case RunEventKind::Finished: {
        const RunSummary& f = event.summary;
        if (!markFinished.run(toString(f.status), at, f.epochs, f.steps, f.trainSeconds, f.stepsPerSecond,
                              f.trainLoss, f.valLoss, f.valAccuracy, f.valMae, f.bestEpoch,
                              textOrNull(f.message), textOrNull(f.device), event.model.get(),
                              textOrNull(f.initialParametersHash ? hashText(f.initialParametersHash) : ""),
                              textOrNull(f.batchOrderHash ? hashText(f.batchOrderHash) : ""), event.runId))
            return markFinished.error();
        break;
    }
    }
    return std::string();
}

// Writer thread. The API has no error channel for background writes, and a run that silently
// goes unrecorded is worse than a line on stderr; repeats of the same message are dropped.
void RunStore::Impl::report(const std::string& message) {
    if (message == lastReportedError)
        return;
    lastReportedError = message;
    std::fprintf(stderr, "tunelab: run store %s: %s\n", path.c_str(), message.c_str());
}

void RunStore::Impl::enqueue(PendingWrite write, bool waitForRoom) {
    if (readOnly) {
        // Nothing is written, and whoever waits for a write hears why.
        const std::string error = path + ": the run store was opened for reading only";
        if (write.created)
            write.created->set_value(Result<RunId>::failure(error));
        if (write.operationDone)
            write.operationDone->set_value(error);
        if (write.afterCommit) {
            write.afterCommit(); // nothing was queued before it either
            return;
        }
        report("opened for reading only; a write was dropped");
        return;
    }
    bool wasEmpty = false;
    {
        std::unique_lock<std::mutex> lock(queueMutex);
        if (waitForRoom)
            committed.wait(lock, [this] { return queue.size() < kMaxQueuedWrites || stopping; });
        wasEmpty = queue.empty();
        queue.push_back(std::move(write));
        ++queuedCount;
    }
    if (wasEmpty)
        wake.notify_one();
}

std::string RunStore::Impl::commitOperation(StoreOperation operation) {
    PendingWrite write;
    write.queuedAt = unixNow();
    write.operation = std::move(operation);
    write.operationDone.emplace();
    std::future<std::string> done = write.operationDone->get_future();
    enqueue(std::move(write));
    return done.get();
}

void RunStore::Impl::queueOperation(StoreOperation operation) {
    PendingWrite write;
    write.queuedAt = unixNow();
    write.operation = std::move(operation);
    enqueue(std::move(write));
}

RunStore::RunStore(std::unique_ptr<Impl> impl)
    : m_impl(std::move(impl)) {}

RunStore::~RunStore() = default; // Impl's destructor drains the queue and stops the writer

Result<std::unique_ptr<RunStore>> RunStore::open(const std::string& path) {
    using Opened = Result<std::unique_ptr<RunStore>>;
    if (path.empty()) // SQLite would open a private temporary database, unseen by the reader
        return Opened::failure("the run store path is empty");
    try {
        const std::filesystem::path parent = std::filesystem::path(path).parent_path();
        std::error_code ec;
        if (!parent.empty() && !std::filesystem::create_directories(parent, ec) && ec)
            return Opened::failure(path + ": cannot create folder " + parent.string() + ": " + ec.message());

        auto impl = std::make_unique<Impl>();
        impl->path = path;
        auto writeDb = openConnection(path);
        if (!writeDb.ok())
            return Opened::failure(writeDb.error());
        impl->writeDb = writeDb.take();
        auto migrated = migrate(impl->writeDb.get(), path);
        if (!migrated.ok())
            return Opened::failure(migrated.error());
        auto marked = impl->markInterruptedRuns();
        if (!marked.ok())
            return Opened::failure(marked.error());
        auto prepared = impl->prepareWrites();
        if (!prepared.ok())
            return Opened::failure(prepared.error());
        auto readDb = openConnection(path);
        if (!readDb.ok())
            return Opened::failure(readDb.error());
        impl->readDb = readDb.take();
        Impl* writerImpl = impl.get();
        impl->writer = std::thread([writerImpl] { writerImpl->writerLoop(); });
        return Opened(std::unique_ptr<RunStore>(new RunStore(std::move(impl))));
    } catch (const std::exception& error) {
        return Opened::failure(path + ": " + error.what());
    }
}

Result<std::unique_ptr<RunStore>> RunStore::openForReading(const std::string& path) {
    using Opened = Result<std::unique_ptr<RunStore>>;
    if (path.empty())
        return Opened::failure("the run store path is empty");
    std::error_code missing;
    if (!std::filesystem::exists(path, missing))
        return Opened::failure(path + ": no run store here yet (train a run or create a study first)");
    try {
        auto impl = std::make_unique<Impl>();
        impl->path = path;
        impl->readOnly = true;
        auto readDb = openConnection(path, true);
        if (!readDb.ok())
            return Opened::failure(readDb.error());
        auto version = usableSchemaVersion(readDb.value().get(), path);
        if (!version.ok())
            return Opened::failure(version.error());
        // An older file has to be migrated before today's queries can read it.
        if (version.value() < kSchemaVersion)
            return open(path);
        impl->readDb = readDb.take();
        return Opened(std::unique_ptr<RunStore>(new RunStore(std::move(impl))));
    } catch (const std::exception& error) {
        return Opened::failure(path + ": " + error.what());
    }
}

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

Result<RunId> RunStore::createRun(const std::string& name, const std::string& resolvedSpecJson) {
    PendingWrite write;
    write.queuedAt = unixNow();
    write.name = name;
    write.specJson = resolvedSpecJson;
    write.created.emplace();
    std::future<Result<RunId>> id = write.created->get_future();
    m_impl->enqueue(std::move(write));
    return id.get();
}

// Called from training threads: copies the event and returns; the writer thread does the disk work.
// Only when the writer is thousands of writes behind (the file is locked) does it wait for room.
void RunStore::onRunEvent(const RunEvent& event) {
    PendingWrite write;
    write.event = event;
    write.queuedAt = unixNow();
    m_impl->enqueue(std::move(write), true);
}

void RunStore::deleteRun(RunId id) {
    deleteRunQueued(id);
    flush();
}

void RunStore::deleteRunQueued(RunId id) {
    PendingWrite write;
    write.event.runId = id;
    write.deleteRun = true;
    write.queuedAt = unixNow();
    m_impl->enqueue(std::move(write));
}

void RunStore::flushAsync(std::function<void()> done) {
    PendingWrite marker;
    marker.queuedAt = unixNow();
    marker.afterCommit = done ? std::move(done) : [] {};
    m_impl->enqueue(std::move(marker));
}

void RunStore::flush() {
    std::unique_lock<std::mutex> lock(m_impl->queueMutex);
    const uint64_t target = m_impl->queuedCount;
    m_impl->committed.wait(lock, [this, target] { return m_impl->committedCount >= target; });
}

} // namespace tunelab
