#include "experiment/graph_panel.h"

#include "experiment/graph_view.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QToolButton>
#include <QVBoxLayout>

namespace tunelab {

namespace {

QToolButton* button(const QString& text, const QString& toolTip, QWidget* parent) {
    auto* button = new QToolButton(parent);
    button->setText(text);
    button->setToolTip(toolTip);
    return button;
}

} // namespace

GraphPanel::GraphPanel(LayerStackModel* model, QUndoStack* undoStack, QWidget* parent)
    : QWidget(parent)
    , m_view(new GraphView(model, undoStack, this))
    , m_message(new QLabel(this)) {
    auto* zoomIn = button(tr("+"), tr("Zoom in (Ctrl+wheel)"), this);
    auto* zoomOut = button(tr("\u2212"), tr("Zoom out (Ctrl+wheel)"), this);
    auto* fit = button(tr("Fit"), tr("Show the whole network"), this);
    fit->setObjectName(QStringLiteral("fitGraph"));
    auto* actual = button(tr("100%"), tr("Back to full size, at the input"), this);
    connect(zoomIn, &QToolButton::clicked, m_view, &GraphView::zoomIn);
    connect(zoomOut, &QToolButton::clicked, m_view, &GraphView::zoomOut);
    connect(fit, &QToolButton::clicked, m_view, &GraphView::fitToView);
    connect(actual, &QToolButton::clicked, m_view, &GraphView::resetZoom);
    auto* hint = new QLabel(tr("Drag a dot onto a layer to connect"), this);
    hint->setStyleSheet(QStringLiteral("color: #666;"));
    hint->setToolTip(
        tr("Drag from a layer's output dot (at its bottom) onto another layer: add, concat and "
           "multiply take it as one more input, other layers read it instead. Drop a layer from "
           "the palette onto a connection to insert it there, onto a layer to add it after that "
           "one, or elsewhere to add it after the selected layer. Select a layer or a connection "
           "and press Delete to remove it. The form below renames the selected layer and sets "
           "what it reads. Ctrl+wheel zooms, dragging pans."));
    auto* tools = new QHBoxLayout;
    for (QToolButton* tool : {zoomOut, zoomIn, fit, actual})
        tools->addWidget(tool);
    tools->addWidget(hint, 1);

    m_message->setObjectName(QStringLiteral("graphMessage"));
    m_message->setWordWrap(true);
    m_message->setStyleSheet(QStringLiteral("color: #b00020;"));
    m_message->hide();
    connect(m_view, &GraphView::messageChanged, this, [this](const QString& message) {
        m_message->setText(message);
        m_message->setVisible(!message.isEmpty());
    });

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(tools);
    layout->addWidget(m_view, 1);
    layout->addWidget(m_message);
}

} // namespace tunelab
