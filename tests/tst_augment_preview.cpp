// The preview of augmented training images: the engine's draw (the same seed gives the same images,
// flips copy pixels exactly, standardized data is augmented as training does), the grid that shows it,
// and the window's Augment tab, which draws it off the GUI thread and shows a message where it cannot.

#include "common/number_field.h"
#include "data/dataset_cache.h"
#include "experiment/augment_form.h"
#include "experiment/augment_preview_view.h"
#include "training/augment_preview.h"
#include "window/augment_previewer.h"
#include "window/main_window.h"

#include "number_field_test_support.h"

#include <QAction>
#include <QCheckBox>
#include <QMenu>
#include <QMenuBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QTabWidget>
#include <QtTest>

#include <cmath>
#include <memory>

using namespace tunelab;

namespace {

QString digitsPath() {
    return QStringLiteral(TUNELAB_SHARED_DATA_DIR "/digits.csv");
}

// The digits read as 8x8 images, as resources/experiments/digits-cnn.json reads them.
ExperimentSpec digitsExperiment() {
    ExperimentSpec spec = defaultExperiment();
    spec.seed = 3;
    spec.data.kind = DataKind::Csv;
    spec.data.path = digitsPath().toStdString();
    spec.data.target = "digit";
    spec.data.scale = 0.0625;
    spec.data.inputShape = {1, 8, 8};
    spec.loss.type = LossType::CrossEntropy;
    return spec;
}

std::shared_ptr<const Dataset> load(const ExperimentSpec& spec) {
    auto loaded = loadDatasetCached(spec.data, spec.seed);
    return loaded.ok() ? loaded.take() : nullptr;
}

// A sample mirrored left to right.
std::vector<float> mirrored(const std::vector<float>& pixels, int64_t channels, int64_t height,
                            int64_t width) {
    std::vector<float> out(pixels.size());
    for (int64_t c = 0; c < channels; ++c)
        for (int64_t y = 0; y < height; ++y)
            for (int64_t x = 0; x < width; ++x)
                out[size_t((c * height + y) * width + x)] =
                    pixels[size_t((c * height + y) * width + width - 1 - x)];
    return out;
}

} // namespace

