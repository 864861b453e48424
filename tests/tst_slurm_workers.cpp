// scripts/slurm/tunelab-workers.sbatch: the threads and device each array task picks (run by hand, as a task
// would run it), and a real job array of workers on a one-node Slurm (tests/slurm/slurm_cluster.sh: munged,
// slurmctld and slurmd from Debian) that finishes a study on a PostgreSQL server (a SQLite file where this
// build has no PostgreSQL). The job array's test skips, saying why, only where Slurm cannot start at all.

#include "cli_test_support.h"
#include "study_cli_test_support.h"

#include <QtCore/QDir>
#include <QtCore/QJsonArray>
#include <QtCore/QMap>
#include <QtCore/QRegularExpression>
#include <QtCore/QStandardPaths>
#include <QtTest/QtTest>

#include <map>
#include <set>

using namespace tunelab::test;

namespace {

using Variables = QMap<QString, QString>;

const QString launcher = QStringLiteral(TUNELAB_SOURCE_DIR "/scripts/slurm/tunelab-workers.sbatch");

// The launcher with `variables` on top of this process's environment, less Slurm's and CUDA's own.
CliResult runLauncher(const Variables& variables, const QString& pathFront = {}) {
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    for (const QString& key : environment.keys())
        if (key.startsWith("SLURM_") || key.startsWith("TUNELAB_") || key == "CUDA_VISIBLE_DEVICES")
            environment.remove(key);
    if (!pathFront.isEmpty())
        environment.insert("PATH", pathFront + ":" + environment.value("PATH"));
    for (auto it = variables.begin(); it != variables.end(); ++it)
        environment.insert(it.key(), it.value());
    return runProgramFor(launcher, {}, 30000, environment);
}

// The variables of an env file of slurm_cluster.sh (`export NAME=value` lines) on top of this process's.
QProcessEnvironment clusterEnvironment(const QString& file) {
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    QFile env(file);
    if (!env.open(QIODevice::ReadOnly))
        return environment;
    for (QString line : QString::fromUtf8(env.readAll()).split('\n')) {
        line = line.trimmed();
        if (line.startsWith("export "))
            line = line.mid(7);
        const qsizetype equals = line.indexOf('=');
        if (!line.startsWith('#') && equals > 0)
            environment.insert(line.left(equals), line.mid(equals + 1));
    }
    return environment;
}

QString readAll(const QString& path) {
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? QString::fromUtf8(file.readAll()) : QString();
}

} // namespace

class TestSlurmWorkers : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void launcherSetsThreadsAndDevice_data();
    void launcherSetsThreadsAndDevice();
    void launcherNeedsAStoreAStudyAndTheCli();
    void jobArrayOfWorkersFinishesAStudy();
};

