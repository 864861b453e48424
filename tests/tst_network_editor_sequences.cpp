// The network editor under long random sequences of what a user does: adding, removing, moving and
// duplicating layers, blocks and templates, typing good and bad values and names into the form,
// selecting rows, undoing and redoing. After every step the table, the editor and the model agree;
// every undo and redo returns exactly the network that the history held at that point; and undoing
// everything returns the network the sequence started from.

#include "experiment/graph_edits.h"
#include "experiment/graph_view.h"
#include "experiment/layer_catalog.h"
#include "experiment/layer_stack_model.h"
#include "experiment/network_editor.h"
#include "spec/spec.h"

#include "number_field_test_support.h"

#include <QCheckBox>
#include <QLineEdit>
#include <QTableView>
#include <QUndoStack>
#include <QtTest>

#include <map>
#include <random>
#include <string>

using namespace tunelab;

namespace {

// The network as its experiment file writes it: what undo and redo must restore.
std::string networkText(const ModelSpec& model) {
    ExperimentSpec spec = defaultExperiment();
    spec.model = model;
    return experimentSpecToJson(spec, -1);
}

// Text a user might type into a number field: good values, zero, negatives, huge and not a number.
const QStringList kNumbers = {
    QStringLiteral("1"),   QStringLiteral("3"),    QStringLiteral("16"),
    QStringLiteral("0"),   QStringLiteral("-2"),   QStringLiteral("0.5"),
    QStringLiteral("1e9"), QStringLiteral("abc"),  QString(),
    QStringLiteral("7"),   QStringLiteral("0.25"), QStringLiteral("99999999999999999999")};
// ... and into the name and inputs fields.
const QStringList kNames = {QStringLiteral("a"),    QStringLiteral("b"),      QStringLiteral("input"),
                            QStringLiteral("a, b"), QStringLiteral("nosuch"), QString(),
                            QStringLiteral("a.b"),  QStringLiteral("x y"),    QStringLiteral("b, input")};

} // namespace

