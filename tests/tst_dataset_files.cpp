// Datasets read from files: MNIST idx files (plain and gzip), CIFAR-10 binary batches and folders,
// and the error each bad file gets.

#include "data/dataset.h"

#include "dataset_test_support.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <sys/resource.h>
#include <zlib.h>

#include <cmath>
#include <cstring>
#include <vector>

using namespace tunelab;
using namespace tunelab::test;

namespace {

// idx files as MNIST ships them: a big-endian header, then one unsigned byte per value.
void appendBigEndian(QByteArray& bytes, uint32_t value) {
    for (int shift = 24; shift >= 0; shift -= 8)
        bytes.append(char((value >> shift) & 0xff));
}

unsigned char pixelAt(int image, int pixel) {
    return static_cast<unsigned char>((image * 37 + pixel * 11) % 256);
}

QByteArray idxImages(uint32_t count, uint32_t height, uint32_t width, uint32_t magic = 2051,
                     int pixelBytes = -1) {
    QByteArray bytes;
    appendBigEndian(bytes, magic);
    appendBigEndian(bytes, count);
    appendBigEndian(bytes, height);
    appendBigEndian(bytes, width);
    const int pixels = int(height * width);
    for (int image = 0; image < int(count); ++image) {
        for (int pixel = 0; pixel < pixels; ++pixel)
            bytes.append(char(pixelAt(image, pixel)));
    }
    if (pixelBytes >= 0)
        bytes.truncate(16 + pixelBytes);
    return bytes;
}

QByteArray idxLabels(uint32_t count, uint32_t magic = 2049, int labelBytes = -1) {
    QByteArray bytes;
    appendBigEndian(bytes, magic);
    appendBigEndian(bytes, count);
    for (uint32_t i = 0; i < count; ++i)
        bytes.append(char((i * 3) % 10));
    if (labelBytes >= 0)
        bytes.truncate(8 + labelBytes);
    return bytes;
}

QByteArray cifarRecords(const std::vector<int>& labels, int firstImage = 0) {
    QByteArray bytes;
    for (size_t r = 0; r < labels.size(); ++r) {
        bytes.append(char(labels[r]));
        for (int pixel = 0; pixel < 3072; ++pixel)
            bytes.append(char(pixelAt(firstImage + int(r), pixel)));
    }
    return bytes;
}

void writeGzip(const QString& path, const QByteArray& bytes) {
    gzFile file = gzopen(QFile::encodeName(path).constData(), "wb");
    if (!file || gzwrite(file, bytes.constData(), unsigned(bytes.size())) != bytes.size())
        qFatal("cannot write %s", qPrintable(path));
    gzclose(file);
}

// Writes a fixture file; names ending in .gz are compressed.
void writeFixture(const QDir& dir, const QString& name, const QByteArray& bytes) {
    if (name.isEmpty())
        return;
    if (name.endsWith(".gz"))
        writeGzip(dir.filePath(name), bytes);
    else
        writeFile(dir.filePath(name), bytes);
}

long peakResidentKiB() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss;
}

DataSpec folderSpec(DataKind kind, const QString& path, int64_t limit = 0) {
    DataSpec spec;
    spec.kind = kind;
    spec.path = path.toStdString();
    spec.limit = limit;
    return spec;
}

} // namespace

