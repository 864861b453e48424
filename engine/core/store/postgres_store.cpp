// The run store on a PostgreSQL server: connecting, creating and migrating the schema (the same
// migrations as a SQLite file, in PostgreSQL's words), and TuneLab's table check. Everything after
// opening is the same code as for a file, through the connection interface.

#include "store/run_store.h"

#include "store/postgres_connection.h"
#include "store/run_store_impl.h"
#include "store/store_content_check.h"
#include "store/store_schema.h"

#include <set>
#include <string>
#include <thread>
#include <vector>

namespace tunelab {

namespace {

using sql::Outcome;
using sql::Statement;

// Held for the length of the transaction that creates or migrates the schema, so that processes
// opening a new database at once apply each migration once.
constexpr int64_t kSchemaLockKey = 0x54756e654c6162; // "TuneLab"

std::set<std::string> tablesOfSchema(sql::Connection& db, std::string& error) {
    Statement select(
        db, "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()");
    std::set<std::string> names;
    while (select.next())
        names.insert(select.text(0));
    error = select.error();
    return names;
}

// The store's schema version in the database (0: an empty database, made into a store now).
Result<int> usableVersion(sql::Connection& db, const std::string& where, bool mayCreate) {
    std::string error;
    const std::set<std::string> tables = tablesOfSchema(db, error);
    if (!error.empty())
        return Result<int>::failure(where + ": " + error);
    int version = 0;
    if (tables.count("schema_meta") == 0) {
        if (!tables.empty())
            return Result<int>::failure(
                where +
                " is not a TuneLab run store: the database holds other tables. Give TuneLab a database "
                "of its own (CREATE DATABASE tunelab) or a schema of its own (add "
                "?options=-csearch_path%3Dtunelab to the URL after CREATE SCHEMA tunelab)");
        if (!mayCreate)
            return Result<int>::failure(where +
                                        ": no run store here yet (train a run or create a study first)");
    } else {
        version = readSchemaVersion(Statement(db, kSchemaVersionQuery), error);
        if (version < 0)
            return Result<int>::failure(where + ": " + error);
    }
    if (version > RunStore::kSchemaVersion)
        return Result<int>::failure(newerSchemaMessage(where, version));
    for (const std::string& name : tablesOfVersion(version)) {
        if (tables.count(name) == 0)
            return Result<int>::failure(missingTableMessage(where, name));
    }
    return version;
}

// Creates or migrates the schema in one transaction: the database is upgraded whole or not at all.
Result<bool> migrate(sql::Connection& db, const std::string& where, bool mayCreate) {
    std::string error;
    auto fail = [&](const std::string& message) {
        std::string ignored;
        db.exec("ROLLBACK", ignored);
        return Result<bool>::failure(where + ": " + message);
    };
    if (db.exec("BEGIN", error) != Outcome::Ok)
        return Result<bool>::failure(where + ": " + error);
    Statement lock(db, "SELECT pg_advisory_xact_lock(?)");
    lock.bind(kSchemaLockKey);
    if (!lock.next())
        return fail(lock.error());
    lock.reset();
    auto version = usableVersion(db, where, mayCreate);
    if (!version.ok()) {
        std::string ignored;
        db.exec("ROLLBACK", ignored);
        return Result<bool>::failure(version.error());
    }
    if (version.value() == RunStore::kSchemaVersion) {
        db.exec("COMMIT", error);
        return true;
    }
    const auto& migrations = storeMigrations();
    for (int target = version.value() + 1; target <= RunStore::kSchemaVersion; ++target) {
        for (const char* statement : migrations[static_cast<size_t>(target)]) {
            if (db.exec(postgresDdl(statement), error) != Outcome::Ok)
                return fail("migration to schema version " + std::to_string(target) + " failed: " + error);
        }
    }
    Statement setVersion(db, upsertSql("schema_meta", {"key"}, {"value"}));
    if (!setVersion.run("schema_version", std::to_string(RunStore::kSchemaVersion)))
        return fail("migration to schema version " + std::to_string(RunStore::kSchemaVersion) +
                    " failed: " + setVersion.error());
    if (db.exec("COMMIT", error) != Outcome::Ok)
        return fail("migration to schema version " + std::to_string(RunStore::kSchemaVersion) +
                    " failed: " + error);
    return true;
}

} // namespace

Result<std::unique_ptr<RunStore>> RunStore::openServer(const std::string& url, bool forReading) {
    using Opened = Result<std::unique_ptr<RunStore>>;
    auto impl = std::make_unique<Impl>();
    impl->path = sql::redactedUrl(url);
    impl->location = url;
    impl->readOnly = forReading;
    auto first = sql::postgresConnection(url);
    if (!first.ok())
        return Opened::failure(first.error());
    std::unique_ptr<sql::Connection> db = first.take();
    if (forReading) {
        // An older schema has to be migrated before today's queries can read it.
        auto version = usableVersion(*db, impl->path, false);
        if (!version.ok())
            return Opened::failure(version.error());
        if (version.value() < kSchemaVersion)
            return openServer(url, false);
        impl->readDb = std::move(db);
        return Opened(std::unique_ptr<RunStore>(new RunStore(std::move(impl))));
    }
    auto migrated = migrate(*db, impl->path, true);
    if (!migrated.ok())
        return Opened::failure(migrated.error());
    auto readDb = sql::postgresConnection(url);
    if (!readDb.ok())
        return Opened::failure(readDb.error());
    if (auto started = impl->startWriting(std::move(db), readDb.take()); !started.ok())
        return Opened::failure(started.error());
    return Opened(std::unique_ptr<RunStore>(new RunStore(std::move(impl))));
}

Result<std::vector<std::string>> RunStore::checkServer(const std::string& url) {
    using Checked = Result<std::vector<std::string>>;
    auto db = sql::postgresConnection(url);
    if (!db.ok())
        return Checked::failure(db.error());
    std::vector<std::string> problems;
    if (auto version = usableVersion(*db.value(), sql::redactedUrl(url), false); !version.ok())
        problems.push_back(version.error());
    else
        problems = detail::storedContentProblems(*db.value());
    return problems;
}

} // namespace tunelab
