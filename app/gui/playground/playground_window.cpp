#include "playground/playground_window.h"

#include "playground/playground_panel.h"
#include "playground/trajectories.h"

#include <QVBoxLayout>

namespace tunelab {

namespace {

// A failed computation (an option LibTorch rejects) shows as an empty path; the panel marks it.
Trajectory computeTrajectory(const Surface& surface, const OptimizerSpec& optimizer, double x0, double y0,
                             int steps) {
    auto result = optimizerTrajectory(surface, optimizer, x0, y0, steps);
    return result.ok() ? result.take() : Trajectory{};
}

} // namespace

PlaygroundWindow::PlaygroundWindow(QWidget* parent)
    : QWidget(parent, Qt::Window) {
    setAttribute(Qt::WA_DeleteOnClose);
    setWindowTitle(tr("Loss-landscape playground"));
    m_panel = new PlaygroundPanel(&computeTrajectory, this);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_panel);
    resize(1200, 750);
}

} // namespace tunelab
