#include "store/store_schema.h"

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
    {
        // A user's words about a run: tags (one per line) and a free-text note.
        "ALTER TABLE runs ADD COLUMN tags TEXT",
        "ALTER TABLE runs ADD COLUMN note TEXT",
    },
    {
        // A trial's values of a study's second and later objectives, as a JSON list (the first
        // stays in value); NULL in single-objective studies.
        "ALTER TABLE trials ADD COLUMN more_values TEXT",
    },
    {
        // Continued training: the run a run was forked from and the epoch it continued after; the
        // latest checkpoint of a run (weights and optimizer state, to continue from); and a trial's
        // place in population-based training (its member, the trial it continued, its first epoch - 1).
        "ALTER TABLE runs ADD COLUMN parent_run_id INTEGER",
        "ALTER TABLE runs ADD COLUMN parent_epoch INTEGER",
        "CREATE TABLE run_checkpoints("
        " run_id INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE, epoch INTEGER, step INTEGER,"
        " parameters INTEGER, optimizer TEXT, state BLOB)",
        "ALTER TABLE trials ADD COLUMN member INTEGER",
        "ALTER TABLE trials ADD COLUMN parent_number INTEGER",
        "ALTER TABLE trials ADD COLUMN start_epoch INTEGER",
        // Each export of a run's model and how it verified itself: the file read back and run on the
        // run's validation rows, its largest difference from the model's outputs.
        "CREATE TABLE run_exports("
        " run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE, format TEXT, path TEXT,"
        " bytes INTEGER, checked_rows INTEGER, max_abs_difference REAL, exported_at REAL)",
    },
    {
        // Heartbeats: when the process that runs a run or a trial last said it is alive (unix
        // seconds), so that a store shared by several hosts tells a dead worker's work from a slow
        // one's. A trial that a silent worker left is kept as failed, with its values, and retried as
        // a new trial that names it (retry_of: the failed attempt's number).
        "ALTER TABLE runs ADD COLUMN heartbeat_at REAL",
        "ALTER TABLE trials ADD COLUMN heartbeat_at REAL",
        "ALTER TABLE trials ADD COLUMN retry_of INTEGER",
    },
};

// Replaces every whole-word `from` in `text`.
void replaceWord(std::string& text, const std::string& from, const std::string& to) {
    const auto isWordChar = [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
    };
    for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at)) {
        const size_t end = at + from.size();
        if ((at > 0 && isWordChar(text[at - 1])) || (end < text.size() && isWordChar(text[end]))) {
            at = end;
            continue;
        }
        text.replace(at, from.size(), to);
        at += to.size();
    }
}

} // namespace

const std::vector<std::vector<const char*>>& storeMigrations() {
    return kMigrations;
}

// The tables that migrations 1..version create.
std::vector<std::string> tablesOfVersion(int version) {
    std::vector<std::string> names;
    for (int v = 1; v <= version && v < static_cast<int>(kMigrations.size()); ++v) {
        for (const std::string sql : kMigrations[static_cast<size_t>(v)]) {
            const std::string create = "CREATE TABLE ";
            if (sql.rfind(create, 0) == 0)
                names.push_back(sql.substr(create.size(), sql.find('(') - create.size()));
        }
    }
    return names;
}

int readSchemaVersion(sql::Statement select, std::string& error) {
    if (select.next())
        return static_cast<int>(select.integer(0));
    error = select.error();
    return error.empty() ? 0 : -1;
}

std::string newerSchemaMessage(const std::string& where, int version) {
    return where + ": schema version " + std::to_string(version) +
           " is newer than this TuneLab understands (" + std::to_string(kMigrations.size() - 1) + ")";
}

std::string missingTableMessage(const std::string& where, const std::string& table) {
    return where + ": the run store is damaged: its table '" + table +
           "' is missing (dropped?); TuneLab will neither read nor write it";
}

std::string postgresDdl(const std::string& sqliteDdl) {
    std::string ddl = sqliteDdl;
    replaceWord(ddl, "INTEGER PRIMARY KEY AUTOINCREMENT",
                "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY");
    replaceWord(ddl, "INTEGER", "BIGINT");
    replaceWord(ddl, "REAL", "DOUBLE PRECISION");
    replaceWord(ddl, "BLOB", "BYTEA");
    replaceWord(ddl, " WITHOUT ROWID", "");
    // SQLite's untyped column: the version number, kept as text.
    replaceWord(ddl, "value)", "value TEXT)");
    return ddl;
}

} // namespace tunelab
