#include "compress/compression_variant_form.h"

#include "common/number_field.h"
#include "common/qt_text.h"
#include "data/dataset.h"
#include "model/shape_inference.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFormLayout>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLabel>
#include <QLineEdit>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>

namespace tunelab {

namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();

// The limits parseCompressionPlan applies (docs/compression.md), so a field refuses a value as soon as
// it is typed; the dialog still has the plan read back by parseCompressionPlan before it runs.
const NumberRule kEpochs{NumberRange{1.0, 1e9, true, true}, true, "a number of epochs (1 or more)"};
const NumberRule kLearningRate{NumberRange{0.0, 10.0, false, true}, false, "a learning rate in (0, 10]"};
const NumberRule kSparsity{NumberRange{0.0, 0.99, false, true}, false,
                           "a share of the weights above 0 and at most 0.99"};
const NumberRule kFraction{NumberRange{0.0, 1.0, false, false}, false,
                           "a share of each hidden layer's neurons between 0 and 1"};
const NumberRule kCalibrationRows{NumberRange{1.0, 1e9, true, true}, true, "a number of rows (1 or more)"};
const NumberRule kTemperature{NumberRange{0.0, 100.0, false, true}, false, "a temperature in (0, 100]"};
const NumberRule kAlpha{NumberRange{0.0, 1.0, true, true}, false, "a weight from 0 to 1"};
const NumberRule kMixup{NumberRange{0.0, 100.0, true, true}, false,
                        "a Beta distribution's alpha from 0 to 100 (0 = off)"};

// A sample's shape where it is known without reading files: the spec's own input shape, or a
// generator's (a few rows generated); files (CSV, MNIST, CIFAR-10) are not read here.
std::optional<Shape> knownSampleShape(const ExperimentSpec& source) {
    if (!source.data.inputShape.empty())
        return source.data.inputShape;
    if (source.data.kind == DataKind::Csv || source.data.kind == DataKind::Mnist ||
        source.data.kind == DataKind::Cifar10)
        return std::nullopt;
    DataSpec few = source.data;
    few.samples = std::max<int64_t>(64, 4 * few.classes); // enough rows for every class
    auto data = generateDataset(few, source.seed);
    return data.ok() ? std::optional<Shape>(data.value().sampleShape) : std::nullopt;
}

std::vector<int64_t> scaledWidths(const std::vector<int64_t>& widths, double scale) {
    std::vector<int64_t> scaled;
    for (int64_t width : widths) {
        auto next = static_cast<int64_t>(std::llround(static_cast<double>(width) * scale));
        if (next >= 16)
            next -= next % 8;
        scaled.push_back(std::max<int64_t>(2, next));
    }
    return scaled;
}

} // namespace

HiddenWidths parseHiddenWidths(const QString& text) {
    HiddenWidths parsed;
    const QStringList parts = text.split(QLatin1Char(','));
    if (text.trimmed().isEmpty()) {
        parsed.problem =
            CompressionVariantForm::tr("list the student's hidden layer widths, such as 32 or 64, 32");
        return parsed;
    }
    for (int i = 0; i < parts.size(); ++i) {
        const QString part = parts[i].trimmed();
        std::string problem;
        const auto number = parseTypedNumber(part.toStdString(), true, &problem);
        if (part.isEmpty() || !number || number->integer < 1 || number->integer > 1000000) {
            parsed.problem =
                part.isEmpty()
                    ? CompressionVariantForm::tr("width %1 is empty: separate widths with one comma")
                          .arg(i + 1)
                    : CompressionVariantForm::tr(
                          "width %1 is \"%2\": expected a whole number of neurons from "
                          "1 to 1000000")
                          .arg(i + 1)
                          .arg(part);
            parsed.widths.clear();
            return parsed;
        }
        parsed.widths.push_back(number->integer);
    }
    return parsed;
}

QString formatHiddenWidths(const std::vector<int64_t>& widths) {
    QStringList parts;
    for (int64_t width : widths)
        parts << QString::number(width);
    return parts.join(QStringLiteral(", "));
}

