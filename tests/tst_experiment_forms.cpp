// The data and training forms: what they show is what they write back, and only the fields that
// belong to the chosen optimizer, schedule or data source are shown.

#include "common/number_field.h"
#include "experiment/data_form.h"
#include "experiment/training_form.h"
#include "number_field_test_support.h"

#include <QCheckBox>
#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QWheelEvent>
#include <QtTest>

#ifdef TUNELAB_TEST_HAVE_STB
#include "image_folder_test_support.h"
#endif

#include <cmath>
#include <limits>
#include <memory>

using namespace tunelab;

namespace {

// The sections a form edits, as the spec writer prints them.
QString trainingPart(const ExperimentSpec& spec) {
    ExperimentSpec copy = defaultExperiment();
    copy.loss = spec.loss;
    copy.optimizer = spec.optimizer;
    copy.schedule = spec.schedule;
    copy.training = spec.training;
    copy.seed = spec.seed;
    copy.device = spec.device;
    return QString::fromStdString(experimentSpecToJson(copy));
}

NumberField* fieldLabelled(QWidget& form, const QString& label) {
    for (QLabel* candidate : form.findChildren<QLabel*>()) {
        if (candidate->text() == label)
            return qobject_cast<NumberField*>(candidate->buddy());
    }
    return nullptr;
}

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

QCheckBox* checkBoxLabelled(QWidget& form, const QString& text) {
    for (QCheckBox* candidate : form.findChildren<QCheckBox*>()) {
        if (candidate->text() == text)
            return candidate;
    }
    return nullptr;
}

// The default experiment on ../shared/data/digits.csv (its last column, "digit", is the target).
ExperimentSpec digitsExperiment() {
    ExperimentSpec spec = defaultExperiment();
    spec.data.kind = DataKind::Csv;
    spec.data.path = std::string(TUNELAB_SHARED_DATA_DIR) + "/digits.csv";
    return spec;
}

} // namespace

