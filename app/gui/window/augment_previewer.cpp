#include "window/augment_previewer.h"

#include "common/qt_text.h"
#include "experiment/augment_preview_view.h"
#include "experiment/sample_image.h"
#include "training/augment_preview.h"

#include <QApplication>
#include <QEvent>
#include <QPointer>
#include <QTimer>

#include <algorithm>
#include <chrono>
#include <cmath>

namespace tunelab {

namespace {

QString targetText(const Dataset& data, float target) {
    if (data.task != TaskKind::Classification)
        return QString::number(target, 'g', 3);
    const auto index = static_cast<size_t>(std::max(0.0f, target));
    return index < data.classNames.size() ? fromStd(data.classNames[index]) : QString::number(index);
}

// The engine's floats as the view's images and captions; on the worker thread (QImage is not a widget).
QList<AugmentPreviewView::Sample> viewSamples(const AugmentPreview& preview, const Dataset& data) {
    const auto channels = static_cast<int>(preview.sampleShape[0]);
    const auto height = static_cast<int>(preview.sampleShape[1]);
    const auto width = static_cast<int>(preview.sampleShape[2]);
    QList<AugmentPreviewView::Sample> samples;
    for (size_t i = 0; i < preview.augmented.size(); ++i) {
        const PreviewSample& original = preview.original[i];
        const PreviewSample& augmented = preview.augmented[i];
        AugmentPreviewView::Sample sample;
        sample.original = sampleImage(original.pixels.data(), channels, height, width);
        sample.augmented = sampleImage(augmented.pixels.data(), channels, height, width);
        sample.caption = targetText(data, augmented.target);
        if (augmented.mix < 1.0)
            sample.caption = QStringLiteral("%1 · %2% + %3")
                                 .arg(sample.caption)
                                 .arg(std::lround(augmented.mix * 100.0))
                                 .arg(targetText(data, augmented.partnerTarget));
        samples << sample;
    }
    return samples;
}

} // namespace

AugmentPreviewer::AugmentPreviewer(AugmentPreviewView* view, QObject* parent)
    : QObject(parent)
    , m_view(view)
    , m_delay(new QTimer(this)) {
    m_delay->setSingleShot(true);
    m_delay->setInterval(kDelayMs);
    connect(m_delay, &QTimer::timeout, this, &AugmentPreviewer::draw);
    connect(m_view, &AugmentPreviewView::redrawRequested, this, [this] {
        ++m_draws;
        scheduleDraw();
    });
    m_view->installEventFilter(this);
}

AugmentPreviewer::~AugmentPreviewer() = default; // the futures wait for their jobs

void AugmentPreviewer::setExperiment(const ExperimentSpec& spec, std::shared_ptr<const Dataset> data,
                                     const QString& dataError) {
    m_spec = spec;
    m_data = std::move(data);
    m_dataError = dataError;
    scheduleDraw();
}

void AugmentPreviewer::drawNow() {
    m_drawnKey.clear();
    draw();
}

bool AugmentPreviewer::eventFilter(QObject* watched, QEvent* event) {
    if (watched == m_view && event->type() == QEvent::Show)
        scheduleDraw(); // caught up once the tab shows
    return QObject::eventFilter(watched, event);
}

void AugmentPreviewer::scheduleDraw() {
    if (m_view->isVisible())
        m_delay->start();
}

void AugmentPreviewer::draw() {
    m_delay->stop();
    // What the draw depends on: the data as loaded, its split and the section, the loss (mixup) and
    // the seeds. The same key shows the same images, so nothing is drawn again.
    ExperimentSpec inputs;
    inputs.data = m_spec.data;
    inputs.augment = m_spec.augment;
    inputs.loss = m_spec.loss;
    inputs.distill = m_spec.distill;
    inputs.seed = m_spec.seed;
    const QString key = QStringLiteral("%1 %2 %3")
                            .arg(reinterpret_cast<quintptr>(m_data.get()))
                            .arg(m_draws)
                            .arg(fromStd(experimentSpecToJson(inputs, -1)));
    if (key == m_drawnKey)
        return;
    m_drawnKey = key;
    const quint64 request = ++m_request;
    if (!m_data) {
        m_view->setMessage(tr("No preview while the data does not load: %1").arg(m_dataError), true);
        Q_EMIT shown();
        return;
    }
    m_jobs.erase(std::remove_if(m_jobs.begin(), m_jobs.end(),
                                [](const std::future<void>& job) {
                                    return job.wait_for(std::chrono::seconds(0)) == std::future_status::ready;
                                }),
                 m_jobs.end());
    // Off the GUI thread: rotating or zooming large images, or standardizing a large data set first,
    // takes longer than a frame. The data is shared, so it stays alive while the job reads it.
    QPointer<AugmentPreviewer> self(this);
    m_jobs.push_back(std::async(
        std::launch::async, [self, request, spec = m_spec, data = m_data, seed = m_spec.seed + m_draws] {
            auto preview = augmentPreview(spec, *data, kSamples, seed);
            const bool images = data->sampleShape.size() == 3;
            QList<AugmentPreviewView::Sample> samples;
            if (preview.ok())
                samples = viewSamples(preview.value(), *data);
            QMetaObject::invokeMethod(
                qApp,
                [self, request, images, samples, error = fromStd(preview.error())] {
                    if (!self || request != self->m_request)
                        return; // a newer draw is on its way
                    if (error.isEmpty())
                        self->m_view->setSamples(samples);
                    else // not images: a note, not a fault
                        self->m_view->setMessage(tr("No preview: %1").arg(error), images);
                    Q_EMIT self->shown();
                },
                Qt::QueuedConnection);
        }));
}

} // namespace tunelab