void TestSlurmWorkers::launcherSetsThreadsAndDevice_data() {
    QTest::addColumn<Variables>("variables");
    QTest::addColumn<int>("nodeGpus"); // GPUs that a fake nvidia-smi lists; -1: no nvidia-smi
    QTest::addColumn<QString>("storage");
    QTest::addColumn<QString>("expected"); // %1: tunelab-cli
    const QString store = "postgresql://tunelab:secret@db:5432/tunelab?password=secret&sslmode=require";
    const QString cli =
        "%1 worker --storage postgresql://tunelab:***@db:5432/tunelab?password=***&sslmode=require "
        "--study moons ";
    const QString one = "OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 " + cli;
    QTest::newRow("no GPU: cpu, a thread per CPU of the task")
        << Variables{{"SLURM_CPUS_PER_TASK", "4"}} << -1 << store
        << "OMP_NUM_THREADS=4 OPENBLAS_NUM_THREADS=4 " + cli + "--device cpu --threads 4";
    QTest::newRow("parallel trials share the task's CPUs")
        << Variables{{"SLURM_CPUS_PER_TASK", "8"}, {"TUNELAB_PARALLEL", "3"}} << -1 << store
        << "OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 " + cli + "--device cpu --threads 2 --parallel 3";
    QTest::newRow("more parallel trials than CPUs: one thread each")
        << Variables{{"SLURM_CPUS_PER_TASK", "2"}, {"TUNELAB_PARALLEL", "4"}} << -1 << store
        << one + "--device cpu --threads 1 --parallel 4";
    QTest::newRow("Slurm's GPUs: the task's local id over them")
        << Variables{{"SLURM_CPUS_PER_TASK", "2"}, {"CUDA_VISIBLE_DEVICES", "4,6"}, {"SLURM_LOCALID", "3"}}
        << 8 << store << "OMP_NUM_THREADS=2 OPENBLAS_NUM_THREADS=2 " + cli + "--device cuda:1 --threads 2";
    QTest::newRow("one GPU of Slurm's per task: its cuda:0")
        << Variables{{"CUDA_VISIBLE_DEVICES", "5"}, {"SLURM_ARRAY_TASK_ID", "7"}} << 8 << store
        << one + "--device cuda:0 --threads 1";
    QTest::newRow("Slurm hides every GPU: cpu") << Variables{{"CUDA_VISIBLE_DEVICES", "NoDevFiles"}} << 8
                                                << store << one + "--device cpu --threads 1";
    QTest::newRow("the node's GPUs without gres: array tasks spread over them")
        << Variables{{"SLURM_ARRAY_TASK_ID", "6"}, {"SLURM_LOCALID", "0"}} << 4 << store
        << one + "--device cuda:2 --threads 1";
    QTest::newRow("nvidia-smi without GPUs: cpu")
        << Variables{{"SLURM_ARRAY_TASK_ID", "6"}} << 0 << store << one + "--device cpu --threads 1";
    QTest::newRow("a chosen device and more worker options")
        << Variables{{"TUNELAB_DEVICE", "cuda"}, {"TUNELAB_WORKER_ARGS", "--max-trials 5  --json"}} << 2
        << store << one + "--device cuda --threads 1 --max-trials 5 --json";
    QTest::newRow("a SQLite file")
        << Variables{} << -1 << "runs.sqlite"
        << "OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 %1 worker --storage runs.sqlite "
           "--study moons --device cpu --threads 1";
}

// The launcher's dry run: the line it prints shows the thread settings and the worker's command line, with
// the store's password hidden.
void TestSlurmWorkers::launcherSetsThreadsAndDevice() {
    QFETCH(Variables, variables);
    QFETCH(int, nodeGpus);
    QFETCH(QString, storage);
    QFETCH(QString, expected);
    QTemporaryDir folder;
    // A stand-in for nvidia-smi -L; an empty folder first on PATH hides a real one where there is none.
    QString script = "#!/bin/sh\n";
    for (int gpu = 0; gpu < nodeGpus; ++gpu)
        script += QString("echo 'GPU %1: NVIDIA Test GPU (UUID: GPU-%1)'\n").arg(gpu);
    if (nodeGpus == 0)
        script += "echo 'No devices were found'\nexit 6\n";
    const QString smi = writeFile(folder, "nvidia-smi", script.toUtf8());
    QFile::setPermissions(smi, QFile::permissions(smi) | QFile::ExeOwner);
    // Where the host has a real nvidia-smi elsewhere on PATH, "no GPU" is what Slurm says with NoDevFiles.
    if (nodeGpus < 0) {
        QFile::remove(smi);
        if (!QStandardPaths::findExecutable("nvidia-smi").isEmpty() &&
            !variables.contains("CUDA_VISIBLE_DEVICES"))
            variables.insert("CUDA_VISIBLE_DEVICES", "NoDevFiles");
    }
    variables.insert("TUNELAB_STORAGE", storage);
    variables.insert("TUNELAB_STUDY", "moons");
    variables.insert("TUNELAB_CLI", TUNELAB_CLI);
    variables.insert("TUNELAB_DRY_RUN", "1");
    const CliResult dry = runLauncher(variables, folder.path());
    QVERIFY2(dry.exitCode == 0, qPrintable(dry.err));
    const QString line = dry.err.trimmed();
    QVERIFY2(line.endsWith(": " + expected.arg(TUNELAB_CLI)), qPrintable(line));
    QVERIFY2(!line.contains("secret"), qPrintable(line));
}

