// The window never loses work without asking: numbers taken as typed, unique shortcuts, unsaved
// changes marked and asked for, runs not stopped behind the user's back, a replaced experiment that
// comes back with Undo, the session restored after a restart, and a name that can change.

#include "window/main_window.h"

#include "common/number_field.h"
#include "experiment/training_form.h"
#include "runs/runs_table_model.h"
#include "runs/runs_table_view.h"
#include "spec/spec.h"
#include "store/run_store.h"
#include "window/shortcut_table.h"

#include "number_field_test_support.h"

#include <QAbstractButton>
#include <QAction>
#include <QApplication>
#include <QFile>
#include <QLineEdit>
#include <QMessageBox>
#include <QSettings>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTimer>
#include <QtTest>

#include <memory>

using tunelab::MainWindow;
using tunelab::test::typeInto;

namespace {

// Clicks `button` (a standard button, or the one with `text`) on the message box named `name` as soon
// as it opens; the dialogs are modal, so the click has to come from the event loop they run.
void answerMessageBox(const QString& name, QMessageBox::StandardButton button, const QString& text = {}) {
    auto* timer = new QTimer;
    timer->setInterval(10);
    QObject::connect(timer, &QTimer::timeout, timer, [timer, name, button, text] {
        for (QWidget* widget : QApplication::topLevelWidgets()) {
            auto* box = qobject_cast<QMessageBox*>(widget);
            if (!box || !box->isVisible() || box->objectName() != name)
                continue;
            QAbstractButton* target = box->button(button);
            for (QAbstractButton* candidate : box->buttons()) {
                if (!text.isEmpty() && candidate->text() == text)
                    target = candidate;
            }
            if (target)
                target->click();
            timer->deleteLater();
            return;
        }
    });
    timer->start();
}

QAction* actionNamed(QWidget* window, const QString& text) {
    for (QAction* action : window->findChildren<QAction*>()) {
        if (action->text().remove(QLatin1Char('&')) == text)
            return action;
    }
    return nullptr;
}

} // namespace

class TestMainWindowTrust : public QObject {
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void refusedTypedValueBlocksRunWithTheReason();
    void everyShortcutIsUnique();
    void unsavedChangesAreMarkedAndAskedFor();
    void quittingAsksBeforeStoppingRuns();
    void loadingARunsSettingsIsUndoable();
    void theExperimentComesBackAfterARestart();
    void theExperimentCanBeRenamed();
    void tagsAndNotesAreStoredAndComeBack();

private:
    std::unique_ptr<MainWindow> m_window;
};

void TestMainWindowTrust::init() {
    m_window = std::make_unique<MainWindow>();
    m_window->setInteractive(false);
    m_window->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
}

void TestMainWindowTrust::cleanup() {
    m_window.reset(); // stops a run that is still going
}

// A value typed into a field that the spec reader would refuse holds Run back, saying which field
// and why; correcting it lets Run go again.
void TestMainWindowTrust::refusedTypedValueBlocksRunWithTheReason() {
    QVERIFY(m_window->runAction()->isEnabled());
    auto* lr = m_window->trainingForm()->findChild<tunelab::NumberField*>(QStringLiteral("optimizer.lr"));
    QVERIFY(lr);
    const double before = m_window->experiment().optimizer.lr;
    lr->selectAll();
    QTest::keyClicks(lr, QStringLiteral("-1"));
    QVERIFY(!m_window->runAction()->isEnabled());
    QVERIFY2(m_window->runAction()->toolTip().contains(QStringLiteral("Learning rate: expected")),
             qPrintable(m_window->runAction()->toolTip()));
    QCOMPARE(m_window->experiment().optimizer.lr, before);
    lr->selectAll();
    QTest::keyClicks(lr, QStringLiteral("1e-4"));
    QVERIFY(m_window->runAction()->isEnabled());
    QCOMPARE(m_window->experiment().optimizer.lr, 1e-4);
}

