// The data form: what it loads and reports (errors, warnings, the target column), and its loads off
// the GUI thread (the newest wins; closing the form stops them).

#include "common/number_field.h"
#include "data/dataset_cache.h"
#include "experiment/data_form.h"
#include "number_field_test_support.h"

#include <QCheckBox>
#include <QElapsedTimer>
#include <QLabel>
#include <QLineEdit>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QThread>
#include <QtTest>

#ifdef TUNELAB_TEST_HAVE_STB
#include "image_folder_test_support.h"
#endif

#include <memory>

using namespace tunelab;

namespace {

// The default experiment on a CSV file of `content` written into `dir`; an empty path when it cannot be
// written.
ExperimentSpec csvExperiment(const QTemporaryDir& dir, const QString& name, const QByteArray& content) {
    ExperimentSpec spec = defaultExperiment();
    spec.data.kind = DataKind::Csv;
    QFile file(dir.filePath(name));
    if (file.open(QIODevice::WriteOnly) && file.write(content) == content.size())
        spec.data.path = file.fileName().toStdString();
    return spec;
}
// The default experiment on ../shared/data/digits.csv (its last column, "digit", is the target).
ExperimentSpec digitsExperiment() {
    ExperimentSpec spec = defaultExperiment();
    spec.data.kind = DataKind::Csv;
    spec.data.path = std::string(TUNELAB_SHARED_DATA_DIR) + "/digits.csv";
    return spec;
}

} // namespace

class TestDataForm : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void dataFormLoadsAndReportsErrors() {
        DataForm form;
        QSignalSpy loaded(&form, &DataForm::dataLoaded);
        form.setSpec(defaultExperiment());
        QCOMPARE(loaded.count(), 1);
        QVERIFY(loaded.takeFirst().at(0).toBool());
        QCOMPARE(form.dataset().rows, defaultExperiment().data.samples);

        ExperimentSpec csv = defaultExperiment();
        csv.data.kind = DataKind::Csv;
        csv.data.path = "/no/such/data.csv";
        form.setSpec(csv);
        QVERIFY(!loaded.takeFirst().at(0).toBool());
        QVERIFY2(form.errorText().contains("/no/such/data.csv"), qPrintable(form.errorText()));

