#pragma once

#include "data/dataset.h"
#include "model/shape_inference.h"
#include "spec/spec.h"

#include <QWidget>

class QAction;
class QComboBox;
class QFormLayout;
class QGroupBox;
class QLabel;
class QLineEdit;
class QTabWidget;
class QTableView;
class QTreeWidget;
class QTreeWidgetItem;
class QUndoStack;

namespace tunelab {

class GraphPanel;
class GraphView;
class LayerStackModel;

// Edits a network: a palette of the engine's layer types and blocks, the layers as a stack and as
// a graph (Stack | Graph tabs, one selection) with live shapes, parameters and FLOPs, a form for the
// selected layer and templates. Every change is a command on undoStack(); the window's Edit menu
// undoes and redoes on it while the Network tab is in front.
class NetworkEditor : public QWidget {
    Q_OBJECT

public:
    explicit NetworkEditor(QWidget* parent = nullptr);
    ~NetworkEditor() override;

    // Replaces the network and clears the undo history.
    void setModel(const ModelSpec& spec);
    const ModelSpec& model() const;
    void setInputShape(const Shape& shape);
    void setOutputTarget(const OutputTarget& target);
    // A fine-tuning experiment's frozen layers (init.freeze_layers): the totals line then says how many
    // parameters train and how many stay frozen (those of layers with lr_multiplier 0 as well).
    void setFrozenLayers(int layers);

    QUndoStack* undoStack() const { return m_undoStack; }
    QAction* undoAction() const { return m_undoAction; }
    QAction* redoAction() const { return m_redoAction; }
    LayerStackModel* layerModel() const { return m_model; }
    QTableView* layerView() const { return m_view; }
    QTreeWidget* palette() const { return m_palette; }
    QFormLayout* propertyForm() const { return m_form; }
    // The Graph tab's view of the same layers.
    GraphView* graphView() const;
    void showGraph(bool graph);

    bool isValid() const;
    QString invalidReason() const;
    int currentRow() const;
    void setCurrentRow(int row);

    // Editing operations, also bound to keys on the layer table (Insert, Delete, Ctrl+Up,
    // Ctrl+Down, Ctrl+D). addLayer inserts after the current row.
    void addLayer(LayerType type);
    void removeCurrentLayer();
    void moveCurrentLayer(int delta);
    void duplicateCurrentLayer();
    void applyTemplate(const QString& name);
    // A block of the palette (GraphEdits::blockNames()) as named layers after the current row.
    void insertBlock(const QString& name);

    // The spec path of layer `row` ("model.layers[2]"); its fields add ".out_features" and so on.
    static QString layerPath(int row);

public Q_SLOTS:
    // Paths already in the search space; their "Search over…" entries show a check mark.
    void setSearchedPaths(const QStringList& paths);

Q_SIGNALS:
    void modelEdited();
    // "Search over <path>…" was chosen on a layer field (model.layers[i].<key>) or on a layer row
    // (model.layers[i], the whole layer as JSON); the value is the current one, as JSON.
    void searchRequested(const QString& path, const QString& currentValueJson);
    void validityChanged(bool valid, const QString& reason);

private:
    void buildPalette();
    void showLayerMenu(const QPoint& position);
    QString layerJson(int row) const;
    void onReportChanged();
    void refreshForm();
    void rebuildForm(int row);
    void updateFormValues(int row);
    // The name and inputs rows of the form (network_editor_form.cpp): each edit one undo step, a
    // refused one kept in its field with the reason below it.
    void addWiringRows(int row);
    void updateWiringValues(int row);
    void commitName(int row, QLineEdit* field);
    void commitInputs(int row, QLineEdit* field);
    QString wiringProblem() const; // the refused name or inputs' reason, empty when none
    void updateActions();
    LayerType paletteType() const;

    LayerStackModel* m_model = nullptr;
    QUndoStack* m_undoStack = nullptr;
    QAction* m_undoAction = nullptr;
    QAction* m_redoAction = nullptr;
    QAction* m_removeAction = nullptr;
    QAction* m_upAction = nullptr;
    QAction* m_downAction = nullptr;
    QAction* m_duplicateAction = nullptr;
    QTreeWidget* m_palette = nullptr;
    QTableView* m_view = nullptr;
    QTabWidget* m_views = nullptr;
    GraphPanel* m_graph = nullptr;
    int m_rowBeforeReset = -1;
    QComboBox* m_templates = nullptr;
    QLabel* m_totals = nullptr;
    QLabel* m_status = nullptr;
    QGroupBox* m_formBox = nullptr;
    QFormLayout* m_form = nullptr;
    int m_formRow = -1;
    LayerType m_formType = LayerType::ReLU;
    bool m_lastValid = false;
    QString m_lastReason;
    int m_frozenLayers = 0;
    QStringList m_searchedPaths;
};

} // namespace tunelab
