// Datasets made in memory: the generators' shapes, geometry, seeds and parameter checks, the
// train/validation split, standardization, input shapes and scales, and the per-process dataset
// cache. tst_dataset_files covers MNIST, CIFAR-10 and folder files.

#include "data/dataset.h"
#include "data/dataset_cache.h"

#include "dataset_test_support.h"

#include <QElapsedTimer>
#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <set>
#include <thread>
#include <vector>

using namespace tunelab;
using namespace tunelab::test;

namespace {

// A regression CSV of `rows` rows of 8 features, about 50 bytes a row.
DataSpec largeCsv(const QTemporaryDir& folder, int rows) {
    const QString path = folder.filePath(QStringLiteral("large.csv"));
    QByteArray text = "a,b,c,d,e,f,g,h,y\n";
    text.reserve(rows * 50);
    for (int row = 0; row < rows; ++row)
        text +=
            QByteArray::number(row % 97) + ",0.25,1.5,2,3.75,4,5.5,6," + QByteArray::number(row % 13) + "\n";
    writeFile(path, text);
    DataSpec spec;
    spec.kind = DataKind::Csv;
    spec.path = path.toStdString();
    spec.task = TaskKind::Regression;
    return spec;
}

} // namespace

namespace {

DataSpec generatorSpec(DataKind kind, int64_t samples = 1000, double noise = 0.1, int classes = 2,
                       int features = 2) {
    DataSpec spec;
    spec.kind = kind;
    spec.samples = samples;
    spec.noise = noise;
    spec.classes = classes;
    spec.features = features;
    return spec;
}

QByteArray bytesOf(const Dataset& data) {
    QByteArray bytes(reinterpret_cast<const char*>(data.features.data()),
                     int(data.features.size() * sizeof(float)));
    bytes.append(reinterpret_cast<const char*>(data.targets.data()),
                 int(data.targets.size() * sizeof(float)));
    return bytes;
}

std::vector<int> classCounts(const Dataset& data) {
    std::vector<int> counts(size_t(std::max(data.classes, 1)), 0);
    for (const float target : data.targets)
        ++counts[size_t(target)];
    return counts;
}

} // namespace