        ExperimentSpec written;
        form.applyTo(written);
        QCOMPARE(written.data.kind, DataKind::Csv);
        QCOMPARE(written.data.path, csv.data.path);
    }

    // The Target field holds a column's name; a whole number that names no column is its index, and
    // an index read from the file is written back as one.
    void dataFormTakesATypedTargetAsAName() {
        QTemporaryDir dir;
        ExperimentSpec spec = csvExperiment(dir, "numbered.csv", "1,0,label\n0,5,0\n1,6,1\n0,7,0\n1,8,1\n");
        QVERIFY(!spec.data.path.empty());
        spec.data.targetIndex = 2;
        DataForm form;
        QSignalSpy loaded(&form, &DataForm::dataLoaded);
        form.setSpec(spec);
        QVERIFY2(form.hasData(), qPrintable(form.errorText()));
        ExperimentSpec written;
        form.applyTo(written);
        QCOMPARE(written.data.targetIndex, 2);
        QVERIFY(written.data.target.empty());

        auto* target = form.findChild<QLineEdit*>(QStringLiteral("data.target"));
        QVERIFY(target);
        // "1" names the first column: it is the target, not the second column.
        target->setText(QStringLiteral("1"));
        Q_EMIT target->editingFinished();
        QTRY_VERIFY(loaded.count() >= 2 && form.hasData());
        form.applyTo(written);
        QCOMPARE(written.data.target, std::string("1"));
        QCOMPARE(written.data.targetIndex, -1);
        QCOMPARE(form.dataset().featureNames, (std::vector<std::string>{"0", "label"}));
        QCOMPARE(form.dataset().features[0], 5.0f); // the first row's "0" column
        QCOMPARE(form.dataset().targets[1], 1.0f);  // the second row's "1" column
        // "-1" is no index: a name that no column has, not the last column.
        target->setText(QStringLiteral("-1"));
        form.applyTo(written);
        QCOMPARE(written.data.target, std::string("-1"));
        QCOMPARE(written.data.targetIndex, -1);
    }

    // A row index saved with the data loads, and the summary under the fields warns of it in amber.
    void dataFormWarnsOfASavedRowIndex() {
        QTemporaryDir dir;
        const ExperimentSpec spec =
            csvExperiment(dir, "indexed.csv", ",a,label\n0,5,0\n1,6,1\n2,7,0\n3,8,1\n");
        QVERIFY(!spec.data.path.empty());
        DataForm form;
        form.setSpec(spec);
        QVERIFY2(form.hasData(), qPrintable(form.errorText()));
        QLabel* summary = nullptr;
        for (QLabel* label : form.findChildren<QLabel*>())
            if (label->text().contains("4 rows of [2]"))
                summary = label;
        QVERIFY(summary);
        QVERIFY2(summary->text().contains(
                     "Warning: indexed.csv: column 'column 1' is unnamed and counts the rows"),
                 qPrintable(summary->text()));
        QVERIFY(summary->styleSheet().contains("#8a5300"));
    }

    // Closing the form while a large file loads does not wait for the file to be read: the load is
    // told to stop.
    void dataFormStopsItsLoadWhenItCloses() {
        QTemporaryDir dir;
        QByteArray content = "a,b,c,d,e,f,g,h,label\n";
        for (int row = 0; row < 400000; ++row)
            content += QByteArray::number(row % 97) + ",0.25,1.5,2,3.75,4,5.5,6," +
                       QByteArray::number(row % 3) + "\n";
        const ExperimentSpec spec = csvExperiment(dir, "large.csv", content);
        QVERIFY(!spec.data.path.empty());
        clearDatasetCache();
        QElapsedTimer clock;
        clock.start();
        QVERIFY(loadDatasetCached(spec.data, spec.seed).ok());
        const qint64 fullLoad = clock.elapsed();
        clearDatasetCache();

        auto form = std::make_unique<DataForm>();
        form->openSpec(spec);
        QVERIFY(form->isLoading());
        QThread::msleep(static_cast<unsigned long>(fullLoad / 5));
        clock.restart();
        form.reset();
        const qint64 closing = clock.elapsed();
        qDebug("a full load took %lld ms; closing the form during one took %lld ms",
               static_cast<long long>(fullLoad), static_cast<long long>(closing));
        QVERIFY2(closing < fullLoad / 2, qPrintable(QString::number(closing)));
    }

    // An edit's load runs off the GUI thread: the form says it is loading and the result arrives
    // through the event loop.
    void dataFormLoadsEditsInTheBackground() {
        DataForm form;
        form.setSpec(defaultExperiment());
        QSignalSpy started(&form, &DataForm::loadStarted);
        QSignalSpy loaded(&form, &DataForm::dataLoaded);
        bool loadingWhenStarted = false;
        QString summaryWhenStarted;
        connect(&form, &DataForm::loadStarted, this, [&] {
            loadingWhenStarted = form.isLoading() && loaded.isEmpty();
            for (QLabel* label : form.findChildren<QLabel*>())
                if (label->text().startsWith(QStringLiteral("Loading")))
                    summaryWhenStarted = label->text();
        });
        auto* samples = form.findChild<NumberField*>(QStringLiteral("data.samples"));
        QVERIFY(samples);
        test::typeInto(samples, QStringLiteral("300"));
        QTRY_COMPARE(loaded.count(), 1);
        QCOMPARE(started.count(), 1);
        QVERIFY(loadingWhenStarted);
        QVERIFY(!summaryWhenStarted.isEmpty());
        QVERIFY(loaded.takeFirst().at(0).toBool());
        QVERIFY(!form.isLoading());
        QCOMPARE(form.dataset().rows, 300);
    }

    // A load that finishes after a newer one started is not shown: the newest settings win.
    void dataFormShowsOnlyTheNewestLoad() {
        DataForm form;
        form.setSpec(defaultExperiment());
        auto* samples = form.findChild<NumberField*>(QStringLiteral("data.samples"));
        QVERIFY(samples);
        QSignalSpy loaded(&form, &DataForm::dataLoaded);
        // While the load of 300 rows is under way, 500 rows are loaded at once.
        connect(&form, &DataForm::loadStarted, this, [&] {
            samples->setIntegerValue(500);
            form.reload();
        });
        test::typeInto(samples, QStringLiteral("300"));
        QTRY_VERIFY(!loaded.isEmpty());
        QTRY_VERIFY(!form.isLoading());
        QTest::qWait(50);
        QCOMPARE(loaded.count(), 1);
        QCOMPARE(form.dataset().rows, 500);
    }

    // An experiment opened while another one's file still loads shows its own data at once, and is not
    // loading: the older load's result is dropped when it arrives.
    void dataFormOpenedWhileAnotherLoads() {
        const ExperimentSpec csv = digitsExperiment();
        if (!QFile::exists(QString::fromStdString(csv.data.path)))
            QSKIP("../shared/data is not here");
        DataForm form;
        QSignalSpy loaded(&form, &DataForm::dataLoaded);
        form.openSpec(csv);
        QVERIFY(form.isLoading());
        QVERIFY(!form.hasData());
        QVERIFY(loaded.isEmpty());
        form.openSpec(defaultExperiment()); // built-in data: made before openSpec returns
        QVERIFY(!form.isLoading());
        QVERIFY(form.hasData());
        QCOMPARE(loaded.count(), 1);
        const int64_t rows = form.dataset().rows;
        QTest::qWait(500); // the digits load (about 20 ms) finishes and is dropped
        QCOMPARE(loaded.count(), 1);
        QVERIFY(!form.isLoading());
        QCOMPARE(form.dataset().rows, rows);
        QVERIFY(form.dataset().source != "digits.csv");
    }

    // Closing the form while its data loads stops the load and drops its result.
    void dataFormClosedWhileLoading() {
        auto form = std::make_unique<DataForm>();
        form->setSpec(defaultExperiment());
        QSignalSpy started(form.get(), &DataForm::loadStarted);
        test::typeInto(form->findChild<NumberField*>(QStringLiteral("data.samples")), QStringLiteral("700"));
        QTRY_COMPARE(started.count(), 1);
        form.reset();
        QTest::qWait(50); // the dropped result's delivery runs without the form
    }

    void dataFormReadsRealCsv() {
        ExperimentSpec spec = digitsExperiment();
        if (!QFile::exists(QString::fromStdString(spec.data.path)))
            QSKIP("../shared/data is not here");
        spec.data.inputShape = {1, 8, 8};
        DataForm form;
        form.resize(400, 500);
        form.show();
        form.setSpec(spec);
        QVERIFY(form.hasData());
        QCOMPARE(form.dataset().classes, 10);
        QCOMPARE(form.dataset().sampleShape, (Shape{1, 8, 8})); // kept although the form does not edit it
        QVERIFY(!form.grab().isNull());                         // thumbnails paint
    }

    // The image size takes both sides or neither (0 in both: the files' size). One side alone is
    // refused in place, naming the side that is missing, and the spec keeps the size from before, as
    // with any refused value; typing the other side makes it whole.
    void dataFormRefusesOneImageSide_data() {
        QTest::addColumn<QList<int>>("before");
        QTest::addColumn<QStringList>("edits"); // "h:32": type 32 into the height
        QTest::addColumn<QString>("problem");   // empty: accepted
        QTest::addColumn<QList<int>>("written");
        QTest::newRow("height alone")
            << QList<int>{} << QStringList{"h:32"} << "Image width: 0 while the height is 32" << QList<int>{};
        QTest::newRow("width alone") << QList<int>{} << QStringList{"w:24"}
                                     << "Image height: 0 while the width is 24" << QList<int>{};
        QTest::newRow("height cleared") << QList<int>{12, 10} << QStringList{"h:0"}
                                        << "Image height: 0 while the width is 10" << QList<int>{12, 10};
        QTest::newRow("width not a number")
            << QList<int>{12, 10} << QStringList{"w:abc"} << "Image width: expected" << QList<int>{12, 10};
        QTest::newRow("height alone, then a wrong width")
            << QList<int>{} << QStringList{"h:32", "w:x"} << "Image width: expected" << QList<int>{};
        QTest::newRow("both sides") << QList<int>{} << QStringList{"h:32", "w:24"} << QString()
                                    << QList<int>{32, 24};
        QTest::newRow("both cleared")
            << QList<int>{12, 10} << QStringList{"h:0", "w:0"} << QString() << QList<int>{};
    }
    void dataFormRefusesOneImageSide() {
        QFETCH(QList<int>, before);
        QFETCH(QStringList, edits);
        QFETCH(QString, problem);
        QFETCH(QList<int>, written);
        ExperimentSpec spec = defaultExperiment();
        spec.data.kind = DataKind::ImageFolder;
        spec.data.path = "/no/such/folder"; // the fields check what is typed whether or not it loads
        spec.data.imageSize.assign(before.begin(), before.end());
        DataForm form;
        form.setSpec(spec);
        QVERIFY(form.problems().isEmpty());
        auto* height = form.findChild<NumberField*>("data.image_size[0]");
        auto* width = form.findChild<NumberField*>("data.image_size[1]");
        QVERIFY(height && width && height->isVisibleTo(&form));
        QSignalSpy edited(&form, &DataForm::edited);
        for (const QString& edit : edits)
            test::typeInto(edit.startsWith('h') ? height : width, edit.mid(2));
        QVERIFY(edited.count() > 0); // the window hears of it and checks the form again
        ExperimentSpec after;
        form.applyTo(after);
        QCOMPARE(after.data.imageSize, std::vector<int64_t>(written.begin(), written.end()));
        if (problem.isEmpty()) {
            QVERIFY2(form.problems().isEmpty(), qPrintable(form.problems().join("; ")));
            QVERIFY(height->isValid() && width->isValid());
            return;
        }
        QCOMPARE(form.problems().size(), 1);
        QVERIFY2(form.problems().first().startsWith(problem), qPrintable(form.problems().first()));
        if (problem.contains("0 while"))
            QVERIFY(form.problems().first().endsWith("or 0 in both to keep the files' size"));
        NumberField* refused = problem.startsWith("Image height") ? height : width;
        QVERIFY(!refused->isValid());
        QVERIFY(refused->styleSheet().contains("border"));
        QCOMPARE(refused->toolTip(), refused->problem());
        QVERIFY((refused == height ? width : height)->isValid()); // the side typed is not the wrong one
    }

