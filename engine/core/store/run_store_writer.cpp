// The run store's writer thread: the queue that training threads and operations feed, one
// transaction per wake-up, retries while another process holds the file's write lock, and the calls
// that queue writes (runs, events, deletions) or wait for them (flush).

#include "store/run_store.h"

#include "common/names.h"

#include "store/run_store_impl.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace tunelab {

namespace {

using sql::Outcome;
using sql::Statement;
using sql::textOrNull;

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

// Whether a batch that ended so is worth trying again: another writer held the lock, or the server
// went away (the connection reconnects when the batch starts again).
bool worthRetrying(Outcome outcome) {
    return outcome == Outcome::Busy || outcome == Outcome::Disconnected;
}

} // namespace

// Writer thread.
void RunStore::Impl::writerLoop() {
    std::unique_lock<std::mutex> lock(queueMutex);
    const auto ready = [this] { return (stopping || !queue.empty()) && !writing; };
    for (;;) {
        if (beating)
            wake.wait_until(lock, nextHeartbeat, ready);
        else
            wake.wait(lock, ready);
        if (stopping && queue.empty() && !writing)
            return; // everything queued before is committed
        if (beating && !stopping && std::chrono::steady_clock::now() >= nextHeartbeat) {
            queue.push_back(heartbeatWrite());
            ++queuedCount;
            nextHeartbeat = std::chrono::steady_clock::now() +
                            std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                std::chrono::duration<double>(heartbeatSeconds));
        }
        if (queue.empty() || writing)
            continue;
        // Everything queued while the previous batch was committing goes into one transaction.
        std::deque<PendingWrite> batch;
        batch.swap(queue);
        const uint64_t handled = queuedCount;
        writing = true;
        committed.notify_all(); // the queue has room again
        lock.unlock();
        writeBatch(batch);
        lock.lock();
        writing = false;
        committedCount = handled;
        committed.notify_all();
    }
}

// Under queueMutex.
void RunStore::Impl::startBeating() {
    if (beating || readOnly)
        return;
    beating = true;
    nextHeartbeat =
        std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                                               std::chrono::duration<double>(heartbeatSeconds));
}

// One statement per table: every run and trial this process owns is marked alive at once.
PendingWrite RunStore::Impl::heartbeatWrite() {
    PendingWrite write;
    write.queuedAt = storeClockNow();
    write.heartbeat = true;
    write.what = "the heartbeat";
    const double at = write.queuedAt;
    write.operation = [this, at](sql::Connection& db) -> std::string {
        auto runs =
            writeStatements.get(db, "UPDATE runs SET heartbeat_at = ? WHERE status IN ('queued', 'running')"
                                    " AND owner_pid = ? AND owner_host = ? AND owner_started = ?");
        if (!runs->run(at, pid, host, started))
            return runs->error();
        auto trials = writeStatements.get(db, "UPDATE trials SET heartbeat_at = ? WHERE state = 'running'"
                                              " AND owner_pid = ? AND owner_host = ? AND owner_started = ?");
        return trials->run(at, pid, host, started) ? std::string() : trials->error();
    };
    return write;
}

namespace {

// What a batch saves, for the messages about it: "the deletion of study 1" for one operation,
// "3 run updates" for training runs' events, "4 updates" for a mix.
std::string batchText(const std::deque<PendingWrite>& batch) {
    if (batch.size() == 1 && !batch.front().what.empty())
        return batch.front().what;
    const bool runsOnly =
        std::all_of(batch.begin(), batch.end(), [](const PendingWrite& write) { return !write.operation; });
    return std::to_string(batch.size()) + (runsOnly ? " run update" : " update") +
           (batch.size() == 1 ? "" : "s");
}

} // namespace

