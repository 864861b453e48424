#include "data/dataset.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

using namespace tunelab;

namespace {

struct CsvOptions {
    QString target;
    int targetIndex = -1;
    bool regression = false;
    char delimiter = ',';
};

} // namespace

Q_DECLARE_METATYPE(CsvOptions)

namespace {

CsvOptions byName(const QString& target) {
    CsvOptions options;
    options.target = target;
    return options;
}

CsvOptions byIndex(int index) {
    CsvOptions options;
    options.targetIndex = index;
    return options;
}

CsvOptions regression() {
    CsvOptions options;
    options.regression = true;
    return options;
}

CsvOptions delimitedBy(char delimiter) {
    CsvOptions options;
    options.delimiter = delimiter;
    return options;
}

DataSpec csvSpec(const QString& path, const CsvOptions& options = {}) {
    DataSpec spec;
    spec.kind = DataKind::Csv;
    spec.path = path.toStdString();
    spec.target = options.target.toStdString();
    spec.targetIndex = options.targetIndex;
    spec.task = options.regression ? TaskKind::Regression : TaskKind::Classification;
    spec.delimiter = options.delimiter;
    return spec;
}

QString writeFile(const QTemporaryDir& dir, const QByteArray& content, const QString& name = "file.csv") {
    const QString path = dir.filePath(name);
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(content) != content.size())
        qFatal("cannot write %s", qPrintable(path));
    return path;
}

QStringList toStringList(const std::vector<std::string>& names) {
    QStringList list;
    for (const auto& name : names)
        list << QString::fromStdString(name);
    return list;
}

QVector<float> toVector(const std::vector<float>& values) {
    return QVector<float>(values.begin(), values.end());
}

QString sharedData(const char* name) {
    return QDir(TUNELAB_SHARED_DATA_DIR).filePath(name);
}

} // namespace

class TestCsv : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void rejectsBadFiles_data() {
        QTest::addColumn<QByteArray>("content");
        QTest::addColumn<CsvOptions>("options");
        QTest::addColumn<QString>("expected");