ModelSpec studentModel(const ExperimentSpec& source, const std::vector<int64_t>& hidden) {
    const auto& layers = source.model.layers;
    LayerSpec activation;
    activation.type = LayerType::ReLU;
    for (const LayerSpec& layer : layers)
        if (isActivation(layer.type)) {
            activation = layer;
            break;
        }
    int64_t outputs = source.data.task == TaskKind::Regression ? 1 : source.data.classes;
    for (auto it = layers.rbegin(); it != layers.rend(); ++it)
        if (it->type == LayerType::Linear) {
            outputs = it->outFeatures;
            break;
        }
    ModelSpec student;
    if (std::any_of(layers.begin(), layers.end(),
                    [](const LayerSpec& l) { return l.type == LayerType::Flatten; })) {
        LayerSpec flatten;
        flatten.type = LayerType::Flatten;
        student.layers.push_back(flatten);
    }
    for (int64_t width : hidden) {
        LayerSpec linear;
        linear.type = LayerType::Linear;
        linear.outFeatures = width;
        student.layers.push_back(linear);
        student.layers.push_back(activation);
    }
    LayerSpec output;
    output.type = LayerType::Linear;
    output.outFeatures = outputs;
    student.layers.push_back(output);
    return student;
}

std::vector<int64_t> defaultStudentWidths(const ExperimentSpec& source) {
    std::vector<int64_t> hidden;
    const auto& layers = source.model.layers;
    int lastLinear = -1;
    for (int i = 0; i < static_cast<int>(layers.size()); ++i)
        if (layers[i].type == LayerType::Linear)
            lastLinear = i;
    for (int i = 0; i < lastLinear; ++i)
        if (layers[i].type == LayerType::Linear)
            hidden.push_back(layers[i].outFeatures);
    if (hidden.empty())
        hidden.push_back(64); // a network without hidden linear layers: a student of one
    const double firstScale = 1.0 / std::sqrt(8.0);
    const std::optional<Shape> shape = knownSampleShape(source);
    const ShapeReport sourceShapes = shape ? inferShapes(source.model, *shape) : ShapeReport{};
    if (!shape || !sourceShapes.ok() || sourceShapes.totalParams <= 0)
        return scaledWidths(hidden, firstScale);
    const int64_t target = std::max<int64_t>(1, sourceShapes.totalParams / 8);
    std::vector<int64_t> widths;
    for (double scale = firstScale; scale > 1e-6; scale *= 0.85) {
        widths = scaledWidths(hidden, scale);
        const ShapeReport student = inferShapes(studentModel(source, widths), *shape);
        const bool smallest = std::all_of(widths.begin(), widths.end(), [](int64_t w) { return w <= 2; });
        if ((student.ok() && student.totalParams <= target) || smallest)
            break;
    }
    return widths;
}

