#include "charts/loss_chart_view.h"
#include "playground/loss_landscape_view.h"
#include "playground/loss_surfaces.h"
#include "playground/playground_panel.h"
#include "playground/playground_window.h"
#include "playground/trajectories.h"

#include "number_field_test_support.h"

#include <QComboBox>
#include <QImage>
#include <QSet>
#include <QSignalSpy>
#include <QtTest>

#include <cmath>
#include <memory>

using namespace tunelab;
using tunelab::test::typeInto;

Q_DECLARE_METATYPE(tunelab::SurfaceKind)

namespace {

Trajectory realTrajectory(const Surface& surface, const OptimizerSpec& optimizer, double x0, double y0,
                          int steps) {
    auto result = optimizerTrajectory(surface, optimizer, x0, y0, steps);
    return result.ok() ? result.take() : Trajectory{};
}

std::unique_ptr<PlaygroundPanel> makePanel() {
    auto panel = std::make_unique<PlaygroundPanel>(&realTrajectory);
    panel->resize(1200, 750);
    return panel;
}

QList<int> enabledIndices(const PlaygroundPanel& panel) {
    QList<int> indices;
    for (int i = 0; i < panel.optimizerCount(); ++i)
        if (panel.isOptimizerEnabled(i))
            indices << i;
    return indices;
}

} // namespace

