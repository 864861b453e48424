#pragma once

// Helpers of tst_fault_injection: the real tunelab-cli started, followed and killed, and what a run
// store holds read back through the engine's own reader.

#include "cli_test_support.h"
#include "run_store_test_support.h"

#include <QtCore/QDir>
#include <QtCore/QElapsedTimer>
#include <QtCore/QRegularExpression>

#include <functional>

namespace tunelab::test {

// Every command here ends in seconds on a quiet machine; these bounds only catch a hang.
constexpr int kHangMs = 120000;

// The small experiment every case trains: two moons, a small MLP, six short epochs.
inline QByteArray faultExperiment() {
    return R"({"name": "fault", "seed": 3, "device": "cpu",
      "data": {"kind": "moons", "samples": 600, "noise": 0.1},
      "model": {"layers": [{"type": "linear", "out_features": 16}, {"type": "relu"},
                           {"type": "linear", "out_features": 2}]},
      "optimizer": {"type": "adam", "lr": 0.01},
      "training": {"epochs": 6, "batch_size": 8}})";
}
constexpr int kFaultEpochs = 6;

inline QByteArray faultStudy(const QByteArray& name) {
    return R"({"name": ")" + name + R"(", "experiment": "experiment.json",
      "space": {"parameters": [{"path": "optimizer.lr", "kind": "float", "low": 0.001, "high": 0.1, "log": true}]},
      "sampler": {"type": "random", "seed": 1}})";
}

inline QByteArray faultRace() {
    return R"({"name": "fault-race", "experiment": "experiment.json",
      "setups": [{"name": "SGD", "optimizer": {"type": "sgd", "lr": 0.1}},
                 {"name": "Adam", "optimizer": {"type": "adam", "lr": 0.01}},
                 {"name": "RMSprop", "optimizer": {"type": "rmsprop", "lr": 0.003}}],
      "fair_learning_rates": false})";
}

// tunelab-cli with its stdout and stderr merged, read line by line as it goes.
class CliChild {
public:
    explicit CliChild(const QStringList& arguments, std::function<void()> inChild = {}) {
        QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
        environment.insert("OPENBLAS_NUM_THREADS", "1");
        m_process.setProcessEnvironment(environment);
        m_process.setProcessChannelMode(QProcess::MergedChannels);
        if (inChild)
            m_process.setChildProcessModifier(inChild);
        m_process.start(TUNELAB_CLI, arguments);
        m_process.waitForStarted(kHangMs);
    }
    ~CliChild() {
        if (m_process.state() != QProcess::NotRunning) {
            m_process.kill();
            m_process.waitForFinished(kHangMs);
        }
    }
    CliChild(const CliChild&) = delete;
    CliChild& operator=(const CliChild&) = delete;

    // Waits until `count` lines matching `pattern` were printed. False when the process ended first
    // (its remaining lines are read) or a hang bound passed.
    bool waitForLines(const QRegularExpression& pattern, int count) {
        QElapsedTimer clock;
        clock.start();
        while (matching(pattern) < count) {
            if (takeLines())
                continue;
            if (m_process.state() == QProcess::NotRunning || clock.elapsed() > kHangMs)
                return false;
            m_process.waitForReadyRead(1000);
        }
        return true;
    }
    // SIGKILL: no destructor, no flush, possibly in the middle of a transaction.
    void killHard() {
        m_process.kill();
        m_process.waitForFinished(kHangMs);
        takeLines();
    }
    // The exit code once it ends by itself; -1 for a crash or a hang.
    int finish() {
        // waitForFinished is false for a process already known to have ended.
        if (m_process.state() != QProcess::NotRunning && !m_process.waitForFinished(kHangMs))
            return -1;
        takeLines();
        m_lines << QString::fromUtf8(m_pending);
        m_pending.clear();
        return m_process.exitStatus() == QProcess::NormalExit ? m_process.exitCode() : -1;
    }
    // Reads what it printed for up to `ms`, or less when it ends: the pace of a loop that watches
    // the store.
    void waitBriefly(int ms) {
        m_process.waitForFinished(ms);
        takeLines();
    }
    // QProcess learns of the exit only when asked: a zero wait asks.
    bool running() {
        if (m_process.state() != QProcess::NotRunning)
            m_process.waitForFinished(0);
        return m_process.state() != QProcess::NotRunning;
    }
    QString output() const { return m_lines.join('\n'); }
    int matching(const QRegularExpression& pattern) const {
        int count = 0;
        for (const QString& line : m_lines)
            count += pattern.match(line).hasMatch() ? 1 : 0;
        return count;
    }

private:
    bool takeLines() {
        m_pending += m_process.readAll();
        bool any = false;
        int newline;
        while ((newline = m_pending.indexOf('\n')) >= 0) {
            m_lines << QString::fromUtf8(m_pending.left(newline));
            m_pending.remove(0, newline + 1);
            any = true;
        }
        return any;
    }

    QProcess m_process;
    QByteArray m_pending;
    QStringList m_lines;
};

// Drops root for a child process: permission checks do not apply to root.
inline void becomeNobody() {
    if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0))
        ::_exit(126);
}

inline CliResult runCliAs(const QStringList& arguments, const std::function<void()>& inChild = {}) {
    return runCliFor(arguments, kHangMs, inChild);
}

inline QByteArray fileBytes(const QString& path) {
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}

// What a finished run must still hold after any later fault.
struct KeptRun {
    QString status;
    int epochs = 0;
    qint64 steps = 0;
    double valLoss = 0.0;
    size_t modelBytes = 0;
    bool operator==(const KeptRun& other) const {
        return status == other.status && epochs == other.epochs && steps == other.steps &&
               valLoss == other.valLoss && modelBytes == other.modelBytes;
    }
};

} // namespace tunelab::test
