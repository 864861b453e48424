#include "experiment/augment_preview_view.h"

#include <QCheckBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QPainter>
#include <QPushButton>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace tunelab {

namespace {

constexpr int kGap = 6;
constexpr int kCaptionHeight = 16;
constexpr int kMinimumCell = 40;

} // namespace

// Paints the images in a square-ish grid, scaled up with their pixels kept sharp (an 8x8 digit shows
// its 64 pixels, so a one-pixel shift is visible), each caption below its image.
class SampleGrid : public QWidget {
public:
    explicit SampleGrid(QWidget* parent = nullptr)
        : QWidget(parent) {
        setMinimumSize(4 * (kMinimumCell + kGap) + kGap, 4 * (kMinimumCell + kCaptionHeight + kGap));
        setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
    }

    void setImages(const QList<QImage>& images, const QStringList& captions) {
        m_images = images;
        m_captions = captions;
        update();
    }

    int columns() const { return std::max(1, static_cast<int>(std::ceil(std::sqrt(m_images.size())))); }

protected:
    void paintEvent(QPaintEvent*) override {
        QPainter painter(this);
        painter.fillRect(rect(), palette().base());
        if (m_images.isEmpty())
            return;
        const int across = columns();
        const int down = (static_cast<int>(m_images.size()) + across - 1) / across;
        const int cell = std::max(8, std::min((width() - kGap * (across + 1)) / across,
                                              (height() - kGap * (down + 1)) / down - kCaptionHeight));
        const int left = (width() - (across * cell + (across - 1) * kGap)) / 2;
        painter.setPen(palette().text().color());
        for (int index = 0; index < m_images.size(); ++index) {
            const int x = left + (index % across) * (cell + kGap);
            const int y = kGap + (index / across) * (cell + kCaptionHeight + kGap);
            const QImage& image = m_images[index];
            // The whole image in a square cell, its proportions kept.
            const QSize shown = image.size().scaled(cell, cell, Qt::KeepAspectRatio);
            const QRect target(x + (cell - shown.width()) / 2, y + (cell - shown.height()) / 2, shown.width(),
                               shown.height());
            painter.drawImage(target, image);
            if (index < m_captions.size())
                painter.drawText(QRect(x - kGap / 2, y + cell, cell + kGap, kCaptionHeight),
                                 Qt::AlignCenter | Qt::TextSingleLine, m_captions[index]);
        }
    }

private:
    QList<QImage> m_images;
    QStringList m_captions;
};

AugmentPreviewView::AugmentPreviewView(QWidget* parent)
    : QWidget(parent) {
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    auto* buttons = new QHBoxLayout;
    m_redraw = new QPushButton(tr("Draw Again"));
    m_redraw->setObjectName(QStringLiteral("redrawButton"));
    m_redraw->setToolTip(tr("New random draws for the same images"));
    m_originals = new QCheckBox(tr("Originals"));
    m_originals->setObjectName(QStringLiteral("originalsCheck"));
    m_originals->setToolTip(tr("Show the images as the data holds them, before augmentation"));
    buttons->addWidget(m_redraw);
    buttons->addWidget(m_originals);
    buttons->addStretch(1);
    layout->addLayout(buttons);
    m_message = new QLabel;
    m_message->setObjectName(QStringLiteral("previewMessage"));
    m_message->setWordWrap(true);
    m_message->setTextFormat(Qt::PlainText);
    m_message->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_message->setAlignment(Qt::AlignLeft | Qt::AlignTop);
    m_message->setMargin(8);
    layout->addWidget(m_message);
    m_grid = new SampleGrid;
    m_grid->setObjectName(QStringLiteral("sampleGrid"));
    layout->addWidget(m_grid, 1);
    connect(m_redraw, &QPushButton::clicked, this, &AugmentPreviewView::redrawRequested);
    connect(m_originals, &QCheckBox::toggled, this, [this] { setSamples(m_samples); });
    setMessage(tr("No preview yet"));
}

void AugmentPreviewView::setSamples(const QList<Sample>& samples) {
    m_samples = samples;
    QList<QImage> images;
    QStringList captions;
    for (const Sample& sample : samples) {
        images << (m_originals->isChecked() ? sample.original : sample.augmented);
        captions << sample.caption;
    }
    m_grid->setImages(images, captions);
    m_message->clear();
    m_message->hide();
    m_grid->show();
    m_redraw->setEnabled(true);
    m_originals->setEnabled(true);
}

void AugmentPreviewView::setMessage(const QString& message, bool problem) {
    m_samples.clear();
    m_grid->setImages({}, {});
    m_grid->hide();
    m_message->setText(message);
    m_message->setStyleSheet(problem ? QStringLiteral("color: #b00020;") : QString());
    m_message->show();
    m_redraw->setEnabled(false);
    m_originals->setEnabled(false);
}

QString AugmentPreviewView::message() const {
    return m_message->isVisibleTo(this) ? m_message->text() : QString();
}

bool AugmentPreviewView::showsOriginals() const {
    return m_originals->isChecked();
}

QImage AugmentPreviewView::gridImage() const {
    return m_grid->grab().toImage();
}

} // namespace tunelab
