#pragma once

// For the window benchmarks: how late a 5 ms timer on the GUI thread fires, the measure of how long
// the window could not answer.

#include <QElapsedTimer>
#include <QTimer>

#include <algorithm>
#include <vector>

class GuiThreadProbe {
public:
    GuiThreadProbe() {
        m_timer.setTimerType(Qt::PreciseTimer);
        m_timer.setInterval(5);
        QObject::connect(&m_timer, &QTimer::timeout, [this] {
            const qint64 now = m_clock.nsecsElapsed();
            m_lateness.push_back(static_cast<double>(std::max<qint64>(0, now - m_expected)) / 1e6);
            m_expected = now + 5'000'000;
        });
    }

    // Starts the clock and the timer (from the event loop).
    void start() {
        m_clock.start();
        m_expected = 5'000'000;
        m_timer.start();
    }
    void stop() { m_timer.stop(); }
    // Milliseconds since start().
    double elapsedMs() const { return static_cast<double>(m_clock.nsecsElapsed()) / 1e6; }
    // How late each tick fired, in milliseconds.
    const std::vector<double>& lateness() const { return m_lateness; }

private:
    QTimer m_timer;
    QElapsedTimer m_clock;
    qint64 m_expected = 0;
    std::vector<double> m_lateness;
};
