#include "experiment/network_editor.h"

#include "common/number_field.h"
#include "common/wheel_guard.h"

#include "experiment/graph_edits.h"
#include "experiment/graph_panel.h"
#include "experiment/graph_view.h"
#include "experiment/layer_catalog.h"
#include "experiment/layer_commands.h"
#include "experiment/layer_stack_model.h"
#include "search/search_space.h"
#include "search/search_space_editor.h"

#include <QAction>
#include <QCheckBox>
#include <QComboBox>
#include <QDrag>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QKeyEvent>
#include <QLabel>
#include <QMenu>
#include <QMimeData>
#include <QScrollArea>
#include <QSignalBlocker>
#include <QSplitter>
#include <QTabWidget>
#include <QTableView>
#include <QToolButton>
#include <QTreeWidget>
#include <QUndoStack>
#include <QVBoxLayout>

#include <functional>

namespace tunelab {

namespace {

constexpr int kTypeRole = Qt::UserRole + 1;
constexpr int kBlockRole = Qt::UserRole + 2; // a block of layers: GraphEdits::blockNames()

// Palette items drag their layer type name, or their block's name; a drag only ever copies.
class LayerPalette : public QTreeWidget {
public:
    using QTreeWidget::QTreeWidget;

protected:
    QStringList mimeTypes() const override {
        return {LayerStackModel::kLayerTypeMimeType, LayerStackModel::kBlockMimeType};
    }

    QMimeData* mimeData(const QList<QTreeWidgetItem*>& items) const override {
        for (QTreeWidgetItem* item : items) {
            const QString block = item->data(0, kBlockRole).toString();
            const QString name = block.isEmpty() ? item->data(0, kTypeRole).toString() : block;
            if (!name.isEmpty()) {
                auto* mime = new QMimeData;
                mime->setData(block.isEmpty() ? LayerStackModel::kLayerTypeMimeType
                                              : LayerStackModel::kBlockMimeType,
                              name.toUtf8());
                mime->setText(name);
                return mime;
            }
        }
        return nullptr;
    }

