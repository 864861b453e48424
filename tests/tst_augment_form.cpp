// The augment form: what it shows is what it writes back, a typed value is taken as typed or refused
// with its field's name (never clamped), the engine's check of the section against the data shows at
// the field it names, image-only fields are off for tabular data, and every edit undoes.

#include "common/number_field.h"
#include "experiment/augment_form.h"
#include "number_field_test_support.h"

#include <QCheckBox>
#include <QLabel>
#include <QSignalSpy>
#include <QUndoStack>
#include <QtTest>

#include <cmath>
#include <limits>

using namespace tunelab;

namespace {

QString augmentJson(const ExperimentSpec& spec) {
    ExperimentSpec copy = defaultExperiment();
    copy.augment = spec.augment;
    return QString::fromStdString(experimentSpecToJson(copy));
}

NumberField* field(AugmentForm& form, const QString& path) {
    return form.findChild<NumberField*>(path);
}

QCheckBox* check(AugmentForm& form, const QString& path) {
    return form.findChild<QCheckBox*>(path);
}

ExperimentSpec classification() {
    ExperimentSpec spec = defaultExperiment();
    spec.loss.type = LossType::CrossEntropy;
    return spec;
}

const Shape kDigits{1, 8, 8};
const Shape kTable{2};

} // namespace

Q_DECLARE_METATYPE(tunelab::AugmentSpec)

