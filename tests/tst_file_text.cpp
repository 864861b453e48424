// Files a user names are read only when they are regular files of a sane size: a FIFO, /dev/zero or a
// folder is refused at once with the reason, and no message quotes the file's content.
#include "common/file_text.h"
#include "data/dataset.h"
#include "race/race.h"
#include "spec/spec.h"
#include "study/study.h"

#include <QtCore/QDir>
#include <QtCore/QFile>
#include <QtCore/QTemporaryDir>
#include <QtTest>

#include <sys/stat.h>

using namespace tunelab;

class TestFileText : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void refusesWhatIsNotARegularFile_data() {
        QTest::addColumn<QString>("kind");
        QTest::addColumn<QString>("expected");
        QTest::newRow("fifo") << "fifo"
                              << "is a pipe (FIFO), not a file TuneLab can read";
        QTest::newRow("/dev/zero") << "/dev/zero"
                                   << "/dev/zero: is a device, not a file TuneLab can read";
        QTest::newRow("folder") << "folder"
                                << "is a folder, not a file TuneLab can read";
        QTest::newRow("missing") << "missing"
                                 << "cannot open: No such file or directory";
        QTest::newRow("too large") << "large"
                                   << "is 2 MiB, more than the 1 MiB TuneLab reads from such a file";
    }

    void refusesWhatIsNotARegularFile() {
        QFETCH(QString, kind);
        QFETCH(QString, expected);
        QTemporaryDir dir;
        QString path = dir.filePath(kind);
        if (kind == "fifo") {
            QCOMPARE(::mkfifo(path.toLocal8Bit().constData(), 0600), 0);
        } else if (kind == "/dev/zero") {
            path = kind;
        } else if (kind == "folder") {
            QVERIFY(QDir(dir.path()).mkdir(kind));
        } else if (kind == "large") {
            QFile file(path);
            QVERIFY(file.open(QIODevice::WriteOnly));
            QVERIFY(file.resize(2 << 20));
        }
        QElapsedTimer timer;
        timer.start();
        const auto read = readRegularFile(path.toStdString(), 1 << 20);
        QVERIFY(timer.elapsed() < 30000); // never waits for a writer or reads forever
        QVERIFY(!read.ok());
        QVERIFY2(QString::fromStdString(read.error()).contains(expected), read.error().c_str());
    }

    void readsARegularFile() {
        QTemporaryDir dir;
        const QString path = dir.filePath("spec.json");
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("{\"a\": 1}");
        file.close();
        const auto read = readRegularFile(path.toStdString(), 8);
        QVERIFY2(read.ok(), read.error().c_str());
        QCOMPARE(read.value(), std::string("{\"a\": 1}"));
        QVERIFY(!readRegularFile(path.toStdString(), 7).ok());
    }

    // A data file that is not a CSV at all is refused without showing its first line back.
    void dataFilesAreCheckedAndNeverQuoted() {
        QTemporaryDir dir;
        const QString fifo = dir.filePath("fifo");
        QCOMPARE(::mkfifo(fifo.toLocal8Bit().constData(), 0600), 0);
        const QString secret = dir.filePath("passwd");
        QFile file(secret);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("root:x:0:0:root:/root:/bin/bash\ndaemon:x:1:1:daemon:/usr/sbin\n");
        file.close();
        for (const QString& path : {QString("/dev/zero"), fifo, secret}) {
            DataSpec spec;
            spec.kind = DataKind::Csv;
            spec.path = path.toStdString();
            spec.target = "y";
            QElapsedTimer timer;
            timer.start();
            const auto loaded = loadDataset(spec, 1);
            QVERIFY(timer.elapsed() < 30000); // a hang, not a speed, is the failure
            QVERIFY(!loaded.ok());
            QVERIFY2(loaded.error().find("root:x") == std::string::npos, loaded.error().c_str());
        }
    }

    void aHugeTargetIndexIsRefusedNotWrapped_data() {
        QTest::addColumn<QString>("index");
        QTest::newRow("2^32") << "4294967296";
        QTest::newRow("2^31") << "2147483648";
        QTest::newRow("2^63-1") << "9223372036854775807";
    }

    void aHugeTargetIndexIsRefusedNotWrapped() {
        QFETCH(QString, index);
        const std::string text =
            "{\"data\": {\"kind\": \"csv\", \"path\": \"x.csv\", \"target\": " + index.toStdString() +
            "}, \"model\": {\"layers\": [{\"type\": \"linear\", \"out_features\": 2}]}}";
        const auto spec = parseExperimentSpec(text);
        QVERIFY(!spec.ok());
        QVERIFY2(spec.error().find("data.target: column index " + index.toStdString() + " is beyond") !=
                     std::string::npos,
                 spec.error().c_str());
    }

    // Every loader that takes a path goes through it.
    void loadersRefuseDevicesAndPipes() {
        QTemporaryDir dir;
        const QString fifo = dir.filePath("fifo");
        QCOMPARE(::mkfifo(fifo.toLocal8Bit().constData(), 0600), 0);
        for (const std::string& path : {std::string("/dev/zero"), fifo.toStdString()}) {
            const auto spec = loadExperimentSpec(path);
            QVERIFY(!spec.ok() && spec.error().find("not a file TuneLab can read") != std::string::npos);
            QVERIFY(!loadStudySpec(path).ok());
            QVERIFY(!loadRaceSpec(path).ok());
            const std::string study = "{\"name\": \"s\", \"space\": \"" + path + "\"}";
            const auto parsed = parseStudySpec(study);
            QVERIFY2(!parsed.ok() && parsed.error().find("not a file TuneLab can read") != std::string::npos,
                     parsed.error().c_str());
        }
    }
};

QTEST_GUILESS_MAIN(TestFileText)
#include "tst_file_text.moc"
