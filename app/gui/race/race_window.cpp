#include "race/race_window.h"

#include "charts/loss_chart_view.h"
#include "common/number_field.h"
#include "common/qt_text.h"
#include "race/race_runner.h"
#include "race/race_view.h"
#include "store/run_store.h"

#include <QCheckBox>
#include <QFile>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QSplitter>
#include <QTabWidget>
#include <QTableView>
#include <QTimer>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace tunelab {

RaceWindow::RaceWindow(RunStore* store, ExperimentSpec base, QWidget* parent)
    : QWidget(parent, Qt::Window | Qt::Tool)
    , m_store(store)
    , m_base(std::move(base))
    , m_setupModel(new RaceSetupModel(this))
    , m_resultsModel(new RaceResultsModel(this))
    , m_drainTimer(new QTimer(this))
    , m_runner(std::make_unique<RaceRunner>(store)) {
    setWindowTitle(tr("Optimizer race"));
    setObjectName(QStringLiteral("raceWindow"));
    buildUi();
    m_drainTimer->setInterval(kDrainIntervalMs);
    connect(m_drainTimer, &QTimer::timeout, this, &RaceWindow::drain);
    connect(m_setupModel, &RaceSetupModel::setupsChanged, this, &RaceWindow::updateControls);
    updateBaseLabel();
    updateControls();
    resize(1280, 860);
}

RaceWindow::~RaceWindow() = default; // the runner's destructor stops the race and joins it

