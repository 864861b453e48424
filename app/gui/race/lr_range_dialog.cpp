#include "race/lr_range_dialog.h"

#include "charts/loss_chart_view.h"
#include "common/qt_text.h"
#include "race/lr_range_curve_view.h"
#include "race/lr_range_test.h"
#include "race/race_window.h"

#include <QDialogButtonBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QSpinBox>
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
    m_minLrExponent = new QSpinBox;
    m_minLrExponent->setPrefix(QStringLiteral("1e"));
    m_minLrExponent->setRange(-10, 0);
    m_maxLrExponent = new QSpinBox;
    m_maxLrExponent->setPrefix(QStringLiteral("1e"));
    m_maxLrExponent->setRange(-6, 3);
    m_steps = new QSpinBox;
    m_steps->setRange(10, 5000);
    m_steps->setSuffix(tr(" steps"));
    settingsRow->addWidget(new QLabel(tr("From")));
    settingsRow->addWidget(m_minLrExponent);
    settingsRow->addWidget(new QLabel(tr("to")));
    settingsRow->addWidget(m_maxLrExponent);
    settingsRow->addWidget(new QLabel(tr("over")));
    settingsRow->addWidget(m_steps);
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
    m_minLrExponent->setValue(static_cast<int>(std::lround(std::log10(settings.minLr))));
    m_maxLrExponent->setValue(static_cast<int>(std::lround(std::log10(settings.maxLr))));
    m_steps->setValue(settings.steps);
}

LrRangeSettings LrRangeTestDialog::settings() const {
    LrRangeSettings settings;
    settings.minLr = std::pow(10.0, m_minLrExponent->value());
    settings.maxLr = std::pow(10.0, std::max(m_maxLrExponent->value(), m_minLrExponent->value() + 1));
    settings.steps = m_steps->value();
    return settings;
}

bool LrRangeTestDialog::runTest() {
    if (m_running)
        return false;
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
    m_minLrExponent->setEnabled(!m_running);
    m_maxLrExponent->setEnabled(!m_running);
    m_steps->setEnabled(!m_running);
    m_apply->setEnabled(!m_running && std::isfinite(m_suggested) && m_suggested > 0.0);
}

} // namespace tunelab
