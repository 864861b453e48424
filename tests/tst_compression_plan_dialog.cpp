// The compression plan dialog: its preset is a plan that runs as it is and reads back through
// parseCompressionPlan; a refused value keeps Run disabled with the field named and what was typed
// kept; variants come and go; the student's widths are read or refused with the reason; Run hands
// the plan to its handler, and the results come back into the Results tab.

#include "compress/compression_plan_dialog.h"

#include "common/number_field.h"
#include "compress/compression_plan.h"
#include "compress/compression_results_view.h"
#include "compress/compression_variant_form.h"
#include "model/shape_inference.h"
#include "spec/spec.h"

#include "number_field_test_support.h"

#include <QAction>
#include <QCheckBox>
#include <QJsonDocument>
#include <QLineEdit>
#include <QListWidget>
#include <QMenu>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QTabWidget>
#include <QtTest>

#include <memory>
#include <optional>

using namespace tunelab;

namespace {

// Eight features, three blobs, a 64-32 MLP: every kind of variant applies.
ExperimentSpec sourceSpec() {
    ExperimentSpec spec = defaultExperiment();
    spec.name = "blobs-mlp";
    spec.data.kind = DataKind::Blobs;
    spec.data.samples = 300;
    spec.data.classes = 3;
    spec.data.features = 8;
    LayerSpec linear;
    linear.type = LayerType::Linear;
    LayerSpec relu;
    relu.type = LayerType::ReLU;
    spec.model.layers = {linear, relu, linear, relu, linear};
    spec.model.layers[0].outFeatures = 64;
    spec.model.layers[2].outFeatures = 32;
    spec.model.layers[4].outFeatures = 3;
    spec.optimizer.lr = 0.003;
    spec.training.epochs = 8;
    return spec;
}

std::unique_ptr<CompressionPlanDialog> shownDialog() {
    auto dialog = std::make_unique<CompressionPlanDialog>(12, QStringLiteral("blobs-mlp"), sourceSpec());
    dialog->setOutputBase(QStringLiteral("/tmp/compressed"));
    dialog->show();
    return dialog;
}

QStringList variantNames(const CompressionPlanDialog& dialog) {
    QStringList names;
    for (int i = 0; i < dialog.variantCount(); ++i)
        names << dialog.variantForm(i)->name();
    return names;
}

QJsonDocument json(const QString& text) {
    return QJsonDocument::fromJson(text.toUtf8());
}

std::vector<int64_t> widths(std::initializer_list<int64_t> values) {
    return values;
}

} // namespace

class TestCompressionPlanDialog : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void thePresetIsAPlanThatReadsBack();
    void theDefaultStudentIsAnEighthOfTheSource();
    void aRefusedSparsityKeepsRunDisabled();
    void aRefusedLatencyOrNameKeepsRunDisabled();
    void variantsAreAddedAndRemoved();
    void aQuantizationAwareVariantRoundsActivationsUnlessUnticked();
    void hiddenWidths_data();
    void hiddenWidths();
    void aStudentTypedWrongKeepsRunDisabled();
    void theStudentsMixupReachesThePlan();
    void runHandsThePlanOnAndShowsTheResults();
    void theHandlersRefusalIsShown();
};

