#pragma once

#include "common/result.h"
#include "compress/compression_plan.h"
#include "compress/compression_results.h"
#include "spec/spec.h"

#include <QDialog>
#include <QString>

#include <functional>

class QLabel;
class QLineEdit;
class QListWidget;
class QPlainTextEdit;
class QPushButton;
class QStackedWidget;
class QTabWidget;

namespace tunelab {

class CompressionResultsView;
class CompressionVariantForm;
class NumberField;

// "Optimize Model…": builds a compression plan for one run (docs/compression.md) and shows what it
// measured. The Plan tab lists the variants (Add chooses a kind, Remove drops the selected one) and
// edits the selected one's fields, with the plan's name and latency settings above; it starts with a
// preset that is worth running as it is: pruned by half, pruned by 90 % gradually, half the neurons
// removed, int8, and a student about an eighth of the source's size. Run stays disabled, with the
// reason beside it, while a field holds a refused value or the plan would not read back
// (parseCompressionPlan has the last word). The dialog runs nothing itself: its run handler (the
// window) starts the plan and reports back through appendProgress() and showResults() or
// showFailure(); Stop calls the stop handler. The Results tab then shows a CompressionResultsView,
// whose Export… saves a copy of the selected model's verified file.
class CompressionPlanDialog : public QDialog {
    Q_OBJECT

public:
    CompressionPlanDialog(qint64 sourceRun, const QString& runName, const ExperimentSpec& source,
                          QWidget* parent = nullptr);

    qint64 sourceRun() const { return m_sourceRun; }
    int variantCount() const;
    CompressionVariantForm* variantForm(int index) const;
    // Appends a variant of `kind` with a name no other variant has, and selects it.
    CompressionVariantForm* addVariant(VariantKind kind);
    void removeVariant(int index);
    // Shows `plan`'s name, latency settings and variants; its source stays this dialog's run.
    void setPlan(const CompressionPlan& plan);

    // The plan as JSON, as the fields hold it.
    QString planJson() const;
    // The plan read back by parseCompressionPlan, or every reason it cannot run.
    Result<CompressionPlan> plan() const;
    // Why Run is disabled, one reason a line; empty when the plan can run.
    QString problem() const;

    // The folder beside which plans write their files: each plan gets "<run id>-<plan name>" in it.
    void setOutputBase(const QString& folder);
    QString outputDirectory() const;

    // Called by Run with the plan; returns why it did not start ("" when it did).
    void setRunHandler(std::function<QString(const CompressionPlan&)> run) { m_run = std::move(run); }
    void setStopHandler(std::function<void()> stop) { m_stop = std::move(stop); }
    bool isRunning() const { return m_running; }

    // The running plan's reports.
    void appendProgress(const QString& line);
    void showResults(const CompressionResult& result);
    void showFailure(const QString& message);

    // Saves a copy of the measured model `name`'s file to `path`; "" or why not.
    QString exportModelTo(const QString& name, const QString& path);

    QListWidget* variantList() const { return m_list; }
    QLineEdit* planNameEdit() const { return m_planName; }
    NumberField* latencyThreadsField() const { return m_threads; }
    NumberField* latencyRepeatsField() const { return m_repeats; }
    QPushButton* runButton() const { return m_runButton; }
    QPushButton* stopButton() const { return m_stopButton; }
    QPushButton* addButton() const { return m_addButton; }
    QPushButton* removeButton() const { return m_removeButton; }
    QPlainTextEdit* log() const { return m_log; }
    QTabWidget* tabs() const { return m_tabs; }
    CompressionResultsView* resultsView() const { return m_results; }
    // The reason shown beside Run (or the last refusal or failure); empty when there is none.
    QString message() const;

    void reject() override; // while a plan runs, asks it to stop first

private:
    void addPreset();
    void updateValidity();
    void updateItem(int index);
    void updateOutputLabel();
    void setRunning(bool running);
    void startPlan();
    void chooseExportFile(const QString& name);
    QString uniqueName(const QString& stem) const;

    qint64 m_sourceRun;
    QString m_runName;
    ExperimentSpec m_source;
    QString m_outputBase;
    bool m_running = false;
    std::function<QString(const CompressionPlan&)> m_run;
    std::function<void()> m_stop;

    QTabWidget* m_tabs = nullptr;
    QWidget* m_planPage = nullptr;
    QLineEdit* m_planName = nullptr;
    NumberField* m_threads = nullptr;
    NumberField* m_repeats = nullptr;
    QLabel* m_output = nullptr;
    QListWidget* m_list = nullptr;
    QStackedWidget* m_forms = nullptr;
    QPushButton* m_addButton = nullptr;
    QPushButton* m_removeButton = nullptr;
    QLabel* m_message = nullptr;
    QPlainTextEdit* m_log = nullptr;
    QPushButton* m_runButton = nullptr;
    QPushButton* m_stopButton = nullptr;
    CompressionResultsView* m_results = nullptr;
};

} // namespace tunelab
