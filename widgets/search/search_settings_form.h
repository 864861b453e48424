#pragma once

#include "search/pruners.h"
#include "search/samplers.h"

#include <QWidget>

class QComboBox;
class QFormLayout;

namespace tunelab {

class NumberField;

// The sampler and pruner of a study with all of their settings: the sampler, its seed and (for TPE
// and the Gaussian process) the random trials it starts with; the pruner and, for the pruner
// chosen, its rungs (ASHA, Hyperband) or its warm-up (median stopping). Fields that do not apply
// to the chosen sampler or pruner are hidden, and keep their values for when they apply again.
// Every number is taken as typed or refused with the reason (the study file's rules). The pruner's
// numbers the user has not typed follow the study's scale (scaledPrunerDefaults: its epochs and
// trial budget); a number the user typed stays as typed. A population study's pruner is None.
class SearchSettingsForm : public QWidget {
    Q_OBJECT

public:
    explicit SearchSettingsForm(QWidget* parent = nullptr);

    SamplerSettings samplerSettings() const;
    PrunerSettings prunerSettings() const;
    // Unknown sampler or pruner names leave the choice as it was; the numbers are taken as they are
    // and count as typed (they no longer follow the scale).
    void setSettings(const SamplerSettings& sampler, const PrunerSettings& pruner);
    // The epochs per trial and the trial budget (0: not known / no limit) the defaults scale with.
    void setStudyScale(int epochs, int64_t trialBudget);
    // A new sampler seed, different from the one shown (a copy of a study should not repeat it).
    uint64_t chooseFreshSeed();
    // A population study (population-based training) draws its members at random unless the user
    // chose a sampler, and prunes nothing: the pruner is fixed at None, or, when another one is
    // set, left for the user to change (the study refuses it with the reason).
    void setPopulationStudy(bool population);

Q_SIGNALS:
    void settingsChanged();

private:
    void updateVisibleFields();
    void applyScaledDefaults();

    QFormLayout* m_form = nullptr;
    QComboBox* m_sampler = nullptr;
    NumberField* m_seed = nullptr;
    NumberField* m_samplerStartup = nullptr;
    QComboBox* m_pruner = nullptr;
    QWidget* m_rungFields = nullptr;
    NumberField* m_minEpochs = nullptr;
    NumberField* m_reductionFactor = nullptr;
    QWidget* m_prunerFields = nullptr;
    NumberField* m_prunerStartup = nullptr;
    NumberField* m_warmupEpochs = nullptr;
    int m_epochs = 0;
    int64_t m_trialBudget = 0;
    bool m_population = false;
    bool m_samplerChosen = false; // by the user or by a study's settings
};

} // namespace tunelab
