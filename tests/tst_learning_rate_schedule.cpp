#include "optim/learning_rate_schedule.h"

#include <QtTest>

using namespace tunelab;

class TestLearningRateSchedule : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void ratesAtKnownSteps_data() {
        QTest::addColumn<int>("type");
        QTest::addColumn<double>("warmupEpochs");
        QTest::addColumn<int>("step");
        QTest::addColumn<int>("epoch");
        QTest::addColumn<double>("expected");
        // 10 epochs of 10 steps, base rate 1.
        const int constant = int(ScheduleType::Constant), stepDecay = int(ScheduleType::Step);
        const int exponential = int(ScheduleType::Exponential), cosine = int(ScheduleType::Cosine);
        const int warmup = int(ScheduleType::LinearWarmup);
        QTest::newRow("constant") << constant << 0.0 << 55 << 5 << 1.0;
        QTest::newRow("warm-up first step") << warmup << 1.0 << 0 << 0 << 0.1;
        QTest::newRow("warm-up middle") << warmup << 1.0 << 4 << 0 << 0.5;
        QTest::newRow("after warm-up") << warmup << 1.0 << 10 << 1 << 1.0;
        QTest::newRow("step before decay") << stepDecay << 0.0 << 15 << 1 << 1.0;
        QTest::newRow("step after two decays") << stepDecay << 0.0 << 45 << 4 << 0.5 * 0.5;
        QTest::newRow("exponential") << exponential << 0.0 << 30 << 3 << 0.125;
        QTest::newRow("cosine start") << cosine << 0.0 << 0 << 0 << 1.0;
        QTest::newRow("cosine middle") << cosine << 0.0 << 50 << 5 << 0.5;
        QTest::newRow("cosine end") << cosine << 0.0 << 100 << 9 << 0.0;
        QTest::newRow("cosine after warm-up") << cosine << 2.0 << 20 << 2 << 1.0;
    }
    void ratesAtKnownSteps() {
        QFETCH(int, type);
        QFETCH(double, warmupEpochs);
        QFETCH(int, step);
        QFETCH(int, epoch);
        QFETCH(double, expected);
        ScheduleSpec spec;
        spec.type = ScheduleType(type);
        spec.warmupEpochs = warmupEpochs;
        spec.stepSize = 2;
        spec.gamma = 0.5;
        LearningRateSchedule schedule(spec, 1.0, 10, 10);
        QVERIFY2(std::fabs(schedule.learningRate(step, epoch) - expected) < 1e-12,
                 qPrintable(QString::number(schedule.learningRate(step, epoch))));
    }

    void reduceOnPlateauWaitsForPatience() {
        ScheduleSpec spec;
        spec.type = ScheduleType::ReduceOnPlateau;
        spec.patience = 2;
        spec.factor = 0.1;
        spec.minLr = 0.005;
        LearningRateSchedule schedule(spec, 1.0, 10, 10);
        schedule.epochEnded(1.0);
        schedule.epochEnded(0.5); // improved
        schedule.epochEnded(0.6);
        schedule.epochEnded(0.6);
        QCOMPARE(schedule.learningRate(40, 4), 1.0);
        schedule.epochEnded(0.6); // third bad epoch > patience
        QCOMPARE(schedule.learningRate(50, 5), 0.1);
        for (int i = 0; i < 9; ++i)
            schedule.epochEnded(0.6);
        QCOMPARE(schedule.learningRate(90, 9), 0.005); // never below min_lr
    }
};

QTEST_APPLESS_MAIN(TestLearningRateSchedule)
#include "tst_learning_rate_schedule.moc"