void TestCompressionPlanDialog::thePresetIsAPlanThatReadsBack() {
    const auto dialog = shownDialog();
    QCOMPARE(variantNames(*dialog), (QStringList{QStringLiteral("prune-50"), QStringLiteral("prune-90"),
                                                 QStringLiteral("structured-50"), QStringLiteral("int8"),
                                                 QStringLiteral("student")}));
    QVERIFY2(dialog->problem().isEmpty(), qPrintable(dialog->problem()));
    QVERIFY(dialog->runButton()->isEnabled());
    QVERIFY(!dialog->stopButton()->isEnabled());
    QCOMPARE(dialog->outputDirectory(), QStringLiteral("/tmp/compressed/12-compression"));

    const Result<CompressionPlan> plan = dialog->plan();
    QVERIFY2(plan.ok(), plan.error().c_str());
    QCOMPARE(plan.value().sourceRun, RunId(12));
    QCOMPARE(plan.value().latencyThreads, 1);
    QCOMPARE(plan.value().variants.size(), size_t(5));
    const CompressionVariant& gradual = plan.value().variants[1];
    QCOMPARE(gradual.kind, VariantKind::Prune);
    QCOMPARE(json(QString::fromStdString(gradual.pruneJson))[QStringLiteral("sparsity")].toDouble(), 0.9);
    QCOMPARE(json(QString::fromStdString(gradual.pruneJson))[QStringLiteral("schedule")].toString(),
             QStringLiteral("gradual"));
    QCOMPARE(gradual.epochs, 4);                   // half the source's 8
    QCOMPARE(gradual.lr, 0.001);                   // a third of the source's, to two digits
    QCOMPARE(plan.value().variants[3].epochs, 0);  // int8 does not train
    QCOMPARE(plan.value().variants[4].epochs, 0);  // the student trains as long as the source: the default
    QCOMPARE(plan.value().variants[4].mixup, 0.0); // the source's

    // The JSON reads back to the same plan, and another dialog shows it as it was.
    const Result<CompressionPlan> again = parseCompressionPlan(dialog->planJson().toStdString());
    QVERIFY2(again.ok(), again.error().c_str());
    CompressionPlanDialog copy(12, QStringLiteral("blobs-mlp"), sourceSpec());
    copy.setPlan(again.value());
    QCOMPARE(json(copy.planJson()), json(dialog->planJson()));
    QCOMPARE(variantNames(copy), variantNames(*dialog));
}

void TestCompressionPlanDialog::theDefaultStudentIsAnEighthOfTheSource() {
    const ExperimentSpec source = sourceSpec();
    const std::vector<int64_t> student = defaultStudentWidths(source);
    QCOMPARE(student.size(), size_t(2)); // as deep as the source
    const int64_t sourceParameters = inferShapes(source.model, {8}).totalParams;
    const int64_t studentParameters = inferShapes(studentModel(source, student), {8}).totalParams;
    QVERIFY2(studentParameters <= sourceParameters / 8 && studentParameters * 20 > sourceParameters,
             qPrintable(QStringLiteral("%1 of %2").arg(studentParameters).arg(sourceParameters)));
    const ModelSpec model = studentModel(source, widths({16, 8}));
    QCOMPARE(model.layers.size(), size_t(5));
    QCOMPARE(model.layers.back().outFeatures, int64_t(3)); // the source's output size
    QCOMPARE(model.layers[1].type, LayerType::ReLU);
}

void TestCompressionPlanDialog::aRefusedSparsityKeepsRunDisabled() {
    const auto dialog = shownDialog();
    NumberField* sparsity = dialog->variantForm(0)->numberField(QStringLiteral("sparsity"));
    QVERIFY(sparsity);
    test::typeInto(sparsity, QStringLiteral("1.5"));
    QVERIFY(!dialog->runButton()->isEnabled());
    QVERIFY2(dialog->message().contains(QStringLiteral("prune-50 · Sparsity")),
             qPrintable(dialog->message()));
    QVERIFY2(dialog->runButton()->toolTip().contains(QStringLiteral("0.99")),
             qPrintable(dialog->runButton()->toolTip()));
    QCOMPARE(sparsity->text(), QStringLiteral("1.5")); // kept as typed
    QVERIFY(!dialog->plan().ok());
    QTest::mouseClick(dialog->runButton(), Qt::LeftButton); // disabled: nothing happens
    QVERIFY(!dialog->isRunning());

    test::typeInto(sparsity, QStringLiteral("0.7"));
    QVERIFY(dialog->runButton()->isEnabled());
    QVERIFY(dialog->message().isEmpty());
    const auto plan = dialog->plan();
    QVERIFY2(plan.ok(), plan.error().c_str());
    QCOMPARE(json(QString::fromStdString(plan.value().variants[0].pruneJson))[QStringLiteral("sparsity")]
                 .toDouble(),
             0.7);
}

