// The search-space editor as a user meets it: "Search over…" on the experiment forms' fields and
// layers, the search settings form, the editor's summary, files and kind column. The item model
// under it has its own suite, tst_search_space_model.

#include "experiment/data_form.h"
#include "experiment/network_editor.h"
#include "experiment/training_form.h"
#include "search/search_settings_form.h"
#include "search/search_space.h"
#include "search/search_space_editor.h"
#include "search/search_space_model.h"
#include "spec/spec.h"

#include "number_field_test_support.h"
#include "search_menu_test_support.h"
#include "search_space_test_support.h"

#include <QApplication>
#include <QComboBox>
#include <QContextMenuEvent>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QPushButton>
#include <QSignalSpy>
#include <QTableView>
#include <QTemporaryDir>
#include <QTimer>
#include <QtTest>

#include <memory>

using namespace tunelab;
using namespace tunelab::test;

namespace {

ExperimentSpec testSpec() {
    ExperimentSpec spec = defaultExperiment();
    spec.optimizer.type = OptimizerType::Sgd;
    spec.optimizer.lr = 0.01;
    spec.optimizer.momentum = 0.9;
    spec.training.batchSize = 64;
    spec.training.epochs = 12;
    spec.data.kind = DataKind::Spirals;
    spec.data.samples = 300;
    spec.data.validationFraction = 0.25;
    LayerSpec linear;
    linear.type = LayerType::Linear;
    linear.outFeatures = 16;
    LayerSpec relu;
    relu.type = LayerType::ReLU;
    LayerSpec dropout;
    dropout.type = LayerType::Dropout;
    dropout.p = 0.1;
    LayerSpec output;
    output.type = LayerType::Linear;
    output.outFeatures = 2;
    spec.model.layers = {linear, relu, dropout, output};
    return spec;
}

} // namespace

class TestSearchSpaceEditor : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void formFieldsOfferSearch_data();
    void formFieldsOfferSearch();
    void spinBoxTextOffersSearchAndEditing();
    void searchedPathsAreChecked();
    void layerRowOffersWholeLayer();
    void everyFieldHasAPath();
    void searchSettingsRoundTripEverySetting();
    void searchSettingsShowOnlyTheChosenPrunersFields();
    void editorSummarisesTheSpace();
    void editorSavesAndOpensFiles();
    void kindColumnEditsThroughACombo();
};

void TestSearchSpaceEditor::formFieldsOfferSearch_data() {
    QTest::addColumn<QString>("form");
    QTest::addColumn<int>("layer"); // network: the selected layer
    QTest::addColumn<QString>("field");
    QTest::addColumn<QString>("path");
    QTest::addColumn<QString>("value");
    QTest::newRow("lr") << "training" << -1 << "optimizer.lr"
                        << "optimizer.lr"
                        << "0.01";
    QTest::newRow("batch size") << "training" << -1 << "training.batch_size"
                                << "training.batch_size"
                                << "64";
    QTest::newRow("optimizer type") << "training" << -1 << "optimizer.type"
                                    << "optimizer.type"
                                    << "\"sgd\"";
    QTest::newRow("momentum") << "training" << -1 << "optimizer.momentum"
                              << "optimizer.momentum"
                              << "0.9";
    QTest::newRow("epochs") << "training" << -1 << "training.epochs"
                            << "training.epochs"
                            << "12";
    QTest::newRow("device") << "training" << -1 << "device"
                            << "device"
                            << "\"auto\"";
    QTest::newRow("validation") << "data" << -1 << "data.validation_fraction"
                                << "data.validation_fraction"
                                << "0.25";
    QTest::newRow("samples") << "data" << -1 << "data.samples"
                             << "data.samples"
                             << "300";
    QTest::newRow("data kind") << "data" << -1 << "data.kind"
                               << "data.kind"
                               << "\"spirals\"";
    QTest::newRow("standardize") << "data" << -1 << "data.standardize"
                                 << "data.standardize"
                                 << "false";
    QTest::newRow("out_features") << "network" << 0 << "out_features"
                                  << "model.layers[0].out_features"
                                  << "16";
    QTest::newRow("last out_features") << "network" << 3 << "out_features"
                                       << "model.layers[3].out_features"
                                       << "2";
    QTest::newRow("bias") << "network" << 3 << "bias"
                          << "model.layers[3].bias"
                          << "true";
    QTest::newRow("dropout") << "network" << 2 << "p"
                             << "model.layers[2].p"
                             << "0.1";
}