    void startDrag(Qt::DropActions) override {
        QMimeData* mime = mimeData(selectedItems());
        if (!mime)
            return;
        auto* drag = new QDrag(this);
        drag->setMimeData(mime);
        drag->exec(Qt::CopyAction, Qt::CopyAction);
    }
};

// The layer table hands its editing keys to the editor before the default navigation sees them.
class LayerTableView : public QTableView {
public:
    explicit LayerTableView(std::function<bool(QKeyEvent*)> keyHandler, QWidget* parent = nullptr)
        : QTableView(parent)
        , m_keyHandler(std::move(keyHandler)) {}

protected:
    void keyPressEvent(QKeyEvent* event) override {
        if (m_keyHandler(event)) {
            event->accept();
            return;
        }
        QTableView::keyPressEvent(event);
    }

private:
    std::function<bool(QKeyEvent*)> m_keyHandler;
};

QToolButton* toolButton(QAction* action, QWidget* parent) {
    auto* button = new QToolButton(parent);
    button->setDefaultAction(action);
    return button;
}

} // namespace

NetworkEditor::NetworkEditor(QWidget* parent)
    : QWidget(parent)
    , m_model(new LayerStackModel(this))
    , m_undoStack(new QUndoStack(this)) {
    guardWheelEvents();
    m_model->setUndoStack(m_undoStack);
    m_undoAction = m_undoStack->createUndoAction(this, tr("Undo"));
    m_undoAction->setShortcut(QKeySequence::Undo);
    m_redoAction = m_undoStack->createRedoAction(this, tr("Redo"));
    m_redoAction->setShortcut(QKeySequence::Redo);

    // Palette.
    m_palette = new LayerPalette(this);
    m_palette->setObjectName(QStringLiteral("layerPalette"));
    m_palette->setHeaderLabel(tr("Layers"));
    m_palette->setDragEnabled(true);
    m_palette->setDragDropMode(QAbstractItemView::DragOnly);
    m_palette->setToolTip(tr("Double-click or drag a layer onto the stack or the graph"));
    buildPalette();
    connect(m_palette, &QTreeWidget::itemDoubleClicked, this, [this](QTreeWidgetItem* item) {
        if (const QString block = item->data(0, kBlockRole).toString(); !block.isEmpty())
            return insertBlock(block);
        const auto type = LayerCatalog::typeFromName(item->data(0, kTypeRole).toString());
        if (type)
            addLayer(*type);
    });

    // Layer stack.
    m_view = new LayerTableView(
        [this](QKeyEvent* event) {
            const bool ctrl = event->modifiers() & Qt::ControlModifier;
            switch (event->key()) {
            case Qt::Key_Insert:
                addLayer(paletteType());
                return true;
            case Qt::Key_Delete:
            case Qt::Key_Backspace:
                removeCurrentLayer();
                return true;
            case Qt::Key_Up:
                if (!ctrl)
                    return false;
                moveCurrentLayer(-1);
                return true;
            case Qt::Key_Down:
                if (!ctrl)
                    return false;
                moveCurrentLayer(1);
                return true;
            case Qt::Key_D:
                if (!ctrl)
                    return false;
                duplicateCurrentLayer();
                return true;
            default:
                return false;
            }
        },
        this);
    m_view->setObjectName(QStringLiteral("layerStack"));
    m_view->setModel(m_model);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setSelectionMode(QAbstractItemView::SingleSelection);
    m_view->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_view->setDragEnabled(true);
    m_view->setAcceptDrops(true);
    m_view->setDropIndicatorShown(true);
    m_view->setDragDropMode(QAbstractItemView::DragDrop);
    m_view->setDragDropOverwriteMode(false);
    m_view->setDefaultDropAction(Qt::MoveAction);
    m_view->verticalHeader()->setSectionsMovable(false);
    m_view->horizontalHeader()->setSectionResizeMode(LayerStackModel::LayerColumn, QHeaderView::Stretch);
    m_view->setToolTip(tr("Insert: add   Delete: remove   Ctrl+Up/Down: move   Ctrl+D: duplicate"));
    m_view->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(m_view, &QWidget::customContextMenuRequested, this, &NetworkEditor::showLayerMenu);

    auto* addAction = new QAction(tr("Add"), this);
    addAction->setToolTip(tr("Add the layer selected in the palette below the current layer (Insert)"));
    connect(addAction, &QAction::triggered, this, [this] { addLayer(paletteType()); });
    m_removeAction = new QAction(tr("Remove"), this);
    m_removeAction->setToolTip(tr("Remove the current layer (Delete)"));
    connect(m_removeAction, &QAction::triggered, this, &NetworkEditor::removeCurrentLayer);
    m_upAction = new QAction(tr("Up"), this);
    m_upAction->setToolTip(tr("Move the current layer up (Ctrl+Up)"));
    connect(m_upAction, &QAction::triggered, this, [this] { moveCurrentLayer(-1); });
    m_downAction = new QAction(tr("Down"), this);
    m_downAction->setToolTip(tr("Move the current layer down (Ctrl+Down)"));
    connect(m_downAction, &QAction::triggered, this, [this] { moveCurrentLayer(1); });
    m_duplicateAction = new QAction(tr("Duplicate"), this);
    m_duplicateAction->setToolTip(tr("Duplicate the current layer (Ctrl+D)"));
    connect(m_duplicateAction, &QAction::triggered, this, &NetworkEditor::duplicateCurrentLayer);

    m_templates = new QComboBox(this);
    m_templates->setObjectName(QStringLiteral("templates"));
    m_templates->addItem(tr("Start from a template…"));
    m_templates->addItems(LayerCatalog::templateNames());
    connect(m_templates, &QComboBox::activated, this, [this](int index) {
        if (index > 0)
            applyTemplate(m_templates->itemText(index));
        m_templates->setCurrentIndex(0);
    });

    auto* buttons = new QHBoxLayout;
    for (QAction* action : {addAction, m_removeAction, m_upAction, m_downAction, m_duplicateAction})
        buttons->addWidget(toolButton(action, this));
    // Plain buttons rather than the undo/redo actions themselves: adding those actions to a widget
    // here would register their shortcuts twice once the app puts them in its Edit menu.
    auto* undoButton = new QToolButton(this);
    undoButton->setText(tr("Undo"));
    undoButton->setEnabled(false);
    connect(undoButton, &QToolButton::clicked, m_undoStack, &QUndoStack::undo);
    connect(m_undoStack, &QUndoStack::canUndoChanged, undoButton, &QWidget::setEnabled);
    auto* redoButton = new QToolButton(this);
    redoButton->setText(tr("Redo"));
    redoButton->setEnabled(false);
    connect(redoButton, &QToolButton::clicked, m_undoStack, &QUndoStack::redo);
    connect(m_undoStack, &QUndoStack::canRedoChanged, redoButton, &QWidget::setEnabled);
    buttons->addWidget(undoButton);
    buttons->addWidget(redoButton);
    buttons->addStretch();
    auto* templateRow = new QHBoxLayout;
    templateRow->addWidget(new QLabel(tr("Start from"), this));
    templateRow->addWidget(m_templates, 1);

    m_totals = new QLabel(this);
    m_totals->setObjectName(QStringLiteral("totals"));
    m_totals->setWordWrap(true); // a long output shape wraps in a narrow dock instead of being cut
    m_status = new QLabel(this);
    m_status->setObjectName(QStringLiteral("status"));
    m_status->setWordWrap(true);
    m_status->setStyleSheet(QStringLiteral("color: #b00020;"));

    auto* stack = new QWidget(this);
    auto* stackLayout = new QVBoxLayout(stack);
    stackLayout->setContentsMargins(0, 0, 0, 0);
    stackLayout->addLayout(templateRow);
    stackLayout->addLayout(buttons);
    // The same layers as a stack or as a graph; both edit the one ModelSpec through the undo stack.
    m_graph = new GraphPanel(m_model, m_undoStack, this);
    m_views = new QTabWidget(this);
    m_views->setObjectName(QStringLiteral("networkViews"));
    m_views->setDocumentMode(true);
    m_views->addTab(m_view, tr("Stack"));
    m_views->addTab(m_graph, tr("Graph"));
    stackLayout->addWidget(m_views, 1);
    stackLayout->addWidget(m_totals);
    stackLayout->addWidget(m_status);

    // Property form.
    m_formBox = new QGroupBox(tr("Layer"), this);
    m_form = new QFormLayout(m_formBox);

    // Palette on the left; the stack above the selected layer's form, so the editor fits a
    // narrow dock.
    auto* right = new QSplitter(Qt::Vertical, this);
    // The form scrolls, so that a short dock still leaves the stack or graph most of its height.
    auto* formScroll = new QScrollArea(this);
    formScroll->setWidget(m_formBox);
    formScroll->setWidgetResizable(true);
    formScroll->setFrameShape(QFrame::NoFrame);
    right->addWidget(stack);
    right->addWidget(formScroll);
    right->setStretchFactor(0, 3);
    right->setStretchFactor(1, 1);
    right->setSizes({340, 70});
    auto* splitter = new QSplitter(this);
    splitter->addWidget(m_palette);
    splitter->addWidget(right);
    splitter->setStretchFactor(1, 1);
    splitter->setSizes({140, 380});
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(splitter);

    // Keep a sensible current row through every change, undo and redo included.
    connect(m_model, &QAbstractItemModel::rowsInserted, this,
            [this](const QModelIndex&, int first, int) { setCurrentRow(first); });
    connect(m_model, &QAbstractItemModel::rowsMoved, this,
            [this](const QModelIndex&, int start, int, const QModelIndex&, int destination) {
                setCurrentRow(destination > start ? destination - 1 : destination);
            });
    connect(m_model, &QAbstractItemModel::rowsRemoved, this, [this](const QModelIndex&, int first, int) {
        setCurrentRow(std::min(first, m_model->layerCount() - 1));
    });
    // A whole-network edit (a template, the graph view's edits and their undo) keeps the current
    // layer where it can.
    connect(m_model, &QAbstractItemModel::modelAboutToBeReset, this,
            [this] { m_rowBeforeReset = currentRow(); });
    connect(m_model, &QAbstractItemModel::modelReset, this, [this] {
        const int count = m_model->layerCount();
        setCurrentRow(m_rowBeforeReset >= 0 && m_rowBeforeReset < count ? m_rowBeforeReset
                      : count > 0                                       ? 0
                                                                        : -1);
    });
    connect(m_graph->view(), &GraphView::layerSelected, this, &NetworkEditor::setCurrentRow);
    connect(m_view->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            [this](const QModelIndex& current) {
                m_graph->view()->selectLayer(current.isValid() ? current.row() : GraphView::kNoLayer);
            });
    connect(m_view->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            &NetworkEditor::refreshForm);
    connect(m_model, &QAbstractItemModel::dataChanged, this, &NetworkEditor::refreshForm);
    connect(m_model, &LayerStackModel::layersChanged, this, &NetworkEditor::modelEdited);
    connect(m_model, &LayerStackModel::reportChanged, this, &NetworkEditor::onReportChanged);
    connect(m_model, &LayerStackModel::blockDropped, this,
            [this](const QString& block, int after) { m_graph->view()->insertBlock(block, after); });

    m_lastValid = m_model->isValid();
    m_lastReason = m_model->invalidReason();
    onReportChanged();
    refreshForm();
}

NetworkEditor::~NetworkEditor() {
    // Commands hold the model; drop them before the model goes.
    m_undoStack->clear();
}

void NetworkEditor::buildPalette() {
    for (const LayerGroup& group : LayerCatalog::groups()) {
        auto* groupItem = new QTreeWidgetItem(m_palette, {group.name});
        groupItem->setFlags(Qt::ItemIsEnabled);
        for (LayerType type : group.types) {
            auto* item = new QTreeWidgetItem(groupItem, {LayerCatalog::displayName(type)});
            item->setData(0, kTypeRole, LayerCatalog::typeName(type));
            QStringList keys;
            for (const LayerField& field : LayerCatalog::fields(type))
                keys << field.key;
            item->setToolTip(0, keys.isEmpty()
                                    ? LayerCatalog::typeName(type)
                                    : QStringLiteral("%1: %2").arg(LayerCatalog::typeName(type),
                                                                   keys.join(QStringLiteral(", "))));
            item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsSelectable | Qt::ItemIsDragEnabled);
        }
    }
    auto* blocks = new QTreeWidgetItem(m_palette, {tr("Blocks")});
    blocks->setFlags(Qt::ItemIsEnabled);
    for (const QString& name : GraphEdits::blockNames()) {
        auto* item = new QTreeWidgetItem(blocks, {name});
        item->setData(0, kBlockRole, name);
        item->setToolTip(0, tr("Double-click: add a %1 of named layers after the current layer; or drag it "
                               "after a layer of the stack or the graph")
                                .arg(name.toLower()));
        item->setFlags(Qt::ItemIsEnabled | Qt::ItemIsSelectable | Qt::ItemIsDragEnabled);
    }
    m_palette->expandAll();
    // Every layer's name in full: the splitter may not squeeze the palette below it.
    // Groups as bold headings without expand arrows: the names keep the width the arrows took.
    m_palette->setRootIsDecorated(false);
    m_palette->setIndentation(8);
    for (int group = 0; group < m_palette->topLevelItemCount(); ++group) {
        QFont bold = m_palette->font();
        bold.setBold(true);
        m_palette->topLevelItem(group)->setFont(0, bold);
    }
    int widest = m_palette->fontMetrics().horizontalAdvance(m_palette->headerItem()->text(0));
    for (int group = 0; group < m_palette->topLevelItemCount(); ++group) {
        const QTreeWidgetItem* groupItem = m_palette->topLevelItem(group);
        widest = std::max(widest, QFontMetrics(groupItem->font(0)).horizontalAdvance(groupItem->text(0)));
        for (int child = 0; child < groupItem->childCount(); ++child)
            widest = std::max(widest, m_palette->indentation() + m_palette->fontMetrics().horizontalAdvance(
                                                                     groupItem->child(child)->text(0)));
    }
    m_palette->setMinimumWidth(widest + 2 * m_palette->frameWidth() + 10);
}

