// The check of saved models' archives: LibTorch reads them without their CRC-32s, so this is what
// stands between a bit flipped on a disk and a run that trains on from a changed weight.
#include "common/zip_archive_check.h"
#include "zip_test_support.h"

#include <QtTest>

using namespace tunelab;
using tunelab::test::storedZip;

namespace {

std::vector<char> twoEntries() {
    return storedZip({{"archive/data.pkl", std::string(40, 'p')}, {"archive/data/0", std::string(64, 'w')}});
}

QString damageOf(const std::vector<char>& bytes) {
    return QString::fromStdString(zipArchiveDamage(bytes.data(), bytes.size()));
}

// Where `text` first occurs in the archive at or after `from`.
size_t find(const std::vector<char>& bytes, const std::string& text, size_t from = 0) {
    const auto start = bytes.begin() + static_cast<std::ptrdiff_t>(from);
    return static_cast<size_t>(std::search(start, bytes.end(), text.begin(), text.end()) - bytes.begin());
}

} // namespace

class TestZipArchiveCheck : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void aSoundArchivePasses() {
        QCOMPARE(damageOf(twoEntries()), QString());
        QCOMPARE(damageOf(storedZip({})), QString());
    }

    // Archives of another writer (Python's zipfile, with and without ZIP64 local headers) pass, and a
    // flipped bit in one fails.
    void archivesOfAnotherWriterPass_data() {
        QTest::addColumn<QString>("file");
        QTest::newRow("plain") << "state-dict.zip";
        QTest::newRow("zip64 headers") << "zip64-headers.zip";
    }
    void archivesOfAnotherWriterPass() {
        QFETCH(QString, file);
        QFile seed(QStringLiteral(TUNELAB_SOURCE_DIR "/tests/fuzz/corpus/zip/") + file);
        QVERIFY(seed.open(QIODevice::ReadOnly));
        const QByteArray read = seed.readAll();
        std::vector<char> bytes(read.begin(), read.end());
        QCOMPARE(damageOf(bytes), QString());
        const std::string version = "3\n";
        bytes[find(bytes, version)] ^= 0x01;
        QCOMPARE(damageOf(bytes), QString("'archive/version' does not match its CRC-32"));
    }

    // Bytes of another format are left to their reader.
    void otherBytesAreNotJudged() {
        QCOMPARE(damageOf({}), QString());
        const std::string pickle = "\x80\x02}q\x00.";
        QCOMPARE(damageOf(std::vector<char>(pickle.begin(), pickle.end())), QString());
    }

    void aFlippedBitNamesItsEntry_data() {
        QTest::addColumn<int>("offsetInData");
        QTest::addColumn<int>("bit");
        QTest::newRow("first byte") << 0 << 0;
        QTest::newRow("middle, high bit") << 31 << 7;
        QTest::newRow("last byte") << 63 << 3;
    }
    void aFlippedBitNamesItsEntry() {
        QFETCH(int, offsetInData);
        QFETCH(int, bit);
        std::vector<char> bytes = twoEntries();
        const size_t data = find(bytes, std::string(64, 'w'));
        bytes[data + static_cast<size_t>(offsetInData)] ^= static_cast<char>(1 << bit);
        QCOMPARE(damageOf(bytes), QString("'archive/data/0' does not match its CRC-32"));
    }

    void aCutArchiveSaysSo_data() {
        QTest::addColumn<double>("kept");
        QTest::newRow("half") << 0.5;
        QTest::newRow("all but one byte") << -1.0;
        QTest::newRow("the first header only") << 0.05;
    }
    void aCutArchiveSaysSo() {
        QFETCH(double, kept);
        std::vector<char> bytes = twoEntries();
        bytes.resize(kept < 0 ? bytes.size() - 1
                              : static_cast<size_t>(kept * static_cast<double>(bytes.size())));
        QVERIFY2(damageOf(bytes).contains("its directory is missing"), qPrintable(damageOf(bytes)));
    }

    void aDamagedDirectorySaysSo() {
        std::vector<char> bytes = twoEntries();
        // The second directory entry's local-header offset now points into the first entry's data.
        const std::string entryStart("PK\x01\x02", 4);
        const size_t second = find(bytes, entryStart, find(bytes, entryStart) + 4);
        bytes[second + 42] = 5;
        QCOMPARE(damageOf(bytes), QString("'archive/data/0' does not start where the directory says"));
        // The end record's directory offset past the end.
        bytes = twoEntries();
        bytes[bytes.size() - 22 + 19] = static_cast<char>(0x7F);
        QCOMPARE(damageOf(bytes), QString("its directory lies outside the data"));
    }

    // A name with control bytes is shown without them.
    void namesAreShownSafely() {
        std::vector<char> bytes = storedZip({{"a\x1b[2Jb", "xyz"}});
        bytes[find(bytes, "xyz")] ^= 1;
        QCOMPARE(damageOf(bytes), QString("'a?[2Jb' does not match its CRC-32"));
    }
};

QTEST_MAIN(TestZipArchiveCheck)
#include "tst_zip_archive_check.moc"
