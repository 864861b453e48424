#include "common/number_field.h"

#include <QFormLayout>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>

#include <charconv>
#include <cmath>

namespace tunelab {

NumberField::NumberField(const NumberRule& rule, QWidget* parent)
    : QLineEdit(parent)
    , m_rule(rule) {
    setHint(QString());
    connect(this, &QLineEdit::textEdited, this, &NumberField::onTextEdited);
    setValue(rule.range.contains(0.0) ? 0.0 : rule.range.minimum);
}

void NumberField::setRule(const NumberRule& rule) {
    m_rule = rule;
    onTextEdited(text());
}

QString NumberField::formatNumber(double value) {
    char buffer[64];
    const auto [end, error] = std::to_chars(buffer, buffer + sizeof buffer, value);
    if (error != std::errc())
        return QString::number(value, 'g', 17);
    return QString::fromLatin1(buffer, static_cast<int>(end - buffer));
}

void NumberField::setValue(double value) {
    TypedNumber number;
    number.value = value;
    number.integer =
        m_rule.integer && std::isfinite(value) && std::abs(value) < 9.2e18 ? static_cast<int64_t>(value) : 0;
    setText(value == 0.0 && !m_defaultText.isEmpty() ? QString()
            : m_rule.integer                         ? QString::number(number.integer)
                                                     : formatNumber(value));
    accept(number, true);
}

void NumberField::setIntegerValue(int64_t value) {
    TypedNumber number;
    number.integer = value;
    number.value = static_cast<double>(value);
    setText(value == 0 && !m_defaultText.isEmpty() ? QString() : QString::number(value));
    accept(number, true);
}

void NumberField::setHint(const QString& hint) {
    m_hint = hint;
    showValidity();
}

void NumberField::setDefaultText(const QString& text) {
    m_defaultText = text;
    setPlaceholderText(text);
    onTextEdited(this->text());
}

void NumberField::onTextEdited(const QString& text) {
    TypedNumber number;
    if (!m_defaultText.isEmpty() && text.trimmed().isEmpty()) {
        accept(number, false);
        return;
    }
    const std::string problem = typedNumberProblem(text.toStdString(), m_rule, &number);
    if (!problem.empty()) {
        // A prefix typed on the way ("2" of "2.5") is not what the user meant: back to the value
        // before this edit.
        const bool wasValid = isValid();
        const bool changed = m_value.value != m_beforeEdit.value || m_value.integer != m_beforeEdit.integer;
        m_value = m_beforeEdit;
        m_problem = QString::fromStdString(problem);
        showValidity();
        if (wasValid)
            Q_EMIT validityChanged(false);
        if (changed)
            Q_EMIT valueChanged(m_value.value);
        return;
    }
    accept(number, false);
}

void NumberField::accept(const TypedNumber& value, bool fromCode) {
    const bool wasValid = isValid();
    const bool wasTypedValid = typedValid();
    const bool changed = value.value != m_value.value || value.integer != m_value.integer;
    m_value = value;
    if (fromCode)
        m_beforeEdit = value;
    m_problem.clear();
    showValidity();
    if (isValid() != wasValid)
        Q_EMIT validityChanged(isValid());
    if (changed || (!fromCode && !wasTypedValid))
        Q_EMIT valueChanged(value.value);
}

void NumberField::setRelationProblem(const QString& problem) {
    if (problem == m_relationProblem)
        return;
    const bool wasValid = isValid();
    m_relationProblem = problem;
    showValidity();
    if (isValid() != wasValid)
        Q_EMIT validityChanged(isValid());
}

void NumberField::showValidity() {
    if (isValid()) {
        setStyleSheet(QString());
        setToolTip(m_hint.isEmpty() ? QString::fromUtf8(m_rule.expected) : m_hint);
    } else {
        setStyleSheet(QStringLiteral("QLineEdit { border: 2px solid #d32f2f; border-radius: 3px; }"));
        setToolTip(problem());
    }
}

void NumberField::focusInEvent(QFocusEvent* event) {
    if (typedValid())
        m_beforeEdit = m_value;
    QLineEdit::focusInEvent(event);
}

void NumberField::keyPressEvent(QKeyEvent* event) {
    if (event->key() == Qt::Key_Escape && !typedValid()) {
        if (m_rule.integer)
            setIntegerValue(m_beforeEdit.integer);
        else
            setValue(m_beforeEdit.value);
        event->accept();
        return;
    }
    if (m_rule.integer && typedValid() && (event->key() == Qt::Key_Up || event->key() == Qt::Key_Down)) {
        const int64_t next = m_value.integer + (event->key() == Qt::Key_Up ? 1 : -1);
        if (m_rule.accepts(static_cast<double>(next)))
            setIntegerValue(next);
        event->accept();
        return;
    }
    QLineEdit::keyPressEvent(event);
}

NumberField* namedNumberField(const NumberRule& rule, const QString& objectName,
                              const QString& accessibleName, const QString& hint, int maximumWidth) {
    auto* field = new NumberField(rule);
    field->setObjectName(objectName);
    field->setAccessibleName(accessibleName);
    field->setHint(hint);
    field->setMaximumWidth(maximumWidth);
    return field;
}

QWidget* inlineFieldRow(const std::vector<std::pair<QString, QWidget*>>& fields, const QString& trailing) {
    auto* row = new QWidget;
    auto* layout = new QHBoxLayout(row);
    layout->setContentsMargins(0, 0, 0, 0);
    for (const auto& [label, field] : fields) {
        if (!label.isEmpty())
            layout->addWidget(new QLabel(label));
        layout->addWidget(field);
    }
    if (!trailing.isEmpty())
        layout->addWidget(new QLabel(trailing));
    layout->addStretch(1);
    return row;
}

QStringList invalidFieldProblems(const QWidget* form) {
    QStringList problems;
    for (const NumberField* field : form->findChildren<NumberField*>()) {
        if (field->isValid() || !field->isVisibleTo(form))
            continue;
        QString label = field->accessibleName().isEmpty() ? field->objectName() : field->accessibleName();
        if (const QWidget* parent = field->parentWidget()) {
            // A form layout of the field's parent, possibly nested in another layout.
            for (QFormLayout* layout : parent->findChildren<QFormLayout*>()) {
                if (auto* text =
                        qobject_cast<QLabel*>(layout->labelForField(const_cast<NumberField*>(field))))
                    label = text->text();
            }
        }
        problems << QStringLiteral("%1: %2").arg(label, field->problem());
    }
    return problems;
}

} // namespace tunelab