void TestCompressionPlanDialog::aRefusedLatencyOrNameKeepsRunDisabled() {
    const auto dialog = shownDialog();
    test::typeInto(dialog->latencyThreadsField(), QStringLiteral("0"));
    QVERIFY(!dialog->runButton()->isEnabled());
    QVERIFY2(dialog->message().contains(QStringLiteral("Latency threads")), qPrintable(dialog->message()));
    test::typeInto(dialog->latencyThreadsField(), QStringLiteral("2"));
    QVERIFY(dialog->runButton()->isEnabled());
    QCOMPARE(dialog->plan().value().latencyThreads, 2);

    dialog->planNameEdit()->clear();
    QTest::keyClicks(dialog->planNameEdit(), QStringLiteral(" "));
    QVERIFY(!dialog->runButton()->isEnabled());
    QVERIFY2(dialog->message().contains(QStringLiteral("Plan name")), qPrintable(dialog->message()));
    dialog->planNameEdit()->clear();
    QTest::keyClicks(dialog->planNameEdit(), QStringLiteral("small"));
    QVERIFY(dialog->runButton()->isEnabled());
    QCOMPARE(dialog->outputDirectory(), QStringLiteral("/tmp/compressed/12-small"));
    QCOMPARE(dialog->plan().value().name, std::string("small"));
}

void TestCompressionPlanDialog::variantsAreAddedAndRemoved() {
    const auto dialog = shownDialog();
    QMenu* menu = dialog->addButton()->menu();
    QVERIFY(menu);
    QAction* addInt8 = menu->findChild<QAction*>(QStringLiteral("add_int8"));
    QVERIFY(addInt8);
    addInt8->trigger();
    QCOMPARE(dialog->variantCount(), 6);
    QCOMPARE(dialog->variantForm(5)->name(), QStringLiteral("int8-2")); // never a name taken
    QCOMPARE(dialog->variantForm(5)->kind(), VariantKind::Int8);
    QCOMPARE(dialog->variantList()->currentRow(), 5);
    QVERIFY(dialog->runButton()->isEnabled());

    // Two variants of one name cannot run: their runs and files would take the same name.
    dialog->variantForm(5)->nameEdit()->setText(QStringLiteral("int8"));
    QVERIFY(!dialog->runButton()->isEnabled());
    QVERIFY2(dialog->message().contains(QStringLiteral("another variant has this name")),
             qPrintable(dialog->message()));
    QTest::mouseClick(dialog->removeButton(), Qt::LeftButton);
    QCOMPARE(dialog->variantCount(), 5);
    QVERIFY(dialog->runButton()->isEnabled());

    dialog->variantList()->setCurrentRow(0);
    QTest::mouseClick(dialog->removeButton(), Qt::LeftButton);
    QCOMPARE(variantNames(*dialog), (QStringList{QStringLiteral("prune-90"), QStringLiteral("structured-50"),
                                                 QStringLiteral("int8"), QStringLiteral("student")}));
    while (dialog->variantCount() > 0)
        dialog->removeVariant(0);
    QVERIFY(!dialog->runButton()->isEnabled());
    QVERIFY2(dialog->message().contains(QStringLiteral("Add a variant")), qPrintable(dialog->message()));
    dialog->addVariant(VariantKind::Prune);
    QCOMPARE(dialog->variantForm(0)->name(), QStringLiteral("prune"));
    QVERIFY2(dialog->problem().isEmpty(), qPrintable(dialog->problem()));
}

