#include "experiment/layer_catalog.h"

#include <QCoreApplication>

#include <algorithm>
#include <cmath>
#include <map>

namespace tunelab {

namespace {

QString tr(const char* text) {
    return QCoreApplication::translate("LayerCatalog", text);
}

LayerField numberField(const char* key, const char* label, LayerFieldKind kind, const NumberRule& rule,
                       const char* defaultText = nullptr) {
    LayerField field;
    field.key = QString::fromLatin1(key);
    field.label = tr(label);
    field.kind = kind;
    field.rule = rule;
    if (defaultText)
        field.defaultText = tr(defaultText);
    return field;
}

LayerField boolField(const char* key, const char* label) {
    LayerField field;
    field.key = QString::fromLatin1(key);
    field.label = tr(label);
    field.kind = LayerFieldKind::Bool;
    return field;
}

// Each number's rule is the spec reader's own (spec/number_rules.h).
std::map<LayerType, std::vector<LayerField>> buildFields() {
    const SpecNumberRules& rules = specNumberRules();
    const auto count = [](const char* key, const char* label, const NumberRule& rule,
                          const char* defaultText = nullptr) {
        return numberField(key, label, LayerFieldKind::Int, rule, defaultText);
    };
    const auto real = [](const char* key, const char* label, const NumberRule& rule) {
        return numberField(key, label, LayerFieldKind::Double, rule);
    };
    std::map<LayerType, std::vector<LayerField>> table;
    for (LayerType type : allLayerTypes())
        table[type] = {};
    table[LayerType::Linear] = {count("out_features", "Output features", rules.outFeatures),
                                boolField("bias", "Bias")};
    table[LayerType::Conv2d] = {count("out_channels", "Output channels", rules.outChannels),
                                count("kernel_size", "Kernel size", rules.kernelSize),
                                count("stride", "Stride", rules.stride, "default (1)"),
                                count("padding", "Padding", rules.padding), boolField("bias", "Bias")};
    const std::vector<LayerField> pool = {count("kernel_size", "Kernel size", rules.kernelSize),
                                          count("stride", "Stride", rules.stride, "default (= kernel)"),
                                          count("padding", "Padding", rules.padding)};
    table[LayerType::MaxPool2d] = pool;
    table[LayerType::AvgPool2d] = pool;
    const LayerField eps = real("eps", "Epsilon", rules.eps);
    table[LayerType::BatchNorm] = {eps, real("momentum", "Momentum", rules.batchNormMomentum)};
    table[LayerType::LayerNorm] = {eps};
    table[LayerType::Dropout] = {real("p", "Drop probability", rules.dropout)};
    table[LayerType::LeakyReLU] = {real("negative_slope", "Negative slope", rules.negativeSlope)};
    table[LayerType::ELU] = {real("alpha", "Alpha", rules.eluAlpha)};
    const LayerField rate = real("lr_multiplier", "Learning-rate multiplier", rules.lrMultiplier);
    for (LayerType type : allLayerTypes())
        if (hasWeights(type))
            table[type].push_back(rate);
    return table;
}

// Works for const and mutable layers alike.
template <typename Layer> auto intMember(Layer& layer, const QString& key) -> decltype(&layer.outFeatures) {
    if (key == QLatin1String("out_features"))
        return &layer.outFeatures;
    if (key == QLatin1String("out_channels"))
        return &layer.outChannels;
    if (key == QLatin1String("kernel_size"))
        return &layer.kernelSize;
    if (key == QLatin1String("stride"))
        return &layer.stride;
    if (key == QLatin1String("padding"))
        return &layer.padding;
    return nullptr;
}

template <typename Layer> auto doubleMember(Layer& layer, const QString& key) -> decltype(&layer.eps) {
    if (key == QLatin1String("eps"))
        return &layer.eps;
    if (key == QLatin1String("momentum"))
        return &layer.momentum;
    if (key == QLatin1String("p"))
        return &layer.p;
    if (key == QLatin1String("negative_slope"))
        return &layer.negativeSlope;
    if (key == QLatin1String("alpha"))
        return &layer.alpha;
    if (key == QLatin1String("lr_multiplier"))
        return &layer.lrMultiplier;
    return nullptr;
}

int outputWidth(const OutputTarget& target, int fallback) {
    if (target.task == TaskKind::Regression || target.loss == LossType::BceWithLogits)
        return 1;
    return target.classes > 0 ? target.classes : fallback;
}

LayerSpec linear(int64_t outFeatures) {
    LayerSpec layer = LayerCatalog::defaultLayer(LayerType::Linear);
    layer.outFeatures = outFeatures;
    return layer;
}

LayerSpec conv(int64_t channels, int64_t kernel, int64_t padding) {
    LayerSpec layer = LayerCatalog::defaultLayer(LayerType::Conv2d);
    layer.outChannels = channels;
    layer.kernelSize = kernel;
    layer.padding = padding;
    return layer;
}

void flattenIfNeeded(ModelSpec& model, const Shape& input) {
    if (input.size() != 1)
        model.layers.push_back(LayerCatalog::defaultLayer(LayerType::Flatten));
}

} // namespace

const std::vector<LayerGroup>& LayerCatalog::groups() {
    static const std::vector<LayerGroup> table = {
        {tr("Dense"), {LayerType::Linear, LayerType::Flatten}},
        {tr("Convolution"), {LayerType::Conv2d}},
        {tr("Pooling"), {LayerType::MaxPool2d, LayerType::AvgPool2d}},
        {tr("Normalization"), {LayerType::BatchNorm, LayerType::LayerNorm}},
        {tr("Regularization"), {LayerType::Dropout}},
        {tr("Activations"),
         {LayerType::ReLU, LayerType::LeakyReLU, LayerType::ELU, LayerType::GELU, LayerType::SiLU,
          LayerType::Tanh, LayerType::Sigmoid}},
        {tr("Graph"), {LayerType::Add, LayerType::Concat, LayerType::Multiply, LayerType::Identity}},
    };
    return table;
}

QString LayerCatalog::typeName(LayerType type) {
    return QString::fromLatin1(toString(type));
}

QString LayerCatalog::displayName(LayerType type) {
    switch (type) {
    case LayerType::Linear:
        return tr("Linear");
    case LayerType::Conv2d:
        return tr("Conv 2D");
    case LayerType::MaxPool2d:
        return tr("Max pool 2D");
    case LayerType::AvgPool2d:
        return tr("Average pool 2D");
    case LayerType::BatchNorm:
        return tr("Batch norm");
    case LayerType::LayerNorm:
        return tr("Layer norm");
    case LayerType::Dropout:
        return tr("Dropout");
    case LayerType::Flatten:
        return tr("Flatten");
    case LayerType::ReLU:
        return tr("ReLU");
    case LayerType::LeakyReLU:
        return tr("Leaky ReLU");
    case LayerType::ELU:
        return tr("ELU");
    case LayerType::GELU:
        return tr("GELU");
    case LayerType::SiLU:
        return tr("SiLU");
    case LayerType::Tanh:
        return tr("Tanh");
    case LayerType::Sigmoid:
        return tr("Sigmoid");
    case LayerType::Identity:
        return tr("Identity");
    case LayerType::Add:
        return tr("Add");
    case LayerType::Concat:
        return tr("Concatenate");
    case LayerType::Multiply:
        return tr("Multiply");
    }
    return typeName(type);
}

std::optional<LayerType> LayerCatalog::typeFromName(const QString& name) {
    for (LayerType type : allLayerTypes()) {
        if (typeName(type) == name)
            return type;
    }
    return std::nullopt;
}

const std::vector<LayerField>& LayerCatalog::fields(LayerType type) {
    static const std::map<LayerType, std::vector<LayerField>> table = buildFields();
    static const std::vector<LayerField> none;
    const auto it = table.find(type);
    return it == table.end() ? none : it->second;
}

const LayerField* LayerCatalog::field(LayerType type, const QString& key) {
    for (const LayerField& candidate : fields(type)) {
        if (candidate.key == key)
            return &candidate;
    }
    return nullptr;
}

QVariant LayerCatalog::value(const LayerSpec& layer, const QString& key) {
    const LayerField* info = field(layer.type, key);
    if (!info)
        return {};
    switch (info->kind) {
    case LayerFieldKind::Int:
        return QVariant::fromValue<qlonglong>(*intMember(layer, key));
    case LayerFieldKind::Double:
        return *doubleMember(layer, key);
    case LayerFieldKind::Bool:
        return layer.bias;
    }
    return {};
}

bool LayerCatalog::setValue(LayerSpec& layer, const QString& key, const QVariant& value) {
    const LayerField* info = field(layer.type, key);
    if (!info || !value.isValid())
        return false;
    switch (info->kind) {
    case LayerFieldKind::Int: {
        // A value the rule refuses is refused, never clamped into range.
        const qlonglong number = value.toLongLong();
        const bool isDefault = number == 0 && !info->defaultText.isEmpty();
        if (!isDefault && !info->rule.accepts(static_cast<double>(number)))
            return false;
        *intMember(layer, key) = number;
        return true;
    }
    case LayerFieldKind::Double:
        if (!info->rule.accepts(value.toDouble()))
            return false;
        *doubleMember(layer, key) = value.toDouble();
        return true;
    case LayerFieldKind::Bool:
        layer.bias = value.toBool();
        return true;
    }
    return false;
}

LayerSpec LayerCatalog::defaultLayer(LayerType type) {
    LayerSpec layer;
    layer.type = type;
    switch (type) {
    case LayerType::Linear:
        layer.outFeatures = 64;
        break;
    case LayerType::Conv2d:
        layer.outChannels = 16;
        layer.kernelSize = 3;
        break;
    case LayerType::MaxPool2d:
    case LayerType::AvgPool2d:
        layer.kernelSize = 2; // the spec reader's pool default
        break;
    default:
        break;
    }
    return layer;
}

QString LayerCatalog::summary(const LayerSpec& layer) {
    const QString name = typeName(layer.type);
    switch (layer.type) {
    case LayerType::Linear:
        return QStringLiteral("%1 %2%3").arg(name).arg(layer.outFeatures).arg(layer.bias ? "" : " no-bias");
    case LayerType::Conv2d:
        return QStringLiteral("%1 %2 k%3 s%4 p%5%6")
            .arg(name)
            .arg(layer.outChannels)
            .arg(layer.kernelSize)
            .arg(layer.stride > 0 ? layer.stride : 1)
            .arg(layer.padding)
            .arg(layer.bias ? "" : " no-bias");
    case LayerType::MaxPool2d:
    case LayerType::AvgPool2d:
        return QStringLiteral("%1 k%2 s%3 p%4")
            .arg(name)
            .arg(layer.kernelSize)
            .arg(layer.stride > 0 ? layer.stride : layer.kernelSize)
            .arg(layer.padding);
    case LayerType::Dropout:
        return QStringLiteral("%1 %2").arg(name).arg(layer.p);
    case LayerType::LeakyReLU:
        return QStringLiteral("%1 %2").arg(name).arg(layer.negativeSlope);
    case LayerType::ELU:
        return QStringLiteral("%1 %2").arg(name).arg(layer.alpha);
    default:
        return name;
    }
}

bool LayerCatalog::sameLayer(const LayerSpec& a, const LayerSpec& b) {
    return a.type == b.type && a.outFeatures == b.outFeatures && a.outChannels == b.outChannels &&
           a.kernelSize == b.kernelSize && a.stride == b.stride && a.padding == b.padding &&
           a.bias == b.bias && a.p == b.p && a.negativeSlope == b.negativeSlope && a.alpha == b.alpha &&
           a.eps == b.eps && a.momentum == b.momentum && a.lrMultiplier == b.lrMultiplier &&
           a.name == b.name && a.inputs == b.inputs && a.instance == b.instance && a.block == b.block;
}

bool LayerCatalog::sameModel(const ModelSpec& a, const ModelSpec& b) {
    const auto sameBlock = [](const BlockSpec& x, const BlockSpec& y) {
        return x.name == y.name &&
               std::equal(x.layers.begin(), x.layers.end(), y.layers.begin(), y.layers.end(), &sameLayer);
    };
    return std::equal(a.layers.begin(), a.layers.end(), b.layers.begin(), b.layers.end(), &sameLayer) &&
           std::equal(a.blocks.begin(), a.blocks.end(), b.blocks.begin(), b.blocks.end(), sameBlock);
}

QStringList LayerCatalog::templateNames() {
    return {QStringLiteral("MLP"), QStringLiteral("LeNet-style CNN"), QStringLiteral("Regression net")};
}

ModelSpec LayerCatalog::templateModel(const QString& name, const Shape& input, const OutputTarget& target) {
    ModelSpec model;
    if (name == QLatin1String("MLP")) {
        flattenIfNeeded(model, input);
        model.layers.push_back(linear(128));
        model.layers.push_back(defaultLayer(LayerType::ReLU));
        model.layers.push_back(linear(64));
        model.layers.push_back(defaultLayer(LayerType::ReLU));
        model.layers.push_back(linear(outputWidth(target, 2)));
    } else if (name == QLatin1String("LeNet-style CNN")) {
        // LeNet-5 on 28x28 digits (5x5 kernels, "same" first convolution); small images such as
        // 8x8 get 3x3 "same" convolutions so that two 2x2 poolings still fit.
        const bool small = input.size() == 3 && std::min(input[1], input[2]) < 16;
        const int64_t kernel = small ? 3 : 5;
        model.layers.push_back(conv(6, kernel, kernel / 2));
        model.layers.push_back(defaultLayer(LayerType::ReLU));
        model.layers.push_back(defaultLayer(LayerType::MaxPool2d));
        model.layers.push_back(conv(16, kernel, small ? 1 : 0));
        model.layers.push_back(defaultLayer(LayerType::ReLU));
        model.layers.push_back(defaultLayer(LayerType::MaxPool2d));
        model.layers.push_back(defaultLayer(LayerType::Flatten));
        model.layers.push_back(linear(120));
        model.layers.push_back(defaultLayer(LayerType::ReLU));
        model.layers.push_back(linear(84));
        model.layers.push_back(defaultLayer(LayerType::ReLU));
        model.layers.push_back(linear(outputWidth(target, 10)));
    } else if (name == QLatin1String("Regression net")) {
        flattenIfNeeded(model, input);
        model.layers.push_back(linear(64));
        model.layers.push_back(defaultLayer(LayerType::Tanh));
        model.layers.push_back(linear(32));
        model.layers.push_back(defaultLayer(LayerType::Tanh));
        model.layers.push_back(linear(1));
    }
    return model;
}

} // namespace tunelab
