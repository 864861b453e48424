#include "experiment/graph_items.h"
#include "experiment/graph_view.h"
#include "experiment/layer_stack_model.h"
#include "experiment/network_editor.h"
#include "graph_test_support.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QUndoStack>
#include <QtTest>

#include <memory>

using namespace tunelab;
using namespace tunelab::test;

// The layer form's name and inputs: renaming reaches every reader, refused text stays in its field
// with the reason, each accepted edit is one undo step.
class TestLayerWiring : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();
    void renamingRenamesEveryReference();
    void renamingInsideABlockInstance();
    void refusedNames_data();
    void refusedNames();
    void editingInputs_data();
    void editingInputs();

private:
    QLineEdit* formField(const QString& name) const;
    QString formProblem(const QString& name) const;
    // Types `text` into the form's field and presses Return.
    void typeInto(const QString& field, const QString& text);

    std::unique_ptr<NetworkEditor> m_editor;
};

void TestLayerWiring::init() {
    m_editor = std::make_unique<NetworkEditor>();
    m_editor->setInputShape({8});
    m_editor->setOutputTarget({TaskKind::Classification, 3, LossType::CrossEntropy});
    m_editor->resize(700, 700);
}

void TestLayerWiring::cleanup() {
    m_editor.reset();
}

QLineEdit* TestLayerWiring::formField(const QString& name) const {
    return m_editor->propertyForm()->parentWidget()->findChild<QLineEdit*>(name);
}

QString TestLayerWiring::formProblem(const QString& name) const {
    const auto* label = m_editor->propertyForm()->parentWidget()->findChild<QLabel*>(name);
    return label && !label->isHidden() ? label->text() : QString();
}

void TestLayerWiring::typeInto(const QString& name, const QString& text) {
    QLineEdit* field = formField(name);
    QVERIFY2(field, qPrintable(name));
    field->selectAll();
    QTest::keyClicks(field, text);
    if (text.isEmpty())
        QTest::keyClick(field, Qt::Key_Delete);
    QTest::keyClick(field, Qt::Key_Return);
}

void TestLayerWiring::renamingRenamesEveryReference() {
    const ModelSpec before = namedChain();
    m_editor->setModel(before);
    m_editor->setCurrentRow(0);
    QCOMPARE(formField(QStringLiteral("layerName"))->text(), QStringLiteral("a"));
    QCOMPARE(formField(QStringLiteral("layerInputs"))->text(), QString());
    QCOMPARE(formField(QStringLiteral("layerInputs"))->placeholderText(),
             QStringLiteral("the layer before it (input)"));
    QCOMPARE(formField(QStringLiteral("layerInputs"))->text(), QString());

    typeInto(QStringLiteral("layerName"), QStringLiteral("stem"));
    QCOMPARE(formProblem(QStringLiteral("layerNameProblem")), QString());
    QCOMPARE(m_editor->model().layers[0].name, std::string("stem"));
    QCOMPARE(m_editor->model().layers[3].inputs, (std::vector<std::string>{"b", "stem"}));
    QCOMPARE(m_editor->layerModel()->report().graph.inputs[3], (std::vector<int>{2, 0}));
    QVERIFY2(m_editor->isValid(), qPrintable(m_editor->invalidReason()));
    QCOMPARE(m_editor->graphView()->node(0)->content().name, QStringLiteral("stem"));
    QCOMPARE(m_editor->currentRow(), 0);
    QCOMPARE(m_editor->undoStack()->count(), 1);

    m_editor->undoStack()->undo();
    QVERIFY(LayerCatalog::sameModel(m_editor->model(), before));
    QCOMPARE(formField(QStringLiteral("layerName"))->text(), QStringLiteral("a"));
    m_editor->undoStack()->redo();
    QCOMPARE(m_editor->model().layers[3].inputs, (std::vector<std::string>{"b", "stem"}));

    // A layer without a name gets one; nothing read it by name.
    m_editor->setCurrentRow(4);
    QCOMPARE(formField(QStringLiteral("layerName"))->text(), QString());
    typeInto(QStringLiteral("layerName"), QStringLiteral("logits"));
    QCOMPARE(m_editor->model().layers[4].name, std::string("logits"));
    QCOMPARE(m_editor->undoStack()->count(), 2);
}