void TestCompressionPlanDialog::aQuantizationAwareVariantRoundsActivationsUnlessUnticked() {
    const auto dialog = shownDialog();
    dialog->addVariant(VariantKind::Qat);
    CompressionVariantForm* form = dialog->variantForm(5);
    QCOMPARE(form->kind(), VariantKind::Qat);
    auto* activations = form->findChild<QCheckBox*>(QStringLiteral("activations"));
    QVERIFY(activations);
    QVERIFY(activations->isChecked());
    QVERIFY(dialog->variantForm(3)->findChild<QCheckBox*>(QStringLiteral("activations")) == nullptr); // int8
    QVERIFY(dialog->plan().value().variants[5].qatActivations);

    activations->click();
    const Result<CompressionPlan> plan = dialog->plan();
    QVERIFY2(plan.ok(), plan.error().c_str());
    QVERIFY(!plan.value().variants[5].qatActivations);
    CompressionPlanDialog copy(12, QStringLiteral("blobs-mlp"), sourceSpec());
    copy.setPlan(plan.value());
    QVERIFY(!copy.variantForm(5)->findChild<QCheckBox*>(QStringLiteral("activations"))->isChecked());
}

void TestCompressionPlanDialog::hiddenWidths_data() {
    QTest::addColumn<QString>("typed");
    QTest::addColumn<QString>("widths"); // as formatted back; empty when refused
    QTest::addColumn<QString>("problem");
    QTest::newRow("one") << "32"
                         << "32"
                         << "";
    QTest::newRow("two") << "64, 32"
                         << "64, 32"
                         << "";
    QTest::newRow("spaces") << " 16 ,8 "
                            << "16, 8"
                            << "";
    QTest::newRow("grouped") << "1_024"
                             << "1024"
                             << "";
    QTest::newRow("empty") << ""
                           << ""
                           << "list the student's hidden layer widths";
    QTest::newRow("a word") << "wide"
                            << ""
                            << "width 1 is \"wide\"";
    QTest::newRow("two commas") << "32,,16"
                                << ""
                                << "width 2 is empty";
    QTest::newRow("trailing comma") << "32,"
                                    << ""
                                    << "width 2 is empty";
    QTest::newRow("zero") << "0"
                          << ""
                          << "from 1 to 1000000";
    QTest::newRow("a fraction") << "8, 2.5"
                                << ""
                                << "width 2 is \"2.5\"";
    QTest::newRow("negative") << "-4"
                              << ""
                              << "width 1";
}

void TestCompressionPlanDialog::hiddenWidths() {
    QFETCH(QString, typed);
    QFETCH(QString, widths);
    QFETCH(QString, problem);
    const HiddenWidths parsed = parseHiddenWidths(typed);
    QCOMPARE(formatHiddenWidths(parsed.widths), widths);
    if (problem.isEmpty())
        QVERIFY2(parsed.problem.isEmpty(), qPrintable(parsed.problem));
    else
        QVERIFY2(parsed.problem.contains(problem), qPrintable(parsed.problem));
}

void TestCompressionPlanDialog::aStudentTypedWrongKeepsRunDisabled() {
    const auto dialog = shownDialog();
    CompressionVariantForm* student = dialog->variantForm(4);
    QCOMPARE(student->kind(), VariantKind::Distill);
    QLineEdit* edit = student->studentEdit();
    edit->selectAll();
    QTest::keyClicks(edit, QStringLiteral("16, x"));
    QVERIFY(!dialog->runButton()->isEnabled());
    QVERIFY2(dialog->message().contains(QStringLiteral("student · Student hidden layers: width 2 is \"x\"")),
             qPrintable(dialog->message()));
    QCOMPARE(edit->text(), QStringLiteral("16, x"));
    QVERIFY2(edit->toolTip().contains(QStringLiteral("width 2")), qPrintable(edit->toolTip()));

    edit->selectAll();
    QTest::keyClicks(edit, QStringLiteral("16"));
    QVERIFY(dialog->runButton()->isEnabled());
    const auto plan = dialog->plan();
    QVERIFY2(plan.ok(), plan.error().c_str());
    const QJsonDocument model = json(QString::fromStdString(plan.value().variants[4].studentJson));
    QCOMPARE(model[QStringLiteral("layers")].toArray().size(), 3);
    QCOMPARE(model[QStringLiteral("layers")][0][QStringLiteral("out_features")].toInt(), 16);
    QCOMPARE(model[QStringLiteral("layers")][2][QStringLiteral("out_features")].toInt(), 3);
    // Its experiment is the source's with the student as model, which the engine accepts.
    QVERIFY(variantExperiment(plan.value().variants[4], sourceSpec(), 12).ok());
}

