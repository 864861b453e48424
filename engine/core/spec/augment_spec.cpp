#include "spec/augment_spec.h"

#include "spec/object_reader.h"

namespace tunelab {

void readAugment(const Json& json, AugmentSpec& augment, std::vector<std::string>& errors) {
    if (!expectObject(json, "augment", errors))
        return;
    const SpecNumberRules& rules = specNumberRules();
    ObjectReader reader(json, "augment", errors);
    reader.boolean("flip_horizontal", augment.flipHorizontal);
    reader.boolean("flip_vertical", augment.flipVertical);
    reader.integer("crop_padding", augment.cropPadding, rules.cropPadding);
    reader.number("rotation", augment.rotation, rules.rotation);
    if (const Json* scale = reader.find("scale")) {
        // [low, high]: each sample's zoom is drawn between them.
        const bool pair =
            scale->is_array() && scale->size() == 2 && (*scale)[0].is_number() && (*scale)[1].is_number();
        const double low = pair ? (*scale)[0].get<double>() : 0.0;
        const double high = pair ? (*scale)[1].get<double>() : 0.0;
        if (!pair || !rules.augmentScale.accepts(low) || !rules.augmentScale.accepts(high) || low > high)
            reader.error("scale", "expected [low, high] with " + std::string(rules.augmentScale.expected) +
                                      " each and low <= high, like [0.9, 1.1], got " + describeValue(*scale));
        else {
            augment.scaleMin = low;
            augment.scaleMax = high;
        }
    }
    reader.number("translate", augment.translate, rules.translate);
    reader.number("brightness", augment.brightness, rules.brightness);
    reader.number("contrast", augment.contrast, rules.contrast);
    reader.number("noise", augment.noise, rules.augmentNoise);
    reader.integer("cutout", augment.cutout, rules.cutout);
    reader.number("mixup", augment.mixup, rules.mixup);
    reader.finish("augment");
}

nlohmann::ordered_json augmentToJson(const AugmentSpec& augment) {
    nlohmann::ordered_json json = nlohmann::ordered_json::object();
    if (augment.flipHorizontal)
        json["flip_horizontal"] = true;
    if (augment.flipVertical)
        json["flip_vertical"] = true;
    if (augment.cropPadding > 0)
        json["crop_padding"] = augment.cropPadding;
    if (augment.rotation > 0.0)
        json["rotation"] = augment.rotation;
    if (augment.scaleMin != 1.0 || augment.scaleMax != 1.0)
        json["scale"] = {augment.scaleMin, augment.scaleMax};
    if (augment.translate > 0.0)
        json["translate"] = augment.translate;
    if (augment.brightness > 0.0)
        json["brightness"] = augment.brightness;
    if (augment.contrast > 0.0)
        json["contrast"] = augment.contrast;
    if (augment.noise > 0.0)
        json["noise"] = augment.noise;
    if (augment.cutout > 0)
        json["cutout"] = augment.cutout;
    if (augment.mixup > 0.0)
        json["mixup"] = augment.mixup;
    return json.empty() ? nlohmann::ordered_json() : json;
}

} // namespace tunelab