void TestSearchSpaceEditor::formFieldsOfferSearch() {
    QFETCH(QString, form);
    QFETCH(int, layer);
    QFETCH(QString, field);
    QFETCH(QString, path);
    QFETCH(QString, value);
    const ExperimentSpec spec = testSpec();
    std::unique_ptr<QWidget> widget;
    std::unique_ptr<QSignalSpy> spy;
    if (form == QLatin1String("training")) {
        auto* training = new TrainingForm;
        training->setSpec(spec);
        spy = std::make_unique<QSignalSpy>(training, &TrainingForm::searchRequested);
        widget.reset(training);
    } else if (form == QLatin1String("data")) {
        auto* data = new DataForm;
        data->setSpec(spec);
        spy = std::make_unique<QSignalSpy>(data, &DataForm::searchRequested);
        widget.reset(data);
    } else {
        auto* network = new NetworkEditor;
        network->setInputShape({2});
        network->setModel(spec.model);
        network->setCurrentRow(layer);
        spy = std::make_unique<QSignalSpy>(network, &NetworkEditor::searchRequested);
        widget.reset(network);
    }
    widget->show();
    QVERIFY(QTest::qWaitForWindowExposed(widget.get()));
    auto* target = widget->findChild<QWidget*>(field);
    QVERIFY2(target, qPrintable(field));

    const ChosenEntry chosen = searchOverByRightClick(target);
    QVERIFY(chosen.found);
    QCOMPARE(chosen.text, QStringLiteral("Search over %1…").arg(path));
    QVERIFY(!chosen.checked);
    QCOMPARE(spy->count(), 1);
    QCOMPARE(spy->at(0).at(0).toString(), path);
    QCOMPARE(spy->at(0).at(1).toString(), value);
}

void TestSearchSpaceEditor::spinBoxTextOffersSearchAndEditing() {
    TrainingForm form;
    form.setSpec(testSpec());
    form.show();
    QVERIFY(QTest::qWaitForWindowExposed(&form));
    auto* lr = form.findChild<QWidget*>(QStringLiteral("optimizer.lr"));
    // A number field is a line edit itself; a spin box holds one.
    auto* text = qobject_cast<QLineEdit*>(lr) ? qobject_cast<QLineEdit*>(lr) : lr->findChild<QLineEdit*>();
    QVERIFY(text);
    QSignalSpy spy(&form, &TrainingForm::searchRequested);
    // A right-click lands on the spin box's text; the menu keeps the usual edit actions below the entry.
    int actions = 0;
    QTimer::singleShot(0, [&] {
        for (QWidget* widget : QApplication::topLevelWidgets()) {
            if (auto* menu = qobject_cast<QMenu*>(widget); menu && menu->isVisible()) {
                actions = menu->actions().size();
                break;
            }
        }
    });
    const ChosenEntry chosen = searchOverByRightClick(text);
    QVERIFY(chosen.found);
    QVERIFY2(actions > 3, qPrintable(QString::number(actions)));
    QCOMPARE(spy.count(), 1);
    QCOMPARE(spy.at(0).at(0).toString(), QStringLiteral("optimizer.lr"));
}

void TestSearchSpaceEditor::searchedPathsAreChecked() {
    TrainingForm form;
    form.setSpec(testSpec());
    form.setSearchedPaths({QStringLiteral("optimizer.lr")});
    form.show();
    QVERIFY(QTest::qWaitForWindowExposed(&form));
    const ChosenEntry lr = searchOverByRightClick(form.findChild<QWidget*>(QStringLiteral("optimizer.lr")));
    QVERIFY(lr.found && lr.checked);
    const ChosenEntry epochs =
        searchOverByRightClick(form.findChild<QWidget*>(QStringLiteral("training.epochs")));
    QVERIFY(epochs.found && !epochs.checked);
}

void TestSearchSpaceEditor::layerRowOffersWholeLayer() {
    NetworkEditor editor;
    editor.setInputShape({2});
    editor.setModel(testSpec().model);
    editor.show();
    QVERIFY(QTest::qWaitForWindowExposed(&editor));
    QSignalSpy spy(&editor, &NetworkEditor::searchRequested);
    QTableView* view = editor.layerView();
    const QRect row = view->visualRect(view->model()->index(1, 0));
    const ChosenEntry chosen =
        chooseSearchOver([&] { Q_EMIT view->customContextMenuRequested(row.center()); });
    QVERIFY(chosen.found);
    QCOMPARE(editor.currentRow(), 1);
    QCOMPARE(spy.count(), 1);
    QCOMPARE(spy.at(0).at(0).toString(), QStringLiteral("model.layers[1]"));
    QCOMPARE(spy.at(0).at(1).toString(), QStringLiteral(R"({"type":"relu"})"));
    // The suggestion for a whole activation layer is every activation.
    const SearchParameter suggested = suggestedParameter(spy.at(0).at(0).toString().toStdString(),
                                                         spy.at(0).at(1).toString().toStdString());
    QCOMPARE(suggested.kind, ParamKind::Categorical);
    QVERIFY(suggested.values.size() >= 5);
}