class TestDatasets : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void formatsShapes() {
        QCOMPARE(formatShape({1, 28, 28}), std::string("[1, 28, 28]"));
        QCOMPARE(formatShape({64}), std::string("[64]"));
        QCOMPARE(formatShape({}), std::string("[]"));
        QCOMPARE(shapeElements({3, 32, 32}), int64_t(3072));
        QCOMPARE(shapeElements({7}), int64_t(7));
    }

    void generates_data() {
        QTest::addColumn<DataKind>("kind");
        QTest::addColumn<int>("samples");
        QTest::addColumn<int>("classes");
        QTest::addColumn<int>("features");
        QTest::addColumn<int>("expectedClasses");
        QTest::addColumn<int>("expectedWidth");
        QTest::addColumn<QString>("source");

        QTest::newRow("spirals") << DataKind::Spirals << 1000 << 2 << 5 << 2 << 2
                                 << "two spirals (1000 samples, noise 0.1)";
        QTest::newRow("spirals, 3 arms, uneven")
            << DataKind::Spirals << 301 << 3 << 2 << 3 << 2 << "3 spirals (301 samples, noise 0.1)";
        QTest::newRow("moons, odd count")
            << DataKind::Moons << 7 << 9 << 9 << 2 << 2 << "two moons (7 samples, noise 0.1)";
        QTest::newRow("circles") << DataKind::Circles << 400 << 2 << 2 << 2 << 2
                                 << "two circles (400 samples, noise 0.1)";
        QTest::newRow("xor") << DataKind::Xor << 1000 << 2 << 2 << 2 << 2 << "xor (1000 samples, noise 0.1)";
        QTest::newRow("blobs") << DataKind::Blobs << 500 << 4 << 5 << 4 << 5
                               << "4 blobs in 5 dimensions (500 samples, noise 0.1)";
        QTest::newRow("blobs, one dimension")
            << DataKind::Blobs << 2 << 2 << 1 << 2 << 1 << "2 blobs in 1 dimension (2 samples, noise 0.1)";
        QTest::newRow("regression") << DataKind::Regression << 300 << 2 << 3 << 0 << 3
                                    << "regression on 3 features (300 samples, noise 0.1)";
    }

    void generates() {
        QFETCH(DataKind, kind);
        QFETCH(int, samples);
        QFETCH(int, classes);
        QFETCH(int, features);
        QFETCH(int, expectedClasses);
        QFETCH(int, expectedWidth);
        QFETCH(QString, source);
        auto generated = generateDataset(generatorSpec(kind, samples, 0.1, classes, features), 42);
        QVERIFY2(generated.ok(), generated.error().c_str());
        const Dataset& data = generated.value();
        QCOMPARE(data.rows, int64_t(samples));
        QCOMPARE(data.sampleShape, Shape{expectedWidth});
        QCOMPARE(data.classes, expectedClasses);
        QCOMPARE(data.task, kind == DataKind::Regression ? TaskKind::Regression : TaskKind::Classification);
        QCOMPARE(data.features.size(), size_t(samples) * size_t(expectedWidth));
        QCOMPARE(data.targets.size(), size_t(samples));
        QCOMPARE(QString::fromStdString(data.source), source);
        QCOMPARE(data.featureNames.size(), size_t(expectedWidth));
        QCOMPARE(data.featureNames.back(), "x" + std::to_string(expectedWidth - 1));
        QVERIFY(std::all_of(data.features.begin(), data.features.end(),
                            [](float v) { return std::isfinite(v); }));
        QVERIFY(
            std::all_of(data.targets.begin(), data.targets.end(), [](float v) { return std::isfinite(v); }));
        if (expectedClasses > 0) {
            const std::vector<int> counts = classCounts(data);
            QCOMPARE(int(counts.size()), expectedClasses);
            const auto [fewest, most] = std::minmax_element(counts.begin(), counts.end());
            QVERIFY2(*most - *fewest <= 1, "classes are not split evenly");
            for (const float target : data.targets)
                QCOMPARE(target, std::floor(target));
        }
    }

    // Without noise each generator draws its exact geometry, which pins down the labels.
    void generatorsHaveTheirGeometry() {
        auto circles = generateDataset(generatorSpec(DataKind::Circles, 200, 0.0), 3).take();
        auto xorData = generateDataset(generatorSpec(DataKind::Xor, 200, 0.0), 3).take();
        auto spirals = generateDataset(generatorSpec(DataKind::Spirals, 200, 0.0), 3).take();
        auto moons = generateDataset(generatorSpec(DataKind::Moons, 200, 0.0), 3).take();
        for (int64_t i = 0; i < 200; ++i) {
            const auto at = [i](const Dataset& d, int j) { return double(d.features[size_t(2 * i + j)]); };
            const double radius = std::hypot(at(circles, 0), at(circles, 1));
            QVERIFY(std::fabs(radius - (circles.targets[size_t(i)] == 0 ? 1.0 : 0.5)) < 1e-5);
            QCOMPARE(at(xorData, 0) * at(xorData, 1) > 0.0, xorData.targets[size_t(i)] == 1.0f);
            QVERIFY(std::fabs(at(xorData, 0)) <= 1.0 && std::fabs(at(xorData, 1)) <= 1.0);
            QVERIFY(std::hypot(at(spirals, 0), at(spirals, 1)) <= 1.0 + 1e-6);
            if (moons.targets[size_t(i)] == 0)
                QVERIFY(at(moons, 1) >= -1e-6);
            else
                QVERIFY(at(moons, 1) <= 0.5 + 1e-6);
        }
        // Noise spreads the points: the same circles with noise leave the exact radii.
        auto noisy = generateDataset(generatorSpec(DataKind::Circles, 200, 0.1), 3).take();
        QVERIFY(std::fabs(std::hypot(noisy.features[0], noisy.features[1]) -
                          (noisy.targets[0] == 0 ? 1.0 : 0.5)) > 1e-5);
    }

    void generatorsAreSeeded_data() {
        QTest::addColumn<DataKind>("kind");
        QTest::newRow("spirals") << DataKind::Spirals;
        QTest::newRow("moons") << DataKind::Moons;
        QTest::newRow("circles") << DataKind::Circles;
        QTest::newRow("xor") << DataKind::Xor;
        QTest::newRow("blobs") << DataKind::Blobs;
        QTest::newRow("regression") << DataKind::Regression;
    }

    void generatorsAreSeeded() {
        QFETCH(DataKind, kind);
        const DataSpec spec = generatorSpec(kind, 200, 0.2, 3, 4);
        const QByteArray first = bytesOf(generateDataset(spec, 7).take());
        QCOMPARE(bytesOf(generateDataset(spec, 7).take()), first);
        QCOMPARE(bytesOf(loadDataset(spec, 7).take()), first);
        QVERIFY(bytesOf(generateDataset(spec, 8).take()) != first);
    }

    void rejectsBadGeneratorParameters_data() {
        QTest::addColumn<DataKind>("kind");
        QTest::addColumn<qint64>("samples");
        QTest::addColumn<double>("noise");
        QTest::addColumn<int>("classes");
        QTest::addColumn<int>("features");
        QTest::addColumn<QString>("expected");

        const double nan = std::nan("");
        QTest::newRow("no samples") << DataKind::Spirals << qint64(0) << 0.1 << 2 << 2
                                    << "data.samples: expected at least 2 samples, got 0";
        QTest::newRow("one sample") << DataKind::Moons << qint64(1) << 0.1 << 2 << 2
                                    << "data.samples: expected at least 2 samples, got 1";
        QTest::newRow("way too many samples")
            << DataKind::Xor << qint64(100'000'000'000) << 0.1 << 2 << 2
            << "data.samples: at most 10000000 samples can be generated, got "
               "100000000000";
        QTest::newRow("negative noise") << DataKind::Circles << qint64(100) << -0.5 << 2 << 2
                                        << "data.noise: expected a non-negative number, got -0.5";
        QTest::newRow("nan noise") << DataKind::Blobs << qint64(100) << nan << 2 << 2
                                   << "data.noise: expected a non-negative number";
        QTest::newRow("one arm") << DataKind::Spirals << qint64(100) << 0.1 << 1 << 2
                                 << "data.classes: expected 2 to 16 spiral arms, got 1";
        QTest::newRow("17 arms") << DataKind::Spirals << qint64(100) << 0.1 << 17 << 2
                                 << "data.classes: expected 2 to 16 spiral arms, got 17";
        QTest::newRow("no blobs") << DataKind::Blobs << qint64(100) << 0.1 << 0 << 2
                                  << "data.classes: expected 2 to 1000 blobs, got 0";
        QTest::newRow("more classes than samples")
            << DataKind::Blobs << qint64(3) << 0.1 << 5 << 2
            << "data.classes: 5 classes need at least as many samples, got 3";
        QTest::newRow("no features") << DataKind::Regression << qint64(100) << 0.1 << 2 << 0
                                     << "data.features: expected 1 to 10000 features, got 0";
        QTest::newRow("too many values") << DataKind::Blobs << qint64(1'000'000) << 0.1 << 2 << 10000
                                         << "data.samples: 1000000 samples of 10000 features are more than";
        QTest::newRow("a file kind") << DataKind::Csv << qint64(100) << 0.1 << 2 << 2
                                     << "data.kind: csv data is loaded from files, not generated";
    }

    void rejectsBadGeneratorParameters() {
        QFETCH(DataKind, kind);
        QFETCH(qint64, samples);
        QFETCH(double, noise);
        QFETCH(int, classes);
        QFETCH(int, features);
        QFETCH(QString, expected);
        const DataSpec spec = generatorSpec(kind, samples, noise, classes, features);
        const auto generated = generateDataset(spec, 1);
        QVERIFY(!generated.ok());
        QVERIFY2(QString::fromStdString(generated.error()).startsWith(expected), generated.error().c_str());
        if (kind != DataKind::Csv) { // loadDataset sends csv to the csv loader
            const auto loaded = loadDataset(spec, 1);
            QCOMPARE(loaded.error(), generated.error());
        }
    }

    void splits_data() {
        QTest::addColumn<qint64>("rows");
        QTest::addColumn<double>("fraction");
        QTest::addColumn<qint64>("validation");
        QTest::newRow("20 of 100") << qint64(100) << 0.2 << qint64(20);
        QTest::newRow("half rounds up") << qint64(10) << 0.25 << qint64(3);
        QTest::newRow("tiny fraction keeps one") << qint64(5) << 0.01 << qint64(1);
        QTest::newRow("large fraction keeps one for training") << qint64(2) << 0.9 << qint64(1);
        QTest::newRow("one row trains") << qint64(1) << 0.5 << qint64(0);
        QTest::newRow("no rows") << qint64(0) << 0.2 << qint64(0);
        QTest::newRow("no validation") << qint64(1000) << 0.0 << qint64(0);
        QTest::newRow("digits") << qint64(1797) << 0.2 << qint64(359);
    }

    void splits() {
        QFETCH(qint64, rows);
        QFETCH(double, fraction);
        QFETCH(qint64, validation);
        const DataSplit split = splitDataset(rows, fraction, 11);
        QCOMPARE(qint64(split.validation.size()), validation);
        QCOMPARE(qint64(split.train.size()), rows - validation);
        QVERIFY(std::is_sorted(split.train.begin(), split.train.end()));
        QVERIFY(std::is_sorted(split.validation.begin(), split.validation.end()));
        std::set<int64_t> all(split.train.begin(), split.train.end());
        all.insert(split.validation.begin(), split.validation.end());
        QCOMPARE(qint64(all.size()), rows); // disjoint and covering, since both hold only indices
        if (rows > 0) {
            QCOMPARE(*all.begin(), int64_t(0));
            QCOMPARE(*all.rbegin(), int64_t(rows - 1));
        }
        const DataSplit again = splitDataset(rows, fraction, 11);
        QCOMPARE(again.validation, split.validation);
        QCOMPARE(again.train, split.train);
        if (validation >= 3 && rows - validation >= 3) {
            QVERIFY(splitDataset(rows, fraction, 12).validation != split.validation);
            // A shuffle, not the head or tail of the file.
            QVERIFY(split.validation.back() - split.validation.front() >= validation);
            QVERIFY(split.validation.front() != 0 || split.validation.back() != rows - 1 ||
                    split.validation[1] != 1);
        }
    }

    void standardizesWithTrainingStatistics() {
        Dataset data;
        data.rows = 5;
        data.sampleShape = {3};
        // Columns: varying, constant, varying. Rows 0..2 are the training rows.
        data.features = {1, 7, 10, 2, 7, 20, 3, 7, 60, 5, 7, -10, 0, 8, 30};
        data.targets = {0, 1, 0, 1, 0};
        standardizeFeatures(data, {0, 1, 2});
        const double mean0 = 2.0, std0 = std::sqrt(2.0 / 3.0);
        const double mean2 = 30.0, std2 = std::sqrt((400.0 + 100.0 + 900.0) / 3.0);
        const auto at = [&](int row, int column) { return double(data.features[size_t(row * 3 + column)]); };
        for (int row = 0; row < 5; ++row) {
            const double raw0[] = {1, 2, 3, 5, 0}, raw1[] = {7, 7, 7, 7, 8}, raw2[] = {10, 20, 60, -10, 30};
            QVERIFY(std::fabs(at(row, 0) - (raw0[row] - mean0) / std0) < 1e-5);
            QVERIFY(std::fabs(at(row, 1) - (raw1[row] - 7.0)) < 1e-6); // zero spread: only centred
            QVERIFY(std::fabs(at(row, 2) - (raw2[row] - mean2) / std2) < 1e-5);
        }
        double sum = 0, squares = 0;
        for (int row = 0; row < 3; ++row) {
            sum += at(row, 2);
            squares += at(row, 2) * at(row, 2);
        }
        QVERIFY(std::fabs(sum / 3) < 1e-6);
        QVERIFY(std::fabs(squares / 3 - 1.0) < 1e-5);

        Dataset untouched = data;
        standardizeFeatures(untouched, {});
        QCOMPARE(untouched.features, data.features);
    }

    void appliesInputShapeAndScale() {
        DataSpec spec = generatorSpec(DataKind::Blobs, 50, 0.1, 3, 64);
        const Dataset plain = loadDataset(spec, 5).take();
        spec.inputShape = {1, 8, 8};
        spec.scale = 0.5;
        auto shaped = loadDataset(spec, 5);
        QVERIFY2(shaped.ok(), shaped.error().c_str());
        QCOMPARE(shaped.value().sampleShape, (Shape{1, 8, 8}));
        QCOMPARE(shaped.value().features.size(), plain.features.size());
        for (size_t i = 0; i < plain.features.size(); ++i)
            QCOMPARE(shaped.value().features[i], plain.features[i] * 0.5f);
        QCOMPARE(shaped.value().targets, plain.targets);

        spec.inputShape = {1, 8, 7};
        const auto wrong = loadDataset(spec, 5);
        QVERIFY(!wrong.ok());
        QCOMPARE(wrong.error(),
                 std::string("data.input_shape: [1, 8, 7] has 56 elements but each sample has 64 features"));
    }

    void cacheLoadsEachDatasetOnce() {
        clearDatasetCache();
        const DataSpec spirals = generatorSpec(DataKind::Spirals, 500);
        const int64_t before = datasetCacheLoads();
        const auto first = loadDatasetCached(spirals, 3);
        const auto again = loadDatasetCached(spirals, 3);
        QVERIFY(first.ok() && again.ok());
        QCOMPARE(datasetCacheLoads(), before + 1);
        QCOMPARE(first.value().get(), again.value().get());
        QCOMPARE(bytesOf(*first.value()), bytesOf(loadDataset(spirals, 3).take()));
        // Another seed or setting is other data.
        QVERIFY(loadDatasetCached(spirals, 4).ok());
        QCOMPARE(datasetCacheLoads(), before + 2);
        // Two datasets are kept: a third pushes out the least recently used (seed 3).
        QVERIFY(loadDatasetCached(generatorSpec(DataKind::Moons, 500), 3).ok());
        QVERIFY(loadDatasetCached(spirals, 4).ok());
        QCOMPARE(datasetCacheLoads(), before + 3);
        QVERIFY(loadDatasetCached(spirals, 3).ok());
        QCOMPARE(datasetCacheLoads(), before + 4);
        // Data still held by a caller outlives its entry.
        QCOMPARE(first.value()->rows, int64_t(500));

        // Older data stays only while it fits the budget beside the most recent.
        const size_t oneSpirals =
            (first.value()->features.size() + first.value()->targets.size()) * sizeof(float);
        setDatasetCacheBudget(oneSpirals + oneSpirals / 2);
        QVERIFY(loadDatasetCached(spirals, 5).ok()); // pushes out seed 4 (count), then seed 3 (bytes)
        QVERIFY(loadDatasetCached(spirals, 5).ok());
        const int64_t beforeReload = datasetCacheLoads();
        QVERIFY(loadDatasetCached(spirals, 3).ok());
        QCOMPARE(datasetCacheLoads(), beforeReload + 1);
        setDatasetCacheBudget(size_t(1) << 30);
    }

    void cacheRereadsChangedFilesAndNeverKeepsErrors() {
        clearDatasetCache();
        QTemporaryDir folder;
        const QString path = folder.filePath(QStringLiteral("table.csv"));
        DataSpec spec;
        spec.kind = DataKind::Csv;
        spec.path = path.toStdString();
        spec.task = TaskKind::Regression;

        const auto missing = loadDatasetCached(spec, 0);
        QVERIFY(!missing.ok());
        writeFile(path, "x,y\n1,2\n3,4\n");
        const auto written = loadDatasetCached(spec, 0);
        QVERIFY2(written.ok(), written.error().c_str());
        QCOMPARE(written.value()->rows, int64_t(2));

        // An edited file (another size and time) is read again.
        writeFile(path, "x,y\n1,2\n3,4\n5,6\n");
        const auto edited = loadDatasetCached(spec, 0);
        QVERIFY(edited.ok());
        QCOMPARE(edited.value()->rows, int64_t(3));
        // A broken file gives its error, every time, until it is fixed.
        writeFile(path, "x,y\n1,oops\n");
        QVERIFY(!loadDatasetCached(spec, 0).ok());
        QVERIFY(!loadDatasetCached(spec, 0).ok());
        writeFile(path, "x,y\n1,2\n");
        QCOMPARE(loadDatasetCached(spec, 0).value()->rows, int64_t(1));
    }

    void cacheLoadsOnceForConcurrentCallers() {
        clearDatasetCache();
        const DataSpec spec = generatorSpec(DataKind::Blobs, 20000, 0.2, 4, 16);
        const int64_t before = datasetCacheLoads();
        std::vector<const Dataset*> seen(6, nullptr);
        std::vector<std::thread> threads;
        for (size_t i = 0; i < seen.size(); ++i)
            threads.emplace_back([&seen, &spec, i] {
                const auto loaded = loadDatasetCached(spec, 1);
                seen[i] = loaded.ok() ? loaded.value().get() : nullptr;
            });
        for (auto& thread : threads)
            thread.join();
        QCOMPARE(datasetCacheLoads(), before + 1);
        for (const Dataset* data : seen)
            QCOMPARE(data, seen.front());
        QVERIFY(seen.front() != nullptr);
    }

    // A load asked to stop returns kDataLoadCancelled, at every level, and is not kept: the next
    // caller reads the file.
    void aCancelledLoadIsNotKept() {
        clearDatasetCache();
        QTemporaryDir folder;
        const DataSpec spec = largeCsv(folder, 2000);
        LoadCancel cancel{true};
        const auto direct = loadCsvDataset(spec, &cancel);
        QVERIFY(!direct.ok());
        QVERIFY2(isCancelledLoad(direct.errors()), direct.error().c_str());
        const auto cached = loadDatasetCached(spec, 0, &cancel);
        QVERIFY(!cached.ok());
        QCOMPARE(cached.error(), std::string(kDataLoadCancelled));
        const auto loaded = loadDatasetCached(spec, 0);
        QVERIFY2(loaded.ok(), loaded.error().c_str());
        QCOMPARE(loaded.value()->rows, int64_t(2000));
    }

    // Cancelling one caller's load ends it well before the file is read, and another thread waiting
    // for the same data still gets it (it loads the data itself).
    void cancellingOneLoadLeavesTheOthers() {
        clearDatasetCache();
        QTemporaryDir folder;
        const DataSpec spec = largeCsv(folder, 400000);
        QElapsedTimer clock;
        clock.start();
        QVERIFY(loadDatasetCached(spec, 0).ok());
        const qint64 fullLoad = clock.elapsed();
        clearDatasetCache();

        LoadCancel cancel{false};
        std::atomic<qint64> cancelledAfter{-1};
        std::atomic<bool> firstOk{false}, firstCancelled{false};
        QElapsedTimer sinceCancel;
        std::thread first([&] {
            const auto loaded = loadDatasetCached(spec, 0, &cancel);
            firstOk = loaded.ok();
            firstCancelled = !loaded.ok() && isCancelledLoad(loaded.errors());
            if (firstCancelled)
                cancelledAfter = sinceCancel.elapsed();
        });
        std::this_thread::sleep_for(std::chrono::milliseconds(fullLoad / 10));
        Result<std::shared_ptr<const Dataset>> second =
            Result<std::shared_ptr<const Dataset>>::failure("unset");
        std::thread waiting([&] { second = loadDatasetCached(spec, 0); });
        std::this_thread::sleep_for(std::chrono::milliseconds(fullLoad / 10));
        sinceCancel.start();
        cancel = true;
        first.join();
        waiting.join();
        QVERIFY(firstOk || firstCancelled);
        QVERIFY2(second.ok(), second.error().c_str());
        QCOMPARE(second.value()->rows, int64_t(400000));
        qDebug("a full load took %lld ms; the cancelled one ended %lld ms after it was asked to stop",
               static_cast<long long>(fullLoad), static_cast<long long>(cancelledAfter.load()));
        if (firstCancelled)
            QVERIFY2(cancelledAfter < fullLoad / 2, qPrintable(QString::number(cancelledAfter.load())));
    }
};

QTEST_APPLESS_MAIN(TestDatasets)
#include "tst_datasets.moc"