void RaceWindow::buildUi() {
    auto* layout = new QVBoxLayout(this);
    auto* splitter = new QSplitter(Qt::Vertical);
    layout->addWidget(splitter);

    // Top: the set-ups on the left, the race settings and actions on the right.
    auto* top = new QWidget;
    auto* topLayout = new QHBoxLayout(top);
    topLayout->setContentsMargins(0, 0, 0, 0);

    auto* setupBox = new QGroupBox(tr("Set-ups"));
    auto* setupLayout = new QVBoxLayout(setupBox);
    m_setupTable = new QTableView;
    m_setupTable->setObjectName(QStringLiteral("raceSetups"));
    m_setupTable->setModel(m_setupModel);
    m_setupTable->setItemDelegate(new RaceSetupDelegate(m_setupTable));
    m_setupTable->verticalHeader()->hide();
    m_setupTable->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_setupTable->setSelectionMode(QAbstractItemView::SingleSelection);
    m_setupTable->setEditTriggers(QAbstractItemView::DoubleClicked | QAbstractItemView::EditKeyPressed |
                                  QAbstractItemView::SelectedClicked);
    m_setupTable->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_setupTable->horizontalHeader()->setStretchLastSection(true);
    setupLayout->addWidget(m_setupTable);
    auto* setupButtons = new QHBoxLayout;
    m_addSetup = new QPushButton(tr("Add"));
    m_addSetup->setToolTip(tr("Add a copy of the selected set-up"));
    m_removeSetup = new QPushButton(tr("Remove"));
    m_resetSetups = new QPushButton(tr("Defaults"));
    m_resetSetups->setToolTip(tr("The usual set-ups: SGD, momentum, Nesterov, Adagrad, RMSprop, Adam, AdamW, "
                                 "full-batch gradient descent"));
    setupButtons->addWidget(m_addSetup);
    setupButtons->addWidget(m_removeSetup);
    setupButtons->addWidget(m_resetSetups);
    setupButtons->addStretch(1);
    setupLayout->addLayout(setupButtons);
    topLayout->addWidget(setupBox, 3);
    connect(m_addSetup, &QPushButton::clicked, this, [this] {
        const QModelIndex current = m_setupTable->currentIndex();
        const int row = m_setupModel->addSetup(current.isValid() ? current.row() : -1);
        m_setupTable->selectRow(row);
    });
    connect(m_removeSetup, &QPushButton::clicked, this, [this] {
        const QModelIndex current = m_setupTable->currentIndex();
        if (current.isValid())
            m_setupModel->removeSetup(current.row());
    });
    connect(m_resetSetups, &QPushButton::clicked, m_setupModel, &RaceSetupModel::resetToDefaults);

    auto* raceBox = new QGroupBox(tr("Race"));
    auto* raceLayout = new QVBoxLayout(raceBox);
    m_baseLabel = new QLabel;
    m_baseLabel->setWordWrap(true);
    raceLayout->addWidget(m_baseLabel);
    auto* form = new QFormLayout;
    m_fair = new QCheckBox(tr("Fair learning rates"));
    m_fair->setObjectName(QStringLiteral("fairLearningRates"));
    m_fair->setToolTip(tr("Run a quick learning-rate range test per set-up first and race each at its "
                          "suggested rate"));
    form->addRow(m_fair);
    m_targetLoss =
        namedNumberField(raceNumberRules().targetLoss, QStringLiteral("targetLoss"), tr("Target val loss"),
                         tr("Steps and seconds to reach are counted until the validation loss "
                            "first reaches this value; empty: no target"),
                         120);
    m_targetLoss->setDefaultText(tr("none"));
    m_targetLoss->setValue(0.0);
    form->addRow(tr("Target val loss"), m_targetLoss);
    auto* logScale = new QCheckBox(tr("Log scale"));
    form->addRow(logScale);
    raceLayout->addLayout(form);
    auto* runButtons = new QHBoxLayout;
    m_start = new QPushButton(tr("Start race"));
    m_start->setObjectName(QStringLiteral("startRace"));
    m_start->setDefault(true);
    m_stop = new QPushButton(tr("Stop"));
    runButtons->addWidget(m_start);
    runButtons->addWidget(m_stop);
    raceLayout->addLayout(runButtons);
    m_state = new QLabel(tr("Ready"));
    m_state->setWordWrap(true);
    raceLayout->addWidget(m_state);
    raceLayout->addStretch(1);
    auto* fileButtons = new QGridLayout;
    m_exportCsv = new QPushButton(tr("Export CSV…"));
    m_exportPng = new QPushButton(tr("Export PNG…"));
    auto* saveRace = new QPushButton(tr("Save race…"));
    saveRace->setToolTip(tr("A race file that `tunelab-cli race FILE` runs again"));
    auto* openRace = new QPushButton(tr("Open race…"));
    fileButtons->addWidget(m_exportCsv, 0, 0);
    fileButtons->addWidget(m_exportPng, 0, 1);
    fileButtons->addWidget(saveRace, 1, 0);
    fileButtons->addWidget(openRace, 1, 1);
    raceLayout->addLayout(fileButtons);
    topLayout->addWidget(raceBox, 1);
    splitter->addWidget(top);

    connect(m_start, &QPushButton::clicked, this, [this] { startRace(); });
    connect(m_stop, &QPushButton::clicked, this, &RaceWindow::stopRace);
    connect(m_exportCsv, &QPushButton::clicked, this, &RaceWindow::exportCsvWithDialog);
    connect(m_exportPng, &QPushButton::clicked, this, &RaceWindow::exportPngWithDialog);
    connect(saveRace, &QPushButton::clicked, this, &RaceWindow::saveRaceWithDialog);
    connect(openRace, &QPushButton::clicked, this, &RaceWindow::openRaceWithDialog);

    // Bottom: the curves, the chosen rates and the results: what Export PNG shows.
    m_resultsArea = new QWidget;
    m_resultsArea->setAutoFillBackground(true);
    auto* resultsLayout = new QVBoxLayout(m_resultsArea);
    resultsLayout->setContentsMargins(0, 0, 0, 0);
    auto* tabs = new QTabWidget;
    auto* curves = new QSplitter(Qt::Horizontal);
    m_valChart = new LossChartView(LossChartView::Metric::StepLoss);
    m_valChart->setObjectName(QStringLiteral("raceValidationChart"));
    m_valChart->setToolBarVisible(false);
    m_valChart->setAxisTitles(tr("epoch"), tr("validation loss"));
    m_trainChart = new LossChartView(LossChartView::Metric::StepLoss);
    m_trainChart->setObjectName(QStringLiteral("raceTrainingChart"));
    m_trainChart->setToolBarVisible(false);
    m_trainChart->setAxisTitles(tr("step"), tr("training loss"));
    m_trainChart->setSmoothing(0.8);
    curves->addWidget(m_valChart);
    curves->addWidget(m_trainChart);
    tabs->addTab(curves, tr("Curves"));
    m_rangeView = new LrRangeCurveView;
    m_rangeView->setPlaceholderText(tr("With fair learning rates on, each set-up's range test appears here"));
    tabs->addTab(m_rangeView, tr("Range tests"));
    resultsLayout->addWidget(tabs, 3);
    m_rates = new QLabel;
    m_rates->setWordWrap(true);
    m_rates->setTextFormat(Qt::RichText);
    resultsLayout->addWidget(m_rates);
    m_resultsTable = new QTableView;
    m_resultsTable->setObjectName(QStringLiteral("raceResults"));
    m_resultsTable->setModel(m_resultsModel);
    m_resultsTable->verticalHeader()->hide();
    m_resultsTable->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_resultsTable->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
    m_resultsTable->horizontalHeader()->setSectionResizeMode(RaceResultsModel::SetupColumn,
                                                             QHeaderView::ResizeToContents);
    resultsLayout->addWidget(m_resultsTable);
    splitter->addWidget(m_resultsArea);
    splitter->setStretchFactor(0, 0);
    splitter->setStretchFactor(1, 1);
    splitter->setSizes({330, 530});
    fitResultsTable();
    connect(m_resultsModel, &QAbstractItemModel::modelReset, this, &RaceWindow::fitResultsTable);

    connect(logScale, &QCheckBox::toggled, this, [this](bool on) {
        m_valChart->setLogScale(on);
        m_trainChart->setLogScale(on);
    });
}

