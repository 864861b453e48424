#pragma once

#include <QDialog>
#include <QStringList>

class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;

namespace tunelab {

// A run's tags and note, as the user writes them: tags separated by commas ("baseline, lr sweep"),
// each checked against the store's rule as it is typed (the reason shows under the field and OK
// waits), and a free note of several lines. The dialog changes nothing itself: the window stores
// what it returns.
class RunNotesDialog : public QDialog {
    Q_OBJECT

public:
    RunNotesDialog(const QString& runName, const QStringList& tags, const QString& note,
                   QWidget* parent = nullptr);

    QStringList tags() const; // trimmed, empty ones dropped, in the order typed
    QString note() const;
    QString problem() const; // why OK waits; empty while the tags are fine

    QLineEdit* tagsEdit() const { return m_tags; }
    QPlainTextEdit* noteEdit() const { return m_note; }

    // Splits "a, b ,c" into tags; "" for none.
    static QStringList splitTags(const QString& text);

private:
    void check();

    QLineEdit* m_tags = nullptr;
    QPlainTextEdit* m_note = nullptr;
    QLabel* m_problem = nullptr;
    QDialogButtonBox* m_buttons = nullptr;
};

} // namespace tunelab
