#include "training/early_stopping.h"

#include <cmath>

namespace tunelab {

namespace {

bool lowerIsBetter(MetricKind metric) {
    return metric != MetricKind::ValAccuracy;
}

double metricValue(MetricKind metric, const EpochRecord& epoch) {
    switch (metric) {
    case MetricKind::TrainLoss:
        return epoch.trainLoss;
    case MetricKind::ValLoss:
        return epoch.valLoss;
    case MetricKind::ValAccuracy:
        return epoch.valAccuracy;
    case MetricKind::ValMae:
        return epoch.valMae;
    }
    return kNoValue;
}

} // namespace

EarlyStoppingWatch::EarlyStoppingWatch(const TrainingSpec& training, bool hasValidation)
    : m_early(training.earlyStopping)
    , m_epochs(training.epochs)
    , m_monitored(m_early.enabled ? m_early.metric
                                  : (hasValidation ? MetricKind::ValLoss : MetricKind::TrainLoss)) {}

std::string EarlyStoppingWatch::afterEpoch(const EpochRecord& record) {
    const double value = metricValue(m_monitored, record);
    const double delta = m_early.enabled ? m_early.minDelta : 0.0;
    const bool improved = std::isfinite(value) &&
                          (!std::isfinite(m_best) ||
                           (lowerIsBetter(m_monitored) ? value < m_best - delta : value > m_best + delta));
    if (improved) {
        m_best = value;
        m_bestEpoch = record.epoch;
        m_epochsWithoutImprovement = 0;
    } else {
        ++m_epochsWithoutImprovement;
    }
    if (!m_early.enabled || m_epochsWithoutImprovement < m_early.patience || record.epoch >= m_epochs)
        return {};
    return "early stopping after epoch " + std::to_string(record.epoch) + ": " + toString(m_monitored) +
           " did not improve for " + std::to_string(m_early.patience) + " epochs (best epoch " +
           std::to_string(m_bestEpoch) + ")";
}

} // namespace tunelab