class TestDatasetFiles : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void loadsMnist_data() {
        QTest::addColumn<QString>("images");
        QTest::addColumn<QString>("labels");
        QTest::addColumn<qint64>("limit");
        QTest::addColumn<qint64>("rows");
        QTest::newRow("raw") << "train-images-idx3-ubyte"
                             << "train-labels-idx1-ubyte" << qint64(0) << qint64(5);
        QTest::newRow("gzipped") << "train-images-idx3-ubyte.gz"
                                 << "train-labels-idx1-ubyte.gz" << qint64(0) << qint64(5);
        QTest::newRow("dotted names") << "train-images.idx3-ubyte"
                                      << "train-labels.idx1-ubyte.gz" << qint64(0) << qint64(5);
        QTest::newRow("limit") << "train-images-idx3-ubyte.gz"
                               << "train-labels-idx1-ubyte" << qint64(2) << qint64(2);
        QTest::newRow("limit above count") << "train-images-idx3-ubyte"
                                           << "train-labels-idx1-ubyte" << qint64(50) << qint64(5);
    }

    void loadsMnist() {
        QFETCH(QString, images);
        QFETCH(QString, labels);
        QFETCH(qint64, limit);
        QFETCH(qint64, rows);
        QTemporaryDir folder;
        QVERIFY(folder.isValid());
        const QDir dir(folder.path());
        writeFixture(dir, images, idxImages(5, 3, 4));
        writeFixture(dir, labels, idxLabels(5));
        auto loaded = loadMnistDataset(folderSpec(DataKind::Mnist, folder.path(), limit));
        QVERIFY2(loaded.ok(), loaded.error().c_str());
        const Dataset& data = loaded.value();
        QCOMPARE(data.rows, int64_t(rows));
        QCOMPARE(data.sampleShape, (Shape{1, 3, 4}));
        QCOMPARE(data.classes, 10);
        QCOMPARE(data.task, TaskKind::Classification);
        QCOMPARE(data.features.size(), size_t(rows) * 12);
        QCOMPARE(data.featureNames.size(), size_t(12));
        for (int image = 0; image < int(rows); ++image) {
            QCOMPARE(data.targets[size_t(image)], float((image * 3) % 10));
            for (int pixel = 0; pixel < 12; ++pixel)
                QCOMPARE(data.features[size_t(image * 12 + pixel)], pixelAt(image, pixel) / 255.0f);
        }
        QVERIFY(QString::fromStdString(data.source).startsWith("MNIST ("));

        // Through loadDataset, with the images flattened.
        DataSpec spec = folderSpec(DataKind::Mnist, folder.path(), limit);
        spec.inputShape = {12};
        auto flat = loadDataset(spec, 0);
        QVERIFY2(flat.ok(), flat.error().c_str());
        QCOMPARE(flat.value().sampleShape, Shape{12});
    }

    void rejectsBadMnist_data() {
        QTest::addColumn<QString>("images");
        QTest::addColumn<QByteArray>("imageBytes");
        QTest::addColumn<QString>("labels");
        QTest::addColumn<QByteArray>("labelBytes");
        QTest::addColumn<QString>("expected");

        const QByteArray goodImages = idxImages(5, 3, 4), goodLabels = idxLabels(5);
        const QString rawImages = "train-images-idx3-ubyte", rawLabels = "train-labels-idx1-ubyte";
        QTest::newRow("empty folder")
            << "" << QByteArray() << "" << QByteArray() << "data.path: no MNIST images in '";
        QTest::newRow("no labels") << rawImages << goodImages << "" << QByteArray()
                                   << "data.path: no MNIST labels in '";
        QTest::newRow("labels as images")
            << rawImages << goodLabels << rawLabels << goodLabels
            << "train-images-idx3-ubyte: not an idx image file: magic number 2049, "
               "expected 2051 (this is a label file)";
        QTest::newRow("bad label magic")
            << rawImages << goodImages << rawLabels << idxLabels(5, 1234)
            << "train-labels-idx1-ubyte: not an idx label file: magic number 1234, "
               "expected 2049";
        QTest::newRow("short header")
            << rawImages << goodImages.left(10) << rawLabels << goodLabels
            << "train-images-idx3-ubyte: truncated: the 16-byte header is incomplete, "
               "found 10 bytes";
        QTest::newRow("truncated pixels")
            << rawImages << idxImages(5, 3, 4, 2051, 30) << rawLabels << goodLabels
            << "train-images-idx3-ubyte: truncated: expected 60 bytes of pixels, "
               "found 30";
        QTest::newRow("truncated gzipped pixels")
            << rawImages + ".gz" << idxImages(5, 3, 4, 2051, 30) << rawLabels << goodLabels
            << "train-images-idx3-ubyte.gz: truncated: expected 60 bytes of pixels, found 30";
        QTest::newRow("truncated labels")
            << rawImages << goodImages << rawLabels << idxLabels(5, 2049, 3)
            << "train-labels-idx1-ubyte: truncated: expected 5 bytes of labels, found 3";
        QTest::newRow("counts differ")
            << rawImages << goodImages << rawLabels << idxLabels(4)
            << "train-labels-idx1-ubyte: 4 labels but train-images-idx3-ubyte holds 5 "
               "images";
        QTest::newRow("no images") << rawImages << idxImages(0, 3, 4) << rawLabels << idxLabels(0)
                                   << "train-images-idx3-ubyte: the file holds no images";
        QTest::newRow("zero width") << rawImages << idxImages(5, 3, 0) << rawLabels << goodLabels
                                    << "train-images-idx3-ubyte: implausible image size 3x0";
        QTest::newRow("too big") << rawImages
                                 << idxImages(0, 3, 4).left(4) + QByteArray("\x7f\xff\xff\xff", 4) +
                                        QByteArray("\x00\x00\x10\x00\x00\x00\x10\x00", 8)
                                 << rawLabels << idxLabels(0).left(4) + QByteArray("\x7f\xff\xff\xff", 4)
                                 << "do not fit in memory; set data.limit";
    }

    void rejectsBadMnist() {
        QFETCH(QString, images);
        QFETCH(QByteArray, imageBytes);
        QFETCH(QString, labels);
        QFETCH(QByteArray, labelBytes);
        QFETCH(QString, expected);
        QTemporaryDir folder;
        QVERIFY(folder.isValid());
        const QDir dir(folder.path());
        writeFixture(dir, images, imageBytes);
        writeFixture(dir, labels, labelBytes);
        const auto loaded = loadMnistDataset(folderSpec(DataKind::Mnist, folder.path()));
        QVERIFY(!loaded.ok());
        QVERIFY2(QString::fromStdString(loaded.error()).contains(expected), loaded.error().c_str());
    }

    // A header that claims 400 million pixels over a file of a few bytes is refused without
    // allocating for them (the old reader zero-filled 1.6 GB first).
    void refusesHeaderBeyondFile_data() {
        QTest::addColumn<QString>("images");
        QTest::addColumn<QString>("expected");
        QTest::newRow("plain") << "train-images-idx3-ubyte"
                               << "train-images-idx3-ubyte: truncated: expected 400000000 bytes of "
                                  "pixels, found 4";
        QTest::newRow("gzipped") << "train-images-idx3-ubyte.gz"
                                 << "train-images-idx3-ubyte.gz: truncated: expected 400000000 bytes of "
                                    "pixels, found 4";
    }

    void refusesHeaderBeyondFile() {
        QFETCH(QString, images);
        QFETCH(QString, expected);
        QTemporaryDir folder;
        const QDir dir(folder.path());
        QByteArray header = idxImages(0, 20000, 20000); // the count is set to 1 below
        header[7] = 1;
        writeFixture(dir, images, header + QByteArray(4, '\x80'));
        writeFixture(dir, "train-labels-idx1-ubyte", idxLabels(1));
        const long peakBefore = peakResidentKiB();
        const auto loaded = loadMnistDataset(folderSpec(DataKind::Mnist, folder.path()));
        QVERIFY(!loaded.ok());
        QCOMPARE(QString::fromStdString(loaded.error()), expected);
        QVERIFY2(
            peakResidentKiB() - peakBefore < 256 * 1024,
            qPrintable(QString("peak memory grew by %1 MiB").arg((peakResidentKiB() - peakBefore) / 1024)));
    }

    void rejectsCorruptGzip() {
        QTemporaryDir folder;
        const QDir dir(folder.path());
        writeGzip(dir.filePath("train-images-idx3-ubyte.gz"), idxImages(50, 28, 28));
        writeFixture(dir, "train-labels-idx1-ubyte", idxLabels(50));
        QFile file(dir.filePath("train-images-idx3-ubyte.gz"));
        QVERIFY(file.open(QIODevice::ReadWrite));
        QByteArray bytes = file.readAll();
        for (int i = 20; i < 40; ++i)
            bytes[i] = char(0xff);
        file.seek(0);
        file.write(bytes);
        file.close();
        const auto loaded = loadMnistDataset(folderSpec(DataKind::Mnist, folder.path()));
        QVERIFY(!loaded.ok());
        QVERIFY2(QString::fromStdString(loaded.error())
                     .startsWith("train-images-idx3-ubyte.gz: cannot decompress: "),
                 loaded.error().c_str());
    }

    void rejectsBadFolders_data() {
        QTest::addColumn<DataKind>("kind");
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("expected");
        QTest::newRow("mnist, missing")
            << DataKind::Mnist << "/no/such/mnist"
            << "data.path: cannot open folder '/no/such/mnist': No such file or directory";
        QTest::newRow("cifar, missing")
            << DataKind::Cifar10 << "/no/such/cifar"
            << "data.path: cannot open folder '/no/such/cifar': No such file or directory";
        QTest::newRow("mnist, unset") << DataKind::Mnist << ""
                                      << "data.path: missing; expected the folder";
        QTest::newRow("mnist, a file") << DataKind::Mnist << "FILE"
                                       << "' is a file; expected the folder that holds";
    }

    void rejectsBadFolders() {
        QFETCH(DataKind, kind);
        QFETCH(QString, path);
        QFETCH(QString, expected);
        QTemporaryDir folder;
        if (path == "FILE") {
            path = folder.filePath("train-images-idx3-ubyte");
            writeFile(path, idxImages(1, 2, 2));
        }
        const auto loaded = loadDataset(folderSpec(kind, path), 0);
        QVERIFY(!loaded.ok());
        QVERIFY2(QString::fromStdString(loaded.error()).contains(expected), loaded.error().c_str());
    }

    void loadsCifar10_data() {
        QTest::addColumn<QString>("subfolder");
        QTest::addColumn<qint64>("limit");
        QTest::addColumn<QVector<float>>("targets");
        QTest::newRow("two batches") << "" << qint64(0) << QVector<float>{3, 7, 9};
        QTest::newRow("limit") << "" << qint64(2) << QVector<float>{3, 7};
        QTest::newRow("archive folder") << "cifar-10-batches-bin" << qint64(0) << QVector<float>{3, 7, 9};
    }

    void loadsCifar10() {
        QFETCH(QString, subfolder);
        QFETCH(qint64, limit);
        QFETCH(QVector<float>, targets);
        QTemporaryDir folder;
        QDir dir(folder.path());
        if (!subfolder.isEmpty()) {
            QVERIFY(dir.mkdir(subfolder));
            QVERIFY(dir.cd(subfolder));
        }
        // Batches 1 and 3: missing batches are skipped, present ones are read in order.
        writeFile(dir.filePath("data_batch_1.bin"), cifarRecords({3, 7}, 0));
        writeFile(dir.filePath("data_batch_3.bin"), cifarRecords({9}, 2));
        writeFile(dir.filePath("test_batch.bin"), cifarRecords({1}, 5));
        auto loaded = loadCifar10Dataset(folderSpec(DataKind::Cifar10, folder.path(), limit));
        QVERIFY2(loaded.ok(), loaded.error().c_str());
        const Dataset& data = loaded.value();
        QCOMPARE(data.rows, int64_t(targets.size()));
        QCOMPARE(data.sampleShape, (Shape{3, 32, 32}));
        QCOMPARE(data.classes, 10);
        QCOMPARE(QVector<float>(data.targets.begin(), data.targets.end()), targets);
        QCOMPARE(data.features.size(), size_t(targets.size()) * 3072);
        for (int image = 0; image < targets.size(); ++image) {
            for (int pixel : {0, 1, 1024, 3071})
                QCOMPARE(data.features[size_t(image * 3072 + pixel)], pixelAt(image, pixel) / 255.0f);
        }
    }

    void rejectsBadCifar10_data() {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QByteArray>("bytes");
        QTest::addColumn<QString>("expected");
        QTest::newRow("odd size")
            << "data_batch_1.bin" << cifarRecords({1, 2}) + QByteArray(5, '\0')
            << "data_batch_1.bin: 6151 bytes is not a whole number of 3073-byte records";
        QTest::newRow("empty batch")
            << "data_batch_2.bin" << QByteArray()
            << "data_batch_2.bin: 0 bytes is not a whole number of 3073-byte records";
        QTest::newRow("bad label") << "data_batch_1.bin" << cifarRecords({1, 10})
                                   << "data_batch_1.bin: record 2 has label 10; expected 0 to 9";
        QTest::newRow("no batches") << "test_batch.bin" << cifarRecords({1})
                                    << "data.path: no CIFAR-10 batches in '";
        QTest::newRow("python version")
            << "data_batch_1" << QByteArray("pickle") << "; data_batch_1 without .bin is the Python version";
    }

    void rejectsBadCifar10() {
        QFETCH(QString, name);
        QFETCH(QByteArray, bytes);
        QFETCH(QString, expected);
        QTemporaryDir folder;
        writeFile(QDir(folder.path()).filePath(name), bytes);
        const auto loaded = loadCifar10Dataset(folderSpec(DataKind::Cifar10, folder.path()));
        QVERIFY(!loaded.ok());
        QVERIFY2(QString::fromStdString(loaded.error()).contains(expected), loaded.error().c_str());
    }
};

QTEST_APPLESS_MAIN(TestDatasetFiles)
#include "tst_dataset_files.moc"