CompressionVariantForm::CompressionVariantForm(VariantKind kind, const QString& name,
                                               const ExperimentSpec& source, QWidget* parent)
    : QWidget(parent)
    , m_kind(kind)
    , m_source(source) {
    auto* layout = new QFormLayout(this);
    layout->setFieldGrowthPolicy(QFormLayout::ExpandingFieldsGrow);
    auto* title = new QLabel(kindTitle(kind));
    title->setWordWrap(true);
    title->setObjectName(QStringLiteral("variantKindTitle"));
    layout->addRow(title);
    m_name = new QLineEdit(name);
    m_name->setObjectName(QStringLiteral("name"));
    m_name->setToolTip(tr("Names the variant's run (\"%1 / NAME\") and its file").arg(fromStd(source.name)));
    layout->addRow(tr("&Name"), m_name);
    connect(m_name, &QLineEdit::textEdited, this, &CompressionVariantForm::edited);

    switch (kind) {
    case VariantKind::Prune:
        addNumber(QStringLiteral("sparsity"), tr("Sparsity"), kSparsity,
                  tr("The share of the weights set to zero and held there: 0.5 removes half"))
            ->setValue(0.5);
        addChoice(
            QStringLiteral("scope"), tr("Scope"),
            {tr("global: one threshold for all layers"), tr("each layer")},
            {QStringLiteral("global"), QStringLiteral("layer")},
            tr("Global prunes the smallest weights of the whole network; each layer prunes every layer to "
               "the sparsity"));
        addChoice(QStringLiteral("schedule"), tr("Schedule"), {tr("one shot, then fine-tune"), tr("gradual")},
                  {QStringLiteral("one_shot"), QStringLiteral("gradual")},
                  tr("Gradual raises the sparsity epoch by epoch over the first three quarters of the "
                     "fine-tuning"));
        addTrainingFields();
        break;
    case VariantKind::Structured:
        addNumber(QStringLiteral("fraction"), tr("Fraction removed"), kFraction,
                  tr("The share of each hidden layer's neurons or channels removed: 0.5 halves them"))
            ->setValue(0.5);
        addChoice(QStringLiteral("importance"), tr("Importance"),
                  {tr("L1 norm"), tr("L2 norm"), tr("Taylor")},
                  {QStringLiteral("l1"), QStringLiteral("l2"), QStringLiteral("taylor")},
                  tr("L1, L2: neurons whose incoming weights have the smallest norm go first. Taylor: those "
                     "whose removal changes the loss least on training batches (gradient times weight)"));
        addTrainingFields();
        break;
    case VariantKind::Int8:
    case VariantKind::Qat: {
        addCheck(QStringLiteral("per_channel"), tr("One scale per output channel"),
                 tr("One weight scale per output neuron or channel; off: one per layer"))
            ->setChecked(true);
        addNumber(QStringLiteral("calibration_rows"), tr("Calibration rows"), kCalibrationRows,
                  tr("Training rows whose activations set each layer's input range"))
            ->setIntegerValue(512);
        addCheck(
            QStringLiteral("all_int8"), tr("Every layer int8"),
            tr("Quantize every linear and conv2d layer, even where int8 measured slower or too far off"));
        addChoice(QStringLiteral("batch"), tr("Faster at"), {tr("batch 1"), tr("batch 64")},
                  {QStringLiteral("1"), QStringLiteral("64")},
                  tr("The batch size whose measured latency decides which layers run int8 and which engine "
                     "is kept: 1 for one request at a time, 64 for batches"));
        if (kind == VariantKind::Qat) {
            addCheck(
                QStringLiteral("activations"), tr("Round activations too"),
                tr("Fine-tune with each layer's input rounded to the 8-bit grid the int8 model will use; "
                   "off: only the weights are rounded"))
                ->setChecked(true);
            addTrainingFields();
        }
        break;
    }
    case VariantKind::Distill: {
        m_studentWidths = defaultStudentWidths(source);
        m_student = new QLineEdit(formatHiddenWidths(m_studentWidths));
        m_student->setObjectName(QStringLiteral("student"));
        m_student->setAccessibleName(tr("Student hidden layers"));
        m_student->setToolTip(tr("The student's hidden layer widths, separated by commas (\"64, 32\"); its "
                                 "output layer has the source's size"));
        layout->addRow(tr("Student hidden layers"), m_student);
        connect(m_student, &QLineEdit::textEdited, this, [this](const QString& text) {
            const HiddenWidths parsed = parseHiddenWidths(text);
            m_studentProblem = parsed.problem;
            if (parsed.problem.isEmpty())
                m_studentWidths = parsed.widths;
            m_student->setStyleSheet(
                parsed.problem.isEmpty()
                    ? QString()
                    : QStringLiteral("QLineEdit { border: 2px solid #d32f2f; border-radius: 3px; }"));
            m_student->setToolTip(parsed.problem.isEmpty() ? tr("The student's hidden layer widths")
                                                           : parsed.problem);
            Q_EMIT edited();
        });
        addNumber(QStringLiteral("temperature"), tr("Temperature"), kTemperature,
                  tr("Softens the teacher's outputs: higher shows more of how it ranks the wrong classes"))
            ->setValue(4.0);
        addNumber(QStringLiteral("alpha"), tr("Alpha"), kAlpha,
                  tr("The weight of the labels' loss; the rest is the teacher's"))
            ->setValue(0.5);
        addNumber(QStringLiteral("mixup"), tr("Mixup"), kMixup,
                  tr("Train the students on mixed pairs of samples, which the teacher labels as mixed "
                     "(0: off). The student alone gets the same mixup"))
            ->setValue(m_source.augment.mixup);
        addCheck(QStringLiteral("compare_alone"), tr("Also train the student alone"),
                 tr("The same student without a teacher, same epochs and seed, to see what the teacher adds"))
            ->setChecked(true);
        addTrainingFields();
        break;
    }
    }
}

