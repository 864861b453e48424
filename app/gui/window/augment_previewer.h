#pragma once

#include "data/dataset.h"
#include "spec/spec.h"

#include <QObject>
#include <QString>

#include <cstdint>
#include <future>
#include <memory>
#include <vector>

class QTimer;

namespace tunelab {

class AugmentPreviewView;

// Keeps the Augment tab's grid in step with the experiment: a short while after the augment section,
// the data or the seed change, it draws the preview with the engine's augmentPreview off the GUI thread
// (the newest request wins; the images are made there too) and shows the images, or in their place why
// there are none. Nothing is drawn while the grid is hidden; it catches up when it shows.
class AugmentPreviewer : public QObject {
    Q_OBJECT

public:
    static constexpr int kSamples = 16; // a 4 x 4 grid
    static constexpr int kDelayMs = 150;

    explicit AugmentPreviewer(AugmentPreviewView* view, QObject* parent = nullptr);
    ~AugmentPreviewer() override; // waits for a draw in progress

    // GUI thread: the experiment as the panels show it, and its data as loaded (null when it does not
    // load, with the reason).
    void setExperiment(const ExperimentSpec& spec, std::shared_ptr<const Dataset> data,
                       const QString& dataError);
    // Starts the draw now rather than after the delay (tests; the grid must be visible).
    void drawNow();

Q_SIGNALS:
    // The grid shows a new draw, or a message in its place.
    void shown();

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    void scheduleDraw();
    void draw();

    AugmentPreviewView* m_view = nullptr;
    QTimer* m_delay = nullptr;
    ExperimentSpec m_spec;
    std::shared_ptr<const Dataset> m_data;
    QString m_dataError;
    QString m_drawnKey;   // what the grid shows was drawn from
    uint64_t m_draws = 0; // Draw Again: each one a new seed
    quint64 m_request = 0;
    std::vector<std::future<void>> m_jobs;
};

} // namespace tunelab