// A key bound to two actions does nothing: every shortcut of the window is unique, and the Help
// table lists each one.
void TestMainWindowTrust::everyShortcutIsUnique() {
    const QStringList clashes = tunelab::shortcutClashes(m_window.get());
    QVERIFY2(clashes.isEmpty(), qPrintable(clashes.join(QStringLiteral("; "))));
    auto* rangeTest = m_window->findChild<QAction*>(QStringLiteral("lrRangeTestAction"));
    QVERIFY(rangeTest);
    QCOMPARE(rangeTest->shortcut(), QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_L));
    bool listed = false;
    for (const tunelab::ShortcutEntry& entry : tunelab::windowShortcuts(m_window.get()))
        listed = listed ||
                 (entry.keys == rangeTest->shortcut() && entry.what.contains(QStringLiteral("range test")));
    QVERIFY(listed);
}

// An edit marks the window modified; New asks Save / Discard / Cancel and does what was chosen.
void TestMainWindowTrust::unsavedChangesAreMarkedAndAskedFor() {
    QTemporaryDir folder;
    const QString path = folder.filePath(QStringLiteral("mine.json"));
    QVERIFY(m_window->saveExperiment(path));
    QVERIFY(!m_window->isModified());
    auto* lr = m_window->trainingForm()->findChild<tunelab::NumberField*>(QStringLiteral("optimizer.lr"));
    typeInto(lr, QStringLiteral("0.05"));
    QVERIFY(m_window->isModified());
    QVERIFY(m_window->isWindowModified());

    m_window->setInteractive(true);
    QAction* newAction = actionNamed(m_window.get(), QStringLiteral("New Experiment"));
    QVERIFY(newAction);
    answerMessageBox(QStringLiteral("unsavedChangesBox"), QMessageBox::Cancel);
    newAction->trigger();
    QCOMPARE(m_window->experiment().optimizer.lr, 0.05); // cancelled: nothing replaced
    QVERIFY(m_window->isModified());

    answerMessageBox(QStringLiteral("unsavedChangesBox"), QMessageBox::Save);
    newAction->trigger();
    QCOMPARE(m_window->experiment().optimizer.lr, tunelab::defaultExperiment().optimizer.lr);
    QVERIFY(!m_window->isModified());
    QFile saved(path);
    QVERIFY(saved.open(QIODevice::ReadOnly));
    QVERIFY2(saved.readAll().contains("0.05"), "Save wrote the edit before New replaced it");

    typeInto(lr, QStringLiteral("0.07"));
    answerMessageBox(QStringLiteral("unsavedChangesBox"), QMessageBox::Discard);
    newAction->trigger();
    QCOMPARE(m_window->experiment().optimizer.lr, tunelab::defaultExperiment().optimizer.lr);
}

// Quitting while a run trains asks first; Cancel keeps it training.
void TestMainWindowTrust::quittingAsksBeforeStoppingRuns() {
    QVERIFY(m_window->startRun());
    m_window->setInteractive(true);
    answerMessageBox(QStringLiteral("stopWorkBox"), QMessageBox::Cancel);
    QVERIFY(!m_window->close());
    QVERIFY(m_window->isRunning());
    answerMessageBox(QStringLiteral("stopWorkBox"), QMessageBox::NoButton, QStringLiteral("Stop and Quit"));
    QVERIFY(m_window->close());
    QTRY_VERIFY_WITH_TIMEOUT(!m_window->isRunning(), 30000);
}

// A run's settings replace the editor only after asking, and Edit › Undo brings the edits back.
void TestMainWindowTrust::loadingARunsSettingsIsUndoable() {
    tunelab::ExperimentSpec spec = tunelab::defaultExperiment();
    spec.training.epochs = 2;
    spec.optimizer.lr = 0.02;
    m_window->setExperiment(spec);
    QSignalSpy finished(m_window.get(), &MainWindow::runFinished);
    QVERIFY(m_window->startRun());
    QVERIFY(finished.wait(60000));
    const qint64 id = finished.first().first().toLongLong();

    auto* lr = m_window->trainingForm()->findChild<tunelab::NumberField*>(QStringLiteral("optimizer.lr"));
    typeInto(lr, QStringLiteral("0.3"));
    m_window->setInteractive(true);
    answerMessageBox(QStringLiteral("unsavedChangesBox"), QMessageBox::Discard);
    Q_EMIT m_window->runsView()->runActivated(id);
    QCOMPARE(m_window->experiment().optimizer.lr, 0.02);
    auto* undo = m_window->findChild<QAction*>(QStringLiteral("undoLoadAction"));
    QVERIFY(undo && undo->isEnabled());
    undo->trigger();
    QCOMPARE(m_window->experiment().optimizer.lr, 0.3);
    QVERIFY(m_window->isModified()); // the edits come back as the unsaved edits they were
    QVERIFY(!undo->isEnabled());
}

