#pragma once

// ThreadSanitizer (clang 14) cannot follow Qt 6's QProcess: Qt starts the child with a raw clone()
// that the sanitizer does not see, and the child dies on a sanitizer CHECK before it runs the
// program. scripts/sanitize.sh --thread-all sets TUNELAB_THREAD_SANITIZER; a test function that
// starts a QProcess skips there (it runs in every other build).

#include <QtCore/QtGlobal>
#include <QtTest/QTest>

#define TUNELAB_SKIP_QPROCESS_UNDER_THREAD_SANITIZER()                                                       \
    do {                                                                                                     \
        if (qEnvironmentVariableIsSet("TUNELAB_THREAD_SANITIZER"))                                           \
            QSKIP("starts a QProcess, which ThreadSanitizer cannot follow");                                 \
    } while (false)