void TestSearchSpaceEditor::everyFieldHasAPath() {
    // Every path a form offers points into the experiment file: its parent exists in a resolved spec.
    TrainingForm training;
    DataForm data;
    const QStringList paths = training.fieldPaths() + data.fieldPaths();
    QVERIFY2(paths.size() >= 37, qPrintable(QString::number(paths.size())));
    QVERIFY(paths.contains(QStringLiteral("optimizer.betas[1]")));
    ExperimentSpec spec = defaultExperiment();
    spec.optimizer.type = OptimizerType::Adam;
    spec.training.earlyStopping.enabled = true;
    const std::string base = experimentSpecToJson(spec);
    for (const QString& path : paths) {
        const auto applied = applyAssignment(base, {{path.toStdString(), ParamValue{"1"}}});
        QVERIFY2(applied.ok(),
                 qPrintable(path + QStringLiteral(": ") + QString::fromStdString(applied.error())));
    }
}

void TestSearchSpaceEditor::editorSummarisesTheSpace() {
    SearchSpaceEditor editor;
    editor.resize(1100, 260);
    editor.setBaseExperiment(QString::fromLatin1(kBase));
    QVERIFY(editor.summaryText().startsWith(QStringLiteral("No parameters")));
    QSignalSpy paths(&editor, &SearchSpaceEditor::searchedPathsChanged);
    editor.addParameter(QStringLiteral("optimizer.type"), QStringLiteral("\"adam\""));
    editor.addParameter(QStringLiteral("optimizer.momentum"), QStringLiteral("0.0"));
    editor.addParameter(QStringLiteral("training.batch_size"), QStringLiteral("32"));
    editor.addParameter(QStringLiteral("model.layers[1]"), QStringLiteral(R"({"type":"relu"})"));
    QCOMPARE(paths.count(), 4);
    QCOMPARE(paths.last().at(0).toStringList().size(), 4);
    SearchSpaceModel* model = editor.model();
    model->setData(model->index(0, SearchSpaceModel::ValuesColumn), QStringLiteral("adam, sgd"));
    model->setData(model->index(1, SearchSpaceModel::ConditionColumn),
                   QStringLiteral("optimizer.type = sgd"));
    model->setData(model->index(1, SearchSpaceModel::ValuesColumn), QStringLiteral("0.5, 0.9"));
    model->setData(model->index(2, SearchSpaceModel::ValuesColumn), QStringLiteral("16, 64, 256"));
    model->setData(model->index(3, SearchSpaceModel::ValuesColumn),
                   QStringLiteral(R"({"type":"relu"}, {"type":"gelu"})"));
    // adam: 3 batch sizes x 2 activations; sgd: the same times 2 momenta.
    QCOMPARE(editor.summaryText(), QStringLiteral("4 parameters, 1 conditional, grid size 18"));
    model->setData(model->index(1, SearchSpaceModel::LowColumn), QStringLiteral("0.1"));
    QCOMPARE(editor.summaryText(), QStringLiteral("4 parameters, 1 conditional, continuous"));
    model->setData(model->index(1, SearchSpaceModel::HighColumn), QStringLiteral("0.05"));
    QCOMPARE(editor.summaryText(), QStringLiteral("4 parameters, 1 conditional, 1 problem"));
    model->setData(model->index(1, SearchSpaceModel::HighColumn), QStringLiteral("0.99"));

    // Selecting a path already there selects its row instead of adding one.
    editor.addParameter(QStringLiteral("training.batch_size"));
    QCOMPARE(model->rowCount(), 4);
    QCOMPARE(editor.view()->currentIndex().row(), 2);
    auto* remove = editor.findChild<QPushButton*>(QStringLiteral("removeParameter"));
    QVERIFY(remove->isEnabled());
    remove->click();
    QCOMPARE(model->parameterPaths(),
             QStringList({QStringLiteral("optimizer.type"), QStringLiteral("optimizer.momentum"),
                          QStringLiteral("model.layers[1]")}));
}

