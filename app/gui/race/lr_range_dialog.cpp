#include "race/lr_range_dialog.h"

#include "charts/loss_chart_view.h"
#include "common/number_field.h"
#include "common/qt_text.h"
#include "race/lr_range_curve_view.h"
#include "race/lr_range_test.h"
#include "race/race_window.h"

#include <QDialogButtonBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QTimer>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace tunelab {

LrRangeTestDialog::LrRangeTestDialog(ExperimentSpec spec, QWidget* parent)
    : QDialog(parent)
    , m_spec(std::move(spec))
    , m_pollTimer(new QTimer(this))
    , m_test(std::make_unique<LrRangeTest>()) {
    setWindowTitle(tr("Learning-rate range test"));
    setObjectName(QStringLiteral("lrRangeTestDialog"));
    auto* layout = new QVBoxLayout(this);
    auto* intro =
        new QLabel(tr("A short run of <b>%1</b> whose learning rate grows exponentially. The best rate "
                      "sits where the loss falls fastest, before it blows up.")
                       .arg(fromStd(m_spec.name).toHtmlEscaped()));
    intro->setWordWrap(true);
    layout->addWidget(intro);

    auto* settingsRow = new QHBoxLayout;
    const RaceNumberRules& rules = raceNumberRules();
    m_minLr = namedNumberField(rules.rangeMinLr, QStringLiteral("rangeMinLr"), tr("From"),
                               tr("The learning rate of the first step"));
    m_maxLr = namedNumberField(rules.rangeMaxLr, QStringLiteral("rangeMaxLr"), tr("To"),
                               tr("The learning rate of the last step; above the first"));
    m_steps = namedNumberField(rules.rangeSteps, QStringLiteral("rangeSteps"), tr("Steps"),
                               tr("Training steps of the test"));
    settingsRow->addWidget(new QLabel(tr("From")));
    settingsRow->addWidget(m_minLr);
    settingsRow->addWidget(new QLabel(tr("to")));
    settingsRow->addWidget(m_maxLr);
    settingsRow->addWidget(new QLabel(tr("over")));
    settingsRow->addWidget(m_steps);
    settingsRow->addWidget(new QLabel(tr("steps")));
    settingsRow->addStretch(1);
    m_run = new QPushButton(tr("Run"));
    m_run->setObjectName(QStringLiteral("runRangeTest"));
    m_stop = new QPushButton(tr("Stop"));
    settingsRow->addWidget(m_run);
    settingsRow->addWidget(m_stop);
    layout->addLayout(settingsRow);
    setSettings(LrRangeSettings{});

    m_view = new LrRangeCurveView;
    layout->addWidget(m_view, 1);
    m_state = new QLabel(tr("Current learning rate: %1").arg(formatLearningRate(m_spec.optimizer.lr)));
    m_state->setWordWrap(true);
    layout->addWidget(m_state);

    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close);
    m_apply = buttons->addButton(tr("Apply"), QDialogButtonBox::ApplyRole);
    m_apply->setObjectName(QStringLiteral("applyLearningRate"));
    m_apply->setToolTip(tr("Put the suggested rate in the experiment's optimizer"));
    layout->addWidget(buttons);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_apply, &QPushButton::clicked, this, [this] { apply(); });
    connect(m_run, &QPushButton::clicked, this, [this] { runTest(); });
    connect(m_stop, &QPushButton::clicked, this, &LrRangeTestDialog::stopTest);
    m_pollTimer->setInterval(RaceWindow::kDrainIntervalMs);
    connect(m_pollTimer, &QTimer::timeout, this, &LrRangeTestDialog::poll);
    updateControls();
    resize(720, 520);
}

LrRangeTestDialog::~LrRangeTestDialog() = default; // the test's destructor stops and joins it

bool LrRangeTestDialog::isRunning() const {
    return m_running;
}

void LrRangeTestDialog::setSettings(const LrRangeSettings& settings) {
    m_minLr->setValue(settings.minLr);
    m_maxLr->setValue(settings.maxLr);
    m_steps->setIntegerValue(settings.steps);
}

LrRangeSettings LrRangeTestDialog::settings() const {
    LrRangeSettings settings;
    settings.minLr = m_minLr->value();
    settings.maxLr = m_maxLr->value();
    settings.steps = static_cast<int>(m_steps->integerValue());
    return settings;
}

bool LrRangeTestDialog::runTest() {
    if (m_running)
        return false;
    QStringList problems = invalidFieldProblems(this);
    if (problems.isEmpty() && m_maxLr->value() <= m_minLr->value())
        problems << tr("To: the last learning rate must be above the first (%1)")
                        .arg(NumberField::formatNumber(m_minLr->value()));
    if (!problems.isEmpty()) {
        m_state->setText(tr("The test cannot run: %1").arg(problems.join(QStringLiteral("; "))));
        return false;
    }
    LrRangeTestOptions options;
    options.niceness = 10; // the test's thread yields to the GUI thread
    if (!m_test->start(m_spec, settings(), options))
        return false;
    m_running = true;
    m_suggested = kNoValue;
    m_result.reset();
    m_view->clear();
    m_state->setText(tr("Running the range test…"));
    m_pollTimer->start();
    updateControls();
    return true;
}

void LrRangeTestDialog::stopTest() {
    m_test->requestStop();
}

void LrRangeTestDialog::poll() {
    std::vector<LrRangeEvent> events = m_test->events().drain();
    if (events.empty())
        return;
    m_pollTimer->stop();
    const LrRangeEvent& outcome = events.back();
    m_running = false;
    const bool succeeded = outcome.ok;
    if (succeeded) {
        m_result = outcome.result;
        m_suggested = m_result->suggestedLearningRate;
        m_view->addCurve(fromStd(m_spec.name), LossChartView::colorForKey(0), m_result->points, m_suggested);
        QString text =
            std::isfinite(m_suggested)
                ? tr("Suggested learning rate: <b>%1</b> (current: %2)")
                      .arg(formatLearningRate(m_suggested), formatLearningRate(m_spec.optimizer.lr))
                : tr("The loss never fell: no rate to suggest. Try a wider range or more steps.");
        if (!m_result->message.empty())
            text += QStringLiteral("<br>") + fromStd(m_result->message).toHtmlEscaped();
        m_state->setText(text);
    } else {
        m_state->setText(tr("The range test could not run: %1").arg(fromStd(outcome.error)));
    }
    updateControls();
    Q_EMIT testFinished(succeeded);
}

bool LrRangeTestDialog::apply() {
    if (!(std::isfinite(m_suggested) && m_suggested > 0.0))
        return false;
    Q_EMIT applyLearningRate(m_suggested);
    accept();
    return true;
}

void LrRangeTestDialog::updateControls() {
    m_run->setEnabled(!m_running);
    m_stop->setEnabled(m_running);
    m_minLr->setEnabled(!m_running);
    m_maxLr->setEnabled(!m_running);
    m_steps->setEnabled(!m_running);
    m_apply->setEnabled(!m_running && std::isfinite(m_suggested) && m_suggested > 0.0);
}

} // namespace tunelab