class TestAugmentPreview : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() {
        if (!QFile::exists(digitsPath()))
            QSKIP("../shared/data/digits.csv is not here");
    }

    // Nothing asked: the augmented images are the training rows as they are.
    void offLeavesTheImages() {
        const ExperimentSpec spec = digitsExperiment();
        const auto data = load(spec);
        QVERIFY(data);
        auto preview = augmentPreview(spec, *data, 16, spec.seed);
        QVERIFY2(preview.ok(), preview.error().c_str());
        QCOMPARE(preview.value().sampleShape, (Shape{1, 8, 8}));
        QCOMPARE(preview.value().augmented.size(), size_t(16));
        const DataSplit split = splitDataset(data->rows, spec.data.validationFraction, spec.seed);
        for (size_t i = 0; i < 16; ++i) {
            const PreviewSample& original = preview.value().original[i];
            QCOMPARE(original.row, split.train[i]); // training rows, never validation ones
            QCOMPARE(original.target, data->targets[size_t(original.row)]);
            QVERIFY(preview.value().augmented[i].pixels == original.pixels);
            QCOMPARE(preview.value().augmented[i].mix, 1.0);
        }
    }

    // A horizontal flip copies pixels: each image is itself or its mirror, and some are mirrored.
    void flipsMirrorExactly() {
        ExperimentSpec spec = digitsExperiment();
        spec.augment.flipHorizontal = true;
        const auto data = load(spec);
        auto preview = augmentPreview(spec, *data, 16, spec.seed);
        QVERIFY2(preview.ok(), preview.error().c_str());
        int flipped = 0;
        for (size_t i = 0; i < 16; ++i) {
            const std::vector<float>& original = preview.value().original[i].pixels;
            const std::vector<float>& augmented = preview.value().augmented[i].pixels;
            const bool same = augmented == original;
            const bool mirror = augmented == mirrored(original, 1, 8, 8);
            QVERIFY2(same || mirror,
                     qPrintable(QString("sample %1 is neither itself nor its mirror").arg(i)));
            flipped += mirror && !same;
        }
        QVERIFY2(flipped >= 2 && flipped <= 14, qPrintable(QString("%1 of 16 flipped").arg(flipped)));
    }

    // The same seed draws the same images; another seed draws others.
    void seededDraws() {
        ExperimentSpec spec = digitsExperiment();
        spec.augment.rotation = 20;
        spec.augment.noise = 0.05;
        spec.augment.cutout = 3;
        const auto data = load(spec);
        auto first = augmentPreview(spec, *data, 16, 11);
        auto again = augmentPreview(spec, *data, 16, 11);
        auto other = augmentPreview(spec, *data, 16, 12);
        QVERIFY(first.ok() && again.ok() && other.ok());
        int differ = 0;
        for (size_t i = 0; i < 16; ++i) {
            QVERIFY(first.value().augmented[i].pixels == again.value().augmented[i].pixels);
            QVERIFY(first.value().augmented[i].pixels != first.value().original[i].pixels);
            differ += first.value().augmented[i].pixels != other.value().augmented[i].pixels;
        }
        QCOMPARE(differ, 16);
    }

    // With standardize, training augments standardized values: a brightness draw adds one value per
    // sample there, which is that value times each pixel's deviation in the data's units. Without any
    // change the round trip gives the images back.
    void standardizedLikeTraining() {
        ExperimentSpec spec = digitsExperiment();
        spec.data.standardize = true;
        const auto data = load(spec);
        auto plain = augmentPreview(spec, *data, 8, 5);
        QVERIFY(plain.ok());
        for (size_t i = 0; i < 8; ++i)
            for (size_t j = 0; j < 64; ++j)
                QVERIFY(std::abs(plain.value().augmented[i].pixels[j] - plain.value().original[i].pixels[j]) <
                        1e-5f);
        spec.augment.brightness = 0.5;
        auto bright = augmentPreview(spec, *data, 8, 5);
        QVERIFY(bright.ok());
        const DataSplit split = splitDataset(data->rows, spec.data.validationFraction, spec.seed);
        const FeatureStandardization z = featureStandardization(*data, split.train);
        for (size_t i = 0; i < 8; ++i) {
            const auto& sample = bright.value().augmented[i].pixels;
            const auto& original = bright.value().original[i].pixels;
            const float shift = (sample[0] - original[0]) * z.factor[0];
            QVERIFY(std::abs(shift) > 1e-4f && std::abs(shift) <= 0.5f + 1e-4f);
            for (size_t j = 0; j < 64; ++j)
                QVERIFY2(std::abs((sample[j] - original[j]) * z.factor[j] - shift) < 1e-3f,
                         qPrintable(QString("sample %1 pixel %2").arg(i).arg(j)));
        }
    }

    // Mixup blends each image with a partner, labels too.
    void mixupNamesBothLabels() {
        ExperimentSpec spec = digitsExperiment();
        spec.augment.mixup = 0.4;
        const auto data = load(spec);
        auto preview = augmentPreview(spec, *data, 16, 2);
        QVERIFY2(preview.ok(), preview.error().c_str());
        const PreviewSample& sample = preview.value().augmented[0];
        QVERIFY(sample.mix > 0.0 && sample.mix < 1.0);
        for (const PreviewSample& other : preview.value().augmented)
            QCOMPARE(other.mix, sample.mix); // one weight per batch, as in training
        bool partnerFound = false;           // the partner is another row of the same batch
        for (size_t j = 1; j < preview.value().original.size(); ++j)
            partnerFound |= preview.value().original[j].target == sample.partnerTarget;
        QVERIFY(partnerFound);
    }

    // No images, or a section that does not suit them: the reason, naming the key.
    void refusesWhatItCannotShow_data() {
        QTest::addColumn<bool>("table");
        QTest::addColumn<int>("cutout");
        QTest::addColumn<int>("loss");
        QTest::addColumn<QString>("message");
        QTest::newRow("tabular") << true << 0 << int(LossType::CrossEntropy)
                                 << "the preview shows image samples ([channels, height, width]); this "
                                    "experiment's samples are [64]";
        QTest::newRow("cutout") << false << 12 << int(LossType::CrossEntropy)
                                << "augment.cutout: a 12-pixel square is larger than the 8x8 images";
        QTest::newRow("mixup with mse") << false << 0 << int(LossType::Mse) << "augment.mixup: mixup mixes";
    }
    void refusesWhatItCannotShow() {
        QFETCH(bool, table);
        QFETCH(int, cutout);
        QFETCH(int, loss);
        QFETCH(QString, message);
        ExperimentSpec spec = digitsExperiment();
        if (table)
            spec.data.inputShape.clear();
        spec.augment.cutout = cutout;
        spec.loss.type = static_cast<LossType>(loss);
        if (spec.loss.type == LossType::Mse)
            spec.augment.mixup = 0.2;
        const auto data = load(spec);
        QVERIFY(data);
        auto preview = augmentPreview(spec, *data, 16, 1);
        QVERIFY(!preview.ok());
        QVERIFY2(QString::fromStdString(preview.error()).startsWith(message), preview.error().c_str());
    }

    // The grid shows what it is given, or a message in its place.
    void viewShowsImagesOrAMessage() {
        AugmentPreviewView view;
        view.resize(320, 360);
        view.show();
        QVERIFY(!view.message().isEmpty()); // nothing drawn yet
        QImage red(8, 8, QImage::Format_RGB32), blue(8, 8, QImage::Format_RGB32);
        red.fill(Qt::red);
        blue.fill(Qt::blue);
        QList<AugmentPreviewView::Sample> samples;
        for (int i = 0; i < 16; ++i)
            samples << AugmentPreviewView::Sample{blue, red, QString::number(i % 10)};
        view.setSamples(samples);
        QVERIFY(view.message().isEmpty());
        QImage grid = view.gridImage();
        QVERIFY(!grid.isNull());
        auto count = [](const QImage& image, QColor colour) {
            int n = 0;
            for (int y = 0; y < image.height(); ++y)
                for (int x = 0; x < image.width(); ++x)
                    n += image.pixelColor(x, y) == colour;
            return n;
        };
        QVERIFY(count(grid, Qt::red) > 16 * 64); // 16 cells, each larger than its 8x8 image
        QCOMPARE(count(grid, Qt::blue), 0);
        view.findChild<QCheckBox*>("originalsCheck")->setChecked(true);
        grid = view.gridImage();
        QCOMPARE(count(grid, Qt::red), 0);
        QVERIFY(count(grid, Qt::blue) > 16 * 64);
        QSignalSpy redraw(&view, &AugmentPreviewView::redrawRequested);
        view.findChild<QPushButton*>("redrawButton")->click();
        QCOMPARE(redraw.count(), 1);
        view.setMessage("no images here", false);
        QCOMPARE(view.message(), QString("no images here"));
        QVERIFY(view.samples().isEmpty());
    }

    // The window's Augment tab: the form and a 4 x 4 grid drawn from the experiment, updated when
    // the section changes, a message for tabular data, and Edit › Undo for the tab's edits.
    void windowShowsThePreview() {
        MainWindow window;
        window.setInteractive(false);
        window.resize(1280, 800);
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        ExperimentSpec spec = digitsExperiment();
        spec.augment.flipHorizontal = true;
        window.setExperiment(spec);
        QTabWidget* tabs = window.experimentTabs();
        int augmentTab = -1;
        for (int i = 0; i < tabs->count(); ++i)
            if (tabs->tabText(i) == "&Augment")
                augmentTab = i;
        QVERIFY(augmentTab >= 0);
        AugmentPreviewView* view = window.augmentPreview();
        QSignalSpy shown(window.augmentPreviewer(), &AugmentPreviewer::shown);
        tabs->setCurrentIndex(augmentTab);
        QVERIFY(shown.wait(10000));
        QCOMPARE(view->samples().size(), AugmentPreviewer::kSamples);
        bool anyFlipped = false;
        for (const AugmentPreviewView::Sample& sample : view->samples())
            anyFlipped |= sample.augmented != sample.original;
        QVERIFY(anyFlipped);

        // An edit of the section draws again, after the short delay.
        AugmentForm* form = window.augmentForm();
        test::typeInto(form->findChild<NumberField*>("augment.rotation"), "30");
        QCOMPARE(window.experiment().augment.rotation, 30.0);
        QVERIFY(shown.wait(10000));
        QCOMPARE(view->samples().size(), AugmentPreviewer::kSamples);

        // Edit › Undo acts on the tab in front: the rotation goes back; elsewhere it acts on the
        // network's edits, of which there are none.
        const auto editAction = [&window](QKeySequence::StandardKey key) -> QAction* {
            for (QAction* menu : window.menuBar()->actions())
                if (menu->menu() && menu->text() == "&Edit")
                    for (QAction* item : menu->menu()->actions())
                        if (item->shortcut() == QKeySequence(key))
                            return item;
            return nullptr;
        };
        QAction* undo = editAction(QKeySequence::Undo);
        QAction* redo = editAction(QKeySequence::Redo);
        QVERIFY(undo && redo && undo->isEnabled() && !redo->isEnabled());
        undo->trigger();
        QCOMPARE(window.experiment().augment.rotation, 0.0);
        QVERIFY(!undo->isEnabled() && redo->isEnabled());
        tabs->setCurrentIndex(1);
        QVERIFY(tabs->tabText(1) == "&Network" && !redo->isEnabled());
        tabs->setCurrentIndex(augmentTab);
        redo->trigger();
        QCOMPARE(window.experiment().augment.rotation, 30.0);

        // Tabular data: a message in place of the grid, and a rotation blocks Run with its field's name.
        spec.data.inputShape.clear();
        spec.augment.rotation = 10;
        window.setExperiment(spec);
        QVERIFY(shown.wait(10000));
        QVERIFY2(view->message().contains("image samples"), qPrintable(view->message()));
        QVERIFY2(window.runBlockedReason().contains("Rotation (degrees): rotation needs image samples"),
                 qPrintable(window.runBlockedReason()));
        QVERIFY(!window.runAction()->isEnabled());
    }
};

QTEST_MAIN(TestAugmentPreview)
#include "tst_augment_preview.moc"