void TestSlurmWorkers::launcherNeedsAStoreAStudyAndTheCli() {
    const CliResult noStore = runLauncher({{"TUNELAB_STUDY", "moons"}, {"TUNELAB_CLI", TUNELAB_CLI}});
    QCOMPARE(noStore.exitCode, 2);
    QVERIFY2(noStore.err.contains("TUNELAB_STORAGE is not set"), qPrintable(noStore.err));
    const CliResult noStudy = runLauncher({{"TUNELAB_STORAGE", "runs.sqlite"}, {"TUNELAB_CLI", TUNELAB_CLI}});
    QCOMPARE(noStudy.exitCode, 2);
    QVERIFY2(noStudy.err.contains("TUNELAB_STUDY is not set"), qPrintable(noStudy.err));
    const CliResult noCli = runLauncher({{"TUNELAB_STORAGE", "runs.sqlite"},
                                         {"TUNELAB_STUDY", "moons"},
                                         {"TUNELAB_CLI", "/nowhere/tunelab-cli"}});
    QCOMPARE(noCli.exitCode, 2);
    QVERIFY2(noCli.err.contains("TUNELAB_CLI=/nowhere/tunelab-cli is not an executable file"),
             qPrintable(noCli.err));
    const CliResult badParallel = runLauncher({{"TUNELAB_STORAGE", "runs.sqlite"},
                                               {"TUNELAB_STUDY", "moons"},
                                               {"TUNELAB_CLI", TUNELAB_CLI},
                                               {"TUNELAB_PARALLEL", "none"}});
    QCOMPARE(badParallel.exitCode, 2);
    QVERIFY2(badParallel.err.contains("TUNELAB_PARALLEL=none"), qPrintable(badParallel.err));
}

