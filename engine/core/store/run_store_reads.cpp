// The run store's reads: runs, their metrics, health samples, histograms and models. Reads use their
// own connection (WAL lets them run beside the writer thread), guarded by readMutex.

#include "store/run_store.h"

#include "store/run_store_impl.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

namespace tunelab {

using sql::Statement;

namespace {

const char* const kRunColumns =
    "SELECT id, name, status, spec_json, device, created_at, started_at, finished_at, epochs, steps,"
    " train_seconds, steps_per_second, train_loss, val_loss, val_accuracy, val_mae, best_epoch, error,"
    " model IS NOT NULL, owner_pid, owner_host, initial_parameters_hash, batch_order_hash,"
    " owner_started, tags, note, parent_run_id, parent_epoch,"
    " EXISTS(SELECT 1 FROM run_checkpoints WHERE run_id = runs.id) FROM runs";

// Every row that `sql` (one `?`, the run's id) selects, each made by `readRow`, under the read lock.
template <typename ReadRow>
auto rowsOfRun(std::mutex& readMutex, sql::Connection& db, const std::string& sql, RunId id,
               ReadRow readRow) {
    std::lock_guard<std::mutex> lock(readMutex);
    Statement select(db, sql);
    select.bind(id);
    std::vector<decltype(readRow(select))> rows;
    while (select.next())
        rows.push_back(readRow(select));
    return rows;
}

std::vector<int32_t> histogramCounts(const std::vector<char>& bytes) {
    std::vector<int32_t> counts(bytes.size() / sizeof(int32_t));
    for (size_t i = 0; i < counts.size(); ++i) {
        uint32_t value = 0;
        for (size_t byte = 0; byte < sizeof(int32_t); ++byte)
            value |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[i * sizeof(int32_t) + byte]))
                     << (8 * byte);
        counts[i] = static_cast<int32_t>(value);
    }
    return counts;
}

} // namespace

RunRecord RunStore::Impl::readRun(const sql::Statement& row) const {
    RunRecord record;
    record.id = row.integer(0);
    record.name = row.text(1);
    if (!parseRunStatus(row.text(2), record.status))
        record.status = RunStatus::Failed;
    record.specJson = row.text(3);
    record.device = row.text(4);
    record.createdAt = row.real(5, 0.0);
    record.startedAt = row.real(6, 0.0);
    record.finishedAt = row.real(7, 0.0);
    RunSummary& summary = record.summary;
    summary.epochs = static_cast<int32_t>(row.integer(8));
    summary.steps = row.integer(9);
    summary.trainSeconds = row.real(10, kNoValue);
    summary.stepsPerSecond = row.real(11, kNoValue);
    summary.trainLoss = row.real(12, kNoValue);
    summary.valLoss = row.real(13, kNoValue);
    summary.valAccuracy = row.real(14, kNoValue);
    summary.valMae = row.real(15, kNoValue);
    summary.bestEpoch = static_cast<int32_t>(row.integer(16));
    record.error = row.text(17);
    record.hasModel = row.integer(18) != 0;
    const int64_t ownerPid = row.integer(19);
    const std::string ownerHost = row.text(20);
    // The owner may have died after this store was opened; report what open() would persist.
    if (!isFinal(record.status) && ownerIsGone(ownerPid, ownerHost, row.integer(23))) {
        record.status = RunStatus::Interrupted;
        if (record.error.empty())
            record.error = interruptedMessage(ownerPid, ownerHost);
    }
    summary.status = record.status;
    summary.device = record.device;
    summary.message = record.error;
    summary.initialParametersHash = hashFromText(row.text(21));
    summary.batchOrderHash = hashFromText(row.text(22));
    const std::string tags = row.text(24);
    for (size_t start = 0; start < tags.size();) {
        const size_t end = std::min(tags.find('\n', start), tags.size());
        if (end > start)
            record.tags.push_back(tags.substr(start, end - start));
        start = end + 1;
    }
    record.note = row.text(25);
    record.parentRun = row.integer(26);
    record.parentEpoch = static_cast<int32_t>(row.integer(27));
    record.hasCheckpoint = row.integer(28) != 0;
    return record;
}

std::vector<RunRecord> RunStore::listRuns() const {
    std::lock_guard<std::mutex> lock(m_impl->readMutex);
    Statement select(*m_impl->readDb, (std::string(kRunColumns) + " ORDER BY id").c_str());
    std::vector<RunRecord> runs;
    while (select.next())
        runs.push_back(m_impl->readRun(select));
    return runs;
}

std::optional<RunRecord> RunStore::run(RunId id) const {
    std::lock_guard<std::mutex> lock(m_impl->readMutex);
    Statement select(*m_impl->readDb, (std::string(kRunColumns) + " WHERE id = ?").c_str());
    select.bind(id);
    if (!select.next())
        return std::nullopt;
    return m_impl->readRun(select);
}

std::vector<StepRecord> RunStore::steps(RunId id) const {
    return rowsOfRun(m_impl->readMutex, *m_impl->readDb,
                     "SELECT step, epoch, train_loss, learning_rate, grad_norm"
                     " FROM step_metrics WHERE run_id = ? ORDER BY step",
                     id, [](Statement& select) {
                         StepRecord step;
                         step.step = select.integer(0);
                         step.epoch = static_cast<int32_t>(select.integer(1));
                         step.trainLoss = static_cast<float>(select.real(2, kNoValue));
                         step.learningRate = static_cast<float>(select.real(3, kNoValue));
                         step.gradNorm = static_cast<float>(select.real(4, kNoValue));
                         return step;
                     });
}

