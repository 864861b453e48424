// The run store's writer thread: the queue that training threads and operations feed, one
// transaction per wake-up, retries while another process holds the file's write lock, and the calls
// that queue writes (runs, events, deletions) or wait for them (flush).

#include "store/run_store.h"

#include "common/names.h"

#include "store/run_store_impl.h"
#include "store/sqlite_util.h"

#include <cstdio>
#include <deque>
#include <future>
#include <mutex>
#include <string>
#include <vector>

namespace tunelab {

namespace {

using sqlite::exec;
using sqlite::Statement;
using sqlite::textOrNull;

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

// Whether a failed statement failed because the file cannot take the write (rather than refusing
// it, like a constraint): then what it would have saved is lost.
bool isStorageFailure(int code) {
    switch (code & 0xff) {
    case SQLITE_FULL:
    case SQLITE_IOERR:
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_NOMEM:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_NOLFS:
        return true;
    default:
        return false;
    }
}

} // namespace

// Writer thread.
void RunStore::Impl::writerLoop() {
    std::unique_lock<std::mutex> lock(queueMutex);
    for (;;) {
        wake.wait(lock, [this] { return (stopping || !queue.empty()) && !writing; });
        if (queue.empty())
            return; // stopping, and everything queued before is committed
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
    if (rc != SQLITE_OK) {
        report("could not save " + std::to_string(batch.size()) + " run updates: " + error);
        for (const auto& write : batch)
            recordLoss(write, error);
        lost.announce();
    }
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

// The thread that set `writing`. One transaction for the whole batch; returns the result code that ended it.
int RunStore::Impl::applyBatch(std::deque<PendingWrite>& batch, std::string& error) {
    sqlite3* db = writeDb.get();
    int rc = exec(db, "BEGIN IMMEDIATE", error);
    if (rc != SQLITE_OK)
        return rc;
    bool lostSome = false;
    for (auto& write : batch) {
        write.storageFailure = false;
        std::string writeError = apply(write);
        if (writeError.empty())
            continue;
        if (sqlite3_get_autocommit(db)) {
            // SQLite rolled the whole transaction back (disk full, I/O error): nothing was saved.
            error = writeError;
            return sqlite3_errcode(db) & 0xff;
        }
        // A single statement failed (an event for a run that does not exist, a full disk that
        // SQLite survived): skip it only. Whoever waits for it hears why; what nobody waits for
        // is reported and recorded as lost.
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
    rc = exec(db, "COMMIT", error);
    if (rc != SQLITE_OK) {
        std::string ignored;
        exec(db, "ROLLBACK", ignored);
    } else if (lostSome) {
        lost.announce(); // a failed batch announces its losses in writeBatch
    }
    return rc;
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
        // A savepoint makes each operation all or nothing inside the shared batch transaction.
        write.operationError.clear(); // from an attempt that was rolled back
        sqlite3* db = writeDb.get();
        std::string error;
        if (exec(db, "SAVEPOINT operation", error) != SQLITE_OK)
            return error;
        std::string operationError = write.operation(db);
        write.storageFailure = !operationError.empty() && isStorageFailure(sqlite3_errcode(db));
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
        const bool forked = write.origin.parentRun > 0;
        if (!insertRun.run(write.name, write.specJson, at, pid, host, started,
                           forked ? std::optional<int64_t>(write.origin.parentRun) : std::nullopt,
                           forked ? std::optional<int64_t>(write.origin.parentEpoch) : std::nullopt)) {
            write.storageFailure = isStorageFailure(sqlite3_errcode(writeDb.get()));
            return insertRun.error();
        }
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
    if (write.afterCommit)
        return; // a flushAsync marker writes nothing
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
    const std::string error = m_impl->commitOperation(what, [&](sqlite3* db) -> std::string {
        Statement update(db, sql.c_str());
        if (!update.run(text, id))
            return update.error();
        return sqlite3_changes(db) == 0 ? "no run with id " + std::to_string(id) : std::string();
    });
    if (!error.empty())
        return Result<bool>::failure(m_impl->path + ": " + error);
    return true;
}

Result<bool> RunStore::recordExport(RunId id, const ExportRecord& record) {
    const std::string what = "the export of run " + std::to_string(id) + " to " + record.path;
    const double at = storeClockNow();
    const std::string error = m_impl->commitOperation(what, [&](sqlite3* db) -> std::string {
        Statement insert(
            db, "INSERT INTO run_exports(run_id, format, path, bytes, checked_rows,"
                " max_abs_difference, exported_at) SELECT id, ?, ?, ?, ?, ?, ? FROM runs WHERE id = ?");
        if (!insert.run(record.format, record.path, record.bytes, record.checkedRows, record.maxAbsDifference,
                        at, id))
            return insert.error();
        return sqlite3_changes(db) == 0 ? "no run with id " + std::to_string(id) : std::string();
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

void RunStore::flush() {
    std::unique_lock<std::mutex> lock(m_impl->queueMutex);
    const uint64_t target = m_impl->queuedCount;
    m_impl->committed.wait(lock, [this, target] { return m_impl->committedCount >= target; });
}

} // namespace tunelab