void RunStore::Impl::writeBatch(std::deque<PendingWrite>& batch) {
    std::string error;
    Outcome outcome = Outcome::Ok;
    // A long write by another process can outlast the busy timeout, and a server can go away for a
    // while; the batch is rolled back as a whole, so trying again cannot apply anything twice. While
    // the store is open the batch waits as long as it takes (training threads wait for room in the
    // queue meanwhile); once it is closing, it gives up after a few tries rather than hang the exit.
    for (int attempt = 0;; ++attempt) {
        error.clear();
        outcome = applyBatch(batch, error);
        if (!worthRetrying(outcome))
            break;
        bool closing = false;
        {
            std::lock_guard<std::mutex> lock(queueMutex);
            closing = stopping;
        }
        if (closing && attempt >= (outcome == Outcome::Disconnected ? 8 : 2))
            break;
        if (attempt == 0) {
            const std::string waiting =
                batchText(batch) + (batch.size() == 1 ? " waits for it" : " wait for it");
            report(outcome == Outcome::Disconnected
                       ? "the database server cannot be reached (" + error + "); " + waiting
                       : "the store is locked by another process; " + waiting);
        }
        if (outcome == Outcome::Disconnected || writeDb->dialect() == sql::Dialect::Postgres) {
            // SQLite's busy timeout waits inside the call; a server is asked again after a pause.
            const int pauseMs = std::min(5000, 100 << std::min(attempt, 6));
            std::this_thread::sleep_for(std::chrono::milliseconds(pauseMs));
        }
    }
    const bool failed = outcome != Outcome::Ok;
    const bool onlyHeartbeat = batch.size() == 1 && batch.front().heartbeat;
    if (failed && !onlyHeartbeat) {
        report("could not save " + batchText(batch) + ": " + error);
        for (const auto& write : batch)
            recordLoss(write, error);
        lost.announce();
    }
    for (auto& write : batch) {
        if (write.afterCommit)
            write.afterCommit();
        if (write.operationDone)
            write.operationDone->set_value(failed ? path + ": " + error : write.operationError);
        if (!write.created)
            continue;
        if (failed || !write.createError.empty())
            write.created->set_value(Result<RunId>::failure(
                path + ": could not record the run: " + (failed ? error : write.createError)));
        else
            write.created->set_value(write.createdId);
    }
}

// The thread that set `writing`. One transaction for the whole batch; returns how it ended.
Outcome RunStore::Impl::applyBatch(std::deque<PendingWrite>& batch, std::string& error) {
    sql::Connection& db = *writeDb;
    Outcome outcome = db.exec(db.beginWrite(), error);
    if (outcome != Outcome::Ok)
        return outcome;
    auto abandon = [&](Outcome how) {
        std::string ignored;
        db.exec("ROLLBACK", ignored);
        return how == Outcome::Ok ? Outcome::Failed : how;
    };
    bool lostSome = false;
    std::string ignored;
    for (auto& write : batch) {
        write.storageFailure = false;
        if (write.afterCommit)
            continue; // a flushAsync marker: nothing to write
        // A savepoint makes each operation all or nothing inside the shared transaction; on a server
        // that aborts a whole transaction at one failed statement, every write gets one.
        const bool guarded = write.operation || !db.statementFailureKeepsTransaction();
        if (guarded && (outcome = db.exec("SAVEPOINT store_write", error)) != Outcome::Ok)
            return abandon(outcome);
        std::string writeError = apply(write);
        const Outcome failedHow = writeError.empty() ? Outcome::Ok : db.lastOutcome();
        if (!writeError.empty() && worthRetrying(failedHow)) {
            error = writeError;
            return abandon(failedHow); // the whole batch again, later
        }
        write.storageFailure = failedHow == Outcome::StorageFailure;
        if (guarded && !db.transactionLost()) {
            // Where the failure took the whole transaction (SQLite after an I/O error), the savepoint
            // is gone with it and nothing of the batch can commit.
            if (!writeError.empty() && db.exec("ROLLBACK TO store_write", ignored) != Outcome::Ok) {
                error = writeError;
                return abandon(failedHow);
            }
            db.exec("RELEASE store_write", ignored);
        }
        if (db.transactionLost()) {
            // The database rolled the whole transaction back (disk full, I/O error): nothing was saved.
            error = writeError.empty() ? std::string("the transaction was rolled back") : writeError;
            // Lost after the write itself went through (the connection dropped at its savepoint's
            // release): the batch is tried again like any batch the server did not take.
            return abandon(failedHow != Outcome::Ok ? failedHow : db.lastOutcome());
        }
        if (writeError.empty())
            continue;
        // A single statement failed (an event for a run that does not exist, a full disk that
        // SQLite survived): skip it only. Whoever waits for it hears why; what nobody waits for
        // is reported and recorded as lost.
        if (write.heartbeat)
            continue; // the next beat tries again
        if (write.created)
            write.createError = writeError;
        else if (write.operationDone)
            write.operationError = writeError;
        else if (write.operation)
            report(writeError);
        else
            report("run " + std::to_string(write.event.runId) + ": " + writeError);
        if (write.storageFailure || !(write.created || write.operationDone)) {
            recordLoss(write, writeError);
            lostSome = true;
        }
    }
    outcome = db.exec("COMMIT", error);
    if (outcome != Outcome::Ok)
        return abandon(outcome);
    if (lostSome)
        lost.announce(); // a failed batch announces its losses in writeBatch
    return Outcome::Ok;
}