NumberField* CompressionVariantForm::addNumber(const QString& key, const QString& label,
                                               const NumberRule& rule, const QString& hint) {
    NumberField* field = namedNumberField(rule, key, label, hint, 120);
    static_cast<QFormLayout*>(layout())->addRow(label, field);
    connect(field, &NumberField::valueChanged, this, &CompressionVariantForm::edited);
    connect(field, &NumberField::validityChanged, this, &CompressionVariantForm::edited);
    return field;
}

QComboBox* CompressionVariantForm::addChoice(const QString& key, const QString& label,
                                             const QStringList& texts, const QStringList& values,
                                             const QString& hint) {
    auto* box = new QComboBox;
    box->setObjectName(key);
    box->setToolTip(hint);
    for (int i = 0; i < texts.size(); ++i)
        box->addItem(texts[i], values[i]);
    static_cast<QFormLayout*>(layout())->addRow(label, box);
    connect(box, &QComboBox::currentIndexChanged, this, &CompressionVariantForm::edited);
    return box;
}

QCheckBox* CompressionVariantForm::addCheck(const QString& key, const QString& text, const QString& hint) {
    auto* box = new QCheckBox(text);
    box->setObjectName(key);
    box->setToolTip(hint);
    static_cast<QFormLayout*>(layout())->addRow(QString(), box);
    connect(box, &QCheckBox::toggled, this, &CompressionVariantForm::edited);
    return box;
}

void CompressionVariantForm::addTrainingFields() {
    const bool student = m_kind == VariantKind::Distill;
    NumberField* epochs = addNumber(QStringLiteral("epochs"), tr("Epochs"), kEpochs,
                                    student ? tr("Epochs the student trains") : tr("Fine-tuning epochs"));
    epochs->setDefaultText(tr("source's (%1)").arg(m_source.training.epochs));
    epochs->setIntegerValue(0);
    NumberField* lr =
        addNumber(QStringLiteral("lr"), tr("Learning rate"), kLearningRate,
                  student ? tr("The student's learning rate") : tr("The fine-tuning learning rate"));
    lr->setDefaultText(tr("source's (%1)").arg(NumberField::formatNumber(m_source.optimizer.lr)));
    lr->setValue(0.0);
}

NumberField* CompressionVariantForm::numberField(const QString& key) const {
    return findChild<NumberField*>(key);
}

QString CompressionVariantForm::name() const {
    return m_name->text().trimmed();
}

QString CompressionVariantForm::choice(const QString& key) const {
    const auto* box = findChild<QComboBox*>(key);
    return box ? box->currentData().toString() : QString();
}

