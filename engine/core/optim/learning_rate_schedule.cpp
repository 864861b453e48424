#include "optim/learning_rate_schedule.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace tunelab {

LearningRateSchedule::LearningRateSchedule(const ScheduleSpec& spec, double baseLr, int epochs,
                                           int64_t stepsPerEpoch)
    : m_spec(spec)
    , m_baseLr(baseLr)
    , m_epochs(std::max(epochs, 1))
    , m_stepsPerEpoch(std::max<int64_t>(stepsPerEpoch, 1))
    , m_warmupSteps(
          static_cast<int64_t>(std::llround(spec.warmupEpochs * static_cast<double>(m_stepsPerEpoch))))
    , m_bestLoss(std::numeric_limits<double>::infinity()) {}

double LearningRateSchedule::learningRate(int64_t step, int epoch) const {
    if (step < m_warmupSteps)
        return m_baseLr * static_cast<double>(step + 1) / static_cast<double>(m_warmupSteps);
    switch (m_spec.type) {
    case ScheduleType::Constant:
    case ScheduleType::LinearWarmup:
        return m_baseLr;
    case ScheduleType::Step:
        return m_baseLr * std::pow(m_spec.gamma, epoch / std::max(m_spec.stepSize, 1));
    case ScheduleType::Exponential:
        return m_baseLr * std::pow(m_spec.gamma, epoch);
    case ScheduleType::Cosine: {
        // Per step, from the end of the warm-up to the last step of the run.
        const int64_t total = std::max<int64_t>(m_stepsPerEpoch * m_epochs - m_warmupSteps, 1);
        const double progress =
            std::min(1.0, static_cast<double>(step - m_warmupSteps) / static_cast<double>(total));
        const double floor = std::min(m_spec.minLr, m_baseLr);
        return floor + (m_baseLr - floor) * 0.5 * (1.0 + std::cos(M_PI * progress));
    }
    case ScheduleType::ReduceOnPlateau:
        return std::max(m_baseLr * m_plateauScale, std::min(m_spec.minLr, m_baseLr));
    }
    return m_baseLr;
}

void LearningRateSchedule::epochEnded(double monitoredLoss) {
    if (m_spec.type != ScheduleType::ReduceOnPlateau || !std::isfinite(monitoredLoss))
        return;
    if (monitoredLoss < m_bestLoss * (1.0 - m_spec.threshold)) {
        m_bestLoss = monitoredLoss;
        m_badEpochs = 0;
        return;
    }
    if (++m_badEpochs > m_spec.patience) {
        m_plateauScale *= m_spec.factor;
        m_badEpochs = 0;
    }
}

} // namespace tunelab
