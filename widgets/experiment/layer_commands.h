#pragma once

#include "spec/spec.h"

#include <QString>
#include <QUndoCommand>
#include <QVariant>

namespace tunelab {

class LayerStackModel;

// Every change of the network is one of these on the editor's QUndoStack. They hold the model
// by pointer; the stack that owns them must not outlive it.

class InsertLayerCommand : public QUndoCommand {
public:
    InsertLayerCommand(LayerStackModel* model, int row, const LayerSpec& layer,
                       const QString& text = QString(), QUndoCommand* parent = nullptr);
    void undo() override;
    void redo() override;

private:
    LayerStackModel* m_model;
    int m_row;
    LayerSpec m_layer;
};

class RemoveLayerCommand : public QUndoCommand {
public:
    RemoveLayerCommand(LayerStackModel* model, int row, QUndoCommand* parent = nullptr);
    void undo() override;
    void redo() override;

private:
    LayerStackModel* m_model;
    int m_row;
    LayerSpec m_layer;
};

class MoveLayerCommand : public QUndoCommand {
public:
    // Moves the layer at `from` so that it ends up at index `to`.
    MoveLayerCommand(LayerStackModel* model, int from, int to, QUndoCommand* parent = nullptr);
    void undo() override;
    void redo() override;

private:
    LayerStackModel* m_model;
    int m_from;
    int m_to;
};

// One field of one layer; consecutive edits of the same field of the same layer merge, so typing
// "256" into a spin box is one undo step.
class EditLayerCommand : public QUndoCommand {
public:
    static constexpr int kId = 0x7e1a;

    EditLayerCommand(LayerStackModel* model, int row, const QString& key, const QVariant& value,
                     QUndoCommand* parent = nullptr);
    void undo() override;
    void redo() override;
    int id() const override { return kId; }
    bool mergeWith(const QUndoCommand* other) override;

    int row() const { return m_row; }
    const QString& key() const { return m_key; }

private:
    LayerStackModel* m_model;
    int m_row;
    QString m_key;
    LayerSpec m_before;
    LayerSpec m_after;
};

// Replaces every layer at once, e.g. with a template.
class ReplaceModelCommand : public QUndoCommand {
public:
    ReplaceModelCommand(LayerStackModel* model, const ModelSpec& spec, const QString& text,
                        QUndoCommand* parent = nullptr);
    void undo() override;
    void redo() override;

private:
    LayerStackModel* m_model;
    ModelSpec m_before;
    ModelSpec m_after;
};

} // namespace tunelab