void NetworkEditor::setModel(const ModelSpec& spec) {
    m_undoStack->clear();
    m_rowBeforeReset = -1;
    m_model->resetModel(spec);
    m_graph->view()->networkReplaced();
}

GraphView* NetworkEditor::graphView() const {
    return m_graph->view();
}

void NetworkEditor::showGraph(bool graph) {
    m_views->setCurrentIndex(graph ? 1 : 0);
}

void NetworkEditor::insertBlock(const QString& name) {
    m_graph->view()->insertBlock(name, currentRow() < 0 ? m_model->layerCount() - 1 : currentRow());
}

const ModelSpec& NetworkEditor::model() const {
    return m_model->modelSpec();
}

void NetworkEditor::setInputShape(const Shape& shape) {
    m_model->setInputShape(shape);
}

void NetworkEditor::setOutputTarget(const OutputTarget& target) {
    m_model->setOutputTarget(target);
}

// A layer field holding a refused value makes the network invalid too, with that field's reason.
bool NetworkEditor::isValid() const {
    return m_model->isValid() && invalidFieldProblems(m_formBox).isEmpty() && wiringProblem().isEmpty();
}

QString NetworkEditor::invalidReason() const {
    if (const QString problem = wiringProblem(); !problem.isEmpty())
        return problem;
    const QStringList problems = invalidFieldProblems(m_formBox);
    return problems.isEmpty() ? m_model->invalidReason() : problems.first();
}

