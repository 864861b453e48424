#pragma once

#include "search/pruners.h"
#include "search/samplers.h"

#include <QWidget>

class QComboBox;
class QFormLayout;
class QSpinBox;

namespace tunelab {

// The sampler and pruner of a study with all of their settings: the sampler, its seed and (for TPE
// and the Gaussian process) the random trials it starts with; the pruner and, for the pruner
// chosen, its rungs (ASHA, Hyperband) or its warm-up (median stopping). Fields that do not apply
// to the chosen sampler or pruner are hidden, and keep their values for when they apply again.
class SearchSettingsForm : public QWidget {
    Q_OBJECT

public:
    explicit SearchSettingsForm(QWidget* parent = nullptr);

    SamplerSettings samplerSettings() const;
    PrunerSettings prunerSettings() const;
    // Unknown sampler or pruner names leave the choice as it was; the numbers are taken as they are.
    void setSettings(const SamplerSettings& sampler, const PrunerSettings& pruner);

Q_SIGNALS:
    void settingsChanged();

private:
    void updateVisibleFields();

    QFormLayout* m_form = nullptr;
    QComboBox* m_sampler = nullptr;
    QSpinBox* m_seed = nullptr;
    QSpinBox* m_samplerStartup = nullptr;
    QComboBox* m_pruner = nullptr;
    QWidget* m_rungFields = nullptr;
    QSpinBox* m_minEpochs = nullptr;
    QSpinBox* m_reductionFactor = nullptr;
    QWidget* m_medianFields = nullptr;
    QSpinBox* m_prunerStartup = nullptr;
    QSpinBox* m_warmupEpochs = nullptr;
};

} // namespace tunelab
