#pragma once

#include <QWidget>

class QLabel;
class QUndoStack;

namespace tunelab {

class GraphView;
class LayerStackModel;

// The network editor's Graph tab: zoom buttons and a hint above the graph view, and a line below
// it that says why an edit was refused.
class GraphPanel : public QWidget {
    Q_OBJECT

public:
    GraphPanel(LayerStackModel* model, QUndoStack* undoStack, QWidget* parent = nullptr);

    GraphView* view() const { return m_view; }

private:
    GraphView* m_view;
    QLabel* m_message;
};

} // namespace tunelab