class TestAugmentForm : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void roundTrips_data() {
        QTest::addColumn<AugmentSpec>("augment");
        QTest::newRow("off") << AugmentSpec{};
        AugmentSpec all;
        all.flipHorizontal = true;
        all.flipVertical = true;
        all.cropPadding = 4;
        all.rotation = 12.5;
        all.scaleMin = 0.9;
        all.scaleMax = 1.1;
        all.translate = 0.125;
        all.brightness = 0.1;
        all.contrast = 0.2;
        all.noise = 0.05;
        all.cutout = 3;
        all.mixup = 0.2;
        QTest::newRow("everything") << all;
        AugmentSpec zoomOnly;
        zoomOnly.scaleMin = 0.75;
        zoomOnly.scaleMax = 0.75;
        QTest::newRow("a fixed zoom") << zoomOnly;
    }
    void roundTrips() {
        QFETCH(AugmentSpec, augment);
        ExperimentSpec spec = classification();
        spec.augment = augment;
        AugmentForm form;
        QSignalSpy edited(&form, &AugmentForm::edited);
        form.setSpec(spec);
        QCOMPARE(edited.count(), 0); // showing a spec is not an edit
        ExperimentSpec written = defaultExperiment();
        form.applyTo(written);
        QCOMPARE(augmentJson(written), augmentJson(spec));
        QVERIFY(form.problems().isEmpty());
        QCOMPARE(form.undoStack()->count(), 0);
    }

    void typedValuesAreTakenAsTyped_data() {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("typed");
        QTest::addColumn<double>("expected"); // NaN: refused
        QTest::addColumn<QString>("reason");
        const double refused = std::numeric_limits<double>::quiet_NaN();
        QTest::newRow("rotation 15") << "augment.rotation"
                                     << "15" << 15.0 << "";
        QTest::newRow("rotation 200")
            << "augment.rotation"
            << "200" << refused << "Rotation (degrees): expected a number of degrees";
        QTest::newRow("crop 4") << "augment.crop_padding"
                                << "4" << 4.0 << "";
        QTest::newRow("crop 2.5") << "augment.crop_padding"
                                  << "2.5" << refused << "Crop padding (px): expected";
        QTest::newRow("shift 1.5") << "augment.translate"
                                   << "1.5" << refused << "Shift (share): expected a fraction";
        QTest::newRow("contrast 1.5") << "augment.contrast"
                                      << "1.5" << refused << "Contrast: expected a number from 0 to 1";
        QTest::newRow("noise -0.1") << "augment.noise"
                                    << "-0.1" << refused << "Noise (std): expected";
        QTest::newRow("noise 5e-2") << "augment.noise"
                                    << "5e-2" << 0.05 << "";
        QTest::newRow("mixup .4") << "augment.mixup"
                                  << ".4" << 0.4 << "";
        QTest::newRow("cutout word") << "augment.cutout"
                                     << "big" << refused << "Cutout (px): expected";
        QTest::newRow("zoom from 0") << "augment.scale[0]"
                                     << "0" << refused << "Zoom from: expected a zoom factor above 0";
    }
    void typedValuesAreTakenAsTyped() {
        QFETCH(QString, path);
        QFETCH(QString, typed);
        QFETCH(double, expected);
        QFETCH(QString, reason);
        AugmentForm form;
        form.setSpec(classification());
        form.setContext(classification(), kDigits);
        NumberField* number = field(form, path);
        QVERIFY2(number, qPrintable(path));
        const auto valueAt = [&path](const AugmentSpec& a) {
            if (path == "augment.rotation")
                return a.rotation;
            if (path == "augment.crop_padding")
                return double(a.cropPadding);
            if (path == "augment.translate")
                return a.translate;
            if (path == "augment.contrast")
                return a.contrast;
            if (path == "augment.noise")
                return a.noise;
            if (path == "augment.mixup")
                return a.mixup;
            if (path == "augment.cutout")
                return double(a.cutout);
            return a.scaleMin;
        };
        ExperimentSpec before = classification();
        form.applyTo(before);
        test::typeInto(number, typed);
        ExperimentSpec after = classification();
        form.applyTo(after);
        if (std::isnan(expected)) {
            QVERIFY(!number->isValid());
            QCOMPARE(number->text(), typed); // as typed, shown as refused
            QCOMPARE(valueAt(after.augment), valueAt(before.augment));
            QCOMPARE(form.problems().size(), 1);
            QVERIFY2(form.problems().first().startsWith(reason), qPrintable(form.problems().first()));
            QVERIFY(number->styleSheet().contains("border"));
        } else {
            QVERIFY2(number->isValid(), qPrintable(number->problem()));
            QCOMPARE(valueAt(after.augment), expected);
            QVERIFY2(form.problems().isEmpty(), qPrintable(form.problems().join("; ")));
        }
    }

    // The zoom is drawn from its low end to its high end: a low end above the high one is refused at
    // the field just typed, the spec keeps the zoom from before, and the other end makes it whole.
    void zoomEndsInOrder() {
        AugmentForm form;
        form.setSpec(classification());
        form.setContext(classification(), kDigits);
        NumberField* low = field(form, "augment.scale[0]");
        NumberField* high = field(form, "augment.scale[1]");
        QVERIFY(low && high);
        test::typeInto(low, "1.2");
        QCOMPARE(form.problems().size(), 1);
        QVERIFY2(form.problems().first().startsWith("Zoom from: 1.2 is above the zoom's high end 1"),
                 qPrintable(form.problems().first()));
        QVERIFY(!low->isValid() && high->isValid());
        ExperimentSpec written = classification();
        form.applyTo(written);
        QCOMPARE(written.augment.scaleMin, 1.0);
        QCOMPARE(written.augment.scaleMax, 1.0);
        test::typeInto(high, "1.3");
        QVERIFY2(form.problems().isEmpty(), qPrintable(form.problems().join("; ")));
        form.applyTo(written);
        QCOMPARE(written.augment.scaleMin, 1.2);
        QCOMPARE(written.augment.scaleMax, 1.3);
        test::typeInto(high, "1.1");
        QVERIFY(form.problems().first().startsWith("Zoom to: 1.1 is below the zoom's low end 1.2"));
        form.applyTo(written);
        QCOMPARE(written.augment.scaleMax, 1.3);
    }

    // Tabular samples: the image-only fields are off with the reason, the others stay on. A value such
    // a field already holds keeps it on and is refused with the engine's words, naming the field.
    void imageOnlyFieldsOnTabularData() {
        AugmentForm form;
        form.setSpec(classification());
        form.setContext(classification(), kTable);
        const QStringList imageOnly = {"augment.crop_padding", "augment.rotation",  "augment.scale[0]",
                                       "augment.scale[1]",     "augment.translate", "augment.cutout"};
        for (const QString& path : imageOnly)
            QVERIFY2(!field(form, path)->isEnabled(), qPrintable(path));
        QVERIFY(!check(form, "augment.flip_horizontal")->isEnabled());
        for (const char* path : {"augment.brightness", "augment.contrast", "augment.noise", "augment.mixup"})
            QVERIFY2(field(form, path)->isEnabled(), path);
        auto* note = form.findChild<QLabel*>("imageOnlyNote");
        QVERIFY(note && note->isVisibleTo(&form));
        QVERIFY2(note->text().contains("[2]") && note->text().contains("input_shape"),
                 qPrintable(note->text()));
        QVERIFY(form.problems().isEmpty());

        ExperimentSpec spec = classification();
        spec.augment.rotation = 10;
        spec.augment.flipHorizontal = true;
        form.setSpec(spec);
        form.setContext(spec, kTable);
        QVERIFY(field(form, "augment.rotation")->isEnabled()); // to be set back to 0
        QVERIFY(check(form, "augment.flip_horizontal")->isEnabled());
        QVERIFY(!field(form, "augment.cutout")->isEnabled());
        const QStringList problems = form.problems();
        QCOMPARE(problems.size(), 2);
        QVERIFY2(problems.filter("Rotation (degrees): rotation needs image samples").size() == 1,
                 qPrintable(problems.join("; ")));
        QVERIFY2(problems.filter("Flip left–right: a horizontal flip needs image samples").size() == 1,
                 qPrintable(problems.join("; ")));
        auto* refusals = form.findChild<QLabel*>("augmentRefusals");
        QVERIFY(refusals && refusals->isVisibleTo(&form));
        QVERIFY(refusals->text().contains("augment.rotation"));

        test::typeInto(field(form, "augment.rotation"), "0");
        check(form, "augment.flip_horizontal")->setChecked(false);
        QVERIFY2(form.problems().isEmpty(), qPrintable(form.problems().join("; ")));
        QVERIFY(!field(form, "augment.rotation")->isEnabled());
        QVERIFY(!refusals->isVisibleTo(&form));

        form.setContext(spec, kDigits); // images: all on, no note
        QVERIFY(field(form, "augment.rotation")->isEnabled());
        QVERIFY(!note->isVisibleTo(&form));
    }

    // The engine's check against images and the loss, each at its field.
    void checkedAgainstTheExperiment_data() {
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("typed");
        QTest::addColumn<int>("loss");
        QTest::addColumn<QString>("problem");
        QTest::newRow("cutout larger than the images")
            << "augment.cutout"
            << "12" << int(LossType::CrossEntropy)
            << "Cutout (px): a 12-pixel square is larger than the 8x8 images";
        QTest::newRow("crop padding as large as the images")
            << "augment.crop_padding"
            << "8" << int(LossType::CrossEntropy) << "Crop padding (px): 8 pixels of padding on 8x8 images";
        QTest::newRow("mixup with mse")
            << "augment.mixup"
            << "0.2" << int(LossType::Mse)
            << "Mixup alpha: mixup mixes class labels and needs the cross_entropy loss";
        QTest::newRow("mixup with cross entropy") << "augment.mixup"
                                                  << "0.2" << int(LossType::CrossEntropy) << "";
    }
    void checkedAgainstTheExperiment() {
        QFETCH(QString, path);
        QFETCH(QString, typed);
        QFETCH(int, loss);
        QFETCH(QString, problem);
        ExperimentSpec spec = classification();
        spec.loss.type = static_cast<LossType>(loss);
        AugmentForm form;
        form.setSpec(spec);
        form.setContext(spec, kDigits);
        test::typeInto(field(form, path), typed);
        const QStringList problems = form.problems();
        if (problem.isEmpty()) {
            QVERIFY2(problems.isEmpty(), qPrintable(problems.join("; ")));
            return;
        }
        QCOMPARE(problems.size(), 1);
        QVERIFY2(problems.first().startsWith(problem), qPrintable(problems.first()));
        // The value is what was typed; the engine's check says why it cannot train, and Run waits.
        ExperimentSpec written = spec;
        form.applyTo(written);
        QCOMPARE(QString::fromStdString(experimentSpecToJson(written)).contains(path.mid(8)), true);
    }

    // Every change is one step on the undo stack; the digits typed into one field are one step.
    void editsUndoAndRedo() {
        AugmentForm form;
        form.setSpec(classification());
        form.setContext(classification(), kDigits);
        QSignalSpy edited(&form, &AugmentForm::edited);
        test::typeInto(field(form, "augment.rotation"), "15");
        check(form, "augment.flip_horizontal")->setChecked(true);
        test::typeInto(field(form, "augment.noise"), "0.05");
        QUndoStack* stack = form.undoStack();
        QCOMPARE(stack->count(), 3);
        QCOMPARE(stack->undoText(), QString("Change Noise (std)"));
        ExperimentSpec written = classification();
        form.applyTo(written);
        QCOMPARE(written.augment.rotation, 15.0);
        QVERIFY(written.augment.flipHorizontal);
        QCOMPARE(written.augment.noise, 0.05);

        edited.clear();
        stack->undo();
        QVERIFY(edited.count() > 0); // the window takes the undone state
        form.applyTo(written);
        QCOMPARE(written.augment.noise, 0.0);
        QCOMPARE(field(form, "augment.noise")->text(), QString("0"));
        stack->undo();
        form.applyTo(written);
        QVERIFY(!written.augment.flipHorizontal);
        QVERIFY(!check(form, "augment.flip_horizontal")->isChecked());
        stack->undo();
        form.applyTo(written);
        QCOMPARE(written.augment.rotation, 0.0);
        stack->redo();
        form.applyTo(written);
        QCOMPARE(written.augment.rotation, 15.0);
        QCOMPARE(field(form, "augment.rotation")->text(), QString("15"));
        QCOMPARE(stack->count(), 3);

        form.setSpec(classification()); // another experiment: a new history
        QCOMPARE(stack->count(), 0);
    }

    void fieldsOfferSearch() {
        AugmentForm form;
        const QStringList paths = form.fieldPaths();
        for (const char* path : {"augment.flip_horizontal", "augment.flip_vertical", "augment.crop_padding",
                                 "augment.rotation", "augment.translate", "augment.brightness",
                                 "augment.contrast", "augment.noise", "augment.cutout", "augment.mixup"})
            QVERIFY2(paths.contains(path), path);
        QSignalSpy requested(&form, &AugmentForm::searchRequested);
        QVERIFY(requested.isValid());
    }
};

QTEST_MAIN(TestAugmentForm)
#include "tst_augment_form.moc"