void RaceWindow::fitResultsTable() {
    // Tall enough for every set-up (up to eight rows, then it scrolls), so the curves get the rest.
    const int rows = std::clamp(m_resultsModel->rowCount(), 3, 8);
    const int height = m_resultsTable->horizontalHeader()->sizeHint().height() +
                       rows * m_resultsTable->verticalHeader()->defaultSectionSize() +
                       2 * m_resultsTable->frameWidth();
    m_resultsTable->setFixedHeight(height);
}

void RaceWindow::setBaseExperiment(const ExperimentSpec& base) {
    m_base = base;
    updateBaseLabel();
}

void RaceWindow::updateBaseLabel() {
    const QString batch =
        m_base.training.fullBatch ? tr("full batch") : tr("batch %1").arg(m_base.training.batchSize);
    m_baseLabel->setText(tr("<b>%1</b><br>%2 epochs, %3, seed %4")
                             .arg(fromStd(m_base.name).toHtmlEscaped())
                             .arg(m_base.training.epochs)
                             .arg(batch)
                             .arg(m_base.seed));
}

void RaceWindow::setFairLearningRates(bool on) {
    m_fair->setChecked(on);
}

bool RaceWindow::fairLearningRates() const {
    return m_fair->isChecked();
}

void RaceWindow::setTargetLoss(double loss) {
    if (std::isfinite(loss))
        m_targetLoss->setValue(loss);
    else
        m_targetLoss->setValue(0.0); // shows the empty field: no target
}

double RaceWindow::targetLoss() const {
    return m_targetLoss->text().trimmed().isEmpty() ? kNoValue : m_targetLoss->value();
}

RaceSpec RaceWindow::raceSpec() const {
    RaceSpec spec;
    spec.name = m_base.name + " race";
    spec.experimentJson = experimentSpecToJson(m_base);
    spec.setups = m_setupModel->enabledSetups();
    spec.fairLearningRates = fairLearningRates();
    spec.targetLoss = targetLoss();
    return spec;
}

bool RaceWindow::applyRaceSpec(const RaceSpec& spec, QString* error) {
    if (m_running) {
        if (error)
            *error = tr("Stop the race first");
        return false;
    }
    auto experiment = parseExperimentSpec(spec.experimentJson);
    if (!experiment) {
        if (error)
            *error = fromStd(experiment.error());
        return false;
    }
    setBaseExperiment(experiment.value());
    m_setupModel->setSetups(spec.setups);
    setFairLearningRates(spec.fairLearningRates);
    setTargetLoss(spec.targetLoss);
    return true;
}

