#pragma once

#include "spec/spec.h"

#include <QWidget>

#include <string>
#include <vector>

class QCheckBox;
class QComboBox;
class QFormLayout;

namespace tunelab {

class NumberField;

class SchedulePreview;
struct OptimizerKey;

// Edits everything about training except the data and the network: loss, optimizer (its rows, ranges
// and defaults come from the optimizer catalog; only the keys of the chosen one are shown), schedule with a
// preview of the learning rate over the planned steps, epochs, batch size or full batch, gradient clipping,
// early stopping, seed, device.
class TrainingForm : public QWidget {
    Q_OBJECT

public:
    explicit TrainingForm(QWidget* parent = nullptr);

    // Shows the spec's settings; emits nothing.
    void setSpec(const ExperimentSpec& spec);
    // Writes the form's settings into `spec` (data and model are left alone).
    void applyTo(ExperimentSpec& spec) const;

    // Devices offered besides "auto" (e.g. "cpu", "cuda:0"), with display names.
    void setDevices(const QStringList& ids, const QStringList& names);
    // Training rows, for the schedule preview's steps per epoch.
    void setTrainingRows(qint64 rows);

    // The spec path each field edits ("optimizer.lr"), which is also the field's objectName.
    QStringList fieldPaths() const;
    // "Label: reason" for each shown field whose typed value is refused; empty when all are valid.
    QStringList problems() const;

public Q_SLOTS:
    // Paths already in the search space; their "Search over…" entries show a check mark.
    void setSearchedPaths(const QStringList& paths);

Q_SIGNALS:
    void edited();
    // "Search over <path>…" was chosen in a field's context menu; the value is the field's, as JSON.
    void searchRequested(const QString& path, const QString& currentValueJson);

private:
    // One editor of an optimizer key (a pair has one per element), built from the optimizer catalog.
    struct OptimizerField {
        const OptimizerKey* key = nullptr;
        int element = 0;
        QWidget* widget = nullptr;
        std::string path; // "optimizer.betas[0]"
    };

    void addOptimizerFields();
    QWidget* optimizerField(const char* jsonKey) const;
    void connectNumberField(NumberField* field);
    void showOptimizer(const OptimizerSpec& optimizer);
    void readOptimizer(OptimizerSpec& optimizer) const;
    void onOptimizerChosen();
    void updateVisibleFields();
    void updatePreview();
    void onEdited();

    void installSearchMenus();

    bool m_loading = false;
    qint64 m_trainingRows = 800;
    QStringList m_searchedPaths;

    QComboBox* m_loss = nullptr;
    NumberField* m_huberDelta = nullptr;
    QComboBox* m_optimizer = nullptr;
    std::vector<OptimizerField> m_optimizerFields;
    OptimizerType m_shownOptimizer = OptimizerType::Adam;
    QComboBox* m_schedule = nullptr;
    NumberField* m_warmup = nullptr;
    NumberField* m_stepSize = nullptr;
    NumberField* m_gamma = nullptr;
    NumberField* m_minLr = nullptr;
    NumberField* m_factor = nullptr;
    NumberField* m_patience = nullptr;
    SchedulePreview* m_preview = nullptr;
    NumberField* m_epochs = nullptr;
    NumberField* m_batchSize = nullptr;
    QCheckBox* m_fullBatch = nullptr;
    NumberField* m_clip = nullptr;
    QCheckBox* m_earlyStopping = nullptr;
    QCheckBox* m_deterministic = nullptr;
    QComboBox* m_precision = nullptr;
    QComboBox* m_earlyMetric = nullptr;
    NumberField* m_earlyPatience = nullptr;
    NumberField* m_seed = nullptr;
    QComboBox* m_device = nullptr;
    QFormLayout* m_optimizerForm = nullptr;
    QFormLayout* m_scheduleForm = nullptr;
    QFormLayout* m_trainingForm = nullptr;
};

} // namespace tunelab
