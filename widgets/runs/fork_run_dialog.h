#pragma once

#include "spec/spec.h"

#include <QDialog>
#include <QString>

#include <functional>

class QLabel;
class QLineEdit;
class QPushButton;
class QScrollArea;

namespace tunelab {

class TrainingForm;

// "Fork from Here...": continues a run's training with edited settings. The fork takes the parent's
// experiment with the name and the training settings edited here (loss, optimizer, schedule, epochs,
// batch, ...); the data and the network stay the parent's, since its weights continue. Start refuses
// settings the fork cannot run with (epochs not above the epoch it continues after, a field's refused
// value), says why under the form and keeps what was typed. The dialog starts nothing itself: its start
// handler (the window) does, and a reason the handler returns keeps the dialog open too.
class ForkRunDialog : public QDialog {
    Q_OBJECT

public:
    // The fork continues after `forkEpoch`: the checkpoint's epoch, or the epoch a running parent
    // trains now. Epochs start at defaultEpochs().
    ForkRunDialog(qint64 parentId, const QString& parentName, const ExperimentSpec& parentSpec, int forkEpoch,
                  bool parentRunning, QWidget* parent = nullptr);

    // A running parent moves on while the dialog is open (or ends); the epochs field keeps what was typed.
    void setForkEpoch(int epoch, bool parentRunning);
    int forkEpoch() const { return m_forkEpoch; }
    bool parentRunning() const { return m_parentRunning; }

    // Called by Start with the fork's experiment; returns why it did not start ("" when it did).
    void setStartHandler(std::function<QString(const ExperimentSpec&)> start) { m_start = std::move(start); }

    // The parent's experiment with this dialog's name and training settings.
    ExperimentSpec spec() const;
    // Why Start refuses the settings as they are; empty when it would hand them to the start handler.
    QString problem() const;
    // The refusal Start showed last; empty before, and after an edit.
    QString message() const;

    // Epochs a fork starts with: the parent's, or half as many again (at least one more) when the
    // parent planned no more than `forkEpoch` (it trained them all, or trains its last one).
    static int defaultEpochs(int parentEpochs, int forkEpoch);

    TrainingForm* trainingForm() const { return m_form; }
    QLineEdit* nameEdit() const { return m_name; }
    QPushButton* startButton() const { return m_startButton; }

    void accept() override; // Start: checks, then the start handler

private:
    QString epochsProblem() const; // epochs not above the fork epoch
    void showMessage(const QString& text);
    void updateNotes();

    qint64 m_parentId;
    QString m_parentName;
    ExperimentSpec m_parentSpec;
    int m_forkEpoch = 0;
    bool m_parentRunning = false;
    std::function<QString(const ExperimentSpec&)> m_start;
    QLabel* m_where = nullptr;
    QLineEdit* m_name = nullptr;
    QScrollArea* m_scroll = nullptr;
    TrainingForm* m_form = nullptr;
    QLabel* m_optimizerNote = nullptr;
    QLabel* m_message = nullptr;
    QPushButton* m_startButton = nullptr;
};

} // namespace tunelab
