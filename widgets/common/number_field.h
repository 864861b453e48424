#pragma once

#include "spec/number_rules.h"

#include <QLineEdit>

#include <utility>
#include <vector>

namespace tunelab {

// A number field that takes the value as typed or refuses it with the reason: "1e-4", ".001" and
// "1_000" read as people mean them, and a value the engine's rule refuses (the spec reader's own
// limits) turns the frame red with the reason in the tooltip, while value() goes back to what the
// field held before the edit began. Nothing the user did not type is ever committed: no clamping, no rounding
// to shown decimals, no reverting on leaving the field. Escape puts the last accepted value back. The mouse
// wheel does nothing here, so scrolling a form never changes a number; Up and Down step an integer by one.
class NumberField : public QLineEdit {
    Q_OBJECT

public:
    explicit NumberField(const NumberRule& rule, QWidget* parent = nullptr);

    void setRule(const NumberRule& rule);
    const NumberRule& rule() const { return m_rule; }

    // Shows `value` as the accepted value (the shortest text that reads back as the same double).
    void setValue(double value);
    void setIntegerValue(int64_t value);
    double value() const { return m_value.value; }
    int64_t integerValue() const { return m_value.integer; }

    // False while the text is refused, or while the form holds a relation problem for it.
    bool isValid() const { return m_problem.isEmpty() && m_relationProblem.isEmpty(); }
    // Why the text is refused ("expected a positive integer, got 0"), else the relation problem; empty
    // while it is valid.
    QString problem() const { return m_problem.isEmpty() ? m_relationProblem : m_problem; }
    // A problem of the value's relation to other fields, which the field's own rule cannot see ("0
    // while the height is 32"): shown and reported like a refused value until the form clears it with an
    // empty text. value() keeps what was typed; the form that sets it decides what it writes.
    void setRelationProblem(const QString& problem);
    // The tooltip shown while the text is valid; the reason replaces it while it is not.
    void setHint(const QString& hint);

    // An empty field means 0, the key's default, and shows `text` as its placeholder ("default (1)").
    void setDefaultText(const QString& text);

    // The shortest text that reads back as `value`: 0.1, 1e-04, 32.
    static QString formatNumber(double value);

Q_SIGNALS:
    // An accepted value the user typed, or one set from code that differs from the last one.
    void valueChanged(double value);
    void validityChanged(bool valid);

protected:
    void keyPressEvent(QKeyEvent* event) override;
    void focusInEvent(QFocusEvent* event) override;

private:
    void onTextEdited(const QString& text);
    void showValidity();
    void accept(const TypedNumber& value, bool fromCode);
    bool typedValid() const { return m_problem.isEmpty(); }

    NumberRule m_rule;
    TypedNumber m_value;
    TypedNumber m_beforeEdit; // what the field held when the current edit began
    QString m_problem;
    QString m_relationProblem;
    QString m_hint;
    QString m_defaultText;
};

// A field named for tests (`objectName`) and for messages and screen readers (`accessibleName`), with
// `hint` as its tooltip, narrow enough to sit in a row with its words.
NumberField* namedNumberField(const NumberRule& rule, const QString& objectName,
                              const QString& accessibleName, const QString& hint, int maximumWidth = 90);

// One form row of fields with the words between them ("first at epoch [2] keep 1 in [3]"): each
// pair is the text before a field (may be empty) and the field; `trailing` follows the last one.
QWidget* inlineFieldRow(const std::vector<std::pair<QString, QWidget*>>& fields,
                        const QString& trailing = {});

// "Label: reason" for every field of `form` that holds a refused value and is shown (or would be
// when `form` is shown); empty when all are valid. The label is the field's row label in a form
// layout, else its accessible name, else its object name.
QStringList invalidFieldProblems(const QWidget* form);

} // namespace tunelab