// Closing and starting again brings back the experiment as it was: its file, and unsaved edits
// still unsaved.
void TestMainWindowTrust::theExperimentComesBackAfterARestart() {
    QSettings().remove(QStringLiteral("session"));
    QTemporaryDir folder;
    const QString path = folder.filePath(QStringLiteral("mine.json"));
    m_window->restoreSettings();
    tunelab::ExperimentSpec spec = tunelab::defaultExperiment();
    spec.name = "my-experiment";
    m_window->setExperiment(spec);
    QVERIFY(m_window->saveExperiment(path));
    auto* lr = m_window->trainingForm()->findChild<tunelab::NumberField*>(QStringLiteral("optimizer.lr"));
    typeInto(lr, QStringLiteral("0.06"));
    QVERIFY(m_window->close());
    m_window.reset();

    QSettings().setValue(QStringLiteral("device"), QStringLiteral("cpu")); // the last device must not win
    m_window = std::make_unique<MainWindow>();
    m_window->setInteractive(false);
    m_window->restoreSettings();
    QSettings().remove(QStringLiteral("device"));
    QCOMPARE(m_window->experiment().name, std::string("my-experiment"));
    QCOMPARE(m_window->experiment().optimizer.lr, 0.06);
    QCOMPARE(m_window->windowFilePath(), path);
    QVERIFY(m_window->isModified()); // the edit was never saved, and still is not
    QSettings().remove(QStringLiteral("session"));
}

// The name field renames the experiment (the title and new runs follow); an empty name or one with
// a control character is refused with the reason and holds Run back.
void TestMainWindowTrust::theExperimentCanBeRenamed() {
    auto* name = m_window->findChild<QLineEdit*>(QStringLiteral("experimentName"));
    QVERIFY(name);
    QCOMPARE(name->text(), QString::fromStdString(tunelab::defaultExperiment().name));
    name->selectAll();
    QTest::keyClicks(name, QStringLiteral("digits-try"));
    QCOMPARE(m_window->experiment().name, std::string("digits-try"));
    QCOMPARE(m_window->windowTitle(), QStringLiteral("TuneLab — digits-try[*]"));
    QVERIFY(m_window->isModified());

    name->selectAll();
    QTest::keyClick(name, Qt::Key_Backspace);
    QVERIFY(!m_window->runAction()->isEnabled());
    QVERIFY2(m_window->runAction()->toolTip().contains(QStringLiteral("needs a name")),
             qPrintable(m_window->runAction()->toolTip()));
    QCOMPARE(m_window->experiment().name, std::string("digits-try")); // the last good name stays
    QTest::keyClicks(name, QStringLiteral("ok"));
    QVERIFY(m_window->runAction()->isEnabled());
    QCOMPARE(m_window->experiment().name, std::string("ok"));
}

void TestMainWindowTrust::tagsAndNotesAreStoredAndComeBack() {
    QTemporaryDir dir;
    const std::string path = dir.filePath(QStringLiteral("runs.sqlite")).toStdString();
    auto store = tunelab::RunStore::open(path).take();
    const tunelab::RunId id = store->createRun("tagged", "{}").value();
    m_window->setRunStore(std::move(store));
    QString error;
    QVERIFY(!m_window->annotateRun(id, {QStringLiteral("a,b")}, QString(), &error));
    QVERIFY2(error.contains(QStringLiteral("comma")), qPrintable(error));
    QVERIFY2(m_window->annotateRun(id, {QStringLiteral("baseline")}, QStringLiteral("kept"), &error),
             qPrintable(error));
    tunelab::RunsTableModel* model = m_window->runsModel();
    QCOMPARE(model->runAt(model->rowForRun(id)).tags, QStringList{QStringLiteral("baseline")});
    // A restart reads them back from the store.
    m_window->setRunStore(tunelab::RunStore::open(path).take());
    QCOMPARE(model->runAt(model->rowForRun(id)).tags, QStringList{QStringLiteral("baseline")});
    QCOMPARE(model->runAt(model->rowForRun(id)).note, QStringLiteral("kept"));
}

QTEST_MAIN(TestMainWindowTrust)
#include "tst_main_window_trust.moc"
