// The experiment dock: the name, then the Data, Network, Training and Augment tabs; the Edit menu's
// undo and redo, which act on the network or the augment section, whichever tab is in front.

#include "window/augment_previewer.h"
#include "window/main_window.h"

#include "common/qt_text.h"
#include "experiment/augment_form.h"
#include "experiment/augment_preview_view.h"
#include "experiment/data_form.h"
#include "experiment/network_editor.h"
#include "experiment/training_form.h"
#include "training/devices.h"

#include <QAction>
#include <QBoxLayout>
#include <QDockWidget>
#include <QEvent>
#include <QFormLayout>
#include <QGroupBox>
#include <QLineEdit>
#include <QMenu>
#include <QScrollArea>
#include <QTabWidget>
#include <QUndoGroup>
#include <QUndoStack>
#include <QVBoxLayout>

#include <cmath>

namespace tunelab {

namespace {

// Lays a tab's two parts side by side while its panel is wide enough for both, else one above the
// other: at the dock's usual width the Augment tab shows its form and its preview without scrolling.
class SideBySideWhenWide : public QObject {
public:
    SideBySideWhenWide(QBoxLayout* layout, QWidget* first, int secondWidth, QObject* parent)
        : QObject(parent)
        , m_layout(layout)
        , m_first(first)
        , m_secondWidth(secondWidth) {}

