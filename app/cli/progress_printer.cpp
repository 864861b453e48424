#include "progress_printer.h"

#include "terminal_output.h"

#include <cmath>
#include <unistd.h>

namespace tunelab::cli {

ProgressPrinter::ProgressPrinter(std::FILE* out, int totalEpochs, int64_t stepsPerEpoch)
    : m_out(out)
    , m_totalEpochs(totalEpochs)
    , m_stepsPerEpoch(std::max<int64_t>(stepsPerEpoch, 1))
    , m_start(std::chrono::steady_clock::now()) {
    // The bar moves the cursor on purpose, so on a terminal it writes past the control-character
    // escaping of the safe streams; it prints nothing a file or store could choose.
    std::FILE* unescaped = unescapedStream(out);
    m_terminal = isatty(fileno(unescaped)) != 0;
    if (m_terminal)
        m_out = unescaped;
}

void ProgressPrinter::onEvent(const RunEvent& event) {
    switch (event.kind) {
    case RunEventKind::Started:
        std::fprintf(m_out, "run %lld started on %s\n", static_cast<long long>(event.runId),
                     event.device.c_str());
        std::fflush(m_out);
        m_start = std::chrono::steady_clock::now();
        break;
    case RunEventKind::Steps:
        if (!event.steps.empty()) {
            m_step = event.steps.back().step;
            m_epoch = event.steps.back().epoch;
            m_loss = event.steps.back().trainLoss;
        }
        if (m_terminal)
            redraw(false);
        break;
    case RunEventKind::Epoch: {
        m_lastEpoch = event.epoch;
        m_hasEpoch = true;
        if (m_terminal) {
            redraw(true);
            break;
        }
        const EpochRecord& e = event.epoch;
        std::fprintf(m_out, "epoch %d/%d  step %lld  train_loss %.4f", e.epoch, m_totalEpochs,
                     static_cast<long long>(e.step), e.trainLoss);
        if (!std::isnan(e.valLoss))
            std::fprintf(m_out, "  val_loss %.4f", e.valLoss);
        if (!std::isnan(e.valAccuracy))
            std::fprintf(m_out, "  val_accuracy %.4f", e.valAccuracy);
        if (!std::isnan(e.valMae))
            std::fprintf(m_out, "  val_mae %.4f", e.valMae);
        std::fprintf(m_out, "  lr %.3g  %.2fs\n", e.learningRate, e.seconds);
        std::fflush(m_out);
        break;
    }
    case RunEventKind::Finished:
        finish();
        break;
    }
}

void ProgressPrinter::redraw(bool force) {
    const auto now = std::chrono::steady_clock::now();
    if (!force && now - m_lastDraw < std::chrono::milliseconds(100))
        return;
    m_lastDraw = now;
    const int64_t totalSteps = m_stepsPerEpoch * m_totalEpochs;
    const double fraction = totalSteps > 0 ? std::min(1.0, static_cast<double>(m_step) / totalSteps) : 0.0;
    constexpr int kWidth = 24;
    const int filled = static_cast<int>(fraction * kWidth);
    std::string bar(filled, '#');
    bar.append(kWidth - filled, '.');
    const double seconds = std::chrono::duration<double>(now - m_start).count();
    std::fprintf(m_out, "\r\033[K[%s] %3.0f%%  epoch %d/%d  step %lld  loss %.4f", bar.c_str(),
                 fraction * 100.0, m_epoch, m_totalEpochs, static_cast<long long>(m_step), m_loss);
    if (m_hasEpoch && !std::isnan(m_lastEpoch.valAccuracy))
        std::fprintf(m_out, "  val_acc %.4f", m_lastEpoch.valAccuracy);
    else if (m_hasEpoch && !std::isnan(m_lastEpoch.valMae))
        std::fprintf(m_out, "  val_mae %.4f", m_lastEpoch.valMae);
    if (seconds > 0.0)
        std::fprintf(m_out, "  %.0f steps/s", m_step / seconds);
    std::fflush(m_out);
    m_lineOpen = true;
}

void ProgressPrinter::finish() {
    if (m_lineOpen) {
        redraw(true);
        std::fputc('\n', m_out);
        std::fflush(m_out);
        m_lineOpen = false;
    }
}

} // namespace tunelab::cli
