#include "experiment/network_editor.h"

#include "common/number_field.h"

#include "experiment/graph_edits.h"
#include "experiment/layer_catalog.h"
#include "experiment/layer_commands.h"
#include "experiment/layer_stack_model.h"
#include "search/search_space_editor.h"

#include <QCheckBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QLabel>
#include <QLineEdit>
#include <QSignalBlocker>
#include <QUndoStack>
#include <QVBoxLayout>

// The selected layer's form: its name and inputs (each change one ReplaceModelCommand, since a
// new name reaches every layer that reads it), then one field per setting of its type
// (LayerCatalog::fields), each change an EditLayerCommand.
namespace tunelab {

namespace {

const QString kRefusedStyle = QStringLiteral("QLineEdit { border: 2px solid #d32f2f; border-radius: 3px; }");

QString joinedInputs(const LayerSpec& layer) {
    QStringList names;
    for (const std::string& input : layer.inputs)
        names << QString::fromStdString(input);
    return names.join(QStringLiteral(", "));
}

// "bn2, input" as names; a space inside a name stays, for the engine to refuse.
std::vector<std::string> parsedInputs(const QString& text) {
    std::vector<std::string> names;
    for (const QString& part : text.split(QLatin1Char(','), Qt::SkipEmptyParts))
        if (const QString name = part.trimmed(); !name.isEmpty())
            names.push_back(name.toStdString());
    return names;
}

// Shows why the field's text was refused below it (and in its red frame), or clears both.
void showProblem(QLineEdit* field, QLabel* problem, const QString& why) {
    field->setStyleSheet(why.isEmpty() ? QString() : kRefusedStyle);
    problem->setText(why);
    problem->setVisible(!why.isEmpty());
}

} // namespace

void NetworkEditor::rebuildForm(int row) {
    while (m_form->rowCount() > 0)
        m_form->removeRow(0);
    m_formRow = row;
    if (row < 0) {
        m_formBox->setTitle(tr("Layer"));
        m_form->addRow(new QLabel(tr("Select a layer to edit its settings."), m_formBox));
        return;
    }
    const LayerSpec& layer = m_model->layer(row);
    m_formType = layer.type;
    m_formBox->setTitle(tr("Layer %1: %2").arg(row).arg(LayerCatalog::displayName(layer.type)));
    addWiringRows(row);
    const std::vector<LayerField>& fields = LayerCatalog::fields(layer.type);
    for (const LayerField& field : fields) {
        const QVariant value = LayerCatalog::value(layer, field.key);
        QWidget* editor = nullptr;
        switch (field.kind) {
        case LayerFieldKind::Int:
        case LayerFieldKind::Double: {
            auto* number = new NumberField(field.rule, m_formBox);
            if (!field.defaultText.isEmpty())
                number->setDefaultText(field.defaultText);
            if (field.kind == LayerFieldKind::Int)
                number->setIntegerValue(value.toLongLong());
            else
                number->setValue(value.toDouble());
            const bool integer = field.kind == LayerFieldKind::Int;
            connect(number, &NumberField::valueChanged, this, [this, number, integer, key = field.key] {
                if (m_formRow < 0)
                    return;
                const QVariant newValue = integer ? QVariant::fromValue<qlonglong>(number->integerValue())
                                                  : QVariant(number->value());
                m_undoStack->push(new EditLayerCommand(m_model, m_formRow, key, newValue));
            });
            connect(number, &NumberField::validityChanged, this, &NetworkEditor::onReportChanged);
            editor = number;
            break;
        }
        case LayerFieldKind::Bool: {
            auto* check = new QCheckBox(m_formBox);
            check->setChecked(value.toBool());
            connect(check, &QCheckBox::toggled, this, [this, key = field.key](bool newValue) {
                if (m_formRow >= 0)
                    m_undoStack->push(new EditLayerCommand(m_model, m_formRow, key, newValue));
            });
            editor = check;
            break;
        }
        }
        editor->setObjectName(field.key);
        if (auto* number = qobject_cast<NumberField*>(editor))
            number->setHint(QStringLiteral("%1: %2").arg(field.key, QString::fromUtf8(field.rule.expected)));
        else
            editor->setToolTip(field.key);
        installSearchMenu(
            editor, [this, key = field.key] { return layerPath(m_formRow) + QLatin1Char('.') + key; },
            [this](const QString& path, const QString& current) { Q_EMIT searchRequested(path, current); },
            [this](const QString& path) { return m_searchedPaths.contains(path); });
        m_form->addRow(field.label, editor);
    }
}

void NetworkEditor::addWiringRows(int row) {
    const LayerSpec& layer = m_model->layer(row);
    // The field with the reason for a refused text below it.
    const auto withProblem = [this](QLineEdit* field, const QString& problemName) {
        auto* box = new QWidget(m_formBox);
        auto* layout = new QVBoxLayout(box);
        layout->setContentsMargins(0, 0, 0, 0);
        layout->setSpacing(2);
        field->setParent(box);
        auto* problem = new QLabel(box);
        problem->setObjectName(problemName);
        problem->setWordWrap(true);
        problem->setStyleSheet(QStringLiteral("color: #d32f2f;"));
        problem->hide();
        layout->addWidget(field);
        layout->addWidget(problem);
        return box;
    };
    auto* name = new QLineEdit(QString::fromStdString(layer.name), m_formBox);
    name->setObjectName(QStringLiteral("layerName"));
    name->setToolTip(tr("The name other layers' inputs read this layer by: letters, digits and _ - . /. "
                        "Renaming renames it in every layer that reads it."));
    name->setAccessibleName(tr("Name"));
    connect(name, &QLineEdit::editingFinished, this, [this, row, name] { commitName(row, name); });
    m_form->addRow(tr("Name"), withProblem(name, QStringLiteral("layerNameProblem")));

    auto* inputs = new QLineEdit(joinedInputs(layer), m_formBox);
    inputs->setObjectName(QStringLiteral("layerInputs"));
    inputs->setToolTip(tr("The names of the layers this layer reads, separated by commas (\"input\" is the "
                          "network's input); empty: the layer written before it. Add, concat and multiply "
                          "take several."));
    inputs->setAccessibleName(tr("Inputs"));
    connect(inputs, &QLineEdit::editingFinished, this, [this, row, inputs] { commitInputs(row, inputs); });
    m_form->addRow(tr("Inputs"), withProblem(inputs, QStringLiteral("layerInputsProblem")));
    if (!layer.instance.empty()) {
        auto* note =
            new QLabel(QStringLiteral("%1 \u00b7 %2")
                           .arg(QString::fromStdString(layer.instance), QString::fromStdString(layer.block)),
                       m_formBox);
        note->setObjectName(QStringLiteral("layerInstance"));
        note->setToolTip(
            tr("The layer is part of the block instance %1 (block %2). Once a layer of it is "
               "edited, the experiment file lists the instance's layers one by one.")
                .arg(QString::fromStdString(layer.instance), QString::fromStdString(layer.block)));
        m_form->addRow(tr("Block"), note);
    }
    updateWiringValues(row);
}

void NetworkEditor::updateWiringValues(int row) {
    const LayerSpec& layer = m_model->layer(row);
    auto* name = m_formBox->findChild<QLineEdit*>(QStringLiteral("layerName"));
    auto* inputs = m_formBox->findChild<QLineEdit*>(QStringLiteral("layerInputs"));
    if (!name || !inputs)
        return;
    // A field holding a refused text keeps it: the model did not take it.
    const auto* nameProblem = m_formBox->findChild<QLabel*>(QStringLiteral("layerNameProblem"));
    if (nameProblem->text().isEmpty() && name->text() != QString::fromStdString(layer.name))
        name->setText(QString::fromStdString(layer.name));
    name->setPlaceholderText(tr("no name"));
    const auto* inputsProblem = m_formBox->findChild<QLabel*>(QStringLiteral("layerInputsProblem"));
    if (inputsProblem->text().isEmpty() && inputs->text() != joinedInputs(layer))
        inputs->setText(joinedInputs(layer));
    const ModelSpec& spec = m_model->modelSpec();
    const QString before = row == 0 ? QStringLiteral("input")
                           : spec.layers[row - 1].name.empty()
                               ? tr("layer %1").arg(row - 1)
                               : QString::fromStdString(spec.layers[row - 1].name);
    inputs->setPlaceholderText(tr("the layer before it (%1)").arg(before));
}

void NetworkEditor::commitName(int row, QLineEdit* field) {
    if (row != m_formRow || row >= m_model->layerCount())
        return;
    const std::string old = m_model->layer(row).name;
    QString why;
    const auto edited = GraphEdits::renameLayer(m_model->modelSpec(), row, field->text().toStdString(), &why);
    showProblem(field, m_formBox->findChild<QLabel*>(QStringLiteral("layerNameProblem")), why);
    if (edited)
        m_undoStack->push(new ReplaceModelCommand(
            m_model, *edited,
            old.empty() ? tr("Name layer %1 %2").arg(row).arg(field->text())
                        : tr("Rename %1 to %2").arg(QString::fromStdString(old), field->text())));
    onReportChanged();
}

void NetworkEditor::commitInputs(int row, QLineEdit* field) {
    if (row != m_formRow || row >= m_model->layerCount())
        return;
    QString why;
    const auto edited = GraphEdits::setInputs(m_model->modelSpec(), row, parsedInputs(field->text()), &why);
    showProblem(field, m_formBox->findChild<QLabel*>(QStringLiteral("layerInputsProblem")), why);
    if (edited)
        m_undoStack->push(
            new ReplaceModelCommand(m_model, *edited, tr("Set the inputs of layer %1").arg(row)));
    onReportChanged();
}

QString NetworkEditor::wiringProblem() const {
    for (const QString& name : {QStringLiteral("layerNameProblem"), QStringLiteral("layerInputsProblem")})
        if (const auto* problem = m_formBox->findChild<QLabel*>(name); problem && !problem->text().isEmpty())
            return (name == QLatin1String("layerNameProblem") ? tr("Name: %1") : tr("Inputs: %1"))
                .arg(problem->text());
    return QString();
}

void NetworkEditor::updateFormValues(int row) {
    const LayerSpec& layer = m_model->layer(row);
    m_formBox->setTitle(tr("Layer %1: %2").arg(row).arg(LayerCatalog::displayName(layer.type)));
    updateWiringValues(row);
    for (const LayerField& field : LayerCatalog::fields(layer.type)) {
        const QVariant value = LayerCatalog::value(layer, field.key);
        if (auto* number = m_formBox->findChild<NumberField*>(field.key)) {
            // A field still holding a refused value keeps it: the model did not take it.
            const bool same = field.kind == LayerFieldKind::Int ? number->integerValue() == value.toLongLong()
                                                                : number->value() == value.toDouble();
            if (!same && number->isValid()) {
                const QSignalBlocker blocker(number);
                if (field.kind == LayerFieldKind::Int)
                    number->setIntegerValue(value.toLongLong());
                else
                    number->setValue(value.toDouble());
            }
        } else if (auto* check = m_formBox->findChild<QCheckBox*>(field.key)) {
            if (check->isChecked() != value.toBool()) {
                const QSignalBlocker blocker(check);
                check->setChecked(value.toBool());
            }
        }
    }
}

} // namespace tunelab