    bool eventFilter(QObject* watched, QEvent* event) override {
        if (event->type() == QEvent::Resize) {
            const int needed = m_first->sizeHint().width() + m_secondWidth + m_layout->spacing();
            m_layout->setDirection(static_cast<QWidget*>(watched)->width() >= needed
                                       ? QBoxLayout::LeftToRight
                                       : QBoxLayout::TopToBottom);
        }
        return QObject::eventFilter(watched, event);
    }

private:
    QBoxLayout* m_layout;
    QWidget* m_first;
    int m_secondWidth;
};

QScrollArea* scrolled(QWidget* panel) {
    auto* area = new QScrollArea;
    area->setWidget(panel);
    area->setWidgetResizable(true);
    area->setFrameShape(QFrame::NoFrame);
    return area;
}

} // namespace

void MainWindow::createPanels() {
    m_experimentTabs = new QTabWidget;
    m_dataForm = new DataForm;
    m_trainingForm = new TrainingForm;
    offerDevices(m_trainingForm);
    m_networkEditor = new NetworkEditor;
    m_experimentTabs->addTab(scrolled(m_dataForm), tr("&Data"));
    m_experimentTabs->addTab(scrolled(m_networkEditor), tr("&Network"));
    m_experimentTabs->addTab(scrolled(m_trainingForm), tr("&Training"));
    createAugmentTab();

    // The experiment's name names its runs, the title and exported files.
    auto* experimentPanel = new QWidget;
    auto* panelLayout = new QVBoxLayout(experimentPanel);
    panelLayout->setContentsMargins(0, 0, 0, 0);
    auto* nameRow = new QFormLayout;
    nameRow->setContentsMargins(6, 6, 6, 0);
    m_nameEdit = new QLineEdit;
    m_nameEdit->setObjectName(QStringLiteral("experimentName"));
    nameRow->addRow(tr("&Name"), m_nameEdit);
    panelLayout->addLayout(nameRow);
    panelLayout->addWidget(m_experimentTabs, 1);
    connect(m_nameEdit, &QLineEdit::textEdited, this, &MainWindow::syncSpecFromPanels);

    auto* dock = new QDockWidget(tr("Experiment"), this);
    dock->setObjectName(QStringLiteral("experimentDock"));
    dock->setWidget(experimentPanel);
    dock->setMinimumWidth(360);
    addDockWidget(Qt::LeftDockWidgetArea, dock);
    m_viewMenu->addSeparator();
    m_viewMenu->addAction(dock->toggleViewAction());

    connect(m_dataForm, &DataForm::edited, this, &MainWindow::syncSpecFromPanels);
    connect(m_trainingForm, &TrainingForm::edited, this, &MainWindow::syncSpecFromPanels);
    connect(m_augmentForm, &AugmentForm::edited, this, &MainWindow::syncSpecFromPanels);
    connect(m_networkEditor, &NetworkEditor::modelEdited, this, &MainWindow::syncSpecFromPanels);
    connect(m_networkEditor, &NetworkEditor::validityChanged, this, &MainWindow::updateRunValidity);
    connect(m_dataForm, &DataForm::dataLoaded, this, [this](bool ok) {
        if (ok) {
            const Dataset& data = m_dataForm->dataset();
            const double fraction = m_spec.data.validationFraction;
            m_trainingForm->setTrainingRows(data.rows -
                                            static_cast<qint64>(std::llround(fraction * data.rows)));
        }
        updateNetworkTarget();
        updateAugmentation();
        updateRunValidity();
    });
}

// The augment section's form above the preview of its images. Edit › Undo and Redo act on the
// Augment tab's edits while it is in front, and on the network's otherwise.
void MainWindow::createAugmentTab() {
    m_augmentForm = new AugmentForm;
    m_augmentPreview = new AugmentPreviewView;
    m_augmentPreview->setObjectName(QStringLiteral("augmentPreview"));
    auto* panel = new QWidget;
    auto* layout = new QBoxLayout(QBoxLayout::TopToBottom, panel);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(m_augmentForm);
    auto* previewBox = new QGroupBox(tr("Training images, augmented"));
    auto* previewLayout = new QVBoxLayout(previewBox);
    previewLayout->addWidget(m_augmentPreview);
    layout->addWidget(previewBox, 1);
    panel->installEventFilter(new SideBySideWhenWide(layout, m_augmentForm, 200, panel));
    QScrollArea* area = scrolled(panel);
    m_experimentTabs->addTab(area, tr("&Augment"));
    m_augmentPreviewer = new AugmentPreviewer(m_augmentPreview, this);

    auto* undoGroup = new QUndoGroup(this);
    undoGroup->addStack(m_networkEditor->undoStack());
    undoGroup->addStack(m_augmentForm->undoStack());
    undoGroup->setActiveStack(m_networkEditor->undoStack());
    QAction* undo = undoGroup->createUndoAction(this, tr("Undo"));
    undo->setShortcut(QKeySequence::Undo);
    QAction* redo = undoGroup->createRedoAction(this, tr("Redo"));
    redo->setShortcut(QKeySequence::Redo);
    m_editMenu->addAction(undo);
    m_editMenu->addAction(redo);
    // The group's actions take the keys; the editor's own actions, which no menu holds here, give them up.
    m_networkEditor->undoAction()->setShortcuts({});
    m_networkEditor->redoAction()->setShortcuts({});
    connect(m_experimentTabs, &QTabWidget::currentChanged, this, [this, undoGroup, area] {
        undoGroup->setActiveStack(m_experimentTabs->currentWidget() == area ? m_augmentForm->undoStack()
                                                                            : m_networkEditor->undoStack());
    });
}

// The augment form's checks and the preview follow the experiment and its data's sample shape.
void MainWindow::updateAugmentation() {
    const bool loaded = m_dataForm->hasData();
    m_augmentForm->setContext(m_spec, loaded ? m_dataForm->dataset().sampleShape : Shape{});
    m_augmentPreviewer->setExperiment(m_spec, loaded ? m_dataForm->sharedDataset() : nullptr,
                                      m_dataForm->errorText());
}

void MainWindow::offerDevices(TrainingForm* form) {
    QStringList deviceIds, deviceNames;
    for (const DeviceInfo& device : availableDevices()) {
        deviceIds << fromStd(device.id);
        deviceNames << fromStd(device.name == device.id ? device.id : device.name + " (" + device.id + ")");
    }
    form->setDevices(deviceIds, deviceNames);
}

} // namespace tunelab
