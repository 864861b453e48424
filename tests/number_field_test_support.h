#pragma once

// Typing into a number field as a user does: select what it shows, type the new text.

#include "common/number_field.h"

#include <QtTest/QTest>

namespace tunelab::test {

inline void typeInto(NumberField* field, const QString& text) {
    field->setFocus();
    field->selectAll();
    if (text.isEmpty())
        QTest::keyClick(field, Qt::Key_Backspace); // clears the field, as a user empties it
    else
        QTest::keyClicks(field, text);
}

} // namespace tunelab::test