void TestLayerWiring::renamingInsideABlockInstance() {
    ModelSpec model = residualExample();
    QCOMPARE(int(model.layers.size()), 54);
    const int res2Input = layerNamed(model, "res2/input");
    QVERIFY(res2Input > 0);
    model.layers[res2Input].inputs = {"res1"}; // the instance res2 reads res1 by the instance's name
    m_editor->setInputShape({1, 8, 8});
    m_editor->setOutputTarget({TaskKind::Classification, 10, LossType::CrossEntropy});
    m_editor->setModel(model);
    QVERIFY2(m_editor->isValid(), qPrintable(m_editor->invalidReason()));

    // Within the instance: the add reads the new name; "res1" still stands for its last layer.
    const int bn2 = layerNamed(model, "res1/bn2");
    m_editor->setCurrentRow(bn2);
    QVERIFY(m_editor->propertyForm()->parentWidget()->findChild<QLabel*>(QStringLiteral("layerInstance")));
    typeInto(QStringLiteral("layerName"), QStringLiteral("res1/bn_second"));
    QCOMPARE(formProblem(QStringLiteral("layerNameProblem")), QString());
    QCOMPARE(m_editor->model().layers[bn2 + 1].inputs,
             (std::vector<std::string>{"res1/bn_second", "res1/input"}));
    QCOMPARE(m_editor->model().layers[res2Input].inputs, std::vector<std::string>{"res1"});

    // The last layer leaves the instance's names: what read "res1" reads it by its new name.
    m_editor->setCurrentRow(bn2 + 2);
    typeInto(QStringLiteral("layerName"), QStringLiteral("res1_out"));
    QCOMPARE(m_editor->model().layers[res2Input].inputs, std::vector<std::string>{"res1_out"});
    QVERIFY2(m_editor->isValid(), qPrintable(m_editor->invalidReason()));
    QCOMPARE(m_editor->undoStack()->count(), 2);

    // The file lists res1's layers one by one and keeps the other five instances.
    ExperimentSpec experiment = defaultExperiment();
    experiment.model = m_editor->model();
    const QJsonArray layers =
        QJsonDocument::fromJson(QByteArray::fromStdString(experimentSpecToJson(experiment)))
            .object()[QStringLiteral("model")]
            .toObject()[QStringLiteral("layers")]
            .toArray();
    int instances = 0;
    QStringList flat;
    for (const QJsonValue& layer : layers) {
        instances += layer[QStringLiteral("type")].toString() == QStringLiteral("block") ? 1 : 0;
        if (layer[QStringLiteral("name")].toString().startsWith(QStringLiteral("res1")))
            flat << layer[QStringLiteral("name")].toString();
    }
    QCOMPARE(instances, 5);
    QVERIFY2(flat.contains(QStringLiteral("res1/bn_second")) && flat.contains(QStringLiteral("res1_out")),
             qPrintable(flat.join(QLatin1Char(' '))));

    m_editor->undoStack()->undo();
    m_editor->undoStack()->undo();
    QVERIFY(LayerCatalog::sameModel(m_editor->model(), model));
}

void TestLayerWiring::refusedNames_data() {
    QTest::addColumn<int>("row");
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("reason");
    QTest::newRow("duplicate") << 0 << "b"
                               << "already the name of layer 2";
    QTest::newRow("empty") << 0 << ""
                           << "cannot be empty";
    QTest::newRow("space") << 2 << "my layer"
                           << "not a layer name";
    QTest::newRow("comma") << 2 << "a,b"
                           << "not a layer name";
    QTest::newRow("the input") << 1 << "input"
                               << "network's input";
}

