// The training form: what it shows is what it writes back, and only the fields that belong to the
// chosen optimizer or schedule are shown (the data form: tst_data_form.cpp).

#include "common/number_field.h"
#include "experiment/training_form.h"
#include "number_field_test_support.h"

#include <QCheckBox>
#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QSignalSpy>
#include <QWheelEvent>
#include <QtTest>

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
};

QTEST_MAIN(TestExperimentForms)
#include "tst_experiment_forms.moc"