#ifdef TUNELAB_TEST_HAVE_STB
    // An image folder: its size and gray fields show only for it, read the spec and write it back.
    void dataFormReadsAnImageFolder() {
        QTemporaryDir dir;
        const QString folder = dir.filePath("digits");
        QCOMPARE(tunelab::test::writeDigitsImageFolder(folder, 5, 3, {2, 3, 5}), 15);
        ExperimentSpec spec = defaultExperiment();
        spec.data.kind = DataKind::ImageFolder;
        spec.data.path = folder.toStdString();
        spec.data.imageSize = {12, 10};
        DataForm form;
        form.resize(400, 500);
        form.show();
        form.setSpec(spec);
        QVERIFY2(form.hasData(), qPrintable(form.errorText()));
        QCOMPARE(form.dataset().classes, 3);
        QCOMPARE(form.dataset().sampleShape, (Shape{3, 12, 10}));
        QCheckBox* grayscale = nullptr;
        for (QCheckBox* box : form.findChildren<QCheckBox*>())
            if (box->text().contains("gray"))
                grayscale = box;
        QVERIFY(grayscale && grayscale->isVisible());
        grayscale->setChecked(true);
        ExperimentSpec written;
        form.applyTo(written);
        QCOMPARE(written.data.imageSize, (std::vector<int64_t>{12, 10}));
        QVERIFY(written.data.grayscale);

        spec.data = defaultExperiment().data;
        form.setSpec(spec);
        QVERIFY(!grayscale->isVisible());
    }
#endif
};

QTEST_MAIN(TestDataForm)
#include "tst_data_form.moc"
