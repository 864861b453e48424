// The data and training forms: what they show is what they write back, and only the fields that
// belong to the chosen optimizer, schedule or data source are shown.

#include "experiment/data_form.h"
#include "experiment/training_form.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QLabel>
#include <QSignalSpy>
#include <QtTest>

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

QDoubleSpinBox* spinBoxLabelled(QWidget& form, const QString& label) {
    for (QLabel* candidate : form.findChildren<QLabel*>()) {
        if (candidate->text() == label)
            return qobject_cast<QDoubleSpinBox*>(candidate->buddy());
    }
    return nullptr;
}

QCheckBox* checkBoxLabelled(QWidget& form, const QString& text) {
    for (QCheckBox* candidate : form.findChildren<QCheckBox*>()) {
        if (candidate->text() == text)
            return candidate;
    }
    return nullptr;
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
        QCOMPARE(spinBoxLabelled(form, "Momentum")->isVisible(), momentumShown);
        QCOMPARE(spinBoxLabelled(form, "Beta 1")->isVisible(), betasShown);
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
        QCOMPARE(spinBoxLabelled(form, "Dampening")->isVisible(), dampening);
        QCOMPARE(checkBoxLabelled(form, "AMSGrad")->isVisible(), amsgrad);
        QCOMPARE(checkBoxLabelled(form, "Centered")->isVisible(), centered);
        QCOMPARE(spinBoxLabelled(form, "Learning-rate decay")->isVisible(), lrDecay);
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
        spinBoxLabelled(form, "Weight decay")->setValue(0.2);
        combo->setCurrentText("sgd");
        form.applyTo(spec);
        QCOMPARE(spec.optimizer.weightDecay, 0.2);
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

    void dataFormReadsRealCsv() {
        const QString digits = QString(TUNELAB_SHARED_DATA_DIR) + "/digits.csv";
        if (!QFile::exists(digits))
            QSKIP("../shared/data is not here");
        ExperimentSpec spec = defaultExperiment();
        spec.data.kind = DataKind::Csv;
        spec.data.path = digits.toStdString();
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
};

QTEST_MAIN(TestExperimentForms)
#include "tst_experiment_forms.moc"