// The thread that set `writing`. Returns an error message, empty on success.
// The writer thread: stores the checkpoint an event carries (none: nothing to do).
std::string RunStore::Impl::writeCheckpoint(const RunEvent& event) {
    const TrainingCheckpoint* checkpoint = event.checkpoint.get();
    if (!checkpoint)
        return {};
    if (!saveCheckpoint.run(event.runId, checkpoint->epoch, checkpoint->step, checkpoint->parameters,
                            checkpoint->optimizer, &checkpoint->state))
        return saveCheckpoint.error();
    return {};
}

std::string RunStore::Impl::apply(PendingWrite& write) {
    const RunEvent& event = write.event;
    const double at = write.queuedAt;
    if (write.operation) {
        write.operationError.clear(); // from an attempt that was rolled back
        return write.operation(*writeDb);
    }
    if (write.afterCommit)
        return std::string(); // a flushAsync marker: nothing to write
    if (write.created) {
        write.createError.clear(); // from an attempt that was rolled back
        const bool forked = write.origin.parentRun > 0;
        insertRun.bind(write.name, write.specJson, at, pid, host, started,
                       forked ? std::optional<int64_t>(write.origin.parentRun) : std::nullopt,
                       forked ? std::optional<int64_t>(write.origin.parentEpoch) : std::nullopt, at);
        const bool inserted = insertRun.next();
        if (inserted)
            write.createdId = insertRun.integer(0);
        const std::string error = inserted ? std::string() : insertRun.error();
        insertRun.reset();
        return error;
    }
    if (write.deleteRun)
        return deleteRun.run(event.runId) ? std::string() : deleteRun.error();
    switch (event.kind) {
    case RunEventKind::Started:
        if (!markStarted.run(event.device, at, pid, host, started, at, event.runId))
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
        if (const std::string error = writeCheckpoint(event); !error.empty())
            return error;
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
        if (const std::string error = writeCheckpoint(event); !error.empty())
            return error;
        break;
    }
    }
    return std::string();
}

// The thread that set `writing`. The API has no error channel for background writes, and a run that silently
// goes unrecorded is worse than a line on stderr; repeats of the same message are dropped.
void RunStore::Impl::report(const std::string& message) {
    if (message == lastReportedError)
        return;
    lastReportedError = message;
    std::fprintf(stderr, "tunelab: run store %s: %s\n", path.c_str(), message.c_str());
}

