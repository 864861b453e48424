#include "playground/playground_panel.h"

#include "charts/loss_chart_view.h"
#include "common/number_field.h"
#include "playground/loss_landscape_view.h"
#include "spec/optimizer_catalog.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QIcon>
#include <QLabel>
#include <QPixmap>
#include <QPushButton>
#include <QSignalBlocker>
#include <QSlider>
#include <QSplitter>
#include <QTimer>
#include <QVBoxLayout>

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>

namespace tunelab {

std::vector<PlaygroundPanel::OptimizerChoice> PlaygroundPanel::defaultChoices() {
    std::vector<OptimizerChoice> choices;
    auto add = [&](const QString& name, OptimizerType type, bool enabled, auto&& configure) {
        OptimizerChoice choice;
        choice.name = name;
        choice.optimizer = defaultOptimizer(type); // the type's own defaults (AdamW's decay 0.01)
        choice.enabledByDefault = enabled;
        configure(choice.optimizer);
        choices.push_back(choice);
    };
    add(QStringLiteral("SGD"), OptimizerType::Sgd, true, [](OptimizerSpec&) {});
    add(QStringLiteral("Momentum 0.9"), OptimizerType::Sgd, true, [](OptimizerSpec& o) { o.momentum = 0.9; });
    add(QStringLiteral("Nesterov 0.9"), OptimizerType::Sgd, false, [](OptimizerSpec& o) {
        o.momentum = 0.9;
        o.nesterov = true;
    });
    add(QStringLiteral("Adagrad"), OptimizerType::Adagrad, true, [](OptimizerSpec&) {});
    add(QStringLiteral("RMSprop"), OptimizerType::RmsProp, false, [](OptimizerSpec&) {});
    add(QStringLiteral("Adam"), OptimizerType::Adam, true, [](OptimizerSpec&) {});
    add(QStringLiteral("AdamW 0.01"), OptimizerType::AdamW, false, [](OptimizerSpec&) {});
    return choices;
}

double PlaygroundPanel::suggestedLearningRate(SurfaceKind kind, const OptimizerChoice& choice) {
    // Columns: plain SGD, SGD with momentum, Adagrad, RMSprop, Adam and AdamW. Gradient methods
    // scale with the curvature; the adaptive ones with the distance to travel.
    struct Rates {
        double sgd, momentum, adagrad, rmsprop, adam;
    };
    Rates rates{0.01, 0.002, 0.5, 0.01, 0.05};
    switch (kind) {
    case SurfaceKind::Rosenbrock:
        rates = {1e-3, 5e-4, 0.5, 0.01, 0.1};
        break;
    case SurfaceKind::Beale:
        rates = {0.005, 0.001, 0.3, 0.01, 0.05};
        break;
    case SurfaceKind::Himmelblau:
        rates = {0.005, 0.001, 0.5, 0.02, 0.1};
        break;
    case SurfaceKind::Saddle:
        rates = {0.02, 0.005, 0.3, 0.01, 0.05};
        break;
    case SurfaceKind::IllConditionedQuadratic:
        rates = {0.05, 0.02, 0.5, 0.02, 0.1};
        break;
    case SurfaceKind::Rastrigin:
        rates = {0.002, 0.008, 0.5, 0.05, 0.1};
        break;
    }
    switch (choice.optimizer.type) {
    case OptimizerType::Sgd:
        return choice.optimizer.momentum > 0.0 ? rates.momentum : rates.sgd;
    case OptimizerType::Adagrad:
        return rates.adagrad;
    case OptimizerType::RmsProp:
        return rates.rmsprop;
    case OptimizerType::Adam:
    case OptimizerType::AdamW:
        return rates.adam;
    }
    return rates.sgd;
}

QString PlaygroundPanel::surfaceLabel(SurfaceKind kind) {
    switch (kind) {
    case SurfaceKind::Rosenbrock:
        return QStringLiteral("Rosenbrock (curved valley)");
    case SurfaceKind::Beale:
        return QStringLiteral("Beale (flat plateaus, steep edges)");
    case SurfaceKind::Himmelblau:
        return QStringLiteral("Himmelblau (four minima)");
    case SurfaceKind::Saddle:
        return QStringLiteral("Saddle between two wells");
    case SurfaceKind::IllConditionedQuadratic:
        return QStringLiteral("Ill-conditioned quadratic");
    case SurfaceKind::Rastrigin:
        return QStringLiteral("Rastrigin (many local minima)");
    }
    return QString::fromLatin1(toString(kind));
}

namespace {

// The loss chart is logarithmic; a path that reaches the minimum to the last bit would otherwise
// stretch its axis over dozens of decades of rounding noise.
constexpr double kLossGapFloor = 1e-10;

// Chart keys (and so colours) of defaultChoices(): the four shown at first get blue, orange, green
// and red, which stay apart on the map and for colour-blind eyes.
constexpr std::array<qint64, 7> kChartKeys = {1, 2, 7, 3, 5, 4, 10};

qint64 keyForChoice(size_t index) {
    return index < kChartKeys.size() ? kChartKeys[index] : static_cast<qint64>(index) + 1;
}

int sliderPosition(double lr) {
    const double position =
        (std::log10(lr) - PlaygroundPanel::kMinLrExponent) * PlaygroundPanel::kSliderStepsPerDecade;
    const int top = (PlaygroundPanel::kMaxLrExponent - PlaygroundPanel::kMinLrExponent) *
                    PlaygroundPanel::kSliderStepsPerDecade;
    return std::clamp(static_cast<int>(std::lround(position)), 0, top);
}

double learningRateAt(int position) {
    return std::pow(10.0, PlaygroundPanel::kMinLrExponent +
                              static_cast<double>(position) / PlaygroundPanel::kSliderStepsPerDecade);
}

} // namespace

PlaygroundPanel::PlaygroundPanel(TrajectoryFunction trajectoryFunction, QWidget* parent)
    : QWidget(parent)
    , m_trajectoryFunction(std::move(trajectoryFunction)) {
    for (const OptimizerChoice& choice : defaultChoices()) {
        Row row;
        row.choice = choice;
        m_rows.push_back(row);
    }

    m_view = new LossLandscapeView(this);
    m_chart = new LossChartView(LossChartView::Metric::StepLoss, this);
    m_chart->setToolBarVisible(false);
    m_chart->setLogScale(true);
    m_chart->setAxisTitles(tr("step"), tr("loss − minimum"));

    auto* controls = new QWidget(this);
    buildControls(controls);

    auto* side = new QSplitter(Qt::Vertical, this);
    side->addWidget(controls);
    side->addWidget(m_chart);
    side->setStretchFactor(0, 0);
    side->setStretchFactor(1, 1);
    side->setChildrenCollapsible(false);

    auto* splitter = new QSplitter(Qt::Horizontal, this);
    splitter->addWidget(m_view);
    splitter->addWidget(side);
    splitter->setStretchFactor(0, 3);
    splitter->setStretchFactor(1, 2);
    splitter->setChildrenCollapsible(false);
    splitter->setSizes({700, 500});
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->addWidget(splitter);

    m_playTimer = new QTimer(this);
    m_playTimer->setInterval(kTickIntervalMs);
    connect(m_playTimer, &QTimer::timeout, this, &PlaygroundPanel::advanceOnTimer);
    m_recomputeTimer = new QTimer(this);
    m_recomputeTimer->setSingleShot(true);
    m_recomputeTimer->setInterval(60);
    connect(m_recomputeTimer, &QTimer::timeout, this, &PlaygroundPanel::recompute);
    // A drag moves the start many times a second; the paths follow at the recompute timer's pace.
    connect(m_view, &LossLandscapeView::startMoved, this, [this](double x, double y) {
        m_start = QPointF(x, y);
        scheduleRecompute();
    });

    setSurfaceKind(SurfaceKind::Rosenbrock);
}

void PlaygroundPanel::buildControls(QWidget* controls) {
    m_surfaceBox = new QComboBox(controls);
    m_surfaceBox->setObjectName(QStringLiteral("surfaceBox"));
    for (SurfaceKind kind : allSurfaceKinds())
        m_surfaceBox->addItem(surfaceLabel(kind), static_cast<int>(kind));
    connect(m_surfaceBox, &QComboBox::activated, this, [this](int index) {
        setSurfaceKind(static_cast<SurfaceKind>(m_surfaceBox->itemData(index).toInt()));
    });

    const PlaygroundNumberRules& rules = playgroundNumberRules();
    m_conditionSpin =
        namedNumberField(rules.conditionNumber, QStringLiteral("conditionNumberSpin"), tr("Condition number"),
                         tr("f = (x² + c·y²) / 2: the ratio of the steepest to the flattest curvature"));
    m_conditionSpin->setValue(m_surface.conditionNumber);
    connect(m_conditionSpin, &NumberField::valueChanged, this, &PlaygroundPanel::setConditionNumber);

    m_stepCountSpin = namedNumberField(rules.steps, QStringLiteral("stepCount"), tr("Steps"),
                                       tr("Steps each optimizer takes"));
    m_stepCountSpin->setIntegerValue(m_stepCount);
    connect(m_stepCountSpin, &NumberField::valueChanged, this,
            [this](double steps) { setStepCount(static_cast<int>(steps)); });

    m_speedSpin = namedNumberField(rules.stepsPerFrame, QStringLiteral("stepsPerFrame"),
                                   tr("Steps per frame"), tr("Steps shown per animation frame"), 50);
    m_speedSpin->setIntegerValue(1);

    auto* surfaceForm = new QFormLayout;
    surfaceForm->addRow(tr("Surface"), m_surfaceBox);
    surfaceForm->addRow(tr("Condition number"), m_conditionSpin);
    auto* stepsRow = new QHBoxLayout;
    stepsRow->addWidget(m_stepCountSpin);
    stepsRow->addWidget(m_speedSpin);
    stepsRow->addWidget(new QLabel(tr("/ frame")));
    surfaceForm->addRow(tr("Steps"), stepsRow);

    auto* optimizers = new QGroupBox(tr("Optimizers and learning rates"), controls);
    auto* grid = new QGridLayout(optimizers);
    grid->setVerticalSpacing(2);
    const int top = (kMaxLrExponent - kMinLrExponent) * kSliderStepsPerDecade;
    for (int index = 0; index < optimizerCount(); ++index) {
        Row& row = m_rows[static_cast<size_t>(index)];
        const QColor color = LossChartView::colorForKey(chartKey(static_cast<size_t>(index)));
        row.check = new QCheckBox(row.choice.name, optimizers);
        row.check->setChecked(row.choice.enabledByDefault);
        QPixmap swatch(12, 12);
        swatch.fill(color);
        row.check->setIcon(QIcon(swatch));
        row.slider = new QSlider(Qt::Horizontal, optimizers);
        row.slider->setRange(0, top);
        row.slider->setPageStep(kSliderStepsPerDecade);
        row.slider->setToolTip(
            tr("Learning rate, logarithmic: 1e%1 .. 1e%2").arg(kMinLrExponent).arg(kMaxLrExponent));
        row.rateLabel = new QLabel(optimizers);
        row.rateLabel->setMinimumWidth(QFontMetrics(font()).horizontalAdvance(QStringLiteral("0.0005 ")));
        grid->addWidget(row.check, index, 0);
        grid->addWidget(row.slider, index, 1);
        grid->addWidget(row.rateLabel, index, 2);
        connect(row.check, &QCheckBox::toggled, this, [this] { recompute(); });
        connect(row.slider, &QSlider::valueChanged, this, [this, index] {
            Row& changed = m_rows[static_cast<size_t>(index)];
            changed.choice.optimizer.lr = learningRateAt(changed.slider->value());
            updateRowLabels(changed);
            scheduleRecompute();
        });
    }
    grid->setColumnStretch(1, 1);

    m_playButton = new QPushButton(tr("Play"), controls);
    m_playButton->setCheckable(true);
    m_stepButton = new QPushButton(tr("Step"), controls);
    m_resetButton = new QPushButton(tr("Reset"), controls);
    m_stepLabel = new QLabel(controls);
    connect(m_playButton, &QPushButton::toggled, this, [this](bool on) { on ? play() : pause(); });
    connect(m_stepButton, &QPushButton::clicked, this, [this] {
        pause();
        stepForward();
    });
    connect(m_resetButton, &QPushButton::clicked, this, &PlaygroundPanel::reset);
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(m_playButton);
    buttons->addWidget(m_stepButton);
    buttons->addWidget(m_resetButton);
    buttons->addWidget(m_stepLabel, 1);

    auto* hint = new QLabel(tr("Click the map to move the start."), controls);
    hint->setEnabled(false);

    auto* layout = new QVBoxLayout(controls);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(surfaceForm);
    layout->addWidget(optimizers);
    layout->addLayout(buttons);
    layout->addWidget(hint);
}

void PlaygroundPanel::setSurfaceKind(SurfaceKind kind) {
    m_surface.kind = kind;
    {
        const QSignalBlocker blocker(m_surfaceBox);
        m_surfaceBox->setCurrentIndex(m_surfaceBox->findData(static_cast<int>(kind)));
    }
    m_conditionSpin->setEnabled(kind == SurfaceKind::IllConditionedQuadratic);
    for (Row& row : m_rows) {
        // The rate a slider position stands for, so that the slider reproduces it exactly.
        const int position = sliderPosition(suggestedLearningRate(kind, row.choice));
        row.choice.optimizer.lr = learningRateAt(position);
        const QSignalBlocker blocker(row.slider);
        row.slider->setValue(position);
        updateRowLabels(row);
    }
    const auto start = defaultStart(m_surface);
    m_start = QPointF(start.first, start.second);
    m_view->setSurface(m_surface);
    m_view->setStart(m_start.x(), m_start.y());
    m_step = 0;
    recompute();
}

void PlaygroundPanel::setConditionNumber(double conditionNumber) {
    if (!(conditionNumber >= 1.0) || conditionNumber == m_surface.conditionNumber)
        return;
    m_surface.conditionNumber = conditionNumber;
    {
        const QSignalBlocker blocker(m_conditionSpin);
        m_conditionSpin->setValue(conditionNumber);
    }
    if (m_surface.kind != SurfaceKind::IllConditionedQuadratic)
        return;
    m_view->setSurface(m_surface);
    recompute();
}

void PlaygroundPanel::setStart(double x, double y) {
    m_start = QPointF(x, y);
    m_view->setStart(x, y);
    recompute();
}

void PlaygroundPanel::setStepCount(int steps) {
    steps = std::max(1, steps);
    if (steps == m_stepCount)
        return;
    m_stepCount = steps;
    {
        const QSignalBlocker blocker(m_stepCountSpin);
        m_stepCountSpin->setIntegerValue(steps);
    }
    m_step = std::min(m_step, m_stepCount);
    recompute();
}

QString PlaygroundPanel::optimizerName(int index) const {
    return m_rows.at(static_cast<size_t>(index)).choice.name;
}

void PlaygroundPanel::setOptimizerEnabled(int index, bool enabled) {
    m_rows.at(static_cast<size_t>(index)).check->setChecked(enabled); // toggled() recomputes
}

bool PlaygroundPanel::isOptimizerEnabled(int index) const {
    return m_rows.at(static_cast<size_t>(index)).check->isChecked();
}

void PlaygroundPanel::setLearningRate(int index, double lr) {
    Row& row = m_rows.at(static_cast<size_t>(index));
    {
        const QSignalBlocker blocker(row.slider);
        row.slider->setValue(sliderPosition(lr));
    }
    row.choice.optimizer.lr = learningRateAt(row.slider->value());
    updateRowLabels(row);
    recompute();
}

double PlaygroundPanel::learningRate(int index) const {
    return m_rows.at(static_cast<size_t>(index)).choice.optimizer.lr;
}

qint64 PlaygroundPanel::chartKey(int index) {
    return keyForChoice(static_cast<size_t>(std::max(0, index)));
}

const Trajectory& PlaygroundPanel::trajectory(int index) const {
    return m_rows.at(static_cast<size_t>(index)).trajectory;
}

void PlaygroundPanel::scheduleRecompute() {
    m_recomputeTimer->start();
}

void PlaygroundPanel::recompute() {
    m_recomputeTimer->stop();
    ++m_computeCount;
    for (Row& row : m_rows) {
        row.trajectory = {};
        if (row.check->isChecked() && m_trajectoryFunction)
            row.trajectory =
                m_trajectoryFunction(m_surface, row.choice.optimizer, m_start.x(), m_start.y(), m_stepCount);
        updateRowLabels(row);
    }
    refreshView();
    refillChart();
    updateStepLabel();
    Q_EMIT trajectoriesChanged();
}

void PlaygroundPanel::updateRowLabels(Row& row) const {
    QString text = QString::number(row.choice.optimizer.lr, 'g', 2);
    QString problem;
    if (row.check->isChecked() && row.trajectory.diverged)
        problem = tr("diverged at step %1").arg(static_cast<int>(row.trajectory.points.size()));
    else if (row.check->isChecked() && row.trajectory.points.empty())
        problem = tr("could not be computed");
    // The learning rate turns red when it is too large for the surface; the tool tip says why.
    row.rateLabel->setText(text);
    row.rateLabel->setToolTip(problem);
    row.rateLabel->setStyleSheet(problem.isEmpty() ? QString()
                                                   : QStringLiteral("color: #c0392b; font-weight: bold;"));
}

void PlaygroundPanel::refreshView() {
    QVector<LandscapePath> paths;
    for (size_t index = 0; index < m_rows.size(); ++index) {
        const Row& row = m_rows[index];
        if (!row.check->isChecked())
            continue;
        LandscapePath path;
        path.label = row.trajectory.diverged ? tr("%1 (diverged)").arg(row.choice.name) : row.choice.name;
        path.color = LossChartView::colorForKey(chartKey(index));
        path.diverged = row.trajectory.diverged;
        path.points.reserve(static_cast<qsizetype>(row.trajectory.points.size()));
        for (const TrajectoryPoint& point : row.trajectory.points)
            path.points.append(QPointF(point.x, point.y));
        paths.append(path);
    }
    m_view->setPaths(paths);
    m_view->setVisibleStep(m_step);
}

double PlaygroundPanel::surfaceFloor() const {
    double floor = std::numeric_limits<double>::infinity();
    for (const auto& [x, y] : surfaceMinima(m_surface))
        floor = std::min(floor, surfaceValue(m_surface, x, y));
    return std::isfinite(floor) ? floor : 0.0;
}

void PlaygroundPanel::refillChart() {
    for (size_t index = 0; index < m_rows.size(); ++index) {
        const qint64 key = chartKey(index);
        if (m_rows[index].check->isChecked())
            m_chart->addSeries(key, m_rows[index].choice.name);
        else if (m_chart->hasSeries(key))
            m_chart->removeSeries(key);
    }
    m_chart->clearPoints();
    appendChartPoints(0, m_step);
}

void PlaygroundPanel::appendChartPoints(int fromStep, int toStep) {
    const double floor = surfaceFloor();
    for (size_t index = 0; index < m_rows.size(); ++index) {
        const Row& row = m_rows[index];
        if (!row.check->isChecked())
            continue;
        const int last = std::min(toStep, static_cast<int>(row.trajectory.points.size()) - 1);
        QVector<QPointF> points;
        for (int step = fromStep; step <= last; ++step)
            points.append(
                QPointF(step, std::max(kLossGapFloor,
                                       row.trajectory.points[static_cast<size_t>(step)].loss - floor)));
        if (!points.isEmpty())
            m_chart->appendPoints(chartKey(index), points);
    }
}

void PlaygroundPanel::setCurrentStep(int step) {
    step = std::clamp(step, 0, m_stepCount);
    if (step == m_step)
        return;
    if (step > m_step) {
        appendChartPoints(m_step + 1, step);
        m_step = step;
    } else {
        m_step = step;
        refillChart();
    }
    m_view->setVisibleStep(m_step);
    updateStepLabel();
    Q_EMIT currentStepChanged(m_step);
}

void PlaygroundPanel::stepForward() {
    setCurrentStep(m_step + 1);
}

void PlaygroundPanel::play() {
    if (m_step >= m_stepCount)
        setCurrentStep(0);
    m_playTimer->start();
    const QSignalBlocker blocker(m_playButton);
    m_playButton->setChecked(true);
    m_playButton->setText(tr("Pause"));
}

void PlaygroundPanel::pause() {
    m_playTimer->stop();
    const QSignalBlocker blocker(m_playButton);
    m_playButton->setChecked(false);
    m_playButton->setText(tr("Play"));
}

bool PlaygroundPanel::isPlaying() const {
    return m_playTimer->isActive();
}

void PlaygroundPanel::reset() {
    pause();
    setCurrentStep(0);
}

void PlaygroundPanel::advanceOnTimer() {
    setCurrentStep(m_step + static_cast<int>(m_speedSpin->integerValue()));
    if (m_step >= m_stepCount)
        pause();
}

void PlaygroundPanel::updateStepLabel() {
    m_stepLabel->setText(tr("step %1 / %2").arg(m_step).arg(m_stepCount));
}

} // namespace tunelab
