#pragma once

#include "data/dataset.h"
#include "model/shape_inference.h"
#include "spec/number_rules.h"
#include "spec/spec.h"

#include <QString>
#include <QStringList>
#include <QVariant>

#include <optional>
#include <vector>

namespace tunelab {

enum class LayerFieldKind { Int, Double, Bool };

// One editable setting of a layer type. `key` is the JSON key of docs/experiment-format.md.
struct LayerField {
    QString key;
    QString label;
    LayerFieldKind kind = LayerFieldKind::Int;
    NumberRule rule;     // the spec reader's own limits for the key (numbers only)
    QString defaultText; // when set, 0 means the key's default and the empty field shows this (stride)
    QString toolTip;
};

struct LayerGroup {
    QString name;
    std::vector<LayerType> types;
};

// What the editor knows about the engine's layer types: palette groups, display names, editable
// fields with ranges, field access by JSON key, one-line summaries and starting templates.
class LayerCatalog {
public:
    static const std::vector<LayerGroup>& groups();

    static QString typeName(LayerType type);    // JSON name: "linear", "leaky_relu"
    static QString displayName(LayerType type); // "Linear", "Leaky ReLU"
    static std::optional<LayerType> typeFromName(const QString& name);

    static const std::vector<LayerField>& fields(LayerType type);
    static const LayerField* field(LayerType type, const QString& key);

    // A field's value as int (as qlonglong), double or bool; invalid QVariant for an unknown key.
    static QVariant value(const LayerSpec& layer, const QString& key);
    // Sets a field, clamped to its range; false for a key the layer type does not have.
    static bool setValue(LayerSpec& layer, const QString& key, const QVariant& value);

    // A new layer of the type with the documented defaults (linear 64, conv2d 16 channels).
    static LayerSpec defaultLayer(LayerType type);
    // "linear 256", "conv2d 32 k3 s1 p1", "dropout 0.5".
    static QString summary(const LayerSpec& layer);
    static bool sameLayer(const LayerSpec& a, const LayerSpec& b);
    static bool sameModel(const ModelSpec& a, const ModelSpec& b);

    static QStringList templateNames(); // "MLP", "LeNet-style CNN", "Regression net"
    // The template for this input and target; an empty model for an unknown name.
    static ModelSpec templateModel(const QString& name, const Shape& input, const OutputTarget& target);
};

} // namespace tunelab
