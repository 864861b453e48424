#pragma once

#include <QWidget>

namespace tunelab {

class PlaygroundPanel;

// The loss-landscape playground in a window of its own (docs/playground.md): the
// PlaygroundPanel fed with paths from the real LibTorch optimizers. Deletes itself when closed.
class PlaygroundWindow : public QWidget {
    Q_OBJECT

public:
    explicit PlaygroundWindow(QWidget* parent = nullptr);

    PlaygroundPanel* panel() const { return m_panel; }

private:
    PlaygroundPanel* m_panel = nullptr;
};

} // namespace tunelab