void TestSearchSpaceEditor::editorSavesAndOpensFiles() {
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString file = dir.filePath(QStringLiteral("space.json"));
    SearchSpaceEditor editor;
    editor.addParameter(QStringLiteral("optimizer.lr"), QStringLiteral("0.01"));
    editor.addParameter(QStringLiteral("training.epochs"), QStringLiteral("10"));
    QString error;
    QVERIFY2(editor.saveFile(file, &error), qPrintable(error));
    SearchSpaceEditor other;
    QSignalSpy changed(&other, &SearchSpaceEditor::spaceChanged);
    QVERIFY2(other.openFile(file, &error), qPrintable(error));
    QCOMPARE(changed.count(), 1);
    QCOMPARE(other.spaceJson(), editor.spaceJson());
    QVERIFY(!other.openFile(dir.filePath(QStringLiteral("missing.json")), &error));
    QVERIFY(error.contains(QStringLiteral("missing.json")));
}

void TestSearchSpaceEditor::kindColumnEditsThroughACombo() {
    SearchSpaceEditor editor;
    editor.addParameter(QStringLiteral("training.epochs"), QStringLiteral("10"));
    editor.show();
    QVERIFY(QTest::qWaitForWindowExposed(&editor));
    const QModelIndex kind = editor.model()->index(0, SearchSpaceModel::KindColumn);
    editor.view()->edit(kind);
    auto* combo = editor.view()->findChild<QComboBox*>();
    QVERIFY(combo);
    QCOMPARE(combo->currentText(), QStringLiteral("int"));
    QCOMPARE(combo->count(), 4);
    combo->setCurrentIndex(combo->findText(QStringLiteral("categorical")));
    Q_EMIT combo->activated(combo->currentIndex());
    QCOMPARE(kind.data().toString(), QStringLiteral("categorical"));
    QCOMPARE(editor.model()->index(0, SearchSpaceModel::ValuesColumn).data().toString(),
             QStringLiteral("5, 20"));
}

void TestSearchSpaceEditor::searchSettingsRoundTripEverySetting() {
    SearchSettingsForm form;
    QSignalSpy changed(&form, &SearchSettingsForm::settingsChanged);
    SamplerSettings sampler;
    sampler.type = "gp";
    sampler.seed = 42;
    sampler.startupTrials = 7;
    PrunerSettings pruner;
    pruner.type = "hyperband";
    pruner.minEpochs = 2;
    pruner.reductionFactor = 4;
    pruner.startupTrials = 9;
    pruner.warmupEpochs = 3;
    form.setSettings(sampler, pruner);
    QVERIFY(changed.count() > 0);
    const SamplerSettings readSampler = form.samplerSettings();
    QCOMPARE(readSampler.type, sampler.type);
    QCOMPARE(readSampler.seed, sampler.seed);
    QCOMPARE(readSampler.startupTrials, sampler.startupTrials);
    const PrunerSettings readPruner = form.prunerSettings();
    QCOMPARE(readPruner.type, pruner.type);
    QCOMPARE(readPruner.minEpochs, pruner.minEpochs);
    QCOMPARE(readPruner.reductionFactor, pruner.reductionFactor);
    QCOMPARE(readPruner.startupTrials, pruner.startupTrials);
    QCOMPARE(readPruner.warmupEpochs, pruner.warmupEpochs);

    // An unknown name keeps the choice; a user's edit reads back.
    pruner.type = "ahsa";
    form.setSettings(sampler, pruner);
    QCOMPARE(form.prunerSettings().type, std::string("hyperband"));
    typeInto(form.findChild<NumberField*>(QStringLiteral("prunerReductionFactor")), QStringLiteral("5"));
    QCOMPARE(form.prunerSettings().reductionFactor, 5);
}

void TestSearchSpaceEditor::searchSettingsShowOnlyTheChosenPrunersFields() {
    SearchSettingsForm form;
    form.show();
    QVERIFY(QTest::qWaitForWindowExposed(&form));
    auto visible = [&form](const char* name) {
        return form.findChild<NumberField*>(QString::fromLatin1(name))->isVisible();
    };
    auto choose = [&form](const char* box, const char* name) {
        auto* combo = form.findChild<QComboBox*>(QString::fromLatin1(box));
        combo->setCurrentIndex(combo->findData(QString::fromLatin1(name)));
    };
    choose("pruner", "none");
    QVERIFY(!visible("prunerMinEpochs") && !visible("prunerWarmupEpochs"));
    choose("pruner", "asha");
    // ASHA waits for its warm-up and its first trials too.
    QVERIFY(visible("prunerMinEpochs") && visible("prunerReductionFactor") && visible("prunerWarmupEpochs"));
    choose("pruner", "median");
    QVERIFY(!visible("prunerMinEpochs") && visible("prunerWarmupEpochs") && visible("prunerStartupTrials"));
    choose("sampler", "tpe");
    QVERIFY(visible("samplerStartupTrials"));
    choose("sampler", "sobol");
    QVERIFY(!visible("samplerStartupTrials"));
}

QTEST_MAIN(TestSearchSpaceEditor)
#include "tst_search_space_editor.moc"