int NetworkEditor::currentRow() const {
    const QModelIndex current = m_view->selectionModel()->currentIndex();
    return current.isValid() ? current.row() : -1;
}

void NetworkEditor::setCurrentRow(int row) {
    if (row < 0 || row >= m_model->layerCount()) {
        m_view->selectionModel()->clear();
        refreshForm();
        return;
    }
    m_view->selectionModel()->setCurrentIndex(m_model->index(row, LayerStackModel::LayerColumn),
                                              QItemSelectionModel::ClearAndSelect |
                                                  QItemSelectionModel::Rows);
}

void NetworkEditor::addLayer(LayerType type) {
    const int row = currentRow() < 0 ? m_model->layerCount() : currentRow() + 1;
    m_undoStack->push(new InsertLayerCommand(m_model, row, LayerCatalog::defaultLayer(type)));
}

void NetworkEditor::removeCurrentLayer() {
    const int row = currentRow();
    if (row >= 0)
        m_undoStack->push(new RemoveLayerCommand(m_model, row));
}

void NetworkEditor::moveCurrentLayer(int delta) {
    const int row = currentRow();
    const int to = row + delta;
    if (row >= 0 && to >= 0 && to < m_model->layerCount() && to != row)
        m_undoStack->push(new MoveLayerCommand(m_model, row, to));
}

