// Studies to and from Optuna's storage: the real tunelab-cli, real SQLite files, and the real Optuna
// 3.1 (through TUNELAB_OPTUNA_PYTHON) writing and reading them.

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

#include "cli_test_support.h"
#include "run_store_test_support.h"
#include "study/optuna_storage.h"
#include "study/study.h"

#include <cmath>
#include <limits>

using namespace tunelab;
using namespace tunelab::test;

namespace {

CliResult runCli(const QStringList& arguments) {
    return runCliFor(arguments, 60000);
}

struct PythonResult {
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
};

// Runs tests/optuna/`script` (or, with `code`, the code itself) with the Python that has Optuna;
// `arguments` become sys.argv[1:].
PythonResult runPython(const QString& script, const QStringList& arguments, bool code = false) {
    QProcess process;
    const QString program = code ? script : QString(TUNELAB_SOURCE_DIR "/tests/optuna/") + script;
    process.start(TUNELAB_OPTUNA_PYTHON,
                  (code ? QStringList{"-c", program} : QStringList{program}) + arguments);
    PythonResult result;
    if (!process.waitForFinished(60000)) {
        process.kill();
        process.waitForFinished();
        return result;
    }
    result.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    result.out = process.readAllStandardOutput();
    result.err = process.readAllStandardError();
    return result;
}

// Why Optuna cannot be used here, or empty when it can.
QString optunaMissing() {
    static const QString reason = [] {
        const PythonResult result =
            runPython("import optuna; assert optuna.__version__.startswith('3.')", {}, true);
        return result.exitCode == 0
                   ? QString()
                   : QString("%1 cannot import Optuna 3: %2")
                         .arg(TUNELAB_OPTUNA_PYTHON, QString::fromUtf8(result.err.trimmed()));
    }();
    return reason;
}

#define REQUIRE_OPTUNA()                                                                                     \
    do {                                                                                                     \
        if (!optunaMissing().isEmpty())                                                                      \
            QSKIP(qPrintable(optunaMissing()));                                                              \
    } while (false)

const char* const kExperiment = R"({"name": "moons", "seed": 3, "device": "cpu",
  "data": {"kind": "moons", "samples": 64, "noise": 0.1},
  "model": {"layers": [{"type": "linear", "out_features": 16}, {"type": "relu"}, {"type": "linear", "out_features": 2}]},
  "optimizer": {"type": "sgd", "lr": 0.01},
  "training": {"epochs": 3, "batch_size": 16}})";

const char* const kSpace = R"({"parameters": [
  {"path": "optimizer.lr", "kind": "float", "low": 0.0001, "high": 0.1, "log": true},
  {"path": "optimizer.type", "kind": "categorical", "choices": ["sgd", "adam"]},
  {"path": "optimizer.momentum", "kind": "float", "low": 0.0, "high": 0.9, "step": 0.1, "when": {"optimizer.type": "sgd"}},
  {"path": "training.batch_size", "kind": "int", "low": 16, "high": 256, "log": true},
  {"path": "model.layers[0].out_features", "kind": "int", "low": 8, "high": 64, "step": 8},
  {"path": "model.layers[1]", "kind": "categorical", "choices": [{"type": "relu"}, {"type": "gelu"}]},
  {"path": "training.epochs", "kind": "fixed", "value": 3}]})";

// One trial's parameters as TuneLab stores them; an empty `momentum` leaves the conditional one out.
Assignment params(const char* lr, const char* type, const char* momentum, int batch, int width,
                  const char* layer) {
    Assignment assignment{{"optimizer.lr", {lr}},
                          {"optimizer.type", {std::string("\"") + type + "\""}},
                          {"training.batch_size", {std::to_string(batch)}},
                          {"model.layers[0].out_features", {std::to_string(width)}},
                          {"model.layers[1]", {std::string("{\"type\":\"") + layer + "\"}"}},
                          {"training.epochs", {"3"}}};
    if (*momentum)
        assignment["optimizer.momentum"] = ParamValue{momentum};
    return assignment;
}