int64_t RunStore::stepCount(RunId id) const {
    std::lock_guard<std::mutex> lock(m_impl->readMutex);
    Statement select(*m_impl->readDb, "SELECT COUNT(*) FROM step_metrics WHERE run_id = ?");
    select.bind(id);
    return select.next() ? select.integer(0) : 0;
}

std::vector<std::pair<RunId, double>> RunStore::bestValidationLosses() const {
    std::lock_guard<std::mutex> lock(m_impl->readMutex);
    Statement select(*m_impl->readDb, "SELECT run_id, MIN(val_loss) FROM epoch_metrics"
                                      " WHERE val_loss IS NOT NULL GROUP BY run_id");
    std::vector<std::pair<RunId, double>> losses;
    while (select.next())
        losses.emplace_back(select.integer(0), select.real(1, kNoValue));
    return losses;
}

std::vector<EpochRecord> RunStore::epochs(RunId id) const {
    return rowsOfRun(m_impl->readMutex, *m_impl->readDb,
                     "SELECT epoch, step, train_loss, val_loss, val_accuracy, val_mae, learning_rate, seconds"
                     " FROM epoch_metrics WHERE run_id = ? ORDER BY epoch",
                     id, [](Statement& select) {
                         EpochRecord epoch;
                         epoch.epoch = static_cast<int32_t>(select.integer(0));
                         epoch.step = select.integer(1);
                         epoch.trainLoss = select.real(2, kNoValue);
                         epoch.valLoss = select.real(3, kNoValue);
                         epoch.valAccuracy = select.real(4, kNoValue);
                         epoch.valMae = select.real(5, kNoValue);
                         epoch.learningRate = select.real(6, kNoValue);
                         epoch.seconds = select.real(7, kNoValue);
                         return epoch;
                     });
}

std::optional<TrainingCheckpoint> RunStore::checkpoint(RunId id) const {
    std::lock_guard<std::mutex> lock(m_impl->readMutex);
    Statement select(
        *m_impl->readDb,
        "SELECT epoch, step, parameters, optimizer, state FROM run_checkpoints WHERE run_id = ?");
    select.bind(id);
    if (!select.next())
        return std::nullopt;
    TrainingCheckpoint checkpoint;
    checkpoint.epoch = static_cast<int32_t>(select.integer(0));
    checkpoint.step = select.integer(1);
    checkpoint.parameters = select.integer(2);
    checkpoint.optimizer = select.text(3);
    checkpoint.state = select.blob(4);
    return checkpoint;
}

std::vector<ExportRecord> RunStore::exports(RunId id) const {
    return rowsOfRun(
        m_impl->readMutex, *m_impl->readDb,
        std::string(
            "SELECT format, path, bytes, checked_rows, max_abs_difference, exported_at FROM run_exports"
            " WHERE run_id = ? ORDER BY ") +
            (m_impl->readDb->dialect() == sql::Dialect::Sqlite ? "rowid" : "exported_at"),
        id, [](const Statement& select) {
            ExportRecord record;
            record.format = select.text(0);
            record.path = select.text(1);
            record.bytes = select.integer(2);
            record.checkedRows = select.integer(3);
            record.maxAbsDifference = select.real(4, kNoValue);
            record.exportedAt = select.real(5, 0.0);
            return record;
        });
}

std::vector<char> RunStore::model(RunId id) const {
    std::lock_guard<std::mutex> lock(m_impl->readMutex);
    Statement select(*m_impl->readDb, "SELECT model FROM runs WHERE id = ?");
    select.bind(id);
    return select.next() ? select.blob(0) : std::vector<char>();
}

std::vector<LayerHealthSample> RunStore::layerHealth(RunId id) const {
    return rowsOfRun(m_impl->readMutex, *m_impl->readDb,
                     "SELECT step, layer, grad_norm, update_ratio FROM layer_health"
                     " WHERE run_id = ? ORDER BY step, layer",
                     id, [](Statement& select) {
                         LayerHealthSample sample;
                         sample.step = select.integer(0);
                         sample.layer = static_cast<int32_t>(select.integer(1));
                         sample.gradNorm = static_cast<float>(select.real(2, kNoValue));
                         sample.updateRatio = static_cast<float>(select.real(3, kNoValue));
                         return sample;
                     });
}

std::vector<WeightHistogram> RunStore::weightHistograms(RunId id) const {
    return rowsOfRun(m_impl->readMutex, *m_impl->readDb,
                     "SELECT epoch, layer, low, high, counts FROM weight_histograms"
                     " WHERE run_id = ? ORDER BY epoch, layer",
                     id, [](Statement& select) {
                         WeightHistogram histogram;
                         histogram.epoch = static_cast<int32_t>(select.integer(0));
                         histogram.layer = static_cast<int32_t>(select.integer(1));
                         histogram.low = static_cast<float>(select.real(2, 0.0));
                         histogram.high = static_cast<float>(select.real(3, 0.0));
                         histogram.counts = histogramCounts(select.blob(4));
                         return histogram;
                     });
}

int RunStore::schemaVersion() const {
    std::lock_guard<std::mutex> lock(m_impl->readMutex);
    Statement select(*m_impl->readDb, "SELECT value FROM schema_meta WHERE key = 'schema_version'");
    return select.next() ? static_cast<int>(select.integer(0)) : 0;
}

} // namespace tunelab
