#pragma once

// Helpers shared by the tunelab-cli suites: running the real binary and writing its input files.

#include <QtCore/QFile>
#include <QtCore/QJsonDocument>
#include <QtCore/QJsonObject>
#include <QtCore/QProcess>
#include <QtCore/QStringList>
#include <QtCore/QTemporaryDir>

#include <functional>

namespace tunelab::test {

struct CliResult {
    int exitCode = -1;
    QString out;
    QString err;

    QJsonObject lastJsonLine() const {
        const auto lines = out.trimmed().split('\n');
        return QJsonDocument::fromJson(lines.last().toUtf8()).object();
    }
    QJsonObject json() const { return QJsonDocument::fromJson(out.toUtf8()).object(); }
};

// Runs `program` in `environment`; a run past `timeoutMs` is killed and reported with exit code -1.
// `inChild` runs in the child between fork and exec (to drop privileges, say).
inline CliResult
runProgramFor(const QString& program, const QStringList& arguments, int timeoutMs,
              const QProcessEnvironment& environment = QProcessEnvironment::systemEnvironment(),
              const std::function<void()>& inChild = {}) {
    QProcess process;
    process.setProcessEnvironment(environment);
    if (inChild)
        process.setChildProcessModifier(inChild);
    process.start(program, arguments);
    CliResult result;
    if (!process.waitForFinished(timeoutMs)) {
        process.kill();
        process.waitForFinished();
        return result;
    }
    result.exitCode = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    result.out = QString::fromUtf8(process.readAllStandardOutput());
    result.err = QString::fromUtf8(process.readAllStandardError());
    return result;
}

// Runs tunelab-cli with single-threaded BLAS, as runProgramFor does.
inline CliResult runCliFor(const QStringList& arguments, int timeoutMs,
                           const std::function<void()>& inChild = {}) {
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.insert("OPENBLAS_NUM_THREADS", "1");
    return runProgramFor(TUNELAB_CLI, arguments, timeoutMs, environment, inChild);
}

inline QString writeFile(const QTemporaryDir& folder, const QString& name, const QByteArray& content) {
    QFile file(folder.filePath(name));
    if (!file.open(QIODevice::WriteOnly))
        return {};
    file.write(content);
    return file.fileName();
}

} // namespace tunelab::test