// A TuneLab study "tuned" in `db`: complete, pruned, failed, waiting and running trials, with
// intermediate values per epoch. Trial 3 is the best (lowest val_loss).
bool makeTuneLabStudy(const QString& db) {
    auto store = openStore(db);
    if (!store)
        return false;
    auto spec = parseStudySpec(std::string(R"({"name": "tuned", "experiment": )") + kExperiment +
                               ", \"space\": " + kSpace + R"(, "sampler": {"type": "random", "seed": 4},
        "objective": {"metric": "val_loss", "at": "best", "direction": "minimize"}, "budget": {"trials": 8}})");
    if (!spec.ok()) {
        qWarning("%s", spec.error().c_str());
        return false;
    }
    auto id = store->createStudy("tuned", studySpecToJson(spec.value()));
    if (!id.ok())
        return false;
    struct Trial {
        TrialState state;
        Assignment params;
        std::map<int, double> intermediate;
        double value;
        const char* message;
    };
    const double nan = std::numeric_limits<double>::quiet_NaN();
    const std::vector<Trial> trials = {
        {TrialState::Complete,
         params("0.01", "sgd", "0.5", 32, 16, "relu"),
         {{1, 0.9}, {2, 0.7}, {3, 0.6}},
         0.6,
         ""},
        {TrialState::Pruned,
         params("0.05", "adam", "", 128, 64, "gelu"),
         {{1, 1.2}, {2, 1.1}},
         1.1,
         "pruned (median)"},
        {TrialState::Failed,
         params("0.09", "sgd", "0.9", 256, 8, "relu"),
         {{1, nan}},
         nan,
         "diverged: loss is nan"},
        {TrialState::Complete,
         params("0.003", "adam", "", 64, 32, "gelu"),
         {{1, 0.8}, {2, 0.5}, {3, 0.4}},
         0.4,
         ""},
        {TrialState::Waiting, params("0.001", "sgd", "0.2", 16, 24, "relu"), {}, nan, ""},
        {TrialState::Running, params("0.02", "adam", "", 48, 40, "gelu"), {{1, 0.95}}, nan, ""},
    };
    for (const Trial& trial : trials) {
        const TrialState start =
            trial.state == TrialState::Waiting ? TrialState::Waiting : TrialState::Running;
        auto created = store->createTrial(id.value(), trial.params, start, RunStore::TrialOwner::Outside);
        if (!created.ok())
            return false;
        for (const auto& [epoch, value] : trial.intermediate)
            store->reportIntermediate(created.value().id, epoch, value);
        if (isFinal(trial.state) &&
            !store
                 ->finishTrial(created.value().id, trial.state, trial.value, trial.message,
                               trial.state == TrialState::Pruned ? 2 : 0)
                 .ok())
            return false;
    }
    store->flush();
    return store->lostWrites().empty();
}

QJsonObject statusJson(const QString& db, const QString& study) {
    const CliResult result = runCli({"study", "status", study, "--json", "--db", db});
    return result.exitCode == 0 ? result.json() : QJsonObject();
}

// Trials as `study status --json` lists them, without what an import cannot keep (times, runs).
QJsonArray comparableTrials(const QJsonObject& status) {
    QJsonArray trials;
    for (const QJsonValue& value : status["trial_list"].toArray()) {
        QJsonObject trial = value.toObject();
        for (const char* key : {"started_at", "finished_at", "run_id"})
            trial.remove(key);
        trials.append(trial);
    }
    return trials;
}

std::vector<TrialRecord> storedTrials(const QString& db, const std::string& study) {
    auto store = RunStore::openForReading(db.toStdString());
    if (!store.ok())
        return {};
    const auto record = store.value()->findStudy(study);
    return record ? store.value()->trials(record->id, true) : std::vector<TrialRecord>();
}