void NetworkEditor::duplicateCurrentLayer() {
    const int row = currentRow();
    if (row < 0)
        return;
    const LayerSpec copy = m_model->layer(row);
    m_undoStack->push(new InsertLayerCommand(m_model, row + 1, copy,
                                             tr("Duplicate %1").arg(LayerCatalog::typeName(copy.type))));
}

void NetworkEditor::applyTemplate(const QString& name) {
    const ModelSpec spec = LayerCatalog::templateModel(name, m_model->inputShape(), m_model->outputTarget());
    if (spec.layers.empty())
        return;
    m_undoStack->push(new ReplaceModelCommand(m_model, spec, tr("Template %1").arg(name)));
}

LayerType NetworkEditor::paletteType() const {
    if (const QTreeWidgetItem* item = m_palette->currentItem()) {
        if (const auto type = LayerCatalog::typeFromName(item->data(0, kTypeRole).toString()))
            return *type;
    }
    return LayerType::Linear;
}

void NetworkEditor::setFrozenLayers(int layers) {
    if (layers == m_frozenLayers)
        return;
    m_frozenLayers = layers;
    onReportChanged();
}

void NetworkEditor::onReportChanged() {
    const ShapeReport& report = m_model->report();
    const int layers = m_model->layerCount();
    int64_t frozen = 0;
    const auto& specLayers = m_model->modelSpec().layers;
    for (const LayerShape& shape : report.layers)
        if (shape.index < m_frozenLayers || (shape.index < static_cast<int>(specLayers.size()) &&
                                             specLayers[shape.index].lrMultiplier == 0.0))
            frozen += shape.params;
    const QString parameters = frozen > 0
                                   ? tr("%1 parameters (%2 trainable, %3 frozen)")
                                         .arg(formatCount(report.totalParams),
                                              formatCount(report.totalParams - frozen), formatCount(frozen))
                                   : tr("%1 parameters").arg(formatCount(report.totalParams));
    QString totals = layers == 1 ? tr("1 layer") : tr("%1 layers").arg(layers);
    if (!m_model->inputKnown()) {
        totals += tr("; parameters and FLOPs once the data is loaded");
    } else {
        totals += tr(", %1, %2 FLOPs per sample").arg(parameters, formatCompact(report.totalFlops));
        if (!report.output.empty())
            totals += tr(", output %1").arg(QString::fromStdString(formatShape(report.output)));
        else if (layers > 0)
            totals += tr(" (layers up to the first invalid one)");
    }
    m_totals->setText(totals);

    const bool valid = isValid();
    const QString reason = invalidReason();
    m_status->setText(valid ? QString() : reason);
    // Waiting for the data is not the network's fault: say it in grey, not in red.
    m_status->setStyleSheet(m_model->inputKnown() ? QStringLiteral("color: #b00020;")
                                                  : QStringLiteral("color: #5f6368;"));
    m_status->setVisible(!valid);
    if (valid != m_lastValid || reason != m_lastReason) {
        m_lastValid = valid;
        m_lastReason = reason;
        Q_EMIT validityChanged(valid, reason);
    }
}

