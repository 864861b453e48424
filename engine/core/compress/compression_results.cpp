#include "compress/compression_results.h"

#include <cmath>

namespace tunelab {

void markParetoFronts(CompressionResult& result) {
    std::vector<VariantResult*> models{&result.source};
    for (auto& variant : result.variants)
        if (variant.ok())
            models.push_back(&variant);
    auto quality = [](const VariantResult* model) {
        return std::isfinite(model->valAccuracy) ? model->valAccuracy : -model->valMae;
    };
    auto front = [&](auto cost, auto mark) {
        for (VariantResult* model : models) {
            bool dominated = false;
            for (const VariantResult* other : models)
                if (other != model && quality(other) >= quality(model) && cost(other) <= cost(model) &&
                    (quality(other) > quality(model) || cost(other) < cost(model)))
                    dominated = true;
            mark(model, !dominated);
        }
    };
    front([](const VariantResult* m) { return static_cast<double>(m->sizeBytes); },
          [](VariantResult* m, bool on) { m->paretoSize = on; });
    front([](const VariantResult* m) { return m->latencyMs; },
          [](VariantResult* m, bool on) { m->paretoLatency = on; });
}

} // namespace tunelab