void TestCompressionPlanDialog::theStudentsMixupReachesThePlan() {
    const auto dialog = shownDialog();
    CompressionVariantForm* student = dialog->variantForm(4);
    auto* mixup = student->findChild<NumberField*>(QStringLiteral("mixup"));
    QVERIFY(mixup);
    QCOMPARE(mixup->value(), 0.0);
    mixup->setValue(0.4);
    const Result<CompressionPlan> plan = dialog->plan();
    QVERIFY2(plan.ok(), plan.error().c_str());
    QCOMPARE(plan.value().variants[4].mixup, 0.4);
    CompressionPlanDialog copy(12, QStringLiteral("blobs-mlp"), sourceSpec());
    copy.setPlan(plan.value());
    QCOMPARE(copy.variantForm(4)->findChild<NumberField*>(QStringLiteral("mixup"))->value(), 0.4);
}

void TestCompressionPlanDialog::runHandsThePlanOnAndShowsTheResults() {
    const auto dialog = shownDialog();
    std::optional<CompressionPlan> started;
    bool stopped = false;
    dialog->setRunHandler([&started](const CompressionPlan& plan) {
        started = plan;
        return QString();
    });
    dialog->setStopHandler([&stopped] { stopped = true; });
    QTest::mouseClick(dialog->runButton(), Qt::LeftButton);
    QVERIFY(started);
    QCOMPARE(started->sourceRun, RunId(12));
    QCOMPARE(started->variants.size(), size_t(5));
    QVERIFY(dialog->isRunning());
    QVERIFY(!dialog->runButton()->isEnabled());
    QVERIFY(dialog->stopButton()->isEnabled());
    QVERIFY(!dialog->variantForm(0)->isEnabled()); // the plan stays as it runs
    dialog->appendProgress(QStringLiteral("run 13: training blobs-mlp / prune-50"));
    QVERIFY(dialog->log()->toPlainText().contains(QStringLiteral("prune-50")));
    QTest::mouseClick(dialog->stopButton(), Qt::LeftButton);
    QVERIFY(stopped);

    CompressionResult result;
    result.plan = "compression";
    result.source.name = "source";
    result.source.kind = "source";
    result.source.runId = 12;
    result.source.valAccuracy = 0.9;
    VariantResult prune = result.source;
    prune.name = "prune-50";
    prune.kind = "prune";
    prune.runId = 13;
    result.variants = {prune};
    dialog->showResults(result);
    QVERIFY(!dialog->isRunning());
    QVERIFY(dialog->runButton()->isEnabled()); // the plan may run again, edited
    QVERIFY(dialog->tabs()->isTabEnabled(1));
    QCOMPARE(dialog->tabs()->currentIndex(), 1);
    QCOMPARE(dialog->resultsView()->selectedModel(), QStringLiteral("prune-50"));
}

void TestCompressionPlanDialog::theHandlersRefusalIsShown() {
    const auto dialog = shownDialog();
    dialog->setRunHandler([](const CompressionPlan&) { return QStringLiteral("A plan is running already"); });
    QTest::mouseClick(dialog->runButton(), Qt::LeftButton);
    QVERIFY(!dialog->isRunning());
    QCOMPARE(dialog->message(), QStringLiteral("A plan is running already"));
    dialog->showFailure(QStringLiteral("source.run: there is no run 12"));
    QVERIFY2(dialog->log()->toPlainText().contains(QStringLiteral("no run 12")),
             qPrintable(dialog->log()->toPlainText()));
}

QTEST_MAIN(TestCompressionPlanDialog)
#include "tst_compression_plan_dialog.moc"