class TestExperimentForms : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void trainingFormRoundTrips_data() {
        QTest::addColumn<QByteArray>("json");
        QTest::newRow("default") << QByteArray(experimentSpecToJson(defaultExperiment()).c_str());
        QTest::newRow("sgd nesterov step") << QByteArray(
            R"({"seed": 9, "data": {"kind": "moons"}, "model": {"layers": [{"type": "linear", "out_features": 2}]},
            "optimizer": {"type": "sgd", "lr": 0.05, "momentum": 0.9, "nesterov": true, "weight_decay": 0.001},
            "schedule": {"type": "step", "step_size": 4, "gamma": 0.5},
            "training": {"epochs": 7, "batch_size": 16, "grad_clip_norm": 2, "early_stopping": {"metric": "val_accuracy", "patience": 3}}})");
        QTest::newRow("rmsprop plateau full batch") << QByteArray(
            R"({"data": {"kind": "regression"}, "model": {"layers": [{"type": "linear", "out_features": 1}]},
            "loss": {"type": "huber", "delta": 0.5}, "optimizer": {"type": "rmsprop", "lr": 0.002, "alpha": 0.9, "momentum": 0.1},
            "schedule": {"type": "reduce_on_plateau", "factor": 0.5, "patience": 2, "min_lr": 0.0001},
            "training": {"epochs": 3, "batch_size": "full"}})");
        const QByteArray network =
            R"("data": {"kind": "moons"}, "model": {"layers": [{"type": "linear", "out_features": 2}]})";
        QTest::newRow("deterministic on cuda")
            << "{" + network +
                   R"(, "device": "cuda", "training": {"epochs": 4, "deterministic": true, "precision": "bf16"}})";
        QTest::newRow("sgd dampening")
            << "{" + network +
                   R"(, "optimizer": {"type": "sgd", "lr": 0.05, "momentum": 0.9, "dampening": 0.25}})";
        QTest::newRow("adamw amsgrad")
            << "{" + network + R"(, "optimizer": {"type": "adamw", "betas": [0.85, 0.99], "amsgrad": true}})";
        QTest::newRow("rmsprop centered")
            << "{" + network + R"(, "optimizer": {"type": "rmsprop", "centered": true, "eps": 1e-6}})";
        QTest::newRow("adagrad lr_decay")
            << "{" + network +
                   R"(, "optimizer": {"type": "adagrad", "lr_decay": 0.002, "initial_accumulator": 0.1}})";
    }
    void trainingFormRoundTrips() {
        QFETCH(QByteArray, json);
        auto spec = parseExperimentSpec(json.toStdString());
        QVERIFY2(spec.ok(), spec.error().c_str());
        TrainingForm form;
        form.setSpec(spec.value());
        ExperimentSpec written = defaultExperiment();
        form.applyTo(written);
        QCOMPARE(trainingPart(written), trainingPart(spec.value()));
    }

    void showsOnlyTheOptimizersFields_data() {
        QTest::addColumn<QString>("optimizer");
        QTest::addColumn<bool>("momentumShown");
        QTest::addColumn<bool>("betasShown");
        QTest::newRow("sgd") << "sgd" << true << false;
        QTest::newRow("adam") << "adam" << false << true;
        QTest::newRow("rmsprop") << "rmsprop" << true << false;
        QTest::newRow("adagrad") << "adagrad" << false << false;
    }
    void showsOnlyTheOptimizersFields() {
        QFETCH(QString, optimizer);
        QFETCH(bool, momentumShown);
        QFETCH(bool, betasShown);
        TrainingForm form;
        form.show();
        auto* combo = form.findChildren<QComboBox*>().at(1); // loss, then optimizer
        QSignalSpy edited(&form, &TrainingForm::edited);
        combo->setCurrentText(optimizer);
        QVERIFY(optimizer == "adam" || edited.count() == 1);
        QCOMPARE(fieldLabelled(form, "Momentum")->isVisible(), momentumShown);
        QCOMPARE(fieldLabelled(form, "Beta 1")->isVisible(), betasShown);
        ExperimentSpec spec;
        form.applyTo(spec);
        QCOMPARE(QString(toString(spec.optimizer.type)), optimizer);
    }

    // The rows of the keys that only some optimizers have, shown for those only.
    void showsTheNewOptimizerRowsForTheirOptimizerOnly_data() {
        QTest::addColumn<QString>("optimizer");
        QTest::addColumn<bool>("dampening");
        QTest::addColumn<bool>("amsgrad");
        QTest::addColumn<bool>("centered");
        QTest::addColumn<bool>("lrDecay");
        QTest::newRow("sgd") << "sgd" << true << false << false << false;
        QTest::newRow("adam") << "adam" << false << true << false << false;
        QTest::newRow("adamw") << "adamw" << false << true << false << false;
        QTest::newRow("rmsprop") << "rmsprop" << false << false << true << false;
        QTest::newRow("adagrad") << "adagrad" << false << false << false << true;
    }
    void showsTheNewOptimizerRowsForTheirOptimizerOnly() {
        QFETCH(QString, optimizer);
        QFETCH(bool, dampening);
        QFETCH(bool, amsgrad);
        QFETCH(bool, centered);
        QFETCH(bool, lrDecay);
        TrainingForm form;
        form.show();
        form.findChildren<QComboBox*>().at(1)->setCurrentText(optimizer);
        QCOMPARE(fieldLabelled(form, "Dampening")->isVisible(), dampening);
        QCOMPARE(checkBoxLabelled(form, "AMSGrad")->isVisible(), amsgrad);
        QCOMPARE(checkBoxLabelled(form, "Centered")->isVisible(), centered);
        QCOMPARE(fieldLabelled(form, "Learning-rate decay")->isVisible(), lrDecay);
        QVERIFY(form.fieldPaths().contains("optimizer.lr_decay"));
        QVERIFY(form.fieldPaths().contains("optimizer.amsgrad"));
    }

    // Choosing another optimizer puts its own defaults in the keys the user did not change.
    void choosingAnOptimizerShowsItsDefaults() {
        TrainingForm form;
        ExperimentSpec spec = defaultExperiment(); // adam, lr 0.01
        form.setSpec(spec);
        auto* combo = form.findChildren<QComboBox*>().at(1);
        combo->setCurrentText("adagrad");
        form.applyTo(spec);
        QCOMPARE(spec.optimizer.eps, 1e-10);
        QCOMPARE(spec.optimizer.lr, 0.01); // changed from Adam's default: kept
        combo->setCurrentText("adamw");
        form.applyTo(spec);
        QCOMPARE(spec.optimizer.weightDecay, 0.01);
        QCOMPARE(spec.optimizer.eps, 1e-8);
        fieldLabelled(form, "Weight decay")->setValue(0.2);
        combo->setCurrentText("sgd");
        form.applyTo(spec);
        QCOMPARE(spec.optimizer.weightDecay, 0.2);
    }

    // What the user types is what the spec gets, in the notations people use; a value the spec
    // reader would refuse is refused in place with its reason, and the spec keeps the last good one.
    void typedValuesAreTakenAsTyped_data() {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("typed");
        QTest::addColumn<double>("expected"); // NaN: refused
        QTest::addColumn<QString>("reason");
        const double refused = std::numeric_limits<double>::quiet_NaN();
        QTest::newRow("lr 1e-4") << "optimizer.lr"
                                 << "1e-4" << 1e-4 << "";
        QTest::newRow("lr 3e-4") << "optimizer.lr"
                                 << "3e-4" << 3e-4 << "";
        QTest::newRow("lr .001") << "optimizer.lr"
                                 << ".001" << 0.001 << "";
        QTest::newRow("lr 50") << "optimizer.lr"
                               << "50" << 50.0 << "";
        QTest::newRow("lr -1") << "optimizer.lr"
                               << "-1" << refused << "Learning rate: expected";
        QTest::newRow("lr word") << "optimizer.lr"
                                 << "fast" << refused << "got fast";
        QTest::newRow("gamma 0.45") << "schedule.gamma"
                                    << "0.45" << 0.45 << "";
        QTest::newRow("epochs a billion") << "training.epochs"
                                          << "1000000000" << 1e9 << "";
        QTest::newRow("epochs 1_000") << "training.epochs"
                                      << "1_000" << 1000.0 << "";
        QTest::newRow("epochs 2.5") << "training.epochs"
                                    << "2.5" << refused << "Epochs: expected a positive integer";
        QTest::newRow("batch 0") << "training.batch_size"
                                 << "0" << refused << "Batch size: expected a positive integer, got 0";
        QTest::newRow("seed 2^53+1") << "seed"
                                     << "9007199254740993" << 9007199254740993.0 << "";
    }
    void typedValuesAreTakenAsTyped() {
        QFETCH(QString, path);
        QFETCH(QString, typed);
        QFETCH(double, expected);
        QFETCH(QString, reason);
        TrainingForm form;
        ExperimentSpec spec = defaultExperiment();
        spec.schedule.type = ScheduleType::Step;
        form.setSpec(spec);
        auto* field = form.findChild<NumberField*>(path);
        QVERIFY2(field, qPrintable(path));
        ExperimentSpec before;
        form.applyTo(before);
        field->selectAll();
        QTest::keyClicks(field, typed);
        ExperimentSpec after;
        form.applyTo(after);
        const auto valueAt = [&path](const ExperimentSpec& s) {
            if (path == "optimizer.lr")
                return s.optimizer.lr;
            if (path == "schedule.gamma")
                return s.schedule.gamma;
            if (path == "training.epochs")
                return double(s.training.epochs);
            if (path == "training.batch_size")
                return double(s.training.batchSize);
            return double(s.seed);
        };
        if (std::isnan(expected)) {
            QVERIFY(!field->isValid());
            QCOMPARE(field->text(), typed); // the text stays as typed, shown as refused
            QVERIFY(field->styleSheet().contains("border"));
            QCOMPARE(valueAt(after), valueAt(before));
            QCOMPARE(form.problems().size(), 1);
            QVERIFY2(form.problems().first().contains(reason), qPrintable(form.problems().first()));
            QVERIFY2(field->toolTip().contains("expected"), qPrintable(field->toolTip()));
            // Leaving the field keeps it as typed; Escape brings the last good value back.
            field->clearFocus();
            QCOMPARE(field->text(), typed);
            QTest::keyClick(field, Qt::Key_Escape);
            QVERIFY(field->isValid());
            QVERIFY(form.problems().isEmpty());
        } else {
            QVERIFY2(field->isValid(), qPrintable(field->problem()));
            QCOMPARE(valueAt(after), expected);
            if (path == "seed")
                QCOMPARE(after.seed, uint64_t{9007199254740993}); // exact past 2^53
            QVERIFY(form.problems().isEmpty());
        }
    }

    // Scrolling over a form never changes a value: no field takes the wheel unless it has focus.
    void theWheelScrollsTheFormNotTheFields() {
        TrainingForm form;
        ExperimentSpec spec = defaultExperiment();
        spec.schedule.type = ScheduleType::Step;
        form.setSpec(spec);
        form.resize(400, 900);
        form.show();
        QVERIFY(QTest::qWaitForWindowExposed(&form));
        ExperimentSpec before;
        form.applyTo(before);
        const QString beforeJson = QString::fromStdString(experimentSpecToJson(before));
        if (QWidget* focused = QApplication::focusWidget())
            focused->clearFocus();
        for (QWidget* field : form.findChildren<QWidget*>()) {
            if (!field->isVisible() || field->objectName().isEmpty())
                continue;
            const QPoint centre = field->rect().center();
            QWheelEvent wheel(QPointF(centre), QPointF(field->mapToGlobal(centre)), QPoint(0, 0),
                              QPoint(0, -120), Qt::NoButton, Qt::NoModifier, Qt::NoScrollPhase, false);
            QApplication::sendEvent(field, &wheel);
        }
        ExperimentSpec after;
        form.applyTo(after);
        QCOMPARE(QString::fromStdString(experimentSpecToJson(after)), beforeJson);
    }

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

    // Closing the form while its data loads waits for the load and drops its result.
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

QTEST_MAIN(TestExperimentForms)
#include "tst_experiment_forms.moc"
