#pragma once

#include "data/dataset.h"
#include "model/shape_inference.h"
#include "spec/spec.h"

#include <QAbstractTableModel>

class QUndoStack;

namespace tunelab {

// The network's layers as table rows, with the engine's shape inference beside each layer.
// Views and drag and drop never change the layers directly: drops push undo commands on the
// undo stack, and only those commands call the mutators below (Tiled's layer model pattern).
class LayerStackModel : public QAbstractTableModel {
    Q_OBJECT

public:
    // The layer's index ("#", 0-based like the engine's messages) is the vertical header: a data
    // column holding the row number would change under every insert and move.
    enum Column { LayerColumn, OutputColumn, ParamsColumn, FlopsColumn, ColumnCount };
    enum Role { RawValueRole = Qt::UserRole + 1, ErrorRole };

    static const QString kRowsMimeType;      // internal move: the dragged row numbers
    static const QString kLayerTypeMimeType; // palette drop: a layer type name ("conv2d")
    static const QString kBlockMimeType;     // palette drop: a block's name ("Residual block")

    explicit LayerStackModel(QObject* parent = nullptr);

    // Drops push their commands here; without a stack the model accepts no drops.
    void setUndoStack(QUndoStack* stack);
    QUndoStack* undoStack() const { return m_undoStack; }

    const ModelSpec& modelSpec() const { return m_spec; }
    int layerCount() const { return static_cast<int>(m_spec.layers.size()); }
    const LayerSpec& layer(int row) const;

    // An empty shape means the data's sample shape is not known (its data is loading or cannot be
    // read): the rows show no shapes and no errors, and the network is not valid until it is known.
    void setInputShape(const Shape& shape);
    const Shape& inputShape() const { return m_input; }
    bool inputKnown() const { return !m_input.empty(); }
    void setOutputTarget(const OutputTarget& target);
    const OutputTarget& outputTarget() const { return m_target; }

    const ShapeReport& report() const { return m_report; }
    int64_t totalParams() const { return m_report.totalParams; }
    int64_t totalFlops() const { return m_report.totalFlops; }
    bool isValid() const { return m_report.ok(); }
    QString invalidReason() const; // the first error, empty when valid
    QString rowError(int row) const;

    // Mutators: for undo commands (and loading a model) only.
    void resetModel(const ModelSpec& spec);
    void insertLayer(int row, const LayerSpec& layer);
    void removeLayer(int row);
    void moveLayer(int from, int to); // `to` is the layer's index after the move
    void setLayer(int row, const LayerSpec& layer);

    int rowCount(const QModelIndex& parent = QModelIndex()) const override;
    int columnCount(const QModelIndex& parent = QModelIndex()) const override;
    QVariant data(const QModelIndex& index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;
    Qt::ItemFlags flags(const QModelIndex& index) const override;

    Qt::DropActions supportedDragActions() const override;
    Qt::DropActions supportedDropActions() const override;
    QStringList mimeTypes() const override;
    QMimeData* mimeData(const QModelIndexList& indexes) const override;
    bool canDropMimeData(const QMimeData* data, Qt::DropAction action, int row, int column,
                         const QModelIndex& parent) const override;
    bool dropMimeData(const QMimeData* data, Qt::DropAction action, int row, int column,
                      const QModelIndex& parent) override;

Q_SIGNALS:
    void layersChanged(); // a layer was added, removed, moved or edited (also by undo/redo)
    void reportChanged(); // shape inference was recomputed (after layersChanged, or a new input)
    // A palette block was dropped to go after layer `after` (-1: first). The block's layers are wired
    // by the graph's edit (GraphView::insertBlock), which pushes its own undo command.
    void blockDropped(const QString& block, int after);

private:
    void recompute();

    ModelSpec m_spec;
    Shape m_input;
    OutputTarget m_target;
    ShapeReport m_report;
    QUndoStack* m_undoStack = nullptr;
};

// "12,345" without depending on the locale.
QString formatCount(int64_t value);
// "1.23 M" for large numbers, exact below ten thousand.
QString formatCompact(int64_t value);

} // namespace tunelab
