// The Tools menu (the optimizer race, the learning-rate range test and the loss-landscape playground)
// and the Help dialogs.

#include "window/main_window.h"
#include "window/shortcut_table.h"

#include "playground/playground_window.h"
#include "race/lr_range_dialog.h"
#include "race/race_window.h"

#include "experiment/training_form.h"
#include "runs/runs_table_model.h"
#include "store/run_store.h"

#include <QAction>
#include <QCoreApplication>
#include <QMenu>
#include <QMenuBar>
#include <QMessageBox>
#include <QStatusBar>

namespace tunelab {

void MainWindow::createToolsMenu() {
    auto* tools = new QMenu(tr("&Tools"), this);
    // Before Help, where users look for it.
    const QList<QAction*> menus = menuBar()->actions();
    menuBar()->insertMenu(menus.isEmpty() ? nullptr : menus.last(), tools);

    QAction* race = tools->addAction(tr("Optimizer &race…"), this, &MainWindow::openRaceWindow);
    race->setObjectName(QStringLiteral("optimizerRaceAction"));
    race->setStatusTip(
        tr("Train the experiment once per optimizer set-up, all from the same weights and data order"));
    QAction* rangeTest =
        tools->addAction(tr("&Learning-rate range test…"), this, &MainWindow::openLrRangeTest);
    rangeTest->setObjectName(QStringLiteral("lrRangeTestAction"));
    rangeTest->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_L));
    rangeTest->setStatusTip(tr("Find a learning rate: a short run whose rate grows exponentially"));
    QAction* playground =
        tools->addAction(tr("Loss-landscape &playground…"), this, &MainWindow::openPlayground);
    playground->setObjectName(QStringLiteral("playgroundAction"));
    playground->setStatusTip(tr("Watch optimizers' paths on 2-D test surfaces"));
}

RaceWindow* MainWindow::openRaceWindow() {
    auto* window = new RaceWindow(m_store.get(), m_spec, this);
    window->setAttribute(Qt::WA_DeleteOnClose);
    window->setInteractive(m_interactive);
    // The race's runs are recorded in the store: the runs table lists them when it ends.
    connect(window, &RaceWindow::raceFinished, this, [this] {
        if (!m_store)
            return;
        for (const auto& record : m_store->listRuns()) {
            if (!m_runsModel->contains(record.id))
                m_runsModel->upsertRun(record);
        }
    });
    window->show();
    return window;
}

LrRangeTestDialog* MainWindow::openLrRangeTest() {
    auto* dialog = new LrRangeTestDialog(m_spec, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &LrRangeTestDialog::applyLearningRate, this, &MainWindow::applyLearningRate);
    dialog->open();
    return dialog;
}

PlaygroundWindow* MainWindow::openPlayground() {
    auto* window = new PlaygroundWindow(this);
    window->setWindowFlag(Qt::Window);
    window->setAttribute(Qt::WA_DeleteOnClose);
    window->show();
    return window;
}

void MainWindow::applyLearningRate(double learningRate) {
    m_spec.optimizer.lr = learningRate;
    m_loadingPanels = true;
    m_trainingForm->setSpec(m_spec);
    m_loadingPanels = false;
    syncSpecFromPanels();
    statusBar()->showMessage(tr("Learning rate set to %1").arg(learningRate, 0, 'g', 3), 5000);
}

// The table comes from the window's own actions, so it always says what the keys do.
void MainWindow::showShortcuts() {
    QString text = QStringLiteral("<table>");
    for (const ShortcutEntry& entry : windowShortcuts(this)) {
        text += QStringLiteral("<tr><td><b>%1</b></td><td>%2</td></tr>")
                    .arg(entry.keys.toString(QKeySequence::NativeText).toHtmlEscaped(),
                         entry.what.toHtmlEscaped());
    }
    text += QStringLiteral("</table>");
    auto* box =
        new QMessageBox(QMessageBox::NoIcon, tr("Keyboard Shortcuts"), text, QMessageBox::Close, this);
    box->setObjectName(QStringLiteral("shortcutsBox"));
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->open();
}

void MainWindow::showAbout() {
    QMessageBox::about(
        this, tr("About TuneLab"),
        tr("<b>TuneLab %1</b><p>A workbench for training and tuning neural networks, "
           "with LibTorch underneath. Runs are kept in %2.</p>")
            .arg(QCoreApplication::applicationVersion(),
                 m_store ? QString::fromStdString(m_store->path()) : tr("memory only (no run store)")));
}

} // namespace tunelab
