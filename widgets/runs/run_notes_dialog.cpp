#include "runs/run_notes_dialog.h"

#include "store/run_store.h"

#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QVBoxLayout>

namespace tunelab {

RunNotesDialog::RunNotesDialog(const QString& runName, const QStringList& tags, const QString& note,
                               QWidget* parent)
    : QDialog(parent) {
    setWindowTitle(tr("Tags and Note: %1").arg(runName));
    setObjectName(QStringLiteral("runNotesDialog"));
    auto* layout = new QVBoxLayout(this);
    auto* form = new QFormLayout;
    m_tags = new QLineEdit(tags.join(QStringLiteral(", ")));
    m_tags->setObjectName(QStringLiteral("runTags"));
    m_tags->setPlaceholderText(tr("baseline, lr sweep"));
    m_tags->setToolTip(tr("Words to find the run by in the runs table's filter, separated by commas"));
    form->addRow(tr("Tags"), m_tags);
    m_problem = new QLabel;
    m_problem->setObjectName(QStringLiteral("runTagsProblem"));
    m_problem->setStyleSheet(QStringLiteral("color: #b00020;"));
    m_problem->setWordWrap(true);
    form->addRow(QString(), m_problem);
    m_note = new QPlainTextEdit(note);
    m_note->setObjectName(QStringLiteral("runNote"));
    m_note->setPlaceholderText(tr("What this run tried, what it showed"));
    form->addRow(tr("Note"), m_note);
    layout->addLayout(form);
    m_buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel);
    connect(m_buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    layout->addWidget(m_buttons);
    connect(m_tags, &QLineEdit::textChanged, this, &RunNotesDialog::check);
    check();
    resize(440, 300);
}

QStringList RunNotesDialog::splitTags(const QString& text) {
    QStringList tags;
    for (const QString& part : text.split(QLatin1Char(','))) {
        const QString tag = part.trimmed();
        if (!tag.isEmpty())
            tags << tag;
    }
    return tags;
}

QStringList RunNotesDialog::tags() const {
    return splitTags(m_tags->text());
}

QString RunNotesDialog::note() const {
    return m_note->toPlainText();
}

QString RunNotesDialog::problem() const {
    return m_problem->text();
}

void RunNotesDialog::check() {
    QString problem;
    for (const QString& tag : tags()) {
        const std::string why = RunStore::runTagProblem(tag.toStdString());
        if (!why.empty()) {
            problem = QStringLiteral("\"%1\": %2").arg(tag, QString::fromStdString(why));
            break;
        }
    }
    m_problem->setText(problem);
    m_problem->setVisible(!problem.isEmpty());
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(problem.isEmpty());
}

} // namespace tunelab
