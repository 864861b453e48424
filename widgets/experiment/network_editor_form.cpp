#include "experiment/network_editor.h"

#include "common/number_field.h"

#include "experiment/layer_catalog.h"
#include "experiment/layer_commands.h"
#include "experiment/layer_stack_model.h"
#include "search/search_space_editor.h"

#include <QCheckBox>
#include <QFormLayout>
#include <QGroupBox>
#include <QLabel>
#include <QSignalBlocker>
#include <QUndoStack>

// The selected layer's form: one field per setting of its type (LayerCatalog::fields), each change
// an EditLayerCommand; its name and inputs, which the graph view edits, read-only.
namespace tunelab {

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
    if (!layer.name.empty() || !layer.inputs.empty()) {
        QStringList wiring;
        if (!layer.name.empty())
            wiring << QString::fromStdString(layer.name);
        QStringList inputs;
        for (const std::string& input : layer.inputs)
            inputs << QString::fromStdString(input);
        if (!inputs.isEmpty())
            wiring << tr("reads %1").arg(inputs.join(QStringLiteral(", ")));
        auto* label = new QLabel(wiring.join(QStringLiteral(", ")), m_formBox);
        label->setObjectName(QStringLiteral("layerWiring"));
        label->setWordWrap(true);
        label->setToolTip(tr("The layer's name and the layers it reads; edit them in the Graph tab"));
        m_form->addRow(tr("Name"), label);
    }
    const std::vector<LayerField>& fields = LayerCatalog::fields(layer.type);
    if (fields.empty())
        m_form->addRow(new QLabel(tr("This layer has no settings."), m_formBox));
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

void NetworkEditor::updateFormValues(int row) {
    const LayerSpec& layer = m_model->layer(row);
    m_formBox->setTitle(tr("Layer %1: %2").arg(row).arg(LayerCatalog::displayName(layer.type)));
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