bool RaceWindow::startRace() {
    if (m_running)
        return false;
    if (const QStringList problems = invalidFieldProblems(this); !problems.isEmpty()) {
        report(tr("Optimizer race"),
               tr("The race cannot start: %1").arg(problems.join(QStringLiteral("; "))));
        return false;
    }
    RaceSpec spec = raceSpec();
    if (spec.setups.empty()) {
        report(tr("Optimizer race"), tr("Check at least one set-up to race."));
        return false;
    }
    RaceRunOptions options;
    options.device = m_device;
    options.threadsPerSetup = 1;
    options.niceness = 10;      // set-up threads yield to the GUI thread
    m_runner->events().drain(); // a previous race's leftovers, if any
    auto started = m_runner->start(spec, options);
    if (!started.ok()) {
        m_runningSpec = spec;
        m_stateText = tr("The race could not run: %1").arg(fromStd(started.error()));
        report(tr("Optimizer race"), m_stateText);
        updateControls();
        Q_EMIT raceFinished(false);
        return false;
    }
    m_runningSpec = spec;
    m_scoreboard = RaceScoreboard(spec);
    m_chosenRates.clear();
    m_finalResults.clear();
    m_valChart->clear();
    m_trainChart->clear();
    m_rangeView->clear();

    std::vector<QColor> colors;
    for (size_t index = 0; index < spec.setups.size(); ++index) {
        const QString name = fromStd(spec.setups[index].name);
        m_valChart->addSeries(static_cast<qint64>(index), name);
        m_trainChart->addSeries(static_cast<qint64>(index), name);
        colors.push_back(LossChartView::colorForKey(static_cast<qint64>(index)));
    }
    m_resultsModel->setHasTarget(std::isfinite(spec.targetLoss));
    m_resultsModel->setResults(m_scoreboard.results());
    m_resultsModel->setColors(colors);

    m_running = true;
    m_stateShowsReadiness = false;
    m_stateText = spec.fairLearningRates
                      ? tr("Range tests for %n set-up(s)…", nullptr, int(spec.setups.size()))
                      : tr("Racing %n set-up(s)…", nullptr, int(spec.setups.size()));
    m_drainTimer->start();
    updateRatesLabel();
    updateControls();
    Q_EMIT raceStarted();
    return true;
}

void RaceWindow::stopRace() {
    if (!m_running)
        return;
    m_runner->requestStop();
    m_stateText = tr("Stopping…");
    updateControls();
}

// GUI timer: the race's events so far go to the scoreboard and the charts, in one batch per
// chart and one table update per changed row.
void RaceWindow::drain() {
    std::vector<bool> changed(m_scoreboard.results().size(), false);
    std::map<int, QVector<QPointF>> trainPoints;
    std::map<int, QVector<QPointF>> valPoints;
    bool finished = false;
    bool ratesChanged = false;
    for (const RaceEvent& event : m_runner->events().drain()) {
        const int index = m_scoreboard.apply(event);
        if (index >= 0)
            changed[static_cast<size_t>(index)] = true;
        switch (event.kind) {
        case RaceEventKind::RangeTested: {
            const std::string& name = m_scoreboard.results()[static_cast<size_t>(index)].setup;
            m_rangeView->addCurve(fromStd(name), LossChartView::colorForKey(index), event.rangeTest.points,
                                  event.rangeTest.suggestedLearningRate);
            m_chosenRates[name] = event.rangeTest.suggestedLearningRate;
            ratesChanged = true;
            break;
        }
        case RaceEventKind::SetupStarted:
            m_stateText = tr("Racing %n set-up(s)…", nullptr, int(m_runningSpec.setups.size()));
            break;
        case RaceEventKind::Run:
            if (event.run.kind == RunEventKind::Steps) {
                QVector<QPointF>& points = trainPoints[event.setup];
                for (const StepRecord& step : event.run.steps)
                    points.append(QPointF(double(step.step), double(step.trainLoss)));
            } else if (event.run.kind == RunEventKind::Epoch && std::isfinite(event.run.epoch.valLoss)) {
                valPoints[event.setup].append(QPointF(event.run.epoch.epoch, event.run.epoch.valLoss));
            }
            break;
        case RaceEventKind::Finished:
            finished = true;
            break;
        }
    }
    if (ratesChanged)
        updateRatesLabel();
    for (auto& [index, points] : trainPoints)
        m_trainChart->appendPoints(index, points);
    for (auto& [index, points] : valPoints)
        m_valChart->appendPoints(index, points);
    if (finished) {
        finishRace();
        return;
    }
    for (size_t index = 0; index < changed.size(); ++index)
        if (changed[index])
            m_resultsModel->updateResult(static_cast<int>(index), m_scoreboard.results()[index]);
    updateControls();
}

