#include "runs/fork_run_dialog.h"

#include "common/names.h"
#include "common/qt_text.h"
#include "experiment/training_form.h"
#include "spec/spec_names.h"

#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QScrollArea>
#include <QVBoxLayout>

#include <algorithm>

namespace tunelab {

namespace {

QLabel* wrappedLabel(const QString& text = {}) {
    auto* label = new QLabel(text);
    label->setWordWrap(true);
    label->setTextFormat(Qt::PlainText);
    return label;
}

QString optimizerName(OptimizerType type) {
    return QString::fromLatin1(toString(type));
}

} // namespace

int ForkRunDialog::defaultEpochs(int parentEpochs, int forkEpoch) {
    if (parentEpochs > forkEpoch)
        return parentEpochs;
    return std::max(parentEpochs, forkEpoch) + std::max(1, parentEpochs / 2);
}

ForkRunDialog::ForkRunDialog(qint64 parentId, const QString& parentName, const ExperimentSpec& parentSpec,
                             int forkEpoch, bool parentRunning, QWidget* parent)
    : QDialog(parent)
    , m_parentId(parentId)
    , m_parentName(parentName)
    , m_parentSpec(parentSpec) {
    setObjectName(QStringLiteral("forkRunDialog"));
    setWindowTitle(tr("Fork %1 #%2").arg(parentName, QString::number(parentId)));
    auto* layout = new QVBoxLayout(this);
    m_where = wrappedLabel();
    m_where->setObjectName(QStringLiteral("forkWhere"));
    layout->addWidget(m_where);

    auto* nameRow = new QFormLayout;
    m_name = new QLineEdit(fromStd(parentSpec.name) + QStringLiteral("-fork"));
    m_name->setObjectName(QStringLiteral("forkName"));
    m_name->setToolTip(tr("The fork's name in the runs table"));
    nameRow->addRow(tr("&Name"), m_name);
    layout->addLayout(nameRow);

    m_form = new TrainingForm;
    // "Search over…" belongs to the experiment panel's form; here the fields keep their usual menus.
    for (QWidget* field : m_form->findChildren<QWidget*>()) {
        if (field->contextMenuPolicy() == Qt::CustomContextMenu)
            field->setContextMenuPolicy(Qt::DefaultContextMenu);
    }
    ExperimentSpec shown = parentSpec;
    shown.training.epochs = defaultEpochs(parentSpec.training.epochs, forkEpoch);
    m_form->setSpec(shown);
    m_scroll = new QScrollArea;
    m_scroll->setWidget(m_form);
    m_scroll->setWidgetResizable(true);
    m_scroll->setFrameShape(QFrame::NoFrame);
    layout->addWidget(m_scroll, 1);

    auto* keeps = wrappedLabel(
        tr("The data and the network stay the parent's: the weights continue as they are (a network of "
           "another size could not take them; start a new run for that). Another optimizer than %1 starts "
           "its state (moments, step count) fresh, and the fork's message says so. The learning-rate "
           "schedule spans the fork's epochs from epoch 1, so the fork takes it up where it continues.")
            .arg(optimizerName(parentSpec.optimizer.type)));
    keeps->setObjectName(QStringLiteral("forkKeeps"));
    layout->addWidget(keeps);
    m_optimizerNote = wrappedLabel();
    m_optimizerNote->setObjectName(QStringLiteral("forkOptimizerNote"));
    layout->addWidget(m_optimizerNote);
    m_message = wrappedLabel();
    m_message->setObjectName(QStringLiteral("forkMessage"));
    m_message->setStyleSheet(QStringLiteral("color: #b00020;"));
    m_message->hide();
    layout->addWidget(m_message);

    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Cancel);
    m_startButton = buttons->addButton(tr("Start Fork"), QDialogButtonBox::AcceptRole);
    m_startButton->setObjectName(QStringLiteral("startForkButton"));
    m_startButton->setDefault(true);
    connect(buttons, &QDialogButtonBox::accepted, this, &ForkRunDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    layout->addWidget(buttons);

    // A refusal speaks of what was typed before the edit: it goes with the next edit.
    connect(m_form, &TrainingForm::edited, this, [this] {
        showMessage({});
        updateNotes();
    });
    connect(m_name, &QLineEdit::textEdited, this, [this] { showMessage({}); });
    setForkEpoch(forkEpoch, parentRunning);
    resize(520, 720);
}

void ForkRunDialog::setForkEpoch(int epoch, bool parentRunning) {
    m_forkEpoch = epoch;
    m_parentRunning = parentRunning;
    const QString parent = tr("%1 #%2").arg(m_parentName, QString::number(m_parentId));
    const QString where = parentRunning
                              ? tr("Continues the training of %1 after epoch %2, which it trains now: "
                                   "the fork starts when that epoch ends, from its weights and "
                                   "optimizer state, with the settings below.")
                              : tr("Continues the training of %1 after epoch %2, from its weights "
                                   "and optimizer state, with the settings below.");
    m_where->setText(where.arg(parent, QString::number(epoch)));
    m_where->setToolTip(tr("The fork's steps and epochs go on from the parent's, so on the charts it "
                           "starts where the parent was."));
    updateNotes();
}

ExperimentSpec ForkRunDialog::spec() const {
    ExperimentSpec spec = m_parentSpec;
    m_form->applyTo(spec);
    spec.name = m_name->text().trimmed().toStdString();
    return spec;
}

QString ForkRunDialog::problem() const {
    const QString name = m_name->text().trimmed();
    if (name.isEmpty())
        return tr("Name: the fork needs a name.");
    if (const std::string why = nameProblem(name.toStdString()); !why.empty())
        return tr("Name: %1.").arg(fromStd(why));
    if (const QStringList problems = m_form->problems(); !problems.isEmpty())
        return tr("A field holds a value TuneLab cannot use: %1.").arg(problems.join(QStringLiteral("; ")));
    return epochsProblem();
}

QString ForkRunDialog::epochsProblem() const {
    const int epochs = spec().training.epochs;
    if (epochs > m_forkEpoch)
        return {};
    return m_parentRunning
               ? tr("Epochs is %1, but the fork continues after epoch %2, which the parent trains now: set "
                    "Epochs above %2.")
                     .arg(epochs)
                     .arg(m_forkEpoch)
               : tr("Epochs is %1, but the fork continues after epoch %2: set Epochs above %2.")
                     .arg(epochs)
                     .arg(m_forkEpoch);
}

QString ForkRunDialog::message() const {
    return m_message->text();
}

void ForkRunDialog::showMessage(const QString& text) {
    m_message->setText(text);
    m_message->setVisible(!text.isEmpty());
}

void ForkRunDialog::updateNotes() {
    const OptimizerType chosen = spec().optimizer.type;
    const OptimizerType parent = m_parentSpec.optimizer.type;
    m_optimizerNote->setText(chosen == parent ? QString()
                                              : tr("%1 → %2: the optimizer's state starts fresh.")
                                                    .arg(optimizerName(parent), optimizerName(chosen)));
    m_optimizerNote->setVisible(chosen != parent);
}

void ForkRunDialog::accept() {
    QString why = problem();
    if (!why.isEmpty() && why == epochsProblem()) {
        // The form is taller than the dialog: bring the field the message speaks of into view.
        if (auto* epochs = m_form->findChild<QWidget*>(QStringLiteral("training.epochs"))) {
            m_scroll->ensureWidgetVisible(epochs);
            epochs->setFocus();
        }
    }
    if (why.isEmpty() && m_start)
        why = m_start(spec());
    showMessage(why);
    if (why.isEmpty())
        QDialog::accept();
}

} // namespace tunelab
