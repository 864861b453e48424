// The run store's file: its schema and migrations, opening connections, and the checks that keep
// TuneLab from writing into a file that is not a sound store.
#include "store/store_file.h"

#include "store/run_store.h"
#include "store/run_store_impl.h"
#include "store/sqlite_connection.h"
#include "store/store_content_check.h"
#include "store/store_location.h"
#include "store/store_schema.h"

#include <cassert>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <unistd.h>

namespace tunelab {

using sqlite::Database;
using sqlite::exec;

std::string sqliteFailure(sqlite3* db, const std::string& path, const std::string& error) {
    const int code = sqlite3_errcode(db) & 0xff;
    if (code == SQLITE_NOTADB)
        return path + " is not a TuneLab run store: " + error;
    if (code == SQLITE_CORRUPT)
        return path + ": the run store is damaged (SQLite reports: " + error +
               "); TuneLab will not write into it. `tunelab-cli store check --db " + path +
               "` lists every problem, and sqlite3's .recover command copies the readable rows into a new "
               "file";
    return path + ": " + error;
}

namespace {

// How a connection opens the file. Immutable: for reading a store in a folder this process may
// not write to, where SQLite cannot make the shared-memory file that WAL reading needs. It takes no
// locks, so a store that someone with write access changes at that moment may read inconsistently;
// without that file SQLite offers no other way to read a WAL store.
enum class Access { ReadWrite, ReadOnly, Immutable };

constexpr int kBusyTimeoutMs = 5000;

// `path` for a file: URI: '%', '?' and '#' escaped, relative paths kept relative.
std::string uriPath(const std::string& path) {
    std::string escaped;
    for (const char c : path) {
        if (c == '%' || c == '?' || c == '#') {
            char hex[4];
            std::snprintf(hex, sizeof hex, "%%%02X", static_cast<unsigned char>(c));
            escaped += hex;
        } else {
            escaped += c;
        }
    }
    return escaped;
}

// Opens one connection with the settings every connection needs.
Result<Database> openConnection(const std::string& path, Access access = Access::ReadWrite) {
    sqlite3* raw = nullptr;
    int flags =
        access == Access::ReadWrite ? SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE : SQLITE_OPEN_READONLY;
    std::string name = path;
    if (access == Access::Immutable) {
        flags |= SQLITE_OPEN_URI;
        name = "file:" + uriPath(path) + "?immutable=1";
    }
    const int rc = sqlite3_open_v2(name.c_str(), &raw, flags, nullptr);
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
        return Result<Database>::failure(sqliteFailure(raw, path, error));
    return Result<Database>(std::move(db));
}

// Whether the file holds a version's tables; the first missing one otherwise.
Result<bool> checkTables(sqlite3* db, const std::string& path, int version) {
    for (const auto& name : tablesOfVersion(version)) {
        sqlite::Statement table(db, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?");
        table.bind(name);
        if (!table.next())
            return Result<bool>::failure(sqliteFailure(db, path, table.error()));
        if (table.integer(0) == 0)
            return Result<bool>::failure(missingTableMessage(path, name));
    }
    return true;
}

// 0 for a file being made (`made`); a file that exists with no tables at all is not a store. A
// database that holds other tables but no schema_meta belongs to someone else; migrating it would
// write our tables into their file.
Result<int> usableSchemaVersion(sqlite3* db, const std::string& path, bool made = false) {
    sqlite::Statement tables(
        db, "SELECT count(*), sum(name = 'schema_meta') FROM sqlite_master WHERE type = 'table'"
            " AND name NOT LIKE 'sqlite_%'");
    if (!tables.next())
        return Result<int>::failure(sqliteFailure(db, path, tables.error()));
    int version = 0;
    if (tables.integer(1) == 0) {
        if (tables.integer(0) != 0)
            return Result<int>::failure(path + " is not a TuneLab run store: it holds other tables");
        if (!made)
            return Result<int>::failure(path + " is not a TuneLab run store: it holds no tables (were they "
                                               "dropped?); remove it or choose another store path");
    } else {
        std::string error;
        version = readSchemaVersion(sqlite::Statement(db, kSchemaVersionQuery), error);
        if (version < 0)
            return Result<int>::failure(sqliteFailure(db, path, error));
    }
    if (version > RunStore::kSchemaVersion)
        return Result<int>::failure(newerSchemaMessage(path, version));
    if (auto complete = checkTables(db, path, version); !complete.ok())
        return Result<int>::failure(complete.error());
    return version;
}

Result<bool> migrate(sqlite3* db, const std::string& path, bool made = false) {
    assert(storeMigrations().size() == static_cast<size_t>(RunStore::kSchemaVersion) + 1);
    // Look before changing anything: switching to WAL rewrites the header of a file that may
    // be someone else's database or a newer TuneLab's store.
    auto checked = usableSchemaVersion(db, path, made);
    if (!checked.ok())
        return Result<bool>::failure(checked.error());
    // WAL lets readers run beside the writer; the mode is stored in the file.
    std::string error;
    if (exec(db, "PRAGMA journal_mode=WAL", error) != SQLITE_OK)
        return Result<bool>::failure(path + ": " + error);
    // IMMEDIATE takes the write lock before the version is read, so two processes opening a new file
    // at once cannot both apply the same migration. Every migration the file needs is applied in
    // this one transaction: a file is upgraded whole or not at all, and a new one costs one commit.
    if (exec(db, "BEGIN IMMEDIATE", error) != SQLITE_OK)
        return Result<bool>::failure(path + ": " + error);
    auto version = usableSchemaVersion(db, path, made);
    if (!version.ok() || version.value() == RunStore::kSchemaVersion) {
        std::string ignored;
        exec(db, "ROLLBACK", ignored);
        return version.ok() ? Result<bool>(true) : Result<bool>::failure(version.error());
    }
    for (int target = version.value() + 1; target <= RunStore::kSchemaVersion; ++target) {
        for (const char* sql : storeMigrations()[target]) {
            if (exec(db, sql, error) != SQLITE_OK)
                break;
        }
        if (!error.empty()) {
            std::string ignored;
            exec(db, "ROLLBACK", ignored);
            return Result<bool>::failure(path + ": migration to schema version " + std::to_string(target) +
                                         " failed: " + error);
        }
    }
    sqlite::Statement setVersion(
        db, "INSERT OR REPLACE INTO schema_meta(key, value) VALUES('schema_version', ?)");
    if (!setVersion.run(RunStore::kSchemaVersion) || exec(db, "COMMIT", error) != SQLITE_OK) {
        std::string ignored;
        exec(db, "ROLLBACK", ignored);
        return Result<bool>::failure(path + ": migration to schema version " +
                                     std::to_string(RunStore::kSchemaVersion) +
                                     " failed: " + (error.empty() ? setVersion.error() : error));
    }
    return true;
}

// "" when SQLite's quick check finds the file sound, else its first findings.
std::string checkProblems(sqlite3* db, const char* pragma = "PRAGMA quick_check(20)") {
    sqlite::Statement check(db, pragma);
    std::string problems;
    while (check.next()) {
        std::string line = check.text(0);
        if (line == "ok")
            return {};
        // One finding may span lines ("*** in database main ***\nPage 5: ..."): keep the message on one.
        for (char& c : line)
            c = c == '\n' ? ' ' : c;
        problems += (problems.empty() ? "" : "; ") + line;
    }
    return problems.empty() ? check.error() : problems;
}

std::string damagedMessage(const std::string& path, const std::string& problems) {
    return path + ": the run store is damaged (SQLite reports: " + problems +
           "); TuneLab will not write into it. Read what the damage leaves readable with "
           "`tunelab-cli runs list --db " +
           path + "`, see every problem with `tunelab-cli store check --db " + path +
           "`, and recover the readable rows into a new file with sqlite3's .recover command";
}

bool folderIsWritable(const std::string& path) {
    const std::filesystem::path parent = std::filesystem::path(path).parent_path();
    return ::access(parent.empty() ? "." : parent.c_str(), W_OK) == 0;
}

// Why this process cannot write the store at `path` (an existing file), or "" when it can. SQLite
// would open a read-only file for reading without a word and fail at the first write, and in a
// read-only folder it cannot make the WAL files beside the store: both are said once, at open.
std::string readOnlyReason(const std::string& path) {
    if (::access(path.c_str(), W_OK) != 0)
        return "the file is read-only for this user";
    const bool walFilesWritable =
        ::access((path + "-wal").c_str(), W_OK) == 0 && ::access((path + "-shm").c_str(), W_OK) == 0;
    if (!folderIsWritable(path) && !walFilesWritable)
        return "its folder is read-only for this user (the store's -wal and -shm files live beside it)";
    return {};
}

std::string readOnlyMessage(const std::string& path, const std::string& reason) {
    return path + ": cannot write into this run store: " + reason +
           ". Nothing was changed; the commands that only read it (runs list, runs show, runs export, study "
           "status, study best, study list, store check) still work";
}

// A file at `path` that is empty: never a store (a store made by TuneLab is whole when it appears).
bool isEmptyFile(const std::string& path) {
    std::error_code ec;
    return std::filesystem::is_regular_file(path, ec) && std::filesystem::file_size(path, ec) == 0 && !ec;
}

// "" for a regular file (or nothing yet), else why `path` cannot be a store: SQLite would block on a
// FIFO forever and fail on a folder or device with a message that does not say so.
std::string notAStoreFile(const std::string& path) {
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (ec || status.type() == std::filesystem::file_type::not_found ||
        status.type() == std::filesystem::file_type::regular)
        return {};
    const char* what = status.type() == std::filesystem::file_type::directory ? "a folder"
                       : status.type() == std::filesystem::file_type::fifo    ? "a FIFO"
                                                                              : "not a regular file";
    return path + ": " + what + ", not a run store; give the path of a store file, such as runs.sqlite";
}

std::string emptyFileMessage(const std::string& path) {
    return path + ": the file is empty, so it is not a TuneLab run store; remove it or choose another store "
                  "(--db, TUNELAB_DB)";
}

// Makes a new store whole under a temporary name and links it into place, so that no process ever
// meets a half-made store at `path`. Another process that makes the same store at the same time
// wins the link; its store is then used.
Result<bool> createStoreFile(const std::string& path) {
    const std::string temporary = path + ".new-" + std::to_string(getpid()) + "-" +
                                  std::to_string(std::chrono::steady_clock::now().time_since_epoch().count());
    auto removeTemporary = [&] {
        for (const char* suffix : {"", "-wal", "-shm", "-journal"})
            std::remove((temporary + suffix).c_str());
    };
    {
        auto db = openConnection(temporary);
        if (!db.ok()) {
            removeTemporary();
            return Result<bool>::failure(db.error());
        }
        auto migrated = migrate(db.value().get(), temporary, true);
        if (!migrated.ok()) {
            removeTemporary();
            return migrated;
        }
    } // the last connection closes: SQLite folds the WAL into the file
    const bool linked = ::link(temporary.c_str(), path.c_str()) == 0;
    const int error = errno;
    removeTemporary();
    if (!linked && error != EEXIST)
        return Result<bool>::failure(path + ": cannot create the run store: " + std::strerror(error));
    return true;
}

} // namespace

Result<std::unique_ptr<RunStore>> RunStore::open(const std::string& location) {
    using Opened = Result<std::unique_ptr<RunStore>>;
    if (isServerLocation(location))
        return openServer(location, false);
    const std::string path = sqliteFilePath(location);
    if (path.empty()) // SQLite would open a private temporary database, unseen by the reader
        return Opened::failure("the run store path is empty");
    try {
        const std::filesystem::path parent = std::filesystem::path(path).parent_path();
        std::error_code ec;
        if (!parent.empty() && !std::filesystem::create_directories(parent, ec) && ec)
            return Opened::failure(path + ": cannot create folder " + parent.string() + ": " + ec.message());

        if (const std::string problem = notAStoreFile(path); !problem.empty())
            return Opened::failure(problem);
        if (isEmptyFile(path))
            return Opened::failure(emptyFileMessage(path));
        if (!std::filesystem::exists(path, ec)) {
            auto created = createStoreFile(path);
            if (!created.ok())
                return Opened::failure(created.error());
        } else if (const std::string reason = readOnlyReason(path); !reason.empty()) {
            return Opened::failure(readOnlyMessage(path, reason));
        }
        auto impl = std::make_unique<Impl>();
        impl->path = path;
        auto writeDb = openConnection(path);
        if (!writeDb.ok())
            return Opened::failure(writeDb.error());
        Database db = writeDb.take();
        auto migrated = migrate(db.get(), path);
        if (!migrated.ok())
            return Opened::failure(migrated.error());
        // Writing into a damaged file spreads the damage; a reader may still get most of it back.
        if (const std::string problems = checkProblems(db.get()); !problems.empty())
            return Opened::failure(damagedMessage(path, problems));
        auto readDb = openConnection(path);
        if (!readDb.ok())
            return Opened::failure(readDb.error());
        auto started =
            impl->startWriting(sql::sqliteConnection(std::move(db)), sql::sqliteConnection(readDb.take()));
        if (!started.ok())
            return Opened::failure(started.error());
        return Opened(std::unique_ptr<RunStore>(new RunStore(std::move(impl))));
    } catch (const std::exception& error) {
        return Opened::failure(path + ": " + error.what());
    }
}

Result<std::unique_ptr<RunStore>> RunStore::openForReading(const std::string& location) {
    using Opened = Result<std::unique_ptr<RunStore>>;
    if (isServerLocation(location))
        return openServer(location, true);
    const std::string path = sqliteFilePath(location);
    if (path.empty())
        return Opened::failure("the run store path is empty");
    std::error_code missing;
    if (!std::filesystem::exists(path, missing))
        return Opened::failure(path + ": no run store here yet (train a run or create a study first)");
    if (const std::string problem = notAStoreFile(path); !problem.empty())
        return Opened::failure(problem);
    if (isEmptyFile(path))
        return Opened::failure(emptyFileMessage(path));
    try {
        auto impl = std::make_unique<Impl>();
        impl->path = path;
        impl->readOnly = true;
        // In a folder this process cannot write, SQLite cannot make the file that WAL reading shares.
        auto readDb = openConnection(path, folderIsWritable(path) ? Access::ReadOnly : Access::Immutable);
        if (!readDb.ok())
            return Opened::failure(readDb.error());
        auto version = usableSchemaVersion(readDb.value().get(), path);
        if (!version.ok())
            return Opened::failure(version.error());
        // An older file has to be migrated before today's queries can read it.
        if (version.value() < kSchemaVersion)
            return open(path);
        impl->readDb = sql::sqliteConnection(readDb.take());
        return Opened(std::unique_ptr<RunStore>(new RunStore(std::move(impl))));
    } catch (const std::exception& error) {
        return Opened::failure(path + ": " + error.what());
    }
}

Result<std::vector<std::string>> RunStore::checkFile(const std::string& location) {
    using Checked = Result<std::vector<std::string>>;
    if (isServerLocation(location))
        return checkServer(location);
    const std::string path = sqliteFilePath(location);
    std::error_code missing;
    if (!std::filesystem::exists(path, missing))
        return Checked::failure(path + ": no run store here");
    if (const std::string problem = notAStoreFile(path); !problem.empty())
        return Checked::failure(problem);
    if (isEmptyFile(path))
        return Checked::failure(emptyFileMessage(path));
    auto db = openConnection(path, folderIsWritable(path) ? Access::ReadOnly : Access::Immutable);
    if (!db.ok())
        return Checked::failure(db.error());
    std::vector<std::string> problems;
    if (auto version = usableSchemaVersion(db.value().get(), path); !version.ok())
        problems.push_back(version.error());
    {
        sqlite::Statement check(db.value().get(), "PRAGMA integrity_check(100)");
        while (check.next()) {
            if (const std::string line = check.text(0); line != "ok")
                problems.push_back(line);
        }
        if (!check.error().empty())
            problems.push_back(sqliteFailure(db.value().get(), path, check.error()));
    }
    // What the rows hold, once the file's structure and schema are sound enough to read them.
    if (problems.empty()) {
        const auto connection = sql::sqliteConnection(db.take());
        for (std::string& problem : detail::storedContentProblems(*connection))
            problems.push_back(std::move(problem));
    }
    return problems;
}

} // namespace tunelab
