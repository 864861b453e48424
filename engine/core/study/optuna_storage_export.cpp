// The export of a study into a new Optuna storage. The schema below is Optuna 3.1's, as its
// SQLAlchemy models create it in SQLite, table for table and column for column.

#include "study/optuna_storage.h"

#include "common/atomic_file.h"

#include "store/sqlite_util.h"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <optional>
#include <sys/stat.h>
#include <unistd.h>

namespace tunelab {

using nlohmann::json;
using nlohmann::ordered_json;

namespace {

std::string dumpJson(const ordered_json& value) {
    return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

// The DDL of Optuna 3.1's models in SQLite, as SQLAlchemy 1.4 emits it.
const char* const kSchema = R"sql(
CREATE TABLE studies (
    study_id INTEGER NOT NULL,
    study_name VARCHAR(512) NOT NULL,
    PRIMARY KEY (study_id)
);
CREATE UNIQUE INDEX ix_studies_study_name ON studies (study_name);
CREATE TABLE version_info (
    version_info_id INTEGER NOT NULL,
    schema_version INTEGER,
    library_version VARCHAR(256),
    PRIMARY KEY (version_info_id),
    CHECK (version_info_id=1)
);
CREATE TABLE study_directions (
    study_direction_id INTEGER NOT NULL,
    direction VARCHAR(8) NOT NULL,
    study_id INTEGER NOT NULL,
    objective INTEGER NOT NULL,
    PRIMARY KEY (study_direction_id),
    UNIQUE (study_id, objective),
    FOREIGN KEY(study_id) REFERENCES studies (study_id)
);
CREATE TABLE study_user_attributes (
    study_user_attribute_id INTEGER NOT NULL,
    study_id INTEGER,
    "key" VARCHAR(512),
    value_json TEXT,
    PRIMARY KEY (study_user_attribute_id),
    UNIQUE (study_id, "key"),
    FOREIGN KEY(study_id) REFERENCES studies (study_id)
);
CREATE TABLE study_system_attributes (
    study_system_attribute_id INTEGER NOT NULL,
    study_id INTEGER,
    "key" VARCHAR(512),
    value_json TEXT,
    PRIMARY KEY (study_system_attribute_id),
    UNIQUE (study_id, "key"),
    FOREIGN KEY(study_id) REFERENCES studies (study_id)
);
CREATE TABLE trials (
    trial_id INTEGER NOT NULL,
    number INTEGER,
    study_id INTEGER,
    state VARCHAR(8) NOT NULL,
    datetime_start DATETIME,
    datetime_complete DATETIME,
    PRIMARY KEY (trial_id),
    FOREIGN KEY(study_id) REFERENCES studies (study_id)
);
CREATE TABLE trial_user_attributes (
    trial_user_attribute_id INTEGER NOT NULL,
    trial_id INTEGER,
    "key" VARCHAR(512),
    value_json TEXT,
    PRIMARY KEY (trial_user_attribute_id),
    UNIQUE (trial_id, "key"),
    FOREIGN KEY(trial_id) REFERENCES trials (trial_id)
);
CREATE TABLE trial_system_attributes (
    trial_system_attribute_id INTEGER NOT NULL,
    trial_id INTEGER,
    "key" VARCHAR(512),
    value_json TEXT,
    PRIMARY KEY (trial_system_attribute_id),
    UNIQUE (trial_id, "key"),
    FOREIGN KEY(trial_id) REFERENCES trials (trial_id)
);
CREATE TABLE trial_params (
    param_id INTEGER NOT NULL,
    trial_id INTEGER,
    param_name VARCHAR(512),
    param_value FLOAT,
    distribution_json TEXT,
    PRIMARY KEY (param_id),
    UNIQUE (trial_id, param_name),
    FOREIGN KEY(trial_id) REFERENCES trials (trial_id)
);
CREATE TABLE trial_values (
    trial_value_id INTEGER NOT NULL,
    trial_id INTEGER NOT NULL,
    objective INTEGER NOT NULL,
    value FLOAT,
    value_type VARCHAR(7) NOT NULL,
    PRIMARY KEY (trial_value_id),
    UNIQUE (trial_id, objective),
    FOREIGN KEY(trial_id) REFERENCES trials (trial_id)
);
CREATE TABLE trial_intermediate_values (
    trial_intermediate_value_id INTEGER NOT NULL,
    trial_id INTEGER NOT NULL,
    step INTEGER NOT NULL,
    intermediate_value FLOAT,
    intermediate_value_type VARCHAR(7) NOT NULL,
    PRIMARY KEY (trial_intermediate_value_id),
    UNIQUE (trial_id, step),
    FOREIGN KEY(trial_id) REFERENCES trials (trial_id)
);
CREATE TABLE trial_heartbeats (
    trial_heartbeat_id INTEGER NOT NULL,
    trial_id INTEGER NOT NULL,
    heartbeat DATETIME NOT NULL,
    PRIMARY KEY (trial_heartbeat_id),
    UNIQUE (trial_id),
    FOREIGN KEY(trial_id) REFERENCES trials (trial_id)
);
CREATE TABLE alembic_version (
    version_num VARCHAR(32) NOT NULL,
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);
)sql";

const char* optunaState(TrialState state) {
    switch (state) {
    case TrialState::Waiting:
        return "WAITING";
    case TrialState::Running:
        return "RUNNING";
    case TrialState::Complete:
        return "COMPLETE";
    case TrialState::Pruned:
        return "PRUNED";
    case TrialState::Failed:
        return "FAIL";
    }
    return "FAIL";
}

// Optuna keeps naive local times ("2024-05-01 14:03:07.123456"); nullopt for a time not recorded.
std::optional<std::string> optunaTime(double unixSeconds) {
    if (!(unixSeconds > 0.0) || !std::isfinite(unixSeconds))
        return std::nullopt;
    auto seconds = static_cast<std::time_t>(std::floor(unixSeconds));
    int micros = static_cast<int>(std::lround((unixSeconds - std::floor(unixSeconds)) * 1e6));
    if (micros >= 1000000) {
        ++seconds;
        micros -= 1000000;
    }
    std::tm local{};
    if (!localtime_r(&seconds, &local))
        return std::nullopt;
    char text[96];
    std::snprintf(text, sizeof text, "%04d-%02d-%02d %02d:%02d:%02d.%06d", local.tm_year + 1900,
                  local.tm_mon + 1, local.tm_mday, local.tm_hour, local.tm_min, local.tm_sec, micros);
    return std::string(text);
}

// A value as trial_values and trial_intermediate_values store it: infinities by type, NULL value.
const char* valueType(double value) {
    if (std::isnan(value))
        return "NAN";
    if (std::isinf(value))
        return value > 0 ? "INF_POS" : "INF_NEG";
    return "FINITE";
}

struct ParamRow {
    std::string name;
    double value = 0.0;
    std::string distributionJson;
};

struct TrialRows {
    const TrialRecord* trial = nullptr;
    std::vector<ParamRow> params;
    std::string fixedParams; // waiting trials: Optuna's enqueued parameters, a JSON object
};

// Each trial's parameters in Optuna's internal form, checked against the study's space.
Result<std::vector<TrialRows>> trialRows(const SearchSpace& space, const std::vector<TrialRecord>& trials) {
    using Rows = Result<std::vector<TrialRows>>;
    std::vector<TrialRows> rows;
    for (const TrialRecord& trial : trials) {
        const std::string place = "trial " + std::to_string(trial.number);
        if (trial.state == TrialState::Complete && std::isnan(trial.value))
            return Rows::failure(place + " is complete but has no value");
        TrialRows row;
        row.trial = &trial;
        ordered_json fixed = ordered_json::object();
        for (const auto& [name, value] : trial.params) {
            const SearchParameter* parameter = space.find(name);
            if (!parameter)
                return Rows::failure(place + ": parameter " + name + " is not in the study's search space");
            const OptunaDistribution distribution = optunaDistribution(*parameter);
            ParamRow param{name, 0.0, optunaDistributionJson(distribution)};
            if (distribution.kind == OptunaDistribution::Kind::Categorical) {
                size_t index = 0;
                while (index < parameter->values.size() &&
                       !sameOptunaValue(parameter->values[index].json, value.json))
                    ++index;
                if (index == parameter->values.size())
                    return Rows::failure(place + ": " + name + " = " + value.json +
                                         " is not one of the parameter's values");
                param.value = static_cast<double>(index);
                fixed[name] = ordered_json::parse(distribution.choices[index], nullptr, false);
            } else {
                if (!value.isNumber())
                    return Rows::failure(place + ": " + name + " = " + value.json + " is not a number");
                param.value = value.toDouble();
                if (distribution.kind == OptunaDistribution::Kind::Int)
                    fixed[name] = static_cast<int64_t>(std::llround(param.value));
                else
                    fixed[name] = param.value;
            }
            row.params.push_back(std::move(param));
        }
        // Optuna keeps the parameters of a trial that has not started yet as "fixed_params", which
        // its samplers hand out when the trial runs.
        if (trial.state == TrialState::Waiting) {
            row.params.clear();
            row.fixedParams = dumpJson(fixed);
        }
        rows.push_back(std::move(row));
    }
    return rows;
}

std::string writeRows(sqlite3* db, const std::string& studyName, const StudySpec& spec,
                      const std::vector<TrialRows>& rows) {
    using sqlite::Statement;
    std::string error;
    if (sqlite::exec(db, "PRAGMA journal_mode=MEMORY; PRAGMA synchronous=FULL; BEGIN", error) != SQLITE_OK)
        return error;
    if (sqlite::exec(db, kSchema, error) != SQLITE_OK)
        return error;
    Statement version(db, "INSERT INTO version_info(version_info_id, schema_version, library_version)"
                          " VALUES(1, ?, ?)");
    Statement alembic(db, "INSERT INTO alembic_version(version_num) VALUES(?)");
    Statement study(db, "INSERT INTO studies(study_id, study_name) VALUES(1, ?)");
    Statement direction(db, "INSERT INTO study_directions(direction, study_id, objective) VALUES(?, 1, ?)");
    Statement studyAttribute(
        db, "INSERT INTO study_system_attributes(study_id, key, value_json) VALUES(1, ?, ?)");
    if (!version.run(OptunaSchema::kVersion, OptunaSchema::kLibraryVersion) ||
        !alembic.run(OptunaSchema::kAlembicRevision) || !study.run(studyName))
        return version.error() + alembic.error() + study.error();
    const std::vector<ObjectiveSpec> objectives = studyObjectives(spec);
    for (size_t i = 0; i < objectives.size(); ++i)
        if (!direction.run(objectives[i].direction == ObjectiveDirection::Maximize ? "MAXIMIZE" : "MINIMIZE",
                           static_cast<int64_t>(i)))
            return direction.error();
    const ordered_json specJson = ordered_json::parse(studySpecToJson(spec), nullptr, false);
    if (!studyAttribute.run(OptunaSchema::kStudyAttribute, dumpJson(specJson)))
        return studyAttribute.error();

    Statement trialInsert(db, "INSERT INTO trials(number, study_id, state, datetime_start, datetime_complete)"
                              " VALUES(?, 1, ?, ?, ?)");
    Statement paramInsert(db, "INSERT INTO trial_params(trial_id, param_name, param_value, distribution_json)"
                              " VALUES(?, ?, ?, ?)");
    Statement valueInsert(
        db, "INSERT INTO trial_values(trial_id, objective, value, value_type) VALUES(?, ?, ?, ?)");
    Statement intermediateInsert(db,
                                 "INSERT INTO trial_intermediate_values(trial_id, step, intermediate_value,"
                                 " intermediate_value_type) VALUES(?, ?, ?, ?)");
    Statement attributeInsert(
        db, "INSERT INTO trial_system_attributes(trial_id, key, value_json) VALUES(?, ?, ?)");
    for (const TrialRows& row : rows) {
        const TrialRecord& trial = *row.trial;
        const auto started = optunaTime(trial.startedAt);
        const auto finished = isFinal(trial.state) ? optunaTime(trial.finishedAt) : std::nullopt;
        if (!trialInsert.run(trial.number, optunaState(trial.state), started ? &*started : nullptr,
                             finished ? &*finished : nullptr))
            return trialInsert.error();
        const int64_t id = sqlite3_last_insert_rowid(db);
        for (const ParamRow& param : row.params) {
            if (!paramInsert.run(id, param.name, param.value, param.distributionJson))
                return paramInsert.error();
        }
        const bool scored = trial.state == TrialState::Complete || trial.state == TrialState::Pruned;
        const std::vector<double> values = trialValues(trial);
        for (size_t objective = 0; scored && objective < values.size(); ++objective) {
            const double value = values[objective];
            if (std::isnan(value))
                continue;
            const auto index = static_cast<int64_t>(objective);
            const bool ran = std::isfinite(value) ? valueInsert.run(id, index, value, "FINITE")
                                                  : valueInsert.run(id, index, nullptr, valueType(value));
            if (!ran)
                return valueInsert.error();
        }
        for (const auto& [epoch, value] : trial.intermediate) {
            const bool ran = std::isfinite(value)
                                 ? intermediateInsert.run(id, epoch, value, "FINITE")
                                 : intermediateInsert.run(id, epoch, nullptr, valueType(value));
            if (!ran)
                return intermediateInsert.error();
        }
        if (!row.fixedParams.empty() && !attributeInsert.run(id, "fixed_params", row.fixedParams))
            return attributeInsert.error();
        if (!trial.message.empty() &&
            !attributeInsert.run(id, OptunaSchema::kMessageAttribute, dumpJson(ordered_json(trial.message))))
            return attributeInsert.error();
    }
    sqlite::exec(db, "COMMIT", error);
    return error;
}

std::string systemError(const std::string& path, const char* what, int error) {
    return path + ": could not " + what + ": " + std::strerror(error);
}

} // namespace

Result<bool> writeOptunaStorage(const std::string& path, const std::string& studyName, const StudySpec& spec,
                                const std::vector<TrialRecord>& trials, bool overwrite) {
    using Written = Result<bool>;
    if (path.empty() || path.back() == '/')
        return Written::failure("'" + path + "': not a file name");
    struct stat target {};
    mode_t mode = 0644;
    if (::lstat(path.c_str(), &target) == 0) {
        if (!overwrite)
            return Written::failure(path + ": already exists");
        if (!S_ISREG(target.st_mode))
            return Written::failure(path + ": not a regular file, so it is not replaced");
        mode = target.st_mode & 07777;
    }
    auto space = parseSearchSpace(spec.spaceJson);
    if (!space.ok())
        return Written::failure(path + ": study '" + studyName +
                                "': its search space does not parse: " + Errors{space.errors()}.joined("; "));
    auto rows = trialRows(space.value(), trials);
    if (!rows.ok())
        return Written::failure(path + ": study '" + studyName + "': " + rows.error());

    std::string temporary;
    const int fd = createTemporaryBeside(path, temporary);
    if (fd < 0)
        return Written::failure(systemError(path, "create a temporary file beside it", errno));
    const bool permitted = ::fchmod(fd, mode) == 0;
    ::close(fd);
    const auto removeTemporary = [&] {
        ::unlink(temporary.c_str());
        ::unlink((temporary + "-journal").c_str());
    };
    if (!permitted) {
        removeTemporary();
        return Written::failure(systemError(path, "set the permissions of a temporary file", errno));
    }

    std::string error;
    {
        sqlite3* raw = nullptr;
        const int rc = sqlite3_open_v2(temporary.c_str(), &raw, SQLITE_OPEN_READWRITE, nullptr);
        sqlite::Database db(raw);
        if (rc != SQLITE_OK)
            error = raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
        else
            error = writeRows(db.get(), studyName, spec, rows.value());
        // The statements are gone; a close that fails would leave the file unfinished.
        if (raw && sqlite3_close(db.release()) != SQLITE_OK && error.empty())
            error = "could not close the file";
    }
    if (!error.empty()) {
        removeTemporary();
        return Written::failure(path + ": could not write: " + error);
    }
    // link() refuses an existing name, so a file another process put there meanwhile stays too.
    const bool placed = overwrite ? ::rename(temporary.c_str(), path.c_str()) == 0
                                  : ::link(temporary.c_str(), path.c_str()) == 0;
    const int placeError = errno;
    if (!placed) {
        removeTemporary();
        if (placeError == EEXIST)
            return Written::failure(path + ": already exists");
        return Written::failure(systemError(path, "move the finished file into place", placeError));
    }
    if (!overwrite)
        ::unlink(temporary.c_str());
    syncFolderOf(path);
    return true;
}

} // namespace tunelab