void CompressionVariantForm::setVariant(const CompressionVariant& variant) {
    m_name->setText(fromStd(variant.name));
    const auto setChoice = [this](const QString& key, const QString& value) {
        if (auto* box = findChild<QComboBox*>(key); box && box->findData(value) >= 0)
            box->setCurrentIndex(box->findData(value));
    };
    const auto setCheck = [this](const QString& key, bool on) {
        if (auto* box = findChild<QCheckBox*>(key))
            box->setChecked(on);
    };
    if (NumberField* epochs = numberField(QStringLiteral("epochs")))
        epochs->setIntegerValue(variant.epochs);
    if (NumberField* lr = numberField(QStringLiteral("lr")))
        lr->setValue(std::isfinite(variant.lr) ? variant.lr : 0.0);
    switch (m_kind) {
    case VariantKind::Prune: {
        const QJsonObject prune =
            QJsonDocument::fromJson(QByteArray::fromStdString(variant.pruneJson)).object();
        numberField(QStringLiteral("sparsity"))
            ->setValue(prune.value(QStringLiteral("sparsity")).toDouble(0.5));
        setChoice(QStringLiteral("scope"),
                  prune.value(QStringLiteral("scope")).toString(QStringLiteral("global")));
        setChoice(QStringLiteral("schedule"),
                  prune.value(QStringLiteral("schedule")).toString(QStringLiteral("one_shot")));
        break;
    }
    case VariantKind::Structured:
        numberField(QStringLiteral("fraction"))->setValue(variant.fraction);
        setChoice(QStringLiteral("importance"), QString::fromUtf8(toString(variant.importance)));
        break;
    case VariantKind::Int8:
    case VariantKind::Qat:
        setCheck(QStringLiteral("per_channel"), variant.perChannel);
        numberField(QStringLiteral("calibration_rows"))->setIntegerValue(variant.calibrationRows);
        setCheck(QStringLiteral("all_int8"), variant.allInt8);
        setChoice(QStringLiteral("batch"), QString::number(variant.decisionBatch));
        if (m_kind == VariantKind::Qat)
            setCheck(QStringLiteral("activations"), variant.qatActivations);
        break;
    case VariantKind::Distill: {
        // The student's hidden widths: every linear layer but the last.
        const QJsonArray layers = QJsonDocument::fromJson(QByteArray::fromStdString(variant.studentJson))
                                      .object()
                                      .value(QStringLiteral("layers"))
                                      .toArray();
        std::vector<int64_t> widths;
        for (const QJsonValue& layer : layers)
            if (layer.toObject().value(QStringLiteral("type")).toString() == QLatin1String("linear"))
                widths.push_back(layer.toObject().value(QStringLiteral("out_features")).toInteger());
        if (!widths.empty())
            widths.pop_back();
        if (!widths.empty()) {
            m_studentWidths = widths;
            m_studentProblem.clear();
            m_student->setText(formatHiddenWidths(widths));
            m_student->setStyleSheet(QString());
        }
        numberField(QStringLiteral("temperature"))->setValue(variant.temperature);
        numberField(QStringLiteral("alpha"))->setValue(variant.alpha);
        numberField(QStringLiteral("mixup"))
            ->setValue(std::isfinite(variant.mixup) ? variant.mixup : m_source.augment.mixup);
        setCheck(QStringLiteral("compare_alone"), variant.compareAlone);
        break;
    }
    }
    Q_EMIT edited();
}