void RaceWindow::finishRace() {
    m_drainTimer->stop();
    m_running = false;
    const bool succeeded = m_scoreboard.succeeded();
    if (succeeded) {
        m_finalResults = m_scoreboard.results();
        m_resultsModel->setResults(m_finalResults);
        if (m_runningSpec.fairLearningRates)
            for (const RaceEntryResult& result : m_finalResults)
                m_chosenRates[result.setup] = result.learningRate;
        const int best = m_scoreboard.bestRow();
        m_stateText = best >= 0 ? tr("Finished: %1 reached the lowest validation loss")
                                      .arg(fromStd(m_finalResults[static_cast<size_t>(best)].setup))
                                : tr("Finished: no set-up stayed stable");
    } else {
        m_stateText = tr("The race could not run: %1").arg(fromStd(m_scoreboard.error()));
        report(tr("Optimizer race"), m_stateText);
    }
    updateRatesLabel();
    updateControls();
    Q_EMIT raceFinished(succeeded);
}

void RaceWindow::updateRatesLabel() {
    QStringList parts;
    const RaceSpec& spec = m_runningSpec;
    for (size_t index = 0; index < spec.setups.size(); ++index) {
        const std::string& name = spec.setups[index].name;
        double rate = kNoValue;
        if (spec.fairLearningRates) {
            const auto found = m_chosenRates.find(name);
            if (found != m_chosenRates.end())
                rate = found->second;
        } else {
            if (index < m_scoreboard.results().size())
                rate = m_scoreboard.results()[index].learningRate;
        }
        const QColor color = LossChartView::colorForKey(static_cast<qint64>(index));
        parts << QStringLiteral("<span style=\"color:%1\">■</span> %2 %3")
                     .arg(color.name(), fromStd(name).toHtmlEscaped(), formatLearningRate(rate));
    }
    if (parts.isEmpty()) {
        m_rates->clear();
        return;
    }
    const QString title =
        spec.fairLearningRates ? tr("Rates chosen by the range tests:") : tr("Learning rates:");
    m_rates->setText(QStringLiteral("<b>%1</b> %2").arg(title, parts.join(QStringLiteral(" &nbsp; "))));
}

void RaceWindow::updateControls() {
    const bool hasSetups = m_setupModel->enabledCount() > 0;
    m_start->setEnabled(!m_running && hasSetups);
    m_stop->setEnabled(m_running);
    m_setupTable->setEnabled(!m_running);
    m_addSetup->setEnabled(!m_running);
    m_removeSetup->setEnabled(!m_running && m_setupModel->rowCount() > 0);
    m_resetSetups->setEnabled(!m_running);
    m_fair->setEnabled(!m_running);
    m_targetLoss->setEnabled(!m_running);
    m_exportCsv->setEnabled(m_resultsModel->rowCount() > 0);
    if (!m_running && m_stateShowsReadiness)
        m_stateText = hasSetups ? tr("Ready: %n set-up(s) checked", nullptr, m_setupModel->enabledCount())
                                : tr("Check at least one set-up");
    m_state->setText(m_stateText);
}

QString RaceWindow::stateText() const {
    return m_stateText;
}

void RaceWindow::report(const QString& title, const QString& message) {
    m_stateText = message;
    m_stateShowsReadiness = false;
    m_state->setText(message);
    if (m_interactive)
        QMessageBox::warning(this, title, message);
}

} // namespace tunelab