void NetworkEditor::updateActions() {
    const int row = currentRow();
    m_removeAction->setEnabled(row >= 0);
    m_duplicateAction->setEnabled(row >= 0);
    m_upAction->setEnabled(row > 0);
    m_downAction->setEnabled(row >= 0 && row + 1 < m_model->layerCount());
}

void NetworkEditor::refreshForm() {
    updateActions();
    const int row = currentRow();
    if (row >= 0 && row == m_formRow && m_model->layer(row).type == m_formType)
        updateFormValues(row);
    else
        rebuildForm(row);
}

QString NetworkEditor::layerPath(int row) {
    return QStringLiteral("model.layers[%1]").arg(row);
}

void NetworkEditor::setSearchedPaths(const QStringList& paths) {
    m_searchedPaths = paths;
}

QString NetworkEditor::layerJson(int row) const {
    // The layer exactly as the experiment file writes it.
    ExperimentSpec spec = defaultExperiment();
    spec.model = m_model->modelSpec();
    return QString::fromStdString(valueAtPath(experimentSpecToJson(spec, -1), layerPath(row).toStdString()));
}

void NetworkEditor::showLayerMenu(const QPoint& position) {
    const QModelIndex index = m_view->indexAt(position);
    if (!index.isValid() || index.row() >= m_model->layerCount())
        return;
    const int row = index.row();
    setCurrentRow(row);
    const QString path = layerPath(row);
    QMenu menu;
    QAction* search = menu.addAction(tr("Search over %1…").arg(path));
    search->setObjectName(QStringLiteral("searchOver"));
    if (m_searchedPaths.contains(path)) {
        search->setCheckable(true);
        search->setChecked(true);
    }
    connect(search, &QAction::triggered, this,
            [this, row, path] { Q_EMIT searchRequested(path, layerJson(row)); });
    menu.addSeparator();
    for (QAction* action : {m_duplicateAction, m_upAction, m_downAction, m_removeAction})
        menu.addAction(action);
    menu.exec(m_view->viewport()->mapToGlobal(position));
}

} // namespace tunelab