QJsonObject CompressionVariantForm::toJson() const {
    QJsonObject json;
    json[QStringLiteral("name")] = name();
    json[QStringLiteral("kind")] = QString::fromLatin1(toString(m_kind));
    const auto number = [this](const QString& key) { return numberField(key)->value(); };
    const auto integer = [this](const QString& key) {
        return static_cast<qint64>(numberField(key)->integerValue());
    };
    const auto checked = [this](const QString& key) { return findChild<QCheckBox*>(key)->isChecked(); };
    if (m_kind != VariantKind::Int8) {
        if (integer(QStringLiteral("epochs")) > 0)
            json[QStringLiteral("epochs")] = integer(QStringLiteral("epochs"));
        if (number(QStringLiteral("lr")) > 0.0)
            json[QStringLiteral("lr")] = number(QStringLiteral("lr"));
    }
    switch (m_kind) {
    case VariantKind::Prune:
        json[QStringLiteral("sparsity")] = number(QStringLiteral("sparsity"));
        json[QStringLiteral("scope")] = choice(QStringLiteral("scope"));
        json[QStringLiteral("schedule")] = choice(QStringLiteral("schedule"));
        break;
    case VariantKind::Structured:
        json[QStringLiteral("fraction")] = number(QStringLiteral("fraction"));
        json[QStringLiteral("importance")] = choice(QStringLiteral("importance"));
        break;
    case VariantKind::Int8:
    case VariantKind::Qat:
        json[QStringLiteral("per_channel")] = checked(QStringLiteral("per_channel"));
        json[QStringLiteral("calibration_rows")] = integer(QStringLiteral("calibration_rows"));
        json[QStringLiteral("all_int8")] = checked(QStringLiteral("all_int8"));
        json[QStringLiteral("batch")] = choice(QStringLiteral("batch")).toInt();
        if (m_kind == VariantKind::Qat)
            json[QStringLiteral("activations")] = checked(QStringLiteral("activations"));
        break;
    case VariantKind::Distill: {
        // The engine writes the student's layers, as it would write any model.
        ExperimentSpec spec = m_source;
        spec.model = studentModel(m_source, m_studentWidths);
        const QJsonObject written =
            QJsonDocument::fromJson(QByteArray::fromStdString(experimentSpecToJson(spec))).object();
        json[QStringLiteral("student")] = written.value(QStringLiteral("model"));
        json[QStringLiteral("temperature")] = number(QStringLiteral("temperature"));
        json[QStringLiteral("alpha")] = number(QStringLiteral("alpha"));
        json[QStringLiteral("mixup")] = number(QStringLiteral("mixup"));
        json[QStringLiteral("compare_alone")] = checked(QStringLiteral("compare_alone"));
        break;
    }
    }
    return json;
}

QStringList CompressionVariantForm::problems() const {
    QStringList problems = invalidFieldProblems(this);
    if (m_student && !m_studentProblem.isEmpty())
        problems << tr("Student hidden layers: %1").arg(m_studentProblem);
    return problems;
}

QString CompressionVariantForm::summary() const {
    const auto percent = [this](const QString& key) {
        return QStringLiteral("%1 %").arg(100.0 * numberField(key)->value(), 0, 'g', 3);
    };
    switch (m_kind) {
    case VariantKind::Prune:
        return tr("pruned %1, %2")
            .arg(percent(QStringLiteral("sparsity")),
                 choice(QStringLiteral("schedule")) == QLatin1String("gradual") ? tr("gradual")
                                                                                : tr("one shot"));
    case VariantKind::Structured:
        return tr("%1 of the neurons removed").arg(percent(QStringLiteral("fraction")));
    case VariantKind::Int8:
        return findChild<QCheckBox*>(QStringLiteral("per_channel"))->isChecked() ? tr("int8, per channel")
                                                                                 : tr("int8, per layer");
    case VariantKind::Distill:
        return tr("student %1").arg(formatHiddenWidths(m_studentWidths));
    case VariantKind::Qat:
        return tr("int8 after quantization-aware fine-tuning");
    }
    return {};
}

QString CompressionVariantForm::kindTitle(VariantKind kind) {
    switch (kind) {
    case VariantKind::Prune:
        return tr("Magnitude pruning: the smallest weights are set to zero, then the network is fine-tuned "
                  "from the source's weights with them held there. The file keeps its size; non-zero "
                  "parameters show what a sparse format would hold.");
    case VariantKind::Structured:
        return tr("Structured pruning: whole neurons and channels of the hidden layers are removed, and the "
                  "narrower network is fine-tuned. Smaller and faster for real.");
    case VariantKind::Int8:
        return tr("Int8 quantization of the source's weights, calibrated on training rows; no training. "
                  "Layers where int8 measures slower or too far off stay float.");
    case VariantKind::Distill:
        return tr("Distillation: a smaller student learns from the source (the teacher) as well as from the "
                  "labels.");
    case VariantKind::Qat:
        return tr(
            "Quantization-aware fine-tuning: the source is fine-tuned with its weights rounded to int8 in "
            "every forward pass, then quantized like int8. For when int8 alone loses too much.");
    }
    return {};
}

} // namespace tunelab
