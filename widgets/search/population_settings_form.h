#pragma once

#include "study/study.h"

#include <QStringList>
#include <QWidget>

#include <vector>

class QCheckBox;
class QFormLayout;
class QLabel;

namespace tunelab {

class NumberField;

// Population-based training's settings (docs/studies.md, "Population-based training"): a check box
// that makes the study a population, and its members, the epochs between comparisons, the share of
// members that copy and are copied, and the chance that an explored hyperparameter is drawn afresh.
// The fields show only while the box is checked. Numbers are taken as typed and judged by the
// engine's reader of a study file's "population" (readPopulationSettings): a value it refuses turns
// its field red with the engine's reason, which problems() lists; nothing is changed for the user.
class PopulationSettingsForm : public QWidget {
    Q_OBJECT

public:
    explicit PopulationSettingsForm(QWidget* parent = nullptr);

    bool isPopulation() const;
    // The settings as typed; size 0 while the box is unchecked.
    PopulationSettings settings() const;
    // size 0 unchecks the box and leaves the fields as they are.
    void setSettings(const PopulationSettings& settings);
    // "Members: expected a whole number of members from 2 to 256, got 1" for each field the engine
    // refuses while the box is checked; empty when there is none.
    QStringList problems() const { return m_problems; }

Q_SIGNALS:
    void changed();

private:
    // Reads the typed values the way a study file is read and marks the fields it refuses.
    void check();

    QFormLayout* m_form = nullptr;
    QCheckBox* m_enabled = nullptr;
    NumberField* m_size = nullptr;
    NumberField* m_interval = nullptr;
    NumberField* m_quantile = nullptr;
    NumberField* m_resample = nullptr;
    QWidget* m_membersRow = nullptr;
    QWidget* m_exploitRow = nullptr;
    QLabel* m_problemText = nullptr;
    // Each field with its study file key and its hint (put back once the engine takes its value).
    struct Field {
        NumberField* field;
        const char* key;
        QString hint;
    };
    std::vector<Field> m_fields;
    QStringList m_problems;
};

} // namespace tunelab
