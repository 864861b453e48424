#pragma once

#include "playground/loss_surfaces.h"
#include "spec/spec.h"

#include <QPointF>
#include <QString>
#include <QWidget>

#include <functional>
#include <vector>

class QCheckBox;
class QComboBox;
class QLabel;
class QPushButton;
class QSlider;
class QTimer;

namespace tunelab {

class NumberField;

class LossChartView;
class LossLandscapeView;

// The loss-landscape playground: a surface chooser, the optimizers to compare (each with a
// logarithmic learning-rate slider), play / pause / step / reset, the landscape and a
// loss-versus-step chart. Trajectories come from a callback, since widgets link no LibTorch: the
// app passes optimizerTrajectory(). They are computed in full (up to the step count) whenever the
// surface, start, an optimizer or a learning rate changes; playing only moves the visible step.
// GUI thread only.
class PlaygroundPanel : public QWidget {
    Q_OBJECT

public:
    using TrajectoryFunction =
        std::function<Trajectory(const Surface&, const OptimizerSpec&, double x0, double y0, int steps)>;

    static constexpr int kDefaultStepCount = 300;
    static constexpr int kTickIntervalMs = 30;
    // Learning-rate sliders: 10^kMinLrExponent .. 10^kMaxLrExponent, kSliderStepsPerDecade positions
    // a decade.
    static constexpr int kMinLrExponent = -5;
    static constexpr int kMaxLrExponent = 0;
    static constexpr int kSliderStepsPerDecade = 20;

    struct OptimizerChoice {
        QString name;
        OptimizerSpec optimizer; // lr is replaced by the slider's value
        bool enabledByDefault = false;
    };
    // Plain SGD, SGD with momentum, Nesterov, Adagrad, RMSprop, Adam, AdamW.
    static std::vector<OptimizerChoice> defaultChoices();
    // A learning rate that shows the optimizer's character on the surface without diverging.
    static double suggestedLearningRate(SurfaceKind kind, const OptimizerChoice& choice);
    static QString surfaceLabel(SurfaceKind kind);

    explicit PlaygroundPanel(TrajectoryFunction trajectoryFunction, QWidget* parent = nullptr);

    // Choosing a surface moves the start to its default and the learning rates to suggested ones.
    void setSurfaceKind(SurfaceKind kind);
    SurfaceKind surfaceKind() const { return m_surface.kind; }
    void setConditionNumber(double conditionNumber); // the quadratic's
    double conditionNumber() const { return m_surface.conditionNumber; }
    void setStart(double x, double y);
    QPointF start() const { return m_start; }
    void setStepCount(int steps);
    int stepCount() const { return m_stepCount; }

    int optimizerCount() const { return static_cast<int>(m_rows.size()); }
    QString optimizerName(int index) const;
    void setOptimizerEnabled(int index, bool enabled);
    bool isOptimizerEnabled(int index) const;
    // Snaps to the nearest slider position.
    void setLearningRate(int index, double lr);
    double learningRate(int index) const;
    // The key of an optimizer's curve in lossChart(); its colour on the map as well.
    static qint64 chartKey(int index);
    // The last computed path of an optimizer; empty while it is disabled.
    const Trajectory& trajectory(int index) const;

    int currentStep() const { return m_step; }
    void setCurrentStep(int step);
    void stepForward();
    void play();
    void pause();
    bool isPlaying() const;
    // Back to step 0, paused.
    void reset();
    // How many times the trajectories were computed (each time for every enabled optimizer).
    int computeCount() const { return m_computeCount; }

    LossLandscapeView* landscapeView() const { return m_view; }
    LossChartView* lossChart() const { return m_chart; }

Q_SIGNALS:
    void currentStepChanged(int step);
    void trajectoriesChanged();

private:
    struct Row {
        OptimizerChoice choice;
        QCheckBox* check = nullptr;
        QSlider* slider = nullptr;
        QLabel* rateLabel = nullptr;
        Trajectory trajectory;
    };

    void buildControls(QWidget* controls);
    void recompute();
    void scheduleRecompute();
    void updateRowLabels(Row& row) const;
    void refreshView();
    void refillChart();
    void appendChartPoints(int fromStep, int toStep);
    void advanceOnTimer();
    void updateStepLabel();
    double surfaceFloor() const;

    TrajectoryFunction m_trajectoryFunction;
    Surface m_surface;
    QPointF m_start;
    int m_stepCount = kDefaultStepCount;
    int m_step = 0;
    int m_computeCount = 0;
    std::vector<Row> m_rows;

    LossLandscapeView* m_view = nullptr;
    LossChartView* m_chart = nullptr;
    QComboBox* m_surfaceBox = nullptr;
    NumberField* m_conditionSpin = nullptr;
    NumberField* m_stepCountSpin = nullptr;
    NumberField* m_speedSpin = nullptr;
    QPushButton* m_playButton = nullptr;
    QPushButton* m_stepButton = nullptr;
    QPushButton* m_resetButton = nullptr;
    QLabel* m_stepLabel = nullptr;
    QTimer* m_playTimer = nullptr;      // child object
    QTimer* m_recomputeTimer = nullptr; // child object: coalesces slider and start drags
};

} // namespace tunelab
