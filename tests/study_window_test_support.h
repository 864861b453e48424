#pragma once

// A main window for the study suites: not interactive (no dialogs), a store of its own per test
// function in `folder`, the tiny blobs experiment, shown at `size` and exposed.

#include "study/study_panel.h"
#include "window/main_window.h"

#include "store/run_store.h"
#include "study_test_support.h"

#include <QtCore/QTemporaryDir>
#include <QtTest/QTest>

#include <memory>

namespace tunelab::test {

inline std::unique_ptr<MainWindow> openStudyWindow(const QTemporaryDir& folder, QSize size) {
    auto window = std::make_unique<MainWindow>();
    window->setInteractive(false);
    window->studyPanel()->setInteractive(false);
    auto store = RunStore::open(
        folder.filePath(QStringLiteral("%1.sqlite").arg(QString::fromLatin1(QTest::currentTestFunction())))
            .toStdString());
    if (!store.ok()) {
        qWarning("cannot open the store: %s", store.error().c_str());
        return nullptr;
    }
    window->setRunStore(store.take());
    window->setExperiment(tinyBlobsExperiment("tiny-blobs", 2));
    window->resize(size);
    window->show();
    if (!QTest::qWaitForWindowExposed(window.get()))
        return nullptr;
    return window;
}

} // namespace tunelab::test