void TestSlurmWorkers::jobArrayOfWorkersFinishesAStudy() {
    const QString pid = QString::number(QCoreApplication::applicationPid());
    // Short paths: the cluster's Unix sockets live in its folder.
    const QString clusterDir = QDir::tempPath() + "/tunelab-slurm-" + pid;
    const QString clusterScript = QStringLiteral(TUNELAB_SOURCE_DIR "/tests/slurm/slurm_cluster.sh");
    const CliResult started = runProgramFor(clusterScript, {"start", clusterDir}, 260000);
    const auto stopCluster = qScopeGuard([&] { runProgramFor(clusterScript, {"stop", clusterDir}, 60000); });
    if (started.exitCode == 77)
        QSKIP(qPrintable("no Slurm cluster: " + started.err.trimmed()));
    QVERIFY2(
        started.exitCode == 0,
        qPrintable(QString("slurm_cluster.sh start exited %1:\n%2").arg(started.exitCode).arg(started.err)));
    const QProcessEnvironment slurm = clusterEnvironment(clusterDir + "/env");
    QVERIFY2(slurm.contains("SLURM_CONF"), qPrintable(readAll(clusterDir + "/env")));

    // The store: a database on a PostgreSQL server of this test's own, as a cluster's workers share it.
    QTemporaryDir folder;
    QString storage = folder.filePath("runs.sqlite");
#ifdef TUNELAB_TEST_HAVE_POSTGRES
    const QString serverDir = QDir::tempPath() + "/tunelab-slurm-pg-" + pid;
    const QString serverScript = QStringLiteral(TUNELAB_SOURCE_DIR "/tests/postgres/postgres_server.sh");
    const CliResult server = runProgramFor(serverScript, {"start", serverDir, "5432"}, 60000);
    const auto stopServer = qScopeGuard([&] { runProgramFor(serverScript, {"stop", serverDir}, 60000); });
    QVERIFY2(server.exitCode == 0, qPrintable(server.err));
    if (const QString adminUrl = readAll(serverDir + "/url").trimmed(); !adminUrl.isEmpty()) {
        const CliResult database = runProgramFor("psql", {adminUrl, "-qc", "CREATE DATABASE workers"}, 30000);
        QVERIFY2(database.exitCode == 0, qPrintable(database.err));
        storage = adminUrl;
        storage.replace("/postgres?", "/workers?");
    } else {
        qInfo("no PostgreSQL server here (%s): the workers share a SQLite file",
              qPrintable(server.err.trimmed()));
    }
#else
    qInfo("this build has no PostgreSQL stores: the workers share a SQLite file");
#endif

    qInfo("the workers share %s", qPrintable(storage));
    writeFile(folder, "experiment.json", moonsExperiment(200, 20, 32));
    const QString studyFile = writeFile(folder, "study.json", moonsStudy("slurm", 6));
    const CliResult created = runCliFor({"study", "create", studyFile, "--storage", storage}, 60000);
    QVERIFY2(created.exitCode == 0, qPrintable(created.err));

    // Three tasks of at most three trials each on a node whose CPUs run two at a time: two tasks share the
    // study, and the third starts when one of them is done and finds the budget spent, or what is left of it.
    QProcessEnvironment submit = slurm;
    submit.insert("TUNELAB_CLI", TUNELAB_CLI);
    submit.insert("TUNELAB_WORKER_ARGS", "--max-trials 3");
    const CliResult job =
        runProgramFor("sbatch",
                      {"--wait", "--parsable", "--array=0-2", "--cpus-per-task=1",
                       "--job-name=tunelab-test-workers", "--output=" + folder.filePath("task-%A_%a.out"),
                       "--export=ALL,TUNELAB_STORAGE=" + storage + ",TUNELAB_STUDY=slurm", launcher},
                      150000, submit);
    const QString jobId = job.out.trimmed().section(';', 0, 0);
    QMap<int, QString> outputs;
    for (int task = 0; task < 3; ++task)
        outputs[task] = readAll(folder.filePath(QString("task-%1_%2.out").arg(jobId).arg(task)));
    const QString logs = QString("sbatch: %1%2\ntask 0:\n%3\ntask 1:\n%4\ntask 2:\n%5")
                             .arg(job.out, job.err, outputs[0], outputs[1], outputs[2]);
    QVERIFY2(job.exitCode == 0,
             qPrintable(QString("sbatch --wait exited %1\n%2").arg(job.exitCode).arg(logs)));

    // Every task finished with exit code 0: the cluster's record of finished jobs (no accounting database
    // here, so no sacct), one line per array task.
    std::map<int, QString> ends;
    for (const QString& line : readAll(clusterDir + "/jobcomp.log").split('\n')) {
        const auto field = [&](const QString& name) {
            return QRegularExpression("(?:^| )" + name + "=(\\S*)").match(line).captured(1);
        };
        if (field("ArrayJobId") == jobId)
            ends[field("ArrayTaskId").toInt()] = field("JobState") + " " + field("ExitCode");
    }
    QVERIFY2(ends.size() == 3, qPrintable(readAll(clusterDir + "/jobcomp.log") + "\n" + logs));
    for (const auto& [task, end] : ends)
        QVERIFY2(end == "COMPLETED 0:0", qPrintable(QString("task %1: %2\n%3").arg(task).arg(end, logs)));

    // The study is done: six complete trials, numbered 0 to 5, each once.
    const CliResult status = runCliFor({"study", "status", "slurm", "--storage", storage, "--json"}, 60000);
    QVERIFY2(status.exitCode == 0, qPrintable(status.err));
    const QJsonObject study = status.json();
    QCOMPARE(study.value("trials").toInt(), 6);
    QCOMPARE(study.value("complete").toInt(), 6);
    std::set<int> numbers;
    for (const auto& trial : study.value("trial_list").toArray()) {
        QCOMPARE(trial.toObject().value("state").toString(), QStringLiteral("complete"));
        QVERIFY2(numbers.insert(trial.toObject().value("number").toInt()).second, "a trial number twice");
    }
    QCOMPARE(numbers, (std::set<int>{0, 1, 2, 3, 4, 5}));

    // The tasks shared it: each trial was evaluated by one task, and at least two tasks evaluated some. Each
    // task's log starts with the launcher's line for its array task and the command it ran.
    std::map<int, int> evaluatedBy;
    int tasksWithTrials = 0;
    for (int task = 0; task < 3; ++task) {
        QVERIFY2(
            outputs[task].contains(QString("tunelab-workers: array task %1 of job %2").arg(task).arg(jobId)),
            qPrintable(logs));
        QVERIFY2(outputs[task].contains("--device cpu --threads 1 --max-trials 3"), qPrintable(logs));
        int evaluated = 0;
        auto completed = QRegularExpression("^trial (\\d+) complete ", QRegularExpression::MultilineOption)
                             .globalMatch(outputs[task]);
        while (completed.hasNext()) {
            const int number = completed.next().captured(1).toInt();
            QVERIFY2(evaluatedBy.emplace(number, task).second,
                     qPrintable(QString("trial %1 evaluated twice\n%2").arg(number).arg(logs)));
            ++evaluated;
        }
        QVERIFY2(evaluated <= 3, qPrintable(logs));
        qInfo("array task %d evaluated %d trials", task, evaluated);
        tasksWithTrials += evaluated > 0;
    }
    QCOMPARE(evaluatedBy.size(), size_t(6));
    QVERIFY2(tasksWithTrials >= 2, qPrintable(logs));
}

QTEST_GUILESS_MAIN(TestSlurmWorkers)
#include "tst_slurm_workers.moc"