bool sameCurves(const std::vector<TrialRecord>& a, const std::vector<TrialRecord>& b) {
    if (a.size() != b.size())
        return false;
    for (size_t i = 0; i < a.size(); ++i) {
        if (a[i].intermediate.size() != b[i].intermediate.size())
            return false;
        for (const auto& [epoch, value] : a[i].intermediate) {
            const auto other = b[i].intermediate.find(epoch);
            if (other == b[i].intermediate.end() ||
                !(other->second == value || (std::isnan(value) && std::isnan(other->second))))
                return false;
        }
    }
    return true;
}

QStringList folderEntries(const QTemporaryDir& folder) {
    return QDir(folder.path()).entryList(QDir::Files | QDir::Hidden, QDir::Name);
}

} // namespace

Q_DECLARE_METATYPE(tunelab::OptunaDistribution::Kind)

class TestOptunaInterop : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void readsDistributions_data() {
        QTest::addColumn<QString>("json");
        QTest::addColumn<OptunaDistribution::Kind>("kind");
        QTest::addColumn<double>("low");
        QTest::addColumn<double>("high");
        QTest::addColumn<bool>("log");
        QTest::addColumn<double>("step");
        QTest::addColumn<int>("choices");
        using Kind = OptunaDistribution::Kind;
        QTest::newRow("float log")
            << R"({"name": "FloatDistribution", "attributes": {"step": null, "low": 0.0001, "high": 1.0, "log": true}})"
            << Kind::Float << 1e-4 << 1.0 << true << 0.0 << 0;
        QTest::newRow("float step")
            << R"({"name": "FloatDistribution", "attributes": {"step": 0.25, "low": 0.0, "high": 1.0, "log": false}})"
            << Kind::Float << 0.0 << 1.0 << false << 0.25 << 0;
        QTest::newRow("int step")
            << R"({"name": "IntDistribution", "attributes": {"log": false, "step": 2, "low": 1, "high": 9}})"
            << Kind::Int << 1.0 << 9.0 << false << 2.0 << 0;
        QTest::newRow("int log")
            << R"({"name": "IntDistribution", "attributes": {"log": true, "step": 1, "low": 1, "high": 1024}})"
            << Kind::Int << 1.0 << 1024.0 << true << 1.0 << 0;
        QTest::newRow("categorical")
            << R"({"name": "CategoricalDistribution", "attributes": {"choices": ["a", null, true, 3, 2.5]}})"
            << Kind::Categorical << 0.0 << 0.0 << false << 0.0 << 5;
        QTest::newRow("old uniform")
            << R"({"name": "UniformDistribution", "attributes": {"low": -1, "high": 1}})" << Kind::Float
            << -1.0 << 1.0 << false << 0.0 << 0;
        QTest::newRow("old log uniform")
            << R"({"name": "LogUniformDistribution", "attributes": {"low": 0.1, "high": 10}})" << Kind::Float
            << 0.1 << 10.0 << true << 0.0 << 0;
        QTest::newRow("old discrete")
            << R"({"name": "DiscreteUniformDistribution", "attributes": {"low": 0, "high": 1, "q": 0.5}})"
            << Kind::Float << 0.0 << 1.0 << false << 0.5 << 0;
        QTest::newRow("old int")
            << R"({"name": "IntUniformDistribution", "attributes": {"low": 1, "high": 5, "step": 2}})"
            << Kind::Int << 1.0 << 5.0 << false << 2.0 << 0;
        QTest::newRow("old int log")
            << R"({"name": "IntLogUniformDistribution", "attributes": {"low": 1, "high": 64, "step": 1}})"
            << Kind::Int << 1.0 << 64.0 << true << 1.0 << 0;
        QTest::newRow("abbreviated") << R"({"type": "int", "low": 1, "high": 3})" << Kind::Int << 1.0 << 3.0
                                     << false << 1.0 << 0;
    }
    void readsDistributions() {
        QFETCH(QString, json);
        auto parsed = parseOptunaDistribution(json.toStdString());
        QVERIFY2(parsed.ok(), parsed.error().c_str());
        const OptunaDistribution& distribution = parsed.value();
        QTEST(distribution.kind, "kind");
        QTEST(distribution.low, "low");
        QTEST(distribution.high, "high");
        QTEST(distribution.log, "log");
        QTEST(distribution.step, "step");
        QTEST(static_cast<int>(distribution.choices.size()), "choices");
        // What TuneLab writes reads back as the same distribution.
        auto again = parseOptunaDistribution(optunaDistributionJson(distribution));
        QVERIFY2(again.ok(), again.error().c_str());
        QVERIFY(again.value() == distribution);
    }

    void refusesDamagedDistributions_data() {
        QTest::addColumn<QString>("json");
        QTest::addColumn<QString>("message");
        QTest::newRow("cut short") << R"({"name": "FloatDistribution", "attributes": {"low": 1)"
                                   << "invalid JSON";
        QTest::newRow("not an object") << "[1, 2]"
                                       << "expected a JSON object";
        QTest::newRow("unknown class") << R"({"name": "BetaDistribution", "attributes": {}})"
                                       << "unknown distribution class 'BetaDistribution'";
        QTest::newRow("unknown key")
            << R"({"name": "FloatDistribution", "attributes": {"low": 0, "high": 1, "scale": 2}})"
            << "unknown attribute 'scale'";
        QTest::newRow("low above high")
            << R"({"name": "FloatDistribution", "attributes": {"low": 2, "high": 1}})"
            << "low 2.0 is above high 1.0";
        QTest::newRow("log of zero")
            << R"({"name": "FloatDistribution", "attributes": {"low": 0, "high": 1, "log": true}})"
            << "log scale";
        QTest::newRow("fractional int")
            << R"({"name": "IntDistribution", "attributes": {"low": 0.5, "high": 3}})"
            << "0.5 is not an integer";
        QTest::newRow("no choices") << R"({"name": "CategoricalDistribution", "attributes": {"choices": []}})"
                                    << "\"choices\" is not a non-empty array";
        QTest::newRow("string bound")
            << R"({"name": "IntDistribution", "attributes": {"low": "1", "high": 3}})"
            << "\"low\" is not a number";
    }
    void refusesDamagedDistributions() {
        QFETCH(QString, json);
        QFETCH(QString, message);
        const auto parsed = parseOptunaDistribution(json.toStdString());
        QVERIFY(!parsed.ok());
        QVERIFY2(QString::fromStdString(parsed.error()).contains(message), parsed.error().c_str());
    }

    void exportOpensInOptuna() {
        REQUIRE_OPTUNA();
        QTemporaryDir folder;
        const QString db = folder.filePath("runs.sqlite");
        QVERIFY(makeTuneLabStudy(db));
        const QString out = folder.filePath("tuned.sqlite3");
        const CliResult exported =
            runCli({"study", "export", "tuned", "--format", "optuna", "--out", out, "--db", db});
        QVERIFY2(exported.exitCode == 0, qPrintable(exported.err));

        const PythonResult described = runPython("describe_study.py", {out, "tuned"});
        QVERIFY2(described.exitCode == 0, described.err.constData());
        const QJsonObject optuna = QJsonDocument::fromJson(described.out).object();
        QCOMPARE(optuna["direction"].toString(), QString("MINIMIZE"));
        QCOMPARE(optuna["best"].toInt(), 3);
        QCOMPARE(optuna["best_value"].toDouble(), 0.4);
        // Optuna ran the waiting trial next, with the parameters TuneLab queued for it.
        QCOMPARE(optuna["asked"].toInt(), 4);
        QCOMPARE(optuna["after_tell"].toInt(), 6);
        QCOMPARE(optuna["asked_params"]["optimizer.lr"].toDouble(), 0.001);
        QCOMPARE(optuna["asked_params"]["model.layers[1]"].toString(), QString(R"({"type":"relu"})"));
        const QJsonArray trials = optuna["trials"].toArray();
        QCOMPARE(trials.size(), 6);
        const QStringList states = {"COMPLETE", "PRUNED", "FAIL", "COMPLETE", "WAITING", "RUNNING"};
        for (int i = 0; i < trials.size(); ++i) {
            QCOMPARE(trials[i]["number"].toInt(), i);
            QCOMPARE(trials[i]["state"].toString(), states[i]);
        }
        QCOMPARE(trials[0]["value"].toDouble(), 0.6);
        QCOMPARE(trials[1]["value"].toDouble(), 1.1);
        QVERIFY(trials[2]["value"].isNull());
        QVERIFY(trials[5]["value"].isNull());

        const QJsonObject first = trials[0]["params"].toObject();
        QCOMPARE(first["optimizer.lr"].toDouble(), 0.01);
        QCOMPARE(first["optimizer.type"].toString(), QString("sgd"));
        QCOMPARE(first["optimizer.momentum"].toDouble(), 0.5);
        QCOMPARE(first["training.batch_size"].toInt(), 32);
        QCOMPARE(first["model.layers[0].out_features"].toInt(), 16);
        QCOMPARE(first["model.layers[1]"].toString(), QString(R"({"type":"relu"})"));
        QCOMPARE(first["training.epochs"].toInt(), 3);
        QVERIFY(!trials[1]["params"].toObject().contains("optimizer.momentum")); // did not apply

        const QJsonObject distributions = trials[0]["distributions"].toObject();
        const auto attributes = [&](const char* name) {
            return distributions[name]["attributes"].toObject();
        };
        QCOMPARE(distributions["optimizer.lr"]["name"].toString(), QString("FloatDistribution"));
        QCOMPARE(attributes("optimizer.lr")["log"].toBool(), true);
        QCOMPARE(attributes("optimizer.lr")["low"].toDouble(), 1e-4);
        QCOMPARE(attributes("optimizer.lr")["high"].toDouble(), 0.1);
        QVERIFY(attributes("optimizer.lr")["step"].isNull());
        QCOMPARE(attributes("optimizer.momentum")["step"].toDouble(), 0.1);
        QCOMPARE(attributes("optimizer.momentum")["high"].toDouble(), 0.9);
        QCOMPARE(distributions["training.batch_size"]["name"].toString(), QString("IntDistribution"));
        QCOMPARE(attributes("training.batch_size")["log"].toBool(), true);
        QCOMPARE(attributes("training.batch_size")["low"].toInt(), 16);
        QCOMPARE(attributes("model.layers[0].out_features")["step"].toInt(), 8);
        QCOMPARE(attributes("model.layers[0].out_features")["log"].toBool(), false);
        QCOMPARE(attributes("optimizer.type")["choices"].toArray(), (QJsonArray{"sgd", "adam"}));
        QCOMPARE(attributes("model.layers[1]")["choices"].toArray(),
                 (QJsonArray{R"({"type":"relu"})", R"({"type":"gelu"})"}));
        QCOMPARE(attributes("training.epochs")["choices"].toArray(), (QJsonArray{3}));

        const QJsonObject curve = trials[0]["intermediate"].toObject();
        QCOMPARE(curve.size(), 3);
        QCOMPARE(curve["1"].toDouble(), 0.9);
        QCOMPARE(curve["3"].toDouble(), 0.6);
        QCOMPARE(trials[2]["intermediate"].toObject()["1"].toString(), QString("nan"));
        QCOMPARE(trials[5]["intermediate"].toObject()["1"].toDouble(), 0.95);

        // A waiting trial's parameters are Optuna's enqueued ones, which it hands out when the trial runs.
        QVERIFY(trials[4]["params"].toObject().isEmpty());
        const QJsonObject enqueued = trials[4]["fixed_params"].toObject();
        QCOMPARE(enqueued["optimizer.lr"].toDouble(), 0.001);
        QCOMPARE(enqueued["optimizer.momentum"].toDouble(), 0.2);
        QCOMPARE(enqueued["model.layers[1]"].toString(), QString(R"({"type":"relu"})"));
        QVERIFY(trials[0]["started"].toBool() && trials[0]["finished"].toBool());
        QVERIFY(trials[5]["started"].toBool() && !trials[5]["finished"].toBool());
        QVERIFY(!trials[4]["started"].toBool());
    }

    void importsAStudyOptunaMade() {
        REQUIRE_OPTUNA();
        QTemporaryDir folder;
        const QString file = folder.filePath("made.sqlite3");
        const PythonResult made = runPython("make_study.py", {file});
        QVERIFY2(made.exitCode == 0, made.err.constData());
        const QJsonObject optuna = QJsonDocument::fromJson(made.out).object();
        const QString db = folder.filePath("runs.sqlite");
        const CliResult imported = runCli({"study", "import", file, "--db", db});
        QVERIFY2(imported.exitCode == 0, qPrintable(imported.err));
        QCOMPARE(imported.out.trimmed(), QString("made"));

        const QJsonObject status = statusJson(db, "made");
        QCOMPARE(status["direction"].toString(), QString("maximize"));
        QCOMPARE(status["metric"].toString(), QString("value"));
        QCOMPARE(status["best_trial"].toInt(), optuna["best"].toInt());
        QCOMPARE(status["complete"].toInt(), 4);
        QCOMPARE(status["pruned"].toInt(), 1);
        QCOMPARE(status["failed"].toInt(), 1);
        QCOMPARE(status["waiting"].toInt(), 1);
        const QJsonArray expected = optuna["trials"].toArray();
        const QJsonArray trials = status["trial_list"].toArray();
        QCOMPARE(trials.size(), expected.size());
        const QMap<QString, QString> stateNames = {{"COMPLETE", "complete"},
                                                   {"PRUNED", "pruned"},
                                                   {"FAIL", "failed"},
                                                   {"WAITING", "waiting"},
                                                   {"RUNNING", "running"}};
        const auto stored = storedTrials(db, "made");
        QCOMPARE(static_cast<int>(stored.size()), expected.size());
        bool someLackMomentum = false;
        for (int i = 0; i < trials.size(); ++i) {
            const QJsonObject trial = trials[i].toObject();
            const QJsonObject want = expected[i].toObject();
            QCOMPARE(trial["number"].toInt(), want["number"].toInt());
            QCOMPARE(trial["state"].toString(), stateNames.value(want["state"].toString()));
            QCOMPARE(trial["value"], want["value"]);
            QCOMPARE(trial["params"].toObject(), want["params"].toObject());
            someLackMomentum = someLackMomentum || !trial["params"].toObject().contains("momentum");
            const QJsonObject curve = want["intermediate"].toObject();
            QCOMPARE(static_cast<int>(stored[i].intermediate.size()), curve.size());
            for (const QString& step : curve.keys())
                QCOMPARE(stored[i].intermediate.at(step.toInt()), curve[step].toDouble());
        }
        QVERIFY(someLackMomentum);
        QCOMPARE(trials[2]["pruned_epoch"].toInt(), 2);
        QCOMPARE(trials[6]["params"].toObject()["kind"].toString(), QString("sgd")); // the enqueued trial

        // The space: one plain parameter per Optuna parameter, ranges and steps as Optuna had them.
        auto store = RunStore::openForReading(db.toStdString());
        QVERIFY(store.ok());
        auto spec = parseStudySpec(store.value()->findStudy("made")->specJson);
        QVERIFY2(spec.ok(), spec.error().c_str());
        QVERIFY(spec.value().experimentJson.empty());
        auto space = parseSearchSpace(spec.value().spaceJson);
        QVERIFY(space.ok());
        QCOMPARE(static_cast<int>(space.value().parameters().size()), 7);
        const SearchParameter* dropout = space.value().find("dropout");
        QVERIFY(dropout && dropout->kind == ParamKind::Float && dropout->step == 0.1 && dropout->high == 0.5);
        const SearchParameter* units = space.value().find("units");
        QVERIFY(units && units->kind == ParamKind::Int && units->log && units->low == 16 &&
                units->high == 256);
        const SearchParameter* kind = space.value().find("kind");
        QVERIFY(kind && kind->kind == ParamKind::Categorical && kind->values.size() == 5);
        QVERIFY(space.value().find("momentum")->when.empty());
    }

    void roundTripKeepsTheStudy() {
        QTemporaryDir folder;
        const QString db = folder.filePath("runs.sqlite");
        QVERIFY(makeTuneLabStudy(db));
        const QString out = folder.filePath("tuned.sqlite3");
        const CliResult exported = runCli({"study", "export", "tuned", "--out", out, "--db", db});
        QVERIFY2(exported.exitCode == 0, qPrintable(exported.err));
        const CliResult imported = runCli({"study", "import", out, "--name", "again", "--db", db});
        QVERIFY2(imported.exitCode == 0, qPrintable(imported.err));
        QVERIFY2(imported.err.contains("with its TuneLab study file"), qPrintable(imported.err));

        QJsonObject before = statusJson(db, "tuned");
        QJsonObject after = statusJson(db, "again");
        QVERIFY(!before.isEmpty() && !after.isEmpty());
        QCOMPARE(comparableTrials(after), comparableTrials(before));
        for (QJsonObject* status : {&before, &after}) {
            status->remove("trial_list");
            status->remove("study");
        }
        QCOMPARE(after, before);
        QVERIFY(sameCurves(storedTrials(db, "again"), storedTrials(db, "tuned")));

        // The study file comes back whole: experiment, conditions, sampler, objective and budget.
        auto store = RunStore::openForReading(db.toStdString());
        QVERIFY(store.ok());
        auto original = parseStudySpec(store.value()->findStudy("tuned")->specJson);
        auto copy = parseStudySpec(store.value()->findStudy("again")->specJson);
        QVERIFY(original.ok() && copy.ok());
        copy.value().name = original.value().name;
        QCOMPARE(studySpecToJson(copy.value()), studySpecToJson(original.value()));
    }

    void refusesBadFiles() {
        QTemporaryDir folder;
        const QString db = folder.filePath("runs.sqlite");
        QVERIFY(makeTuneLabStudy(db));
        const QString good = folder.filePath("good.sqlite3");
        QCOMPARE(runCli({"study", "export", "tuned", "--out", good, "--db", db}).exitCode, 0);
        const auto copyOf = [&](const QString& name, const QString& sql) {
            const QString path = folder.filePath(name);
            QFile::copy(good, path);
            RawDb(path).exec(sql);
            return path;
        };
        struct Case {
            QString file;
            QString message;
        };
        const QList<Case> cases = {
            {writeFile(folder, "notes.txt", QByteArray("not a database, just text\n").repeated(100)),
             "not an SQLite database"},
            {db, "a TuneLab run store, not an Optuna storage"},
            {copyOf("plain.sqlite3", "DROP TABLE version_info"), "not an Optuna storage"},
            {copyOf("newer.sqlite3", "UPDATE version_info SET schema_version = 13, library_version = '3.2.0';"
                                     "UPDATE alembic_version SET version_num = 'v3.2.0.a'"),
             "schema version 13, revision v3.2.0.a (set up by Optuna 3.2.0)"},
            {copyOf("damaged.sqlite3", "UPDATE trial_params SET distribution_json = '{\"name\": \"Float' "
                                       "WHERE param_name = 'optimizer.lr'"),
             "trial 0, parameter 'optimizer.lr': a damaged distribution"},
            {copyOf("infinite.sqlite3", "UPDATE trial_values SET value = NULL, value_type = 'INF_POS'"),
             "trial 0 has the value inf"},
            {copyOf("missing.sqlite3", "DELETE FROM trial_values"), "trial 0 is COMPLETE but has no value"},
            {copyOf("two.sqlite3",
                    "INSERT INTO studies VALUES (2, 'other');"
                    "INSERT INTO study_directions(direction, study_id, objective) VALUES ('MINIMIZE', 2, 0)"),
             "has 2 studies; name the one to import: 'tuned', 'other'"},
            {copyOf("objectives.sqlite3",
                    "INSERT INTO study_directions(direction, study_id, objective) VALUES ('MAXIMIZE', 1, 1)"),
             "its 2 objectives differ from the 1 of the TuneLab study it was exported from"},
            {copyOf("five.sqlite3",
                    "INSERT INTO study_directions(direction, study_id, objective) VALUES"
                    " ('MAXIMIZE', 1, 1), ('MAXIMIZE', 1, 2), ('MAXIMIZE', 1, 3), ('MAXIMIZE', 1, 4)"),
             "has 5 objectives; a TuneLab study has at most 4"},
            {folder.filePath("absent.sqlite3"), "No such file or directory"},
        };
        for (const Case& bad : cases) {
            const CliResult result = runCli({"study", "import", bad.file, "--name", "imported", "--db", db});
            QVERIFY2(result.exitCode == 2, qPrintable(bad.file + ": " + result.err));
            QVERIFY2(result.err.contains(bad.file) && result.err.contains(bad.message),
                     qPrintable(bad.file + ": " + result.err));
        }
        const CliResult unknown =
            runCli({"study", "import", good, "--study", "nope", "--name", "imported", "--db", db});
        QCOMPARE(unknown.exitCode, 2);
        QVERIFY2(unknown.err.contains("no Optuna study named 'nope'; the storage has 'tuned'"),
                 qPrintable(unknown.err));
        // Nothing was added on the way.
        const CliResult list = runCli({"study", "list", "--json", "--db", db});
        QCOMPARE(QJsonDocument::fromJson(list.out.toUtf8()).array().size(), 1);
        // A store that did not exist is not created for a file that cannot be imported.
        const QString fresh = folder.filePath("fresh.sqlite");
        QCOMPARE(runCli({"study", "import", cases.front().file, "--db", fresh}).exitCode, 2);
        QVERIFY(!QFile::exists(fresh));
    }

    void refusesToOverwriteOrClash() {
        QTemporaryDir folder;
        const QString db = folder.filePath("runs.sqlite");
        QVERIFY(makeTuneLabStudy(db));
        QTemporaryDir outFolder;
        const QString out = writeFile(outFolder, "taken.sqlite3", "keep me");
        const QStringList entries = folderEntries(outFolder);
        const CliResult refused = runCli({"study", "export", "tuned", "--out", out, "--db", db});
        QCOMPARE(refused.exitCode, 2);
        QVERIFY2(refused.err.contains(out + " already exists; give --force"), qPrintable(refused.err));
        QFile kept(out);
        QVERIFY(kept.open(QIODevice::ReadOnly));
        QCOMPARE(kept.readAll(), QByteArray("keep me"));
        QCOMPARE(folderEntries(outFolder), entries); // no temporary file left behind
        const CliResult forced = runCli({"study", "export", "tuned", "--out", out, "--force", "--db", db});
        QVERIFY2(forced.exitCode == 0, qPrintable(forced.err));
        QCOMPARE(folderEntries(outFolder), entries);

        const CliResult clash = runCli({"study", "import", out, "--db", db});
        QCOMPARE(clash.exitCode, 2);
        QVERIFY2(clash.err.contains("already has a study named 'tuned'") && clash.err.contains("--name"),
                 qPrintable(clash.err));
        QCOMPARE(
            runCli({"study", "export", "absent", "--out", folder.filePath("x.sqlite3"), "--db", db}).exitCode,
            2);
    }
};

QTEST_GUILESS_MAIN(TestOptunaInterop)
#include "tst_optuna_interop.moc"
