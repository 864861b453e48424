#pragma once

#include "race/lr_range.h"
#include "spec/spec.h"

#include <QDialog>

#include <memory>
#include <optional>

class QLabel;
class QPushButton;
class QTimer;

namespace tunelab {

class NumberField;

class LrRangeCurveView;
class LrRangeTest;

// The learning-rate range test of one experiment: a short run whose learning rate grows
// exponentially, the loss drawn against the rate on a log axis with the suggested rate marked.
// "Apply" emits applyLearningRate() with the suggestion and accepts the dialog.
class LrRangeTestDialog : public QDialog {
    Q_OBJECT

public:
    explicit LrRangeTestDialog(ExperimentSpec spec, QWidget* parent = nullptr);
    ~LrRangeTestDialog() override; // stops a running test and waits for it

    void setSettings(const LrRangeSettings& settings);
    LrRangeSettings settings() const;
    bool runTest(); // false while one runs already
    void stopTest();
    bool isRunning() const;
    // NaN until a test suggested a rate.
    double suggestedLearningRate() const { return m_suggested; }
    const std::optional<LrRangeResult>& rangeResult() const { return m_result; }
    LrRangeCurveView* curveView() const { return m_view; }
    // Emits applyLearningRate() with the suggestion and accepts; false without one.
    bool apply();

Q_SIGNALS:
    void testFinished(bool succeeded);
    void applyLearningRate(double learningRate);

private:
    void poll(); // GUI timer: takes the test's event once it came
    void updateControls();

    ExperimentSpec m_spec;
    NumberField* m_minLr = nullptr;
    NumberField* m_maxLr = nullptr;
    NumberField* m_steps = nullptr;
    QPushButton* m_run = nullptr;
    QPushButton* m_stop = nullptr;
    QPushButton* m_apply = nullptr;
    QLabel* m_state = nullptr;
    LrRangeCurveView* m_view = nullptr;
    QTimer* m_pollTimer = nullptr;

    bool m_running = false;
    std::unique_ptr<LrRangeTest> m_test; // owns the test's thread; its event is drained by poll()
    std::optional<LrRangeResult> m_result;
    double m_suggested = kNoValue;
};

} // namespace tunelab
