#pragma once

// Private to the run store's own .cpp files: the state behind RunStore, shared by run_store.cpp
// (opening and migrating the file), run_store_writer.cpp (the writer thread), run_store_reads.cpp
// (reading runs back) and run_store_studies.cpp (studies and trials).

#include "store/run_store.h"
#include "store/sql_connection.h"

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace tunelab {

// A write that runs inside a batched transaction of the writer (on SQLite BEGIN IMMEDIATE, so it
// holds the file's write lock across processes; on PostgreSQL its SELECTs lock the rows they change). Returns
// an error message, empty on success. A batch that meets a busy file is rolled back and retried, so an
// operation may run more than once and sets its outputs afresh each time.
using StoreOperation = std::function<std::string(sql::Connection& db)>;

// One queued write: an event from a training thread, a run to create, or an operation.
struct PendingWrite {
    RunEvent event;
    double queuedAt = 0.0;                              // when it happened, not when the writer got to it
    std::optional<std::promise<Result<RunId>>> created; // set for createRun
    std::string name;
    std::string specJson;
    RunOrigin origin;
    RunId createdId = 0;
    std::string createError;
    bool deleteRun = false; // delete event.runId with its metrics
    StoreOperation operation;
    std::optional<std::promise<std::string>> operationDone; // set when the caller waits for the commit
    std::string operationError;
    bool storageFailure = false; // it failed because the file could not take it (disk full, I/O)
    std::string what;            // what an operation saves, for the lost-write record ("trial 3's state")
    // A marker that writes nothing: called on the writer thread once everything queued before it
    // is committed (or failed), for flushAsync.
    std::function<void()> afterCommit;
    // The writer's own beat for this process's runs and trials: nothing a user saved, so a beat that
    // fails is neither reported nor recorded as lost (the next one tries again).
    bool heartbeat = false;
};

struct RunStore::Impl {
    Impl();
    ~Impl(); // commits everything queued, then stops the writer

    std::string path;      // the file, or the server's URL without its password
    std::string location;  // as given to open()
    bool readOnly = false; // openForReading: no write connection and no writer thread
    std::string host;
    int64_t pid = 0;
    int64_t started = 0; // this process's start, in clock ticks after boot (0 where unknown)

    // Declared before its statements, so they are finalized first.
    // Used by one thread at a time, the one that set `writing`: the writer thread, or a
    // commitOperation caller that found the writer idle and nothing queued.
    std::unique_ptr<sql::Connection> writeDb;
    sql::Statement insertRun, markStarted, insertStep, insertEpoch, markFinished, deleteRun;
    sql::Statement saveCheckpoint;   // one per run: the latest replaces the one before
    sql::Statement insertTrialValue; // reportIntermediate runs once per trial and epoch
    sql::Statement insertLayerHealth, insertHistogram;
    sql::StatementCache writeStatements; // the study writes of every trial, on writeDb

    mutable std::mutex readMutex;
    std::unique_ptr<sql::Connection> readDb;
    mutable sql::StatementCache readStatements; // under readMutex, on readDb

    std::mutex queueMutex;
    std::condition_variable wake;      // the writer waits for work
    std::condition_variable committed; // flush() and full queues wait for the writer
    std::deque<PendingWrite> queue;
    uint64_t queuedCount = 0;    // writes ever queued
    uint64_t committedCount = 0; // writes ever handled by the writer (committed or failed)
    bool writing = false;        // a batch is being written; guards writeDb and what it writes
    bool stopping = false;
    std::string lastReportedError;
    LostWriteRecord lost;
    // Heartbeats: on once this process owns a run or a trial; the writer beats every
    // heartbeatSeconds (guarded by queueMutex).
    bool beating = false;
    double heartbeatSeconds = 5.0;
    std::chrono::steady_clock::time_point nextHeartbeat;
    void startBeating();
    PendingWrite heartbeatWrite();
    std::thread writer;

    Result<bool> prepareWrites();
    // After the schema is in place: marks the runs of dead processes interrupted, prepares the
    // writes and starts the writer thread.
    Result<bool> startWriting(std::unique_ptr<sql::Connection> writeConnection,
                              std::unique_ptr<sql::Connection> readConnection);
    // Whether a row owned by (ownerPid, ownerHost, ownerStarted) belongs to a process that has ended;
    // ownerStarted 0 (rows from before schema 4) skips the check against pid reuse.
    bool ownerIsGone(int64_t ownerPid, const std::string& ownerHost, int64_t ownerStarted) const;
    Result<bool> markInterruptedRuns();

    void writerLoop();
    void writeBatch(std::deque<PendingWrite>& batch);
    sql::Outcome applyBatch(std::deque<PendingWrite>& batch, std::string& error);
    std::string apply(PendingWrite& write);
    std::string writeCheckpoint(const RunEvent& event);
    void report(const std::string& message);
    // Writer thread: adds a write that was not saved to `lost`.
    void recordLoss(const PendingWrite& write, const std::string& error);
    // Queues a write for the writer thread. With `waitForRoom`, first waits while kMaxQueuedWrites
    // are already waiting (training threads: a store that cannot keep up slows the run down instead
    // of filling memory); other callers never wait here.
    void enqueue(PendingWrite write, bool waitForRoom = false);
    static constexpr size_t kMaxQueuedWrites = 4096;

    RunRecord readRun(const sql::Statement& row) const;

    // Any thread. Runs `operation` in the writer's next transaction and returns its error (empty
    // on success) once that transaction is committed; everything queued before is committed too.
    // When the writer is idle and nothing is queued, the calling thread writes it itself.
    // `what` names what it saves, for the lost-write record when the store cannot write.
    std::string commitOperation(std::string what, StoreOperation operation);
    // Any thread. Queues `operation` like a metrics event; flush() commits it.
    void queueOperation(std::string what, StoreOperation operation);
};

// "INSERT INTO table(keys..., values...) VALUES(?, ...) ON CONFLICT(keys...) DO UPDATE SET value =
// excluded.value, ...": a row replaced whole, in the words SQLite and PostgreSQL share.
std::string upsertSql(const std::string& table, const std::vector<std::string>& keys,
                      const std::vector<std::string>& values);

// Unix seconds, for created_at/started_at/finished_at columns.
double storeClockNow();
// When a process started, in clock ticks after boot (/proc/PID/stat); 0 where it cannot be read.
int64_t processStartTicks(int64_t processId);
// Why a run or trial whose process died reads as interrupted.
std::string interruptedMessage(int64_t pid, const std::string& host);

} // namespace tunelab