        const CsvOptions plain;
        QTest::newRow("empty") << QByteArray() << plain << "file.csv: the file is empty";
        QTest::newRow("only blank lines")
            << QByteArray("\n  \r\n\n") << plain << "file.csv: the file is empty";
        QTest::newRow("only a BOM") << QByteArray("\xef\xbb\xbf") << plain << "file.csv: the file is empty";
        QTest::newRow("header only") << QByteArray("a,b,y\n\n") << plain
                                     << "file.csv: no data rows after the header";
        QTest::newRow("too few fields")
            << QByteArray("a,b,y\n1,2,0\n1,2\n") << plain << "file.csv:3: expected 3 fields, found 2";
        QTest::newRow("too many fields")
            << QByteArray("a,b,y\n1,2,0,5\n") << plain << "file.csv:2: expected 3 fields, found 4";
        QTest::newRow("trailing delimiter")
            << QByteArray("a,b,y\n1,2,0,\n") << plain << "file.csv:2: expected 3 fields, found 4";
        QTest::newRow("text in a feature") << QByteArray("a,b,y\n1,2,0\n1,abc,1\n") << plain
                                           << "file.csv:3: column 'b': expected a number, got \"abc\"";
        QTest::newRow("empty feature") << QByteArray("a,b,y\n1,,0\n") << plain
                                       << "file.csv:2: column 'b': expected a number, got an empty field";
        QTest::newRow("nan") << QByteArray("a,b,y\n1,nan,0\n") << plain
                             << "file.csv:2: column 'b': expected a finite number, got \"nan\"";
        QTest::newRow("inf") << QByteArray("a,b,y\n-inf,1,0\n") << plain
                             << "file.csv:2: column 'a': expected a finite number, got \"-inf\"";
        QTest::newRow("overflow") << QByteArray("a,b,y\n1,1e999,0\n") << plain
                                  << "file.csv:2: column 'b': expected a finite number, got \"1e999\"";
        QTest::newRow("beyond float")
            << QByteArray("a,b,y\n1,1e39,0\n") << plain
            << "file.csv:2: column 'b': \"1e39\" is beyond the range of 32-bit floats";
        QTest::newRow("two signs") << QByteArray("a,b,y\n1,+-2,0\n") << plain
                                   << "file.csv:2: column 'b': expected a number, got \"+-2\"";
        QTest::newRow("hex") << QByteArray("a,b,y\n1,0x1A,0\n") << plain
                             << "file.csv:2: column 'b': expected a number, got \"0x1A\"";
        QTest::newRow("blank lines still count") << QByteArray("a,b,y\n\n1,2,0\n\nx,2,1\n") << plain
                                                 << "file.csv:5: column 'a': expected a number, got \"x\"";
        QTest::newRow("CRLF line numbers")
            << QByteArray("a,b,y\r\n1,2,0\r\n1,2\r\n") << plain << "file.csv:3: expected 3 fields, found 2";
        QTest::newRow("unclosed quote")
            << QByteArray("a,b,y\n1,2,0\n1,\"2,0\n3,4,1\n") << plain
            << "file.csv:3: a quoted field starts here but its closing quote is missing";
        QTest::newRow("text after a quote") << QByteArray("a,b,y\n1,\"2\"x,0\n") << plain
                                            << "file.csv:2: unexpected \"x\" after a closing quote";
        QTest::newRow("lines after a multi-line field") << QByteArray("a,y\n1,\"two\nlines\"\n2,\n") << plain
                                                        << "file.csv:4: column 'y': the class label is empty";
        QTest::newRow("target typo") << QByteArray("a,b,label\n1,2,0\n") << byName("lable")
                                     << "file.csv: target column 'lable' not found; columns are: a, b, label "
                                        "(did you mean 'label'?)";
        QTest::newRow("target unknown")
            << QByteArray("a,b,label\n1,2,0\n") << byName("price")
            << "file.csv: target column 'price' not found; columns are: a, b, label";
        QTest::newRow("target index")
            << QByteArray("a,b,y\n1,2,0\n") << byIndex(5)
            << "data.target: column index 5 is out of range; file.csv has 3 columns "
               "(indices 0 to 2)";
        QTest::newRow("target named twice")
            << QByteArray("a,a,y\n1,2,0\n") << byName("a")
            << "file.csv: target column 'a' is ambiguous: columns 0 and 1 (0-based) are both named so; give "
               "data.target as the index of the one you mean";
        QTest::newRow("target number beyond the columns")
            << QByteArray("a,b,y\n1,2,0\n") << byName("7")
            << "file.csv: target column '7' not found; columns are: a, b, y (as a 0-based index, 7 is beyond "
               "the last, 2)";
        QTest::newRow("a delimiter ending every line")
            << QByteArray("a,b,y,\n1,2,0,\n3,4,1,\n") << plain
            << "file.csv:2: the last column has neither a name nor a value: does every line end with ','? "
               "Remove the delimiter at the ends of the lines";
        QTest::newRow("only a target")
            << QByteArray("y\n1\n0\n") << plain
            << "file.csv:1: the header line has only one column; a target and at least one "
               "feature column are needed";
        QTest::newRow("wrong delimiter")
            << QByteArray("a;b;y\n1;2;0\n") << plain << "(is the delimiter ';'? set data.delimiter)";
        QTest::newRow("negative label")
            << QByteArray("a,y\n1,0\n2,-1\n3,1\n") << plain
            << "file.csv:3: column 'y': class labels must be whole numbers 0, 1, 2, ..., "
               "got \"-1\"; for a numeric target set data.task to \"regression\"";
        QTest::newRow("fractional label") << QByteArray("a,y\n1,0\n2,1\n3,1.5\n") << plain
                                          << "file.csv:4: column 'y': class labels must be whole numbers";
        QTest::newRow("label too large") << QByteArray("a,y\n1,0\n2,1000000\n") << plain
                                         << "file.csv:3: column 'y': class label \"1000000\" is too large";
        QTest::newRow("text among numbers")
            << QByteArray("a,y\n1,0\n2,cat\n") << plain
            << "file.csv:3: column 'y': the class label \"cat\" is text but the "
               "label on line 2 is a number";
        QTest::newRow("nan label") << QByteArray("a,y\n1,0\n2,NaN\n") << plain
                                   << "file.csv:3: column 'y': expected a finite number, got \"NaN\"";
        QTest::newRow("empty label") << QByteArray("a,y\n1,0\n2,\n") << plain
                                     << "file.csv:3: column 'y': the class label is empty";
        QTest::newRow("one class")
            << QByteArray("a,y\n1,2\n2,2\n") << plain
            << "file.csv: column 'y': every row has class 2; classification needs at least "
               "two classes";
        QTest::newRow("one named class") << QByteArray("a,y\n1,cat\n2,cat\n") << plain
                                         << "file.csv: column 'y': every row has class \"cat\"";
        QTest::newRow("regression text target")
            << QByteArray("a,price\n1,0.5\n2,high\n") << regression()
            << "file.csv:3: column 'price': expected a number, got \"high\"";
        QTest::newRow("decimal comma")
            << QByteArray("a;y\n1,5;0\n") << delimitedBy(';')
            << "file.csv:2: column 'a': expected a number, got \"1,5\" (write decimals "
               "with a point: 1.5, not 1,5)";
        QTest::newRow("utf-16") << QByteArray("\xff\xfe"
                                              "a\0,\0y\0",
                                              8)
                                << plain << "file.csv: the file is UTF-16 text; save it as UTF-8";
        QTest::newRow("binary") << QByteArray("a,y\n1,0\n2,\0\n", 12) << plain
                                << "file.csv:3: the file holds binary data (a NUL byte)";
    }

    void rejectsBadFiles() {
        QFETCH(QByteArray, content);
        QFETCH(CsvOptions, options);
        QFETCH(QString, expected);
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const auto loaded = loadCsvDataset(csvSpec(writeFile(dir, content), options));
        QVERIFY2(!loaded.ok(), "a bad file loaded");
        const QString error = QString::fromStdString(loaded.error());
        QVERIFY2(error.contains(expected), qPrintable("got: " + error));
        if (options.target == "price")
            QVERIFY2(!error.contains("did you mean"), qPrintable(error));
    }

    void loadsGoodFiles_data() {
        QTest::addColumn<QByteArray>("content");
        QTest::addColumn<CsvOptions>("options");
        QTest::addColumn<QStringList>("names");
        QTest::addColumn<int>("classes");
        QTest::addColumn<QVector<float>>("features");
        QTest::addColumn<QVector<float>>("targets");

        const CsvOptions plain;
        const QStringList ab{"a", "b"};
        const QVector<float> x{1, 2, 3, 4};
        const QVector<float> y{0, 1};
        QTest::newRow("plain") << QByteArray("a,b,y\n1,2,0\n3,4,1\n") << plain << ab << 2 << x << y;
        QTest::newRow("no final newline") << QByteArray("a,b,y\n1,2,0\n3,4,1") << plain << ab << 2 << x << y;
        QTest::newRow("CRLF, blank tail")
            << QByteArray("a,b,y\r\n1,2,0\r\n3,4,1\r\n\r\n\r\n") << plain << ab << 2 << x << y;
        QTest::newRow("lone CR") << QByteArray("a,b,y\r1,2,0\r3,4,1\r") << plain << ab << 2 << x << y;
        QTest::newRow("BOM") << QByteArray("\xef\xbb\xbf"
                                           "a,b,y\n1,2,0\n3,4,1\n")
                             << plain << ab << 2 << x << y;
        QTest::newRow("blank lines inside")
            << QByteArray("\na,b,y\n\n1,2,0\n   \n3,4,1\n") << plain << ab << 2 << x << y;
        QTest::newRow("spaces around fields")
            << QByteArray(" a , b\t, y \n 1 , 2 , 0 \n3,\t4,1\n") << plain << ab << 2 << x << y;
        QTest::newRow("quoted fields")
            << QByteArray("\"a,1\",\"b \"\"q\"\"\",y\n\"1\",\" 2 \",0\n3,4,\"1\"\n") << plain
            << QStringList{"a,1", "b \"q\""} << 2 << x << y;
        QTest::newRow("signs and exponents")
            << QByteArray("a,b,y\n+1,2e0,0\n3,.4,1\n-0.5,-1E-1,1\n") << plain << ab << 2
            << QVector<float>{1, 2, 3, 0.4f, -0.5f, -0.1f} << QVector<float>{0, 1, 1};
        QTest::newRow("labels with a gap") << QByteArray("a,y\n1,0\n2,3\n") << plain << QStringList{"a"} << 4
                                           << QVector<float>{1, 2} << QVector<float>{0, 3};
        QTest::newRow("whole-number floats") << QByteArray("a,y\n1,0.0\n2,1.0\n") << plain << QStringList{"a"}
                                             << 2 << QVector<float>{1, 2} << QVector<float>{0, 1};
        QTest::newRow("named labels sort")
            << QByteArray("x,species\n1,virginica\n2,setosa\n3,versicolor\n4,setosa\n") << plain
            << QStringList{"x"} << 3 << QVector<float>{1, 2, 3, 4} << QVector<float>{2, 0, 1, 0};
        QTest::newRow("multi-line label") << QByteArray("a,y\n1,\"x\ny\"\n2,z\n") << plain << QStringList{"a"}
                                          << 2 << QVector<float>{1, 2} << QVector<float>{0, 1};
        QTest::newRow("target by name")
            << QByteArray("a,y,b\n1,0,2\n3,1,4\n") << byName("y") << ab << 2 << x << y;
        QTest::newRow("target by index")
            << QByteArray("y,a,b\n0,1,2\n1,3,4\n") << byIndex(0) << ab << 2 << x << y;
        QTest::newRow("target number that is a name")
            << QByteArray("1,a,b\n0,1,2\n1,3,4\n") << byName("1") << ab << 2 << x << y;
        QTest::newRow("target number that names no column")
            << QByteArray("y,a,b\n0,1,2\n1,3,4\n") << byName("0") << ab << 2 << x << y;
        QTest::newRow("unnamed column")
            << QByteArray(",b,y\n1,2,0\n3,4,1\n") << plain << QStringList{"column 1", "b"} << 2 << x << y;
        QTest::newRow("regression") << QByteArray("a,price\n1,0.5\n2,-1.25e1\n") << regression()
                                    << QStringList{"a"} << 0 << QVector<float>{1, 2}
                                    << QVector<float>{0.5f, -12.5f};
        QTest::newRow("semicolons") << QByteArray("a;b;y\n1;2;0\n3;4;1\n") << delimitedBy(';') << ab << 2 << x
                                    << y;
        QTest::newRow("tabs") << QByteArray("a\tb\ty\n1\t2\t0\n3\t4\t1\n") << delimitedBy('\t') << ab << 2
                              << x << y;
    }

    void loadsGoodFiles() {
        QFETCH(QByteArray, content);
        QFETCH(CsvOptions, options);
        QFETCH(QStringList, names);
        QFETCH(int, classes);
        QFETCH(QVector<float>, features);
        QFETCH(QVector<float>, targets);
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        auto loaded = loadCsvDataset(csvSpec(writeFile(dir, content), options));
        QVERIFY2(loaded.ok(), loaded.error().c_str());
        const Dataset& data = loaded.value();
        QCOMPARE(data.rows, int64_t(targets.size()));
        QCOMPARE(data.sampleShape, Shape{int64_t(names.size())});
        QCOMPARE(toStringList(data.featureNames), names);
        QCOMPARE(data.classes, classes);
        QCOMPARE(data.task, options.regression ? TaskKind::Regression : TaskKind::Classification);
        QCOMPARE(toVector(data.features), features);
        QCOMPARE(toVector(data.targets), targets);
        QCOMPARE(data.source, std::string("file.csv"));
    }

    // A row index saved with the data (pandas' to_csv writes one, unnamed, by default) still loads as a
    // feature, as it was written, with a warning: in a file sorted by class it gives the order away.
    void warnsOfASavedRowIndex_data() {
        QTest::addColumn<QByteArray>("content");
        QTest::addColumn<bool>("warned");
        QTest::newRow("unnamed, from 0") << QByteArray(",a,y\n0,5,0\n1,6,1\n2,7,0\n") << true;
        QTest::newRow("Unnamed: 0, from 1") << QByteArray("Unnamed: 0,a,y\n1,5,0\n2,6,1\n3,7,0\n") << true;
        QTest::newRow("named by the user") << QByteArray("id,a,y\n0,5,0\n1,6,1\n2,7,0\n") << false;
        QTest::newRow("not the rows' order") << QByteArray(",a,y\n0,5,0\n2,6,1\n1,7,0\n") << false;
        QTest::newRow("too few rows to tell") << QByteArray(",a,y\n0,5,0\n1,6,1\n") << false;
    }
    void warnsOfASavedRowIndex() {
        QFETCH(QByteArray, content);
        QFETCH(bool, warned);
        QTemporaryDir dir;
        const auto loaded = loadCsvDataset(csvSpec(writeFile(dir, content)));
        QVERIFY2(loaded.ok(), loaded.error().c_str());
        QCOMPARE(loaded.value().sampleShape, Shape{2}); // the column is kept: nothing typed is dropped
        QCOMPARE(loaded.value().warnings.size(), size_t(warned ? 1 : 0));
        if (warned)
            QVERIFY2(QString::fromStdString(loaded.value().warnings[0]).contains("counts the rows"),
                     loaded.value().warnings[0].c_str());
    }

    // Feature columns sharing a name load as written (both are data), with a warning that names them.
    void warnsOfRepeatedColumnNames_data() {
        QTest::addColumn<QByteArray>("content");
        QTest::addColumn<QString>("warning");
        QTest::newRow("two features")
            << QByteArray("a,b,a,y\n1,2,3,0\n4,5,6,1\n") << "columns 0 and 2 (0-based) are both named 'a'";
        QTest::newRow("a feature and the target by index")
            << QByteArray("y,a,y\n1,2,0\n4,5,1\n") << "columns 0 and 2 (0-based) are both named 'y'";
        QTest::newRow("many") << QByteArray("a,a,a,a,a,y\n1,2,3,4,5,0\n1,2,3,4,5,1\n")
                              << "columns 0 and 3 (0-based) are both named 'a'; and 1 more";
        QTest::newRow("none") << QByteArray("a,b,y\n1,2,0\n4,5,1\n") << QString();
    }
    void warnsOfRepeatedColumnNames() {
        QFETCH(QByteArray, content);
        QFETCH(QString, warning);
        QTemporaryDir dir;
        const auto loaded = loadCsvDataset(csvSpec(writeFile(dir, content)));
        QVERIFY2(loaded.ok(), loaded.error().c_str());
        const auto& warnings = loaded.value().warnings;
        QCOMPARE(warnings.size(), size_t(warning.isEmpty() ? 0 : 1));
        if (!warning.isEmpty())
            QVERIFY2(QString::fromStdString(warnings[0]).contains(warning), warnings[0].c_str());
    }

    void reportsMissingFiles() {
        auto missing = loadCsvDataset(csvSpec("/no/such/folder/x.csv"));
        QVERIFY(!missing.ok());
        QCOMPARE(missing.error(),
                 std::string("data.path: /no/such/folder/x.csv: cannot open: No such file or directory"));

        QTemporaryDir dir;
        auto folder = loadCsvDataset(csvSpec(dir.path()));
        QVERIFY(!folder.ok());
        QVERIFY2(QString::fromStdString(folder.error()).contains("is a folder; expected a CSV file"),
                 folder.error().c_str());

        auto unset = loadCsvDataset(csvSpec(QString()));
        QVERIFY(!unset.ok());
        QVERIFY2(QString::fromStdString(unset.error()).startsWith("data.path: missing"),
                 unset.error().c_str());
    }

    void loadsRealFiles_data() {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QString>("target");
        QTest::addColumn<int>("rows");
        QTest::addColumn<int>("features");
        QTest::addColumn<int>("classes");
        QTest::newRow("digits") << "digits.csv"
                                << "digit" << 1797 << 64 << 10;
        QTest::newRow("digits, last column") << "digits.csv"
                                             << "" << 1797 << 64 << 10;
        QTest::newRow("iris") << "iris.csv"
                              << "species" << 150 << 4 << 3;
        QTest::newRow("wine") << "wine.csv"
                              << "target" << 178 << 13 << 3;
        QTest::newRow("breast cancer") << "breast_cancer.csv"
                                       << "" << 569 << 30 << 2;
    }

    void loadsRealFiles() {
        QFETCH(QString, file);
        QFETCH(QString, target);
        QFETCH(int, rows);
        QFETCH(int, features);
        QFETCH(int, classes);
        const QString path = sharedData(qPrintable(file));
        if (!QFile::exists(path))
            QSKIP(qPrintable(path + " is missing"));
        auto loaded = loadCsvDataset(csvSpec(path, byName(target)));
        QVERIFY2(loaded.ok(), loaded.error().c_str());
        const Dataset& data = loaded.value();
        QCOMPARE(data.rows, int64_t(rows));
        QCOMPARE(data.sampleShape, Shape{features});
        QCOMPARE(data.classes, classes);
        QCOMPARE(data.features.size(), size_t(rows) * size_t(features));
        QCOMPARE(data.featureNames.size(), size_t(features));
        QCOMPARE(data.source, file.toStdString());
        std::vector<int> counts(size_t(classes), 0);
        for (const float value : data.targets)
            ++counts[size_t(value)];
        for (int c = 0; c < classes; ++c)
            QVERIFY2(counts[size_t(c)] > 0, qPrintable(QString("class %1 is empty").arg(c)));
    }

    void digitsHaveTheRightContent() {
        const QString path = sharedData("digits.csv");
        if (!QFile::exists(path))
            QSKIP(qPrintable(path + " is missing"));
        auto loaded = loadCsvDataset(csvSpec(path, byName("digit")));
        QVERIFY2(loaded.ok(), loaded.error().c_str());
        const Dataset& data = loaded.value();
        QCOMPARE(data.featureNames.front(), std::string("p0"));
        QCOMPARE(data.featureNames.back(), std::string("p63"));
        // First row of the file: 0,0,5,13,9,1,0,0,... digit 0.
        QCOMPARE(data.features[2], 5.0f);
        QCOMPARE(data.features[3], 13.0f);
        QCOMPARE(data.targets[0], 0.0f);
        const auto [low, high] = std::minmax_element(data.features.begin(), data.features.end());
        QCOMPARE(*low, 0.0f);
        QCOMPARE(*high, 16.0f);
    }

    void digitsLoadFast() {
        const QString path = sharedData("digits.csv");
        if (!QFile::exists(path))
            QSKIP(qPrintable(path + " is missing"));
        const DataSpec spec = csvSpec(path);
        (void)loadCsvDataset(spec); // warm the page cache
        QElapsedTimer timer;
        timer.start();
        for (int i = 0; i < 5; ++i)
            QVERIFY(loadCsvDataset(spec).ok());
        const double milliseconds = double(timer.nsecsElapsed()) / 1e6 / 5;
        qInfo("digits.csv loads in %.2f ms", milliseconds);
        // The target is well under 50 ms; the bound leaves room for a loaded CI machine or a debug build.
        QVERIFY2(milliseconds < 200.0, qPrintable(QString("took %1 ms").arg(milliseconds)));
    }

    void irisThroughLoadDataset() {
        const QString path = sharedData("iris.csv");
        if (!QFile::exists(path))
            QSKIP(qPrintable(path + " is missing"));
        DataSpec spec = csvSpec(path);
        spec.inputShape = {2, 2};
        spec.scale = 0.5;
        auto direct = loadCsvDataset(csvSpec(path));
        auto shaped = loadDataset(spec, 1);
        QVERIFY2(shaped.ok(), shaped.error().c_str());
        QCOMPARE(shaped.value().sampleShape, (Shape{2, 2}));
        QCOMPARE(shaped.value().features[0], direct.value().features[0] * 0.5f);
        QCOMPARE(shaped.value().targets, direct.value().targets);
    }
};

QTEST_APPLESS_MAIN(TestCsv)
#include "tst_csv.moc"