class LossLandscapeViewTest : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void startsOnRosenbrockWithFourPaths() {
        auto panel = makePanel();
        QVERIFY(panel->surfaceKind() == SurfaceKind::Rosenbrock);
        const QList<int> enabled = enabledIndices(*panel);
        QCOMPARE(enabled.size(), 4);
        QCOMPARE(panel->landscapeView()->paths().size(), 4);
        QCOMPARE(panel->lossChart()->seriesCount(), 4);
        QCOMPARE(panel->currentStep(), 0);
        for (int index : enabled) {
            const Trajectory& trajectory = panel->trajectory(index);
            QCOMPARE(trajectory.points.size(), size_t(panel->stepCount() + 1));
            QCOMPARE(trajectory.points.front().x, panel->start().x());
            QCOMPARE(trajectory.points.front().y, panel->start().y());
            QCOMPARE(panel->lossChart()->pointCount(PlaygroundPanel::chartKey(index)), qsizetype(1));
        }
        // Every path has a colour of its own.
        QSet<QRgb> colors;
        for (const LandscapePath& path : panel->landscapeView()->paths())
            colors.insert(path.color.rgb());
        QCOMPARE(colors.size(), 4);
    }

    void choosingASurface_data() {
        QTest::addColumn<SurfaceKind>("kind");
        QTest::addColumn<bool>("logColors");
        QTest::newRow("rosenbrock") << SurfaceKind::Rosenbrock << true;
        QTest::newRow("beale") << SurfaceKind::Beale << true;
        QTest::newRow("himmelblau") << SurfaceKind::Himmelblau << true;
        QTest::newRow("saddle") << SurfaceKind::Saddle << false;
        QTest::newRow("quadratic") << SurfaceKind::IllConditionedQuadratic << true;
        QTest::newRow("rastrigin") << SurfaceKind::Rastrigin << false;
    }
    void choosingASurface() {
        QFETCH(SurfaceKind, kind);
        QFETCH(bool, logColors);
        auto panel = makePanel();
        panel->show();
        // The same path a user takes: the combo box.
        auto* box = panel->findChild<QComboBox*>(QStringLiteral("surfaceBox"));
        QVERIFY(box);
        const int before = panel->computeCount();
        const int row = box->findData(static_cast<int>(kind));
        QVERIFY(row >= 0);
        box->setCurrentIndex(row);
        Q_EMIT box->activated(row);
        QVERIFY(panel->surfaceKind() == kind);
        QVERIFY(panel->landscapeView()->surface().kind == kind);
        QVERIFY(panel->computeCount() > before || kind == SurfaceKind::Rosenbrock);
        const auto start = defaultStart(panel->landscapeView()->surface());
        QCOMPARE(panel->start(), QPointF(start.first, start.second));

        // The suggested learning rates make progress and stay finite on every surface.
        for (int index : enabledIndices(*panel)) {
            const Trajectory& trajectory = panel->trajectory(index);
            QVERIFY2(!trajectory.diverged, qPrintable(panel->optimizerName(index)));
            QCOMPARE(trajectory.points.size(), size_t(panel->stepCount() + 1));
            QVERIFY2(trajectory.points.back().loss < trajectory.points.front().loss,
                     qPrintable(panel->optimizerName(index)));
        }

        const QImage image = panel->landscapeView()->grab().toImage();
        QVERIFY(!image.isNull());
        QCOMPARE(panel->landscapeView()->usesLogColors(), logColors);
        QVERIFY(panel->landscapeView()->contourSegmentCount() > 50);
    }

    void stepAdvancesEveryPathByOne() {
        auto panel = makePanel();
        QSignalSpy stepSpy(panel.get(), &PlaygroundPanel::currentStepChanged);
        panel->setCurrentStep(10);
        panel->stepForward();
        QCOMPARE(panel->currentStep(), 11);
        QCOMPARE(stepSpy.size(), 2);
        QCOMPARE(stepSpy.last().at(0).toInt(), 11);
        QCOMPARE(panel->landscapeView()->visibleStep(), 11);
        for (int index : enabledIndices(*panel))
            QCOMPARE(panel->lossChart()->pointCount(PlaygroundPanel::chartKey(index)), qsizetype(12));
        // Going back refills the chart instead of appending.
        panel->setCurrentStep(3);
        for (int index : enabledIndices(*panel))
            QCOMPARE(panel->lossChart()->pointCount(PlaygroundPanel::chartKey(index)), qsizetype(4));
        panel->setCurrentStep(panel->stepCount() + 50);
        QCOMPARE(panel->currentStep(), panel->stepCount());
        panel->reset();
        QCOMPARE(panel->currentStep(), 0);
        QVERIFY(!panel->isPlaying());
    }

    void clickMovesTheStartAndRecomputes() {
        auto panel = makePanel();
        panel->setCurrentStep(20);
        panel->show();
        QVERIFY(QTest::qWaitForWindowExposed(panel.get()));
        LossLandscapeView* view = panel->landscapeView();
        QSignalSpy moved(view, &LossLandscapeView::startMoved);
        QSignalSpy recomputed(panel.get(), &PlaygroundPanel::trajectoriesChanged);
        const QPointF target(0.5, -0.5);
        const QPoint click = view->toWidget(target).toPoint();
        QTest::mouseClick(view, Qt::LeftButton, {}, click);
        QCOMPARE(moved.size(), 1);
        QVERIFY(recomputed.wait(30000));
        QCOMPARE(recomputed.size(), 1);
        // Within a pixel of where the click landed.
        const double pixel = 4.0 / view->plotRect().width();
        QVERIFY(std::abs(panel->start().x() - target.x()) < pixel);
        QVERIFY(std::abs(panel->start().y() - target.y()) < pixel);
        QCOMPARE(view->start(), panel->start());
        QCOMPARE(panel->currentStep(), 20); // the animation stays where it was
        for (int index : enabledIndices(*panel)) {
            const Trajectory& trajectory = panel->trajectory(index);
            QCOMPARE(trajectory.points.front().x, panel->start().x());
            QCOMPARE(trajectory.points.front().y, panel->start().y());
        }
        for (const LandscapePath& path : view->paths())
            QCOMPARE(path.points.front(), panel->start());
        // A click outside the map leaves the start alone.
        QTest::mouseClick(view, Qt::LeftButton, {}, QPoint(2, 2));
        QCOMPARE(moved.size(), 1);
    }

    void playAdvancesWithTheTimerUntilTheEnd() {
        auto panel = makePanel();
        panel->setStepCount(25);
        QSignalSpy stepSpy(panel.get(), &PlaygroundPanel::currentStepChanged);
        panel->play();
        QVERIFY(panel->isPlaying());
        QVERIFY(stepSpy.wait(30000));
        QTRY_VERIFY_WITH_TIMEOUT(!panel->isPlaying(), 60000);
        QCOMPARE(panel->currentStep(), 25);
        QCOMPARE(panel->landscapeView()->visibleStep(), 25);

        // Pause holds the step.
        panel->play(); // from the end it starts over
        QVERIFY(stepSpy.wait(30000));
        panel->pause();
        const int held = panel->currentStep();
        QVERIFY(held < 25);
        QTest::qWait(4 * PlaygroundPanel::kTickIntervalMs);
        QCOMPARE(panel->currentStep(), held);
    }

    void learningRatesSnapToTheSliderAndCanDiverge() {
        auto panel = makePanel();
        panel->setLearningRate(0, 0.003);
        const double ratio = panel->learningRate(0) / 0.003;
        const double halfSlot = std::pow(10.0, 0.5 / PlaygroundPanel::kSliderStepsPerDecade);
        QVERIFY(ratio <= halfSlot && ratio >= 1.0 / halfSlot);
        QVERIFY(!panel->trajectory(0).diverged);

        panel->setLearningRate(0, 1.0);
        QVERIFY(panel->trajectory(0).diverged);
        QVERIFY(panel->trajectory(0).points.size() < size_t(panel->stepCount() + 1));
        QVERIFY(panel->landscapeView()->paths().front().diverged);
        QVERIFY(panel->landscapeView()->paths().front().label.contains("diverged"));
        // Stepping past a diverged path's end is fine; the others go on.
        panel->setCurrentStep(panel->stepCount());
        QVERIFY(!panel->landscapeView()->grab().isNull());
    }

    void conditionNumberShapesTheQuadratic() {
        auto panel = makePanel();
        auto* spin = panel->findChild<NumberField*>(QStringLiteral("conditionNumberSpin"));
        QVERIFY(spin);
        QVERIFY(!spin->isEnabled());
        panel->setSurfaceKind(SurfaceKind::IllConditionedQuadratic);
        QVERIFY(spin->isEnabled());
        const double before = panel->trajectory(0).points.at(5).y;
        typeInto(spin, QStringLiteral("4e1"));
        QCOMPARE(panel->conditionNumber(), 40.0);
        QCOMPARE(panel->landscapeView()->surface().conditionNumber, 40.0);
        QVERIFY(panel->trajectory(0).points.at(5).y != before);
    }

    void disablingAnOptimizerRemovesItsPath() {
        auto panel = makePanel();
        panel->setOptimizerEnabled(0, false);
        QCOMPARE(panel->landscapeView()->paths().size(), 3);
        QCOMPARE(panel->lossChart()->seriesCount(), 3);
        QVERIFY(panel->trajectory(0).points.empty());
        panel->setOptimizerEnabled(4, true);
        QCOMPARE(panel->landscapeView()->paths().size(), 4);
        QCOMPARE(panel->trajectory(4).points.size(), size_t(panel->stepCount() + 1));
    }

    void windowGrabShowsTheMap() {
        auto* window = new PlaygroundWindow;
        QPointer<PlaygroundWindow> guard(window);
        window->show();
        QVERIFY(QTest::qWaitForWindowExposed(window));
        window->panel()->setCurrentStep(150);
        const QImage image = window->grab().toImage();
        QVERIFY(!image.isNull());
        QCOMPARE(image.size(), window->size() * window->devicePixelRatio());
        // The heat map paints many shades; an empty widget would have one or two.
        QSet<QRgb> colors;
        const QRect map = window->panel()->landscapeView()->geometry();
        for (int y = map.top(); y < map.bottom(); y += 7)
            for (int x = map.left(); x < map.right(); x += 7)
                colors.insert(image.pixel(x, y));
        QVERIFY2(colors.size() > 50, qPrintable(QString::number(colors.size())));
        window->close(); // deletes itself
        QTRY_VERIFY(guard.isNull());
    }
};

QTEST_MAIN(LossLandscapeViewTest)
#include "tst_loss_landscape_view.moc"
