// Image folders (data.kind "image_folder"): real images written from ../shared/data/digits.csv,
// read back as [channels, height, width] samples with one class per sub-folder; the spec's keys; and
// the errors a user meets, each naming the file or key. Also the "augment" section's spec and its
// checks against the data it would change.

#include "data/dataset.h"
#include "dataset_test_support.h"
#include "image_folder_test_support.h"
#include "model/validation.h"

#include <QTemporaryDir>
#include <QtTest>

#include <map>

using namespace tunelab;
using namespace tunelab::test;

namespace {

DataSpec folderSpec(const QString& path) {
    DataSpec spec;
    spec.kind = DataKind::ImageFolder;
    spec.path = path.toStdString();
    return spec;
}

std::string loadError(const DataSpec& spec) {
    auto loaded = loadDataset(spec, 1);
    return loaded.ok() ? std::string("(loaded)") : loaded.error();
}

// `json`'s keys with a small network, which every spec needs.
Result<ExperimentSpec> parse(const QString& json) {
    QString text = json;
    text.insert(1, R"("model": {"layers": [{"type": "flatten"}, {"type": "linear", "out_features": 10}]}, )");
    return parseExperimentSpec(text.toStdString(), "/tmp");
}

} // namespace

class TestImageFolders : public QObject {
    Q_OBJECT

private:
    QTemporaryDir m_dir;
    QString m_digits; // 20 images of each digit, gray

private Q_SLOTS:
    void initTestCase() {
        QVERIFY(m_dir.isValid());
        m_digits = m_dir.filePath("digits");
        QCOMPARE(writeDigitsImageFolder(m_digits, 20), 200);
    }

    void readsOneClassPerFolder() {
        auto loaded = loadDataset(folderSpec(m_digits), 1);
        QVERIFY2(loaded.ok(), loaded.ok() ? "" : loaded.error().c_str());
        const Dataset& data = loaded.value();
        QCOMPARE(data.rows, int64_t(200));
        QCOMPARE(data.classes, 10);
        QCOMPARE(data.sampleShape, (Shape{1, 8, 8}));
        QCOMPARE(data.classNames.size(), size_t(10));
        QCOMPARE(data.classNames[3], std::string("3"));
        QCOMPARE(data.targets[0], 0.0f);
        QCOMPARE(data.targets[199], 9.0f);
        QCOMPARE(data.source, std::string("digits (200 images in 10 classes)"));
        // The first 0 of digits.csv begins 0,0,5,13: pixels in [0, 1], channels first.
        QCOMPARE(data.features[0], 0.0f);
        QCOMPARE(data.features[2], float(5 * 255 / 16) / 255.0f);
        QCOMPARE(data.features[3], float(13 * 255 / 16) / 255.0f);
    }

    void colourFilesGiveThreeChannelsUnlessGray() {
        // Gray files read as one channel (the first image decides), colour ones as three.
        const QString rgb = m_dir.filePath("rgb");
        QCOMPARE(writeDigitsImageFolder(rgb, 3, 3, {1, 7}), 6);
        auto colour = loadDataset(folderSpec(rgb), 1);
        QVERIFY(colour.ok());
        QCOMPARE(colour.value().sampleShape, (Shape{3, 8, 8}));
        QCOMPARE(colour.value().features[0], colour.value().features[64]); // gray in every channel
        DataSpec gray = folderSpec(rgb);
        gray.grayscale = true;
        auto grayLoaded = loadDataset(gray, 1);
        QVERIFY(grayLoaded.ok());
        QCOMPARE(grayLoaded.value().sampleShape, (Shape{1, 8, 8}));
        QCOMPARE(grayLoaded.value().classNames, (std::vector<std::string>{"1", "7"}));
    }

    void resizesToTheImageSize() {
        DataSpec spec = folderSpec(m_digits);
        spec.imageSize = {16, 12};
        auto loaded = loadDataset(spec, 1);
        QVERIFY2(loaded.ok(), loaded.ok() ? "" : loaded.error().c_str());
        QCOMPARE(loaded.value().sampleShape, (Shape{1, 16, 12}));
        QCOMPARE(loaded.value().features.size(), size_t(200 * 16 * 12));
    }

    void aLimitKeepsEveryClass() {
        DataSpec spec = folderSpec(m_digits);
        spec.limit = 25;
        auto loaded = loadDataset(spec, 1);
        QVERIFY(loaded.ok());
        QCOMPARE(loaded.value().rows, int64_t(25));
        std::map<float, int> perClass;
        for (float target : loaded.value().targets)
            ++perClass[target];
        QCOMPARE(perClass.size(), size_t(10));
        for (const auto& [label, count] : perClass)
            QVERIFY(count == 2 || count == 3);
    }

