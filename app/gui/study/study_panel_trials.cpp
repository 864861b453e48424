#include "study/study_panel.h"

#include "common/file_saving.h"
#include "common/qt_text.h"
#include "search/search_space.h"
#include "spec/spec.h"
#include "store/run_store.h"
#include "study/study_runner.h"

#include <QFileDialog>

// The study panel's trials as experiments: one trial's complete spec, the best one's, exported to
// a file or opened in the editor.

namespace tunelab {

QString StudyPanel::experimentJsonOfTrial(int64_t number) const {
    if (!m_store || m_studyId <= 0)
        return {};
    const auto record = m_store->study(m_studyId);
    const auto trial = m_store->trial(m_studyId, number);
    if (!record || !trial)
        return {};
    const auto spec = parseStudySpec(record->specJson);
    if (!spec.ok() || spec.value().experimentJson.empty())
        return {};
    const auto experiment = trialExperimentJson(spec.value().experimentJson, trial->params);
    if (!experiment.ok())
        return {};
    auto parsed = parseExperimentSpec(experiment.value());
    if (!parsed.ok())
        return {};
    ExperimentSpec resolved = parsed.take();
    resolved.name = record->name + "-trial-" + std::to_string(number);
    return fromStd(experimentSpecToJson(resolved));
}

QString StudyPanel::bestExperimentJson() const {
    if (!m_store || m_studyId <= 0)
        return {};
    const auto record = m_store->study(m_studyId);
    const auto spec = record ? parseStudySpec(record->specJson) : Result<StudySpec>::failure("");
    if (!spec.ok())
        return {};
    const auto best = bestTrial(m_store->trials(m_studyId), spec.value().objective);
    return best ? experimentJsonOfTrial(best->number) : QString();
}

bool StudyPanel::exportBest(const QString& fileName, QString* error) const {
    const QString json = bestExperimentJson();
    if (json.isEmpty()) {
        if (error)
            *error = tr("The study has no complete trial yet.");
        return false;
    }
    return saveFileBytes(fileName, json.toUtf8() + '\n', error);
}

void StudyPanel::exportBestWithDialog() {
    if (!m_interactive)
        return;
    const QString fileName = QFileDialog::getSaveFileName(
        this, tr("Export best config"),
        fromStd(m_runningSpec.name.empty() ? "best" : m_runningSpec.name) + QStringLiteral("-best.json"),
        tr("Experiment (*.json)"));
    if (fileName.isEmpty())
        return;
    QString error;
    if (!exportBest(fileName, &error))
        report(tr("Export best config"), error);
}

bool StudyPanel::exportTrial(int64_t number, const QString& fileName, QString* error) const {
    const QString json = experimentJsonOfTrial(number);
    if (json.isEmpty()) {
        if (error)
            *error = tr("Trial %1 has no experiment to export.").arg(number);
        return false;
    }
    return saveFileBytes(fileName, json.toUtf8() + '\n', error);
}

void StudyPanel::exportTrialWithDialog(qint64 number) {
    if (!m_interactive)
        return;
    const QString fileName =
        QFileDialog::getSaveFileName(this, tr("Export trial config"),
                                     fromStd(m_runningSpec.name.empty() ? "trial" : m_runningSpec.name) +
                                         QStringLiteral("-trial-%1.json").arg(number),
                                     tr("Experiment (*.json)"));
    if (fileName.isEmpty())
        return;
    QString error;
    if (!exportTrial(number, fileName, &error))
        report(tr("Export trial config"), error);
}

void StudyPanel::openTrialInEditor(int64_t number) {
    const QString json = experimentJsonOfTrial(number);
    if (json.isEmpty()) {
        report(tr("Open in editor"), tr("Trial %1 has no experiment to open.").arg(number));
        return;
    }
    Q_EMIT openExperimentRequested(json, tr("trial %1").arg(number));
}

} // namespace tunelab
