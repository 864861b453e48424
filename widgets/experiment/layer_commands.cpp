#include "experiment/layer_commands.h"

#include "experiment/layer_catalog.h"
#include "experiment/layer_stack_model.h"

#include <QCoreApplication>

namespace tunelab {

namespace {

QString layerCommandText(const char* text) {
    return QCoreApplication::translate("LayerCommands", text);
}

} // namespace

InsertLayerCommand::InsertLayerCommand(LayerStackModel* model, int row, const LayerSpec& layer,
                                       const QString& text, QUndoCommand* parent)
    : QUndoCommand(parent)
    , m_model(model)
    , m_row(row)
    , m_layer(layer) {
    setText(text.isEmpty() ? layerCommandText("Add %1").arg(LayerCatalog::typeName(layer.type)) : text);
}

void InsertLayerCommand::undo() {
    m_model->removeLayer(m_row);
}

void InsertLayerCommand::redo() {
    m_model->insertLayer(m_row, m_layer);
}

RemoveLayerCommand::RemoveLayerCommand(LayerStackModel* model, int row, QUndoCommand* parent)
    : QUndoCommand(parent)
    , m_model(model)
    , m_row(row)
    , m_layer(model->layer(row)) {
    setText(layerCommandText("Remove %1").arg(LayerCatalog::typeName(m_layer.type)));
}

void RemoveLayerCommand::undo() {
    m_model->insertLayer(m_row, m_layer);
}

void RemoveLayerCommand::redo() {
    m_model->removeLayer(m_row);
}

MoveLayerCommand::MoveLayerCommand(LayerStackModel* model, int from, int to, QUndoCommand* parent)
    : QUndoCommand(parent)
    , m_model(model)
    , m_from(from)
    , m_to(to) {
    setText(layerCommandText("Move %1").arg(LayerCatalog::typeName(model->layer(from).type)));
}

void MoveLayerCommand::undo() {
    m_model->moveLayer(m_to, m_from);
}

void MoveLayerCommand::redo() {
    m_model->moveLayer(m_from, m_to);
}

EditLayerCommand::EditLayerCommand(LayerStackModel* model, int row, const QString& key, const QVariant& value,
                                   QUndoCommand* parent)
    : QUndoCommand(parent)
    , m_model(model)
    , m_row(row)
    , m_key(key)
    , m_before(model->layer(row))
    , m_after(m_before) {
    LayerCatalog::setValue(m_after, key, value);
    const LayerField* field = LayerCatalog::field(m_before.type, key);
    setText(layerCommandText("Change %1").arg(field ? field->label.toLower() : key));
    if (LayerCatalog::sameLayer(m_before, m_after))
        setObsolete(true);
}

void EditLayerCommand::undo() {
    m_model->setLayer(m_row, m_before);
}

void EditLayerCommand::redo() {
    m_model->setLayer(m_row, m_after);
}

bool EditLayerCommand::mergeWith(const QUndoCommand* other) {
    const auto* edit = static_cast<const EditLayerCommand*>(other); // same id() means same class
    if (edit->m_model != m_model || edit->m_row != m_row || edit->m_key != m_key)
        return false;
    m_after = edit->m_after;
    // Typing back the old value leaves nothing to undo.
    setObsolete(LayerCatalog::sameLayer(m_before, m_after));
    return true;
}

ReplaceModelCommand::ReplaceModelCommand(LayerStackModel* model, const ModelSpec& spec, const QString& text,
                                         QUndoCommand* parent)
    : QUndoCommand(text, parent)
    , m_model(model)
    , m_before(model->modelSpec())
    , m_after(spec) {}

void ReplaceModelCommand::undo() {
    m_model->resetModel(m_before);
}

void ReplaceModelCommand::redo() {
    m_model->resetModel(m_after);
}

} // namespace tunelab