void TestLayerWiring::refusedNames() {
    QFETCH(int, row);
    QFETCH(QString, name);
    QFETCH(QString, reason);
    m_editor->setModel(namedChain());
    m_editor->setCurrentRow(row);
    typeInto(QStringLiteral("layerName"), name);
    const QString problem = formProblem(QStringLiteral("layerNameProblem"));
    QVERIFY2(problem.contains(reason), qPrintable(problem));
    // Refused, not changed: the field keeps what was typed, the model what it had.
    QCOMPARE(formField(QStringLiteral("layerName"))->text(), name);
    QVERIFY(LayerCatalog::sameModel(m_editor->model(), namedChain()));
    QCOMPARE(m_editor->undoStack()->count(), 0);
    QVERIFY(!m_editor->isValid());
    QVERIFY2(m_editor->invalidReason().startsWith(QStringLiteral("Name: ")),
             qPrintable(m_editor->invalidReason()));

    // Typing the name back clears the refusal.
    typeInto(QStringLiteral("layerName"), QString::fromStdString(namedChain().layers[row].name));
    QCOMPARE(formProblem(QStringLiteral("layerNameProblem")), QString());
    QVERIFY2(m_editor->isValid(), qPrintable(m_editor->invalidReason()));
    QCOMPARE(m_editor->undoStack()->count(), 0);
}

void TestLayerWiring::editingInputs_data() {
    QTest::addColumn<int>("row");
    QTest::addColumn<QString>("inputs");
    QTest::addColumn<QString>("reason"); // empty: accepted
    QTest::addColumn<QStringList>("written");
    QTest::newRow("another input") << 3 << "b, r"
                                   << "" << QStringList{"b", "r"};
    QTest::newRow("the network's input") << 3 << "b, input"
                                         << "" << QStringList{"b", "input"};
    QTest::newRow("back to the layer before") << 3 << ""
                                              << "" << QStringList{};
    QTest::newRow("unknown name") << 3 << "b, nope"
                                  << "input 'nope' is not a layer" << QStringList{"b", "a"};
    QTest::newRow("a typo") << 3 << "b, sun"
                            << "did you mean 'sum'" << QStringList{"b", "a"};
    QTest::newRow("itself") << 3 << "b, sum"
                            << "reads itself" << QStringList{"b", "a"};
    QTest::newRow("two for a relu") << 1 << "a, input"
                                    << "merge them first" << QStringList{};
    QTest::newRow("a cycle") << 0 << "b"
                             << "cycle" << QStringList{};
}

void TestLayerWiring::editingInputs() {
    QFETCH(int, row);
    QFETCH(QString, inputs);
    QFETCH(QString, reason);
    QFETCH(QStringList, written);
    const ModelSpec before = namedChain();
    m_editor->setModel(before);
    m_editor->setCurrentRow(row);
    typeInto(QStringLiteral("layerInputs"), inputs);
    const QString problem = formProblem(QStringLiteral("layerInputsProblem"));
    std::vector<std::string> expected;
    for (const QString& name : written)
        expected.push_back(name.toStdString());
    QCOMPARE(m_editor->model().layers[row].inputs, expected);
    if (reason.isEmpty()) {
        QCOMPARE(problem, QString());
        QCOMPARE(m_editor->undoStack()->count(), 1);
        QVERIFY2(m_editor->isValid(), qPrintable(m_editor->invalidReason()));
        m_editor->undoStack()->undo();
        QVERIFY(LayerCatalog::sameModel(m_editor->model(), before));
    } else {
        QVERIFY2(problem.contains(reason), qPrintable(problem));
        QCOMPARE(formField(QStringLiteral("layerInputs"))->text(), inputs);
        QVERIFY(LayerCatalog::sameModel(m_editor->model(), before));
        QCOMPARE(m_editor->undoStack()->count(), 0);
        QVERIFY(m_editor->invalidReason().startsWith(QStringLiteral("Inputs: ")));
    }
}

QTEST_MAIN(TestLayerWiring)
#include "tst_layer_wiring.moc"
