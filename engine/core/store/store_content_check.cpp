#include "store/store_content_check.h"

#include "common/json_text.h"
#include "common/zip_archive_check.h"

#include <functional>

namespace tunelab::detail {

namespace {

std::string runLabel(sql::Statement& rows) {
    return "run " + std::to_string(rows.integer(0)) + " ('" + rows.text(1) + "')";
}

// A line for stored JSON that does not parse; "" when it does or there is none.
std::string jsonProblem(const std::string& owner, const std::string& what, const std::string& text) {
    if (text.empty())
        return {};
    const auto parsed = parseJsonText(text);
    return parsed.ok() ? std::string() : owner + ": " + what + " cannot be read: " + parsed.error();
}

std::string archiveProblem(const std::string& owner, const std::string& what,
                           const std::vector<char>& bytes) {
    const std::string damage = zipArchiveDamage(bytes.data(), bytes.size());
    return damage.empty() ? std::string() : owner + ": " + what + " is damaged: " + damage;
}

// Runs `sql`; when it fails, the failure is a problem too (a table the database could not read).
void readEach(sql::Connection& db, const std::string& sql, std::vector<std::string>& problems,
              const std::function<void(sql::Statement&)>& check) {
    sql::Statement rows(db, sql);
    while (rows.next())
        check(rows);
    if (!rows.valid() || !rows.error().empty())
        problems.push_back("cannot read the stored rows (" + sql + "): " + rows.error());
}

} // namespace

std::vector<std::string> storedContentProblems(sql::Connection& db) {
    std::vector<std::string> problems;
    auto add = [&problems](std::string problem) {
        if (!problem.empty())
            problems.push_back(std::move(problem));
    };
    readEach(db, "SELECT id, name, spec_json FROM runs ORDER BY id", problems,
             [&](sql::Statement& rows) { add(jsonProblem(runLabel(rows), "its experiment", rows.text(2))); });
    // Models one at a time: together they can be larger than memory.
    readEach(db, "SELECT id, name FROM runs WHERE model IS NOT NULL ORDER BY id", problems,
             [&](sql::Statement& rows) {
                 sql::Statement model(db, "SELECT model FROM runs WHERE id = ?");
                 model.bind(rows.integer(0));
                 if (model.next())
                     add(archiveProblem(runLabel(rows), "its saved model", model.blob(0)));
             });
    readEach(db,
             "SELECT c.run_id, r.name FROM run_checkpoints c JOIN runs r ON r.id = c.run_id "
             "WHERE c.state IS NOT NULL ORDER BY c.run_id",
             problems, [&](sql::Statement& rows) {
                 sql::Statement state(db, "SELECT state FROM run_checkpoints WHERE run_id = ?");
                 state.bind(rows.integer(0));
                 if (state.next())
                     add(archiveProblem(runLabel(rows), "its checkpoint", state.blob(0)));
             });
    readEach(db, "SELECT id, name, spec_json FROM studies ORDER BY id", problems, [&](sql::Statement& rows) {
        add(jsonProblem("study '" + rows.text(1) + "'", "its settings", rows.text(2)));
    });
    readEach(db,
             "SELECT s.name, t.number, t.params_json FROM trials t JOIN studies s ON s.id = t.study_id "
             "ORDER BY s.id, t.number",
             problems, [&](sql::Statement& rows) {
                 add(jsonProblem("study '" + rows.text(0) + "' trial " + std::to_string(rows.integer(1)),
                                 "its parameters", rows.text(2)));
             });
    return problems;
}

} // namespace tunelab::detail
