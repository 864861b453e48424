#pragma once

#include <QImage>
#include <QList>
#include <QWidget>

class QCheckBox;
class QLabel;
class QPushButton;

namespace tunelab {

class SampleGrid;

// A grid of training images after augmentation (4 x 4 for 16), each with its label, or a message in
// its place (the data is not images, the augment section does not suit it, the data does not load).
// "Originals" shows the same rows unchanged; "Draw again" asks for new random draws. It only shows
// what it is given: the window draws the images with the engine off the GUI thread.
class AugmentPreviewView : public QWidget {
    Q_OBJECT

public:
    struct Sample {
        QImage original;
        QImage augmented;
        QString caption; // the label, e.g. "7", or "3 · 72% + 7" when mixup blends two
    };

    explicit AugmentPreviewView(QWidget* parent = nullptr);

    void setSamples(const QList<Sample>& samples);
    // Shown in place of the grid; `problem` shows it as an error rather than a note.
    void setMessage(const QString& message, bool problem = false);

    QList<Sample> samples() const { return m_samples; }
    QString message() const; // empty while the grid shows
    bool showsOriginals() const;
    // The grid as painted now (for tests and a look): images, captions and all.
    QImage gridImage() const;

Q_SIGNALS:
    void redrawRequested();

private:
    QList<Sample> m_samples;
    SampleGrid* m_grid = nullptr;
    QLabel* m_message = nullptr;
    QCheckBox* m_originals = nullptr;
    QPushButton* m_redraw = nullptr;
};

} // namespace tunelab
