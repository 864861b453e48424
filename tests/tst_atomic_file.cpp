// Every file TuneLab writes goes through writeFileAtomically: whatever step fails (a write on a full
// disk, the flush, the close, the rename), the previous file stays as it was, no temporary file is
// left beside it, and the error names the file and the system's reason.
#include "common/atomic_file.h"
#include "file_size_limit_test_support.h"

#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtCore/QTemporaryDir>
#include <QtTest>

#include <cerrno>
#include <cstdio>
#include <sys/stat.h>
#include <unistd.h>

using namespace tunelab;

namespace {

QByteArray readAll(const QString& path) {
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray("<missing>");
}

// The failures the system calls can report, one step at a time.
ssize_t writeFull(int, const void*, size_t) {
    errno = ENOSPC;
    return -1;
}
// A short write first (the disk fills half-way), then no room at all.
ssize_t writeHalfThenFull(int fd, const void* data, size_t size) {
    static int calls = 0;
    if (++calls % 2 == 1)
        return ::write(fd, data, size / 2);
    errno = ENOSPC;
    return -1;
}
int fsyncFails(int) {
    errno = EIO;
    return -1;
}
int closeFails(int fd) {
    ::close(fd); // the descriptor is gone either way, as on Linux
    errno = EIO;
    return -1;
}
int renameFails(const char*, const char*) {
    errno = EXDEV;
    return -1;
}

} // namespace

class TestAtomicFile : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void writesANewFile() {
        QTemporaryDir dir;
        const QString path = dir.filePath("out.csv");
        const auto written = writeFileAtomically(path.toStdString(), "a,b\n1,2\n");
        QVERIFY2(written.ok(), written.error().c_str());
        QCOMPARE(readAll(path), QByteArray("a,b\n1,2\n"));
        QCOMPARE(QDir(dir.path()).entryList(QDir::Files | QDir::Hidden), QStringList{"out.csv"});
    }

    void replacesAFileAndKeepsItsPermissions() {
        QTemporaryDir dir;
        const QString path = dir.filePath("spec.json");
        QVERIFY(writeFileAtomically(path.toStdString(), "old").ok());
        QCOMPARE(::chmod(path.toLocal8Bit().constData(), 0640), 0);
        QVERIFY(writeFileAtomically(path.toStdString(), "new").ok());
        QCOMPARE(readAll(path), QByteArray("new"));
        struct stat info {};
        QCOMPARE(::stat(path.toLocal8Bit().constData(), &info), 0);
        QCOMPARE(info.st_mode & 0777, mode_t(0640));
    }

    void aBareFileNameIsWrittenInTheCurrentFolder() {
        QTemporaryDir dir;
        const QString old = QDir::currentPath();
        QVERIFY(QDir::setCurrent(dir.path()));
        const auto written = writeFileAtomically("bare.txt", "x");
        QDir::setCurrent(old);
        QVERIFY2(written.ok(), written.error().c_str());
        QCOMPARE(readAll(dir.filePath("bare.txt")), QByteArray("x"));
    }

    void aFailedStepKeepsThePreviousFile_data() {
        QTest::addColumn<int>("step");
        QTest::addColumn<QString>("expected");
        QTest::newRow("write: disk full") << 0 << "out.csv: could not write: No space left on device";
        QTest::newRow("short write, then full") << 1 << "out.csv: could not write: No space left on device";
        QTest::newRow("flush") << 2 << "out.csv: could not flush: Input/output error";
        QTest::newRow("close") << 3 << "out.csv: could not close: Input/output error";
        QTest::newRow("rename") << 4 << "out.csv: could not replace: Invalid cross-device link";
    }

    void aFailedStepKeepsThePreviousFile() {
        QFETCH(int, step);
        QFETCH(QString, expected);
        QTemporaryDir dir;
        const QString path = dir.filePath("out.csv");
        QVERIFY(writeFileAtomically(path.toStdString(), "previous\n").ok());

        detail::AtomicFileCalls calls = detail::systemFileCalls();
        if (step == 0)
            calls.write = &writeFull;
        else if (step == 1)
            calls.write = &writeHalfThenFull;
        else if (step == 2)
            calls.fsync = &fsyncFails;
        else if (step == 3)
            calls.close = &closeFails;
        else
            calls.rename = &renameFails;
        const auto written = detail::writeFileAtomically(path.toStdString(), std::string(10000, 'x'), calls);
        QVERIFY(!written.ok());
        QVERIFY2(QString::fromStdString(written.error()).endsWith(expected), written.error().c_str());
        QVERIFY(QString::fromStdString(written.error()).startsWith(path));
        QCOMPARE(readAll(path), QByteArray("previous\n"));
        QCOMPARE(QDir(dir.path()).entryList(QDir::Files | QDir::Hidden), QStringList{"out.csv"});
    }

    // A real write past a file-size limit (what a full disk looks like to a writer).
    void aWritePastTheFileSizeLimitFails() {
        QTemporaryDir dir;
        const QString path = dir.filePath("race.png");
        QVERIFY(writeFileAtomically(path.toStdString(), "previous").ok());
        Result<bool> written = true;
        {
            test::FileSizeLimit limit(4096);
            QVERIFY(limit.isSet());
            written = writeFileAtomically(path.toStdString(), std::string(65536, 'p'));
        }
        QVERIFY(!written.ok());
        QVERIFY2(QString::fromStdString(written.error()).contains("could not write: File too large"),
                 written.error().c_str());
        QCOMPARE(readAll(path), QByteArray("previous"));
        QCOMPARE(QDir(dir.path()).entryList(QDir::Files | QDir::Hidden), QStringList{"race.png"});
    }

    void refusesWhatItCannotReplace_data() {
        QTest::addColumn<QString>("target");
        QTest::addColumn<QString>("expected");
        QTest::newRow("a folder") << "folder"
                                  << "folder: could not write: not a regular file";
        QTest::newRow("a missing folder")
            << "missing/out.csv"
            << "missing/out.csv: could not create a temporary file beside it: No such file";
        QTest::newRow("no name") << ""
                                 << "not a file name";
    }

    void refusesWhatItCannotReplace() {
        QFETCH(QString, target);
        QFETCH(QString, expected);
        QTemporaryDir dir;
        QVERIFY(QDir(dir.path()).mkdir("folder"));
        const QString path = target.isEmpty() ? QString() : dir.filePath(target);
        const auto written = writeFileAtomically(path.toStdString(), "x");
        QVERIFY(!written.ok());
        QVERIFY2(QString::fromStdString(written.error()).contains(expected), written.error().c_str());
        QCOMPARE(QDir(dir.path()).entryList(QDir::AllEntries | QDir::Hidden | QDir::NoDotAndDotDot),
                 QStringList{"folder"});
    }
};

QTEST_GUILESS_MAIN(TestAtomicFile)
#include "tst_atomic_file.moc"