// The thread that set `writing`.
void RunStore::Impl::recordLoss(const PendingWrite& write, const std::string& error) {
    if (write.afterCommit || write.heartbeat)
        return; // a flushAsync marker writes nothing; a missed beat is made up by the next
    if (write.created) {
        lost.add(0, "the new run \"" + write.name + "\"", error);
        return;
    }
    if (write.operation) {
        lost.add(0, write.what, error);
        return;
    }
    const RunId run = write.event.runId;
    if (write.deleteRun) {
        lost.add(run, kLostDeletion, error);
        return;
    }
    switch (write.event.kind) {
    case RunEventKind::Started:
        lost.add(run, kLostStart, error);
        break;
    case RunEventKind::Steps:
        lost.add(run, kLostSteps, error);
        break;
    case RunEventKind::Epoch:
        lost.add(run, kLostEpochs, error);
        break;
    case RunEventKind::Finished:
        lost.add(run, kLostFinish, error);
        break;
    }
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

std::string RunStore::Impl::commitOperation(std::string what, StoreOperation operation) {
    PendingWrite write;
    write.queuedAt = storeClockNow();
    write.operation = std::move(operation);
    write.what = std::move(what);
    write.operationDone.emplace();
    std::future<std::string> done = write.operationDone->get_future();
    std::unique_lock<std::mutex> lock(queueMutex);
    if (readOnly || writing || stopping || !queue.empty()) {
        lock.unlock();
        enqueue(std::move(write));
        return done.get();
    }
    // The writer is idle and nothing is queued: this thread writes it, in the order it was asked,
    // without waking the writer thread and waiting for it (twice a trial in a study).
    writing = true;
    const uint64_t handled = ++queuedCount;
    lock.unlock();
    std::deque<PendingWrite> batch;
    batch.push_back(std::move(write));
    writeBatch(batch);
    lock.lock();
    writing = false;
    committedCount = handled;
    const bool queuedMeanwhile = !queue.empty();
    lock.unlock();
    committed.notify_all();
    if (queuedMeanwhile)
        wake.notify_one();
    return done.get();
}

void RunStore::Impl::queueOperation(std::string what, StoreOperation operation) {
    PendingWrite write;
    write.queuedAt = storeClockNow();
    write.operation = std::move(operation);
    write.what = std::move(what);
    enqueue(std::move(write));
}

Result<RunId> RunStore::createRun(const std::string& name, const std::string& resolvedSpecJson,
                                  const RunOrigin& origin) {
    PendingWrite write;
    write.origin = origin;
    write.queuedAt = storeClockNow();
    write.name = name;
    write.specJson = resolvedSpecJson;
    write.created.emplace();
    std::future<Result<RunId>> id = write.created->get_future();
    {
        std::lock_guard<std::mutex> lock(m_impl->queueMutex);
        m_impl->startBeating();
    }
    m_impl->enqueue(std::move(write));
    return id.get();
}

// Called from training threads: copies the event and returns; the writer thread does the disk work.
// Only when the writer is thousands of writes behind (the file is locked) does it wait for room.
void RunStore::onRunEvent(const RunEvent& event) {
    PendingWrite write;
    write.event = event;
    write.queuedAt = storeClockNow();
    m_impl->enqueue(std::move(write), true);
}

std::string RunStore::runTagProblem(const std::string& tag) {
    constexpr size_t kMaximumTagBytes = 64;
    if (tag.empty())
        return "a tag cannot be empty";
    if (tag.size() > kMaximumTagBytes) {
        // The start of the tag, cut between UTF-8 characters, never inside one.
        size_t shown = 16;
        while (shown > 0 && (static_cast<unsigned char>(tag[shown]) & 0xC0) == 0x80)
            --shown;
        return "a tag has at most " + std::to_string(kMaximumTagBytes) + " bytes, \"" + tag.substr(0, shown) +
               "…\" has " + std::to_string(tag.size());
    }
    if (tag.find(',') != std::string::npos)
        return "a tag cannot hold a comma (commas separate tags)";
    if (const std::string problem = nameProblem(tag); !problem.empty())
        return "tag: " + problem;
    return {};
}

Result<bool> RunStore::setRunTags(RunId id, const std::vector<std::string>& tags) {
    std::string joined;
    for (const std::string& tag : tags) {
        if (const std::string problem = runTagProblem(tag); !problem.empty())
            return Result<bool>::failure(problem);
        joined += (joined.empty() ? "" : "\n") + tag;
    }
    return updateRunText(id, "tags", joined);
}

Result<bool> RunStore::setRunNote(RunId id, const std::string& note) {
    for (const char c : note) {
        const auto byte = static_cast<unsigned char>(c);
        if ((byte < 0x20 && c != '\n' && c != '\t') || byte == 0x7f)
            return Result<bool>::failure("a note holds text, lines and tabs; not control characters");
    }
    return updateRunText(id, "note", note);
}

Result<bool> RunStore::updateRunText(RunId id, const char* column, const std::string& text) {
    const std::string what = std::string("the ") + column + " of run " + std::to_string(id);
    const std::string sql = std::string("UPDATE runs SET ") + column + " = ? WHERE id = ?";
    const std::string error = m_impl->commitOperation(what, [&](sql::Connection& db) -> std::string {
        Statement update(db, sql);
        if (!update.run(text, id))
            return update.error();
        return db.changes() == 0 ? "no run with id " + std::to_string(id) : std::string();
    });
    if (!error.empty())
        return Result<bool>::failure(m_impl->path + ": " + error);
    return true;
}

Result<bool> RunStore::recordExport(RunId id, const ExportRecord& record) {
    const std::string what = "the export of run " + std::to_string(id) + " to " + record.path;
    const double at = storeClockNow();
    const std::string error = m_impl->commitOperation(what, [&](sql::Connection& db) -> std::string {
        Statement exists(db, "SELECT 1 FROM runs WHERE id = ?");
        exists.bind(id);
        if (!exists.next())
            return exists.error().empty() ? "no run with id " + std::to_string(id) : exists.error();
        exists.reset();
        Statement insert(db, "INSERT INTO run_exports(run_id, format, path, bytes, checked_rows,"
                             " max_abs_difference, exported_at) VALUES(?, ?, ?, ?, ?, ?, ?)");
        if (!insert.run(id, record.format, record.path, record.bytes, record.checkedRows,
                        record.maxAbsDifference, at))
            return insert.error();
        return std::string();
    });
    if (!error.empty())
        return Result<bool>::failure(m_impl->path + ": " + error);
    return true;
}

void RunStore::deleteRun(RunId id) {
    deleteRunQueued(id);
    flush();
}

void RunStore::deleteRunQueued(RunId id) {
    PendingWrite write;
    write.event.runId = id;
    write.deleteRun = true;
    write.queuedAt = storeClockNow();
    m_impl->enqueue(std::move(write));
}

void RunStore::flushAsync(std::function<void()> done) {
    PendingWrite marker;
    marker.queuedAt = storeClockNow();
    marker.afterCommit = done ? std::move(done) : [] {};
    m_impl->enqueue(std::move(marker));
}

std::vector<LostWrite> RunStore::lostWrites() const {
    return m_impl->lost.list();
}

std::string RunStore::lostWritesReport() const {
    return describeLostWrites(m_impl->path, m_impl->lost.list());
}

void RunStore::setLostWriteHandler(std::function<void()> handler) {
    m_impl->lost.setHandler(std::move(handler));
}

void RunStore::setHeartbeatInterval(double seconds) {
    if (!(seconds > 0.0))
        return;
    std::lock_guard<std::mutex> lock(m_impl->queueMutex);
    m_impl->heartbeatSeconds = std::min(m_impl->heartbeatSeconds, seconds);
}

double RunStore::heartbeatInterval() const {
    std::lock_guard<std::mutex> lock(m_impl->queueMutex);
    return m_impl->heartbeatSeconds;
}

void RunStore::flush() {
    std::unique_lock<std::mutex> lock(m_impl->queueMutex);
    const uint64_t target = m_impl->queuedCount;
    m_impl->committed.wait(lock, [this, target] { return m_impl->committedCount >= target; });
}

} // namespace tunelab