    void mistakesNameTheFileOrFolder() {
        const QString root = m_dir.filePath("broken");
        QCOMPARE(writeDigitsImageFolder(root, 2, 1, {0, 1, 2}), 6);
        writeFile(root + "/2/bad.png", "this is not a picture");
        const std::string corrupt = loadError(folderSpec(root));
        QVERIFY2(corrupt.find("data: broken/2/bad.png: not an image TuneLab can read") == 0, corrupt.c_str());

        const QString sizes = m_dir.filePath("sizes");
        QCOMPARE(writeDigitsImageFolder(sizes, 2, 1, {0, 1}), 4);
        const std::vector<unsigned char> wide(10 * 8, 128);
        QVERIFY(stbi_write_png((sizes + "/1/wide.png").toUtf8().constData(), 10, 8, 1, wide.data(), 10));
        const std::string mixed = loadError(folderSpec(sizes));
        QVERIFY2(
            mixed.find("sizes/1/wide.png is 10x8 pixels but sizes/0/0000.png is 8x8; set data.image_size") !=
                std::string::npos,
            mixed.c_str());
        DataSpec resized = folderSpec(sizes);
        resized.imageSize = {8, 8};
        QVERIFY(loadDataset(resized, 1).ok());

        const QString single = m_dir.filePath("single");
        QCOMPARE(writeDigitsImageFolder(single, 2, 1, {4}), 2);
        const std::string oneClass = loadError(folderSpec(single));
        QVERIFY2(oneClass.find("has one class folder ('4')") != std::string::npos &&
                     oneClass.find("at least two") != std::string::npos,
                 oneClass.c_str());

        const QString empty = m_dir.filePath("empty");
        QCOMPARE(writeDigitsImageFolder(empty, 1, 1, {5}), 1);
        QDir().mkpath(empty + "/6");
        writeFile(empty + "/6/notes.txt", "no images here");
        const std::string noImages = loadError(folderSpec(empty));
        QVERIFY2(noImages.find("empty/6: no images") == 0, noImages.c_str());

        const std::string missing = loadError(folderSpec(m_dir.filePath("nowhere")));
        QVERIFY2(missing.find("nowhere does not exist") != std::string::npos, missing.c_str());
    }

    void specKeysAreReadAndWritten() {
        auto parsed = parse(R"({"data": {"kind": "image_folder", "path": "pictures", "image_size": [32, 24],
                                "grayscale": true, "limit": 500},
                                "augment": {"flip_horizontal": true, "crop_padding": 4, "rotation": 10,
                                            "scale": [0.9, 1.1], "noise": 0.05, "cutout": 8, "mixup": 0.2}})");
        QVERIFY2(parsed.ok(), parsed.ok() ? "" : parsed.error().c_str());
        const ExperimentSpec& spec = parsed.value();
        QCOMPARE(spec.data.path, std::string("/tmp/pictures"));
        QCOMPARE(spec.data.imageSize, (std::vector<int64_t>{32, 24}));
        QVERIFY(spec.data.grayscale);
        QCOMPARE(spec.augment.cropPadding, int64_t(4));
        QCOMPARE(spec.augment.scaleMax, 1.1);
        auto again = parseExperimentSpec(experimentSpecToJson(spec), "/");
        QVERIFY(again.ok());
        QCOMPARE(experimentSpecToJson(again.value()), experimentSpecToJson(spec));
        QVERIFY(again.value().augment.flipHorizontal && !again.value().augment.flipVertical);
        QCOMPARE(again.value().augment.mixup, 0.2);
    }

    void specMistakesNameTheKey_data() {
        QTest::addColumn<QString>("json");
        QTest::addColumn<QString>("message");
        QTest::newRow("image size")
            << R"({"data": {"kind": "image_folder", "path": "p", "image_size": [32]}})"
            << "data.image_size: expected [height, width] in pixels";
        QTest::newRow("grayscale on csv")
            << R"({"data": {"kind": "csv", "path": "a.csv", "grayscale": true}})"
            << "data.grayscale: unknown key for csv data";
        QTest::newRow("rotation") << R"({"augment": {"rotation": 270}})"
                                  << "augment.rotation: expected a number of degrees from 0 to 180";
        QTest::newRow("scale") << R"({"augment": {"scale": [1.2, 0.8]}})"
                               << "augment.scale: expected [low, high]";
        QTest::newRow("typo") << R"({"augment": {"flip_horizontl": true}})"
                              << "did you mean \"flip_horizontal\"";
    }
    void specMistakesNameTheKey() {
        QFETCH(QString, json);
        QFETCH(QString, message);
        auto parsed = parse(json);
        QVERIFY(!parsed.ok());
        QVERIFY2(QString::fromStdString(parsed.error()).contains(message), parsed.error().c_str());
    }

    void augmentationMustSuitTheData() {
        ExperimentSpec spec;
        spec.augment.rotation = 15;
        spec.augment.noise = 0.1;
        auto errors = augmentationErrors(spec, Shape{64});
        QCOMPARE(errors.size(), size_t(1)); // noise suits any data
        QVERIFY2(errors[0].find("augment.rotation: rotation needs image samples ([channels, height, width]); "
                                "this experiment's samples are [64]") == 0,
                 errors[0].c_str());
        QVERIFY(augmentationErrors(spec, Shape{1, 8, 8}).empty());

        spec.augment = AugmentSpec{};
        spec.augment.cropPadding = 8;
        spec.augment.cutout = 9;
        errors = augmentationErrors(spec, Shape{1, 8, 8});
        QCOMPARE(errors.size(), size_t(2));
        QVERIFY(errors[0].find("augment.crop_padding: 8 pixels of padding on 8x8 images") == 0);
        QVERIFY(errors[1].find("augment.cutout: a 9-pixel square is larger than the 8x8 images") == 0);

        spec.augment = AugmentSpec{};
        spec.augment.mixup = 0.4;
        spec.loss.type = LossType::Mse;
        errors = augmentationErrors(spec, Shape{3});
        QCOMPARE(errors.size(), size_t(1));
        QVERIFY(errors[0].find("augment.mixup: mixup mixes class labels and needs the cross_entropy loss") ==
                0);
    }
};

QTEST_GUILESS_MAIN(TestImageFolders)
#include "tst_image_folders.moc"