class TestNetworkEditorSequences : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void randomEditsUndoAndRedoExactly_data() {
        QTest::addColumn<int>("seed");
        QTest::addColumn<bool>("image");
        for (int seed = 1; seed <= 6; ++seed)
            QTest::newRow(qPrintable(QString("seed %1").arg(seed))) << seed << (seed % 2 == 0);
    }

    void randomEditsUndoAndRedoExactly() {
        QFETCH(int, seed);
        QFETCH(bool, image);
        NetworkEditor editor;
        OutputTarget target;
        target.classes = 10;
        editor.setInputShape(image ? Shape{1, 8, 8} : Shape{64});
        editor.setOutputTarget(target);
        ModelSpec start;
        start.layers.resize(3);
        start.layers[0].type = LayerType::Linear;
        start.layers[0].outFeatures = 32;
        start.layers[1].type = LayerType::ReLU;
        start.layers[2].type = LayerType::Linear;
        start.layers[2].outFeatures = 10;
        editor.setModel(start);
        editor.resize(1100, 700);
        editor.show();
        QVERIFY(QTest::qWaitForWindowExposed(&editor));

        std::mt19937 rng(static_cast<unsigned>(seed));
        const auto pick = [&](int count) { return std::uniform_int_distribution<int>(0, count - 1)(rng); };
        QUndoStack* history = editor.undoStack();
        LayerStackModel* layers = editor.layerModel();
        // The network the history holds at each of its indices.
        std::map<int, std::string> held{{0, networkText(editor.model())}};
        const QStringList blocks = GraphEdits::blockNames();
        const QStringList templates = LayerCatalog::templateNames();

        constexpr int kSteps = 300;
        for (int step = 0; step < kSteps; ++step) {
            const int count = layers->layerCount();
            if (count > 0)
                editor.setCurrentRow(pick(count));
            const int action = pick(12);
            const int indexBefore = history->index(), countBefore = history->count();
            QString what;
            bool walked = false; // undo or redo: the network must be the one held at the new index
            switch (action) {
            case 0:
            case 1: {
                const auto type = static_cast<LayerType>(pick(static_cast<int>(LayerType::Multiply) + 1));
                what = "add " + LayerCatalog::typeName(type);
                editor.addLayer(type);
                break;
            }
            case 2:
                what = "remove";
                editor.removeCurrentLayer();
                break;
            case 3:
                what = "move";
                editor.moveCurrentLayer(pick(2) == 0 ? -1 : 1);
                break;
            case 4:
                what = "duplicate";
                editor.duplicateCurrentLayer();
                break;
            case 5:
                what = "block " + blocks.at(pick(static_cast<int>(blocks.size())));
                editor.insertBlock(what.mid(6));
                break;
            case 6:
                if (pick(4) == 0) {
                    what = "template " + templates.at(pick(static_cast<int>(templates.size())));
                    editor.applyTemplate(what.mid(9));
                }
                break;
            case 7:
            case 8: {
                const QList<NumberField*> fields = editor.findChildren<NumberField*>();
                if (fields.isEmpty())
                    break;
                NumberField* field = fields.at(pick(static_cast<int>(fields.size())));
                const QString text = kNumbers.at(pick(static_cast<int>(kNumbers.size())));
                what = QString("type '%1' into %2").arg(text, field->objectName());
                test::typeInto(field, text);
                break;
            }
            case 9: {
                const QList<QCheckBox*> boxes = editor.findChildren<QCheckBox*>();
                if (boxes.isEmpty())
                    break;
                QCheckBox* box = boxes.at(pick(static_cast<int>(boxes.size())));
                what = "toggle " + box->objectName();
                box->click();
                break;
            }
            case 10: {
                auto* field = editor.findChild<QLineEdit*>(pick(2) == 0 ? QStringLiteral("layerName")
                                                                        : QStringLiteral("layerInputs"));
                if (!field || !field->isEnabled() || field->isReadOnly())
                    break;
                const QString text = kNames.at(pick(static_cast<int>(kNames.size())));
                what = QString("type '%1' into %2").arg(text, field->objectName());
                field->setFocus();
                field->selectAll();
                if (text.isEmpty())
                    QTest::keyClick(field, Qt::Key_Backspace);
                else
                    QTest::keyClicks(field, text);
                QTest::keyClick(field, Qt::Key_Return);
                break;
            }
            case 11:
                walked = true;
                if (pick(2) == 0 && history->canUndo()) {
                    what = "undo";
                    history->undo();
                } else if (history->canRedo()) {
                    what = "redo";
                    history->redo();
                }
                break;
            }
            const QString where = QString("seed %1, step %2 (%3)").arg(seed).arg(step).arg(what);
            QCOMPARE(layers->layerCount(), static_cast<int>(editor.model().layers.size()));
            QVERIFY2(editor.layerView()->model()->rowCount() == layers->layerCount(), qPrintable(where));
            QVERIFY2(layers->report().layers.size() <= size_t(layers->layerCount()), qPrintable(where));
            const std::string now = networkText(editor.model());
            const int index = history->index();
            if (walked) {
                QVERIFY2(
                    held.count(index) && held[index] == now,
                    qPrintable(where + ": not the network the history held at " + QString::number(index)));
            } else if (index == indexBefore && history->count() == countBefore && index < countBefore) {
                // Nothing was added to the history (a refused value, nothing to move): nothing changed.
                QVERIFY2(held[index] == now,
                         qPrintable(where + ": changed the network without an undo step"));
            } else {
                // A new step (or one merged into the last, as typing digit by digit is) holds this
                // network; whatever could have been redone before it is gone.
                held.erase(held.upper_bound(index), held.end());
                held[index] = now;
            }
            if (!editor.isValid())
                QVERIFY2(!editor.invalidReason().isEmpty(), qPrintable(where + ": invalid without a reason"));
        }

        // All the way back, each step the network that was there, then all the way forward.
        while (history->canUndo()) {
            history->undo();
            QVERIFY2(held[history->index()] == networkText(editor.model()),
                     qPrintable(QString("undo to %1").arg(history->index())));
        }
        QCOMPARE(networkText(editor.model()), networkText(start));
        while (history->canRedo()) {
            history->redo();
            QVERIFY2(held[history->index()] == networkText(editor.model()),
                     qPrintable(QString("redo to %1").arg(history->index())));
        }
    }
};

QTEST_MAIN(TestNetworkEditorSequences)
#include "tst_network_editor_sequences.moc"
