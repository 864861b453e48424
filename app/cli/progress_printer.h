#pragma once

#include "events/run_events.h"

#include <chrono>
#include <cstdio>
#include <string>

namespace tunelab::cli {

// Shows a run's progress: on a terminal one line redrawn in place (at most 10 times a second),
// otherwise one line per epoch. Called on the thread that drains the run's events.
class ProgressPrinter {
public:
    ProgressPrinter(std::FILE* out, int totalEpochs, int64_t stepsPerEpoch);

    void onEvent(const RunEvent& event);
    void finish(); // ends the in-place line

private:
    void redraw(bool force);

    std::FILE* m_out;
    bool m_terminal = false;
    int m_totalEpochs;
    int64_t m_stepsPerEpoch;
    int64_t m_step = 0;
    int m_epoch = 0;
    float m_loss = 0.0f;
    EpochRecord m_lastEpoch;
    bool m_hasEpoch = false;
    std::chrono::steady_clock::time_point m_start;
    std::chrono::steady_clock::time_point m_lastDraw;
    bool m_lineOpen = false;
};

} // namespace tunelab::cli
