// The fork dialog: it starts from the parent's settings (more epochs where the parent trained all of
// its own), refuses epochs the fork could not train with a message while keeping what was typed, and
// hands the edited experiment to its start handler, whose refusal keeps it open too.

#include "runs/fork_run_dialog.h"

#include "common/number_field.h"
#include "experiment/training_form.h"
#include "spec/spec.h"

#include "number_field_test_support.h"

#include <QComboBox>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QtTest>

#include <memory>
#include <optional>

using namespace tunelab;

namespace {

ExperimentSpec parentSpec(int epochs) {
    ExperimentSpec spec = defaultExperiment();
    spec.name = "spirals";
    spec.training.epochs = epochs;
    spec.optimizer.lr = 0.01;
    return spec;
}

NumberField* field(const ForkRunDialog& dialog, const char* path) {
    return dialog.trainingForm()->findChild<NumberField*>(QLatin1String(path));
}

std::unique_ptr<ForkRunDialog> shownDialog(int parentEpochs, int forkEpoch, bool running) {
    auto dialog = std::make_unique<ForkRunDialog>(12, QStringLiteral("spirals"), parentSpec(parentEpochs),
                                                  forkEpoch, running);
    dialog->show();
    return dialog;
}

} // namespace

class TestForkRunDialog : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void defaultEpochs_data() {
        QTest::addColumn<int>("parentEpochs");
        QTest::addColumn<int>("forkEpoch");
        QTest::addColumn<int>("expected");
        QTest::newRow("stopped early: the parent's plan") << 20 << 5 << 20;
        QTest::newRow("trained them all: half as many again") << 20 << 20 << 30;
        QTest::newRow("in its last epoch") << 10 << 10 << 15;
        QTest::newRow("short: at least one more") << 1 << 1 << 2;
        QTest::newRow("three") << 3 << 3 << 4;
    }
    void defaultEpochs() {
        QFETCH(int, parentEpochs);
        QFETCH(int, forkEpoch);
        QFETCH(int, expected);
        QCOMPARE(ForkRunDialog::defaultEpochs(parentEpochs, forkEpoch), expected);
    }

    void startsFromTheParentsSettings() {
        const auto dialog = shownDialog(20, 20, false);
        QCOMPARE(dialog->nameEdit()->text(), QStringLiteral("spirals-fork"));
        QCOMPARE(field(*dialog, "training.epochs")->text(), QStringLiteral("30"));
        const ExperimentSpec fork = dialog->spec();
        ExperimentSpec expected = parentSpec(20);
        expected.name = "spirals-fork";
        expected.training.epochs = 30;
        QCOMPARE(experimentSpecToJson(fork), experimentSpecToJson(expected));
        QVERIFY(dialog->problem().isEmpty());
        // What it keeps and what a changed optimizer means are said up front.
        const QString keeps = dialog->findChild<QLabel*>(QStringLiteral("forkKeeps"))->text();
        QVERIFY2(keeps.contains(QStringLiteral("network")), qPrintable(keeps));
        QVERIFY2(keeps.contains(QStringLiteral("starts its state")), qPrintable(keeps));
        // Its fields edit the fork, not the search space: no "Search over…" menus here.
        QVERIFY(dialog->trainingForm()->fieldPaths().isEmpty());
    }

    // Epochs at or below the epoch the fork continues after are refused with a message; the field
    // keeps what was typed and nothing is handed on.
    void refusesEpochsAtOrBelowTheForkEpoch() {
        const auto dialog = shownDialog(20, 20, false);
        std::optional<ExperimentSpec> started;
        dialog->setStartHandler([&started](const ExperimentSpec& spec) {
            started = spec;
            return QString();
        });
        test::typeInto(field(*dialog, "optimizer.lr"), QStringLiteral("0.002"));
        for (const QString& typed : {QStringLiteral("20"), QStringLiteral("7")}) {
            test::typeInto(field(*dialog, "training.epochs"), typed);
            QTest::mouseClick(dialog->startButton(), Qt::LeftButton);
            QVERIFY(dialog->isVisible());
            QVERIFY(!started);
            QVERIFY2(dialog->message().contains(QStringLiteral("set Epochs above 20")),
                     qPrintable(dialog->message()));
            QVERIFY(dialog->findChild<QLabel*>(QStringLiteral("forkMessage"))->isVisibleTo(dialog.get()));
            QCOMPARE(field(*dialog, "training.epochs")->text(), typed);
        }
        test::typeInto(field(*dialog, "training.epochs"), QStringLiteral("21"));
        QVERIFY(dialog->message().isEmpty()); // an edit takes the old refusal away
        QTest::mouseClick(dialog->startButton(), Qt::LeftButton);
        QVERIFY(started);
        QCOMPARE(started->training.epochs, 21);
        QCOMPARE(started->optimizer.lr, 0.002);
        QCOMPARE(dialog->result(), int(QDialog::Accepted));
        QVERIFY(!dialog->isVisible());
    }

    void theStartHandlersRefusalKeepsItOpen() {
        const auto dialog = shownDialog(20, 5, false);
        dialog->setStartHandler([](const ExperimentSpec&) { return QStringLiteral("the parent is gone"); });
        dialog->accept();
        QVERIFY(dialog->isVisible());
        QCOMPARE(dialog->message(), QStringLiteral("the parent is gone"));
    }

    void aRefusedFieldIsNamed() {
        const auto dialog = shownDialog(20, 5, false);
        test::typeInto(field(*dialog, "optimizer.lr"), QStringLiteral("-1"));
        dialog->accept();
        QVERIFY(dialog->isVisible());
        QVERIFY2(dialog->message().contains(QStringLiteral("cannot use")), qPrintable(dialog->message()));
        dialog->nameEdit()->clear();
        QVERIFY2(dialog->problem().contains(QStringLiteral("name")), qPrintable(dialog->problem()));
    }

    void anotherOptimizerIsNoted() {
        const auto dialog = shownDialog(20, 5, false);
        auto* note = dialog->findChild<QLabel*>(QStringLiteral("forkOptimizerNote"));
        QVERIFY(!note->isVisibleTo(dialog.get()));
        auto* optimizer = dialog->trainingForm()->findChild<QComboBox*>(QStringLiteral("optimizer.type"));
        optimizer->setCurrentIndex(optimizer->findText(QStringLiteral("sgd")));
        QVERIFY(note->isVisibleTo(dialog.get()));
        QVERIFY2(note->text().contains(QStringLiteral("adam → sgd")), qPrintable(note->text()));
        QCOMPARE(QByteArray(toString(dialog->spec().optimizer.type)), QByteArray("sgd"));
    }

    // A running parent moves on while the dialog is open: the refusal follows it, the field stays.
    void aRunningParentMovesTheForkEpoch() {
        const auto dialog = shownDialog(10, 6, true);
        QCOMPARE(field(*dialog, "training.epochs")->text(), QStringLiteral("10"));
        const QString where = dialog->findChild<QLabel*>(QStringLiteral("forkWhere"))->text();
        QVERIFY2(where.contains(QStringLiteral("after epoch 6, which it trains now")), qPrintable(where));
        test::typeInto(field(*dialog, "training.epochs"), QStringLiteral("8"));
        QVERIFY(dialog->problem().isEmpty());
        dialog->setForkEpoch(8, true);
        QVERIFY2(dialog->problem().contains(QStringLiteral("above 8")), qPrintable(dialog->problem()));
        QCOMPARE(field(*dialog, "training.epochs")->text(), QStringLiteral("8"));
    }
};

QTEST_MAIN(TestForkRunDialog)
#include "tst_fork_run_dialog.moc"
