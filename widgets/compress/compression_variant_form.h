#pragma once

#include "compress/compression_plan.h"
#include "spec/number_rules.h"
#include "spec/spec.h"

#include <QJsonObject>
#include <QString>
#include <QStringList>
#include <QWidget>

#include <cstdint>
#include <vector>

class QCheckBox;
class QComboBox;
class QLineEdit;

namespace tunelab {

class NumberField;

// A student's hidden layer widths as typed ("32", "64, 32"), or why they cannot be read.
struct HiddenWidths {
    std::vector<int64_t> widths;
    QString problem; // empty when `widths` holds what was typed
};
HiddenWidths parseHiddenWidths(const QString& text);
QString formatHiddenWidths(const std::vector<int64_t>& widths); // "64, 32"

// The student network for `hidden`: the source's flatten first when it has one, then a linear layer
// per width, each followed by the source's first activation (ReLU when it has none), and a linear
// output layer of the source's output size.
ModelSpec studentModel(const ExperimentSpec& source, const std::vector<int64_t>& hidden);
// Hidden widths for a student about an eighth of the source's parameters: the source's hidden linear
// widths scaled down (rounded to multiples of 8 from 16 up) until the student fits, where the data's
// sample shape is known without loading it; else each width divided by √8.
std::vector<int64_t> defaultStudentWidths(const ExperimentSpec& source);

// One variant of a compression plan as a form: its name, then the fields of its kind. Number fields
// refuse what the plan file would refuse, with the reason (they never change what was typed); an empty
// Epochs or Learning rate means the source's. Fields are named after the plan's keys ("sparsity",
// "epochs", "student", ...) for tests and accessibility.
class CompressionVariantForm : public QWidget {
    Q_OBJECT

public:
    CompressionVariantForm(VariantKind kind, const QString& name, const ExperimentSpec& source,
                           QWidget* parent = nullptr);

    VariantKind kind() const { return m_kind; }
    QString name() const;
    QLineEdit* nameEdit() const { return m_name; }
    NumberField* numberField(const QString& key) const;
    QLineEdit* studentEdit() const { return m_student; }

    // Shows a variant of this form's kind.
    void setVariant(const CompressionVariant& variant);
    // The variant as a plan's JSON object, from the accepted values (a refused field keeps the value
    // it had before the edit; problems() says so).
    QJsonObject toJson() const;
    // "Sparsity: expected …" for each field that holds a refused value; empty when all are usable.
    QStringList problems() const;
    // A line for the variants list: "50 % of weights, global, one shot".
    QString summary() const;
    // What the kind does, in a sentence.
    static QString kindTitle(VariantKind kind);

Q_SIGNALS:
    void edited();

private:
    NumberField* addNumber(const QString& key, const QString& label, const NumberRule& rule,
                           const QString& hint);
    QComboBox* addChoice(const QString& key, const QString& label, const QStringList& texts,
                         const QStringList& values, const QString& hint);
    QCheckBox* addCheck(const QString& key, const QString& text, const QString& hint);
    void addTrainingFields();
    QString choice(const QString& key) const;

    VariantKind m_kind;
    ExperimentSpec m_source;
    QLineEdit* m_name = nullptr;
    QLineEdit* m_student = nullptr;
    std::vector<int64_t> m_studentWidths; // the last list that could be read
    QString m_studentProblem;
};

} // namespace tunelab
