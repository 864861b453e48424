#include "compress/quantized_stages.h"

#include <ATen/core/dispatch/Dispatcher.h>

#include <algorithm>
#include <cmath>

namespace tunelab::detail {

namespace {

at::QEngine libtorchEngine(QuantizedEngine engine) {
    return engine == QuantizedEngine::Qnnpack ? at::QEngine::QNNPACK : at::QEngine::ONEDNN;
}

std::mutex& engineMutex() {
    static std::mutex mutex;
    return mutex;
}

// One operator of the quantized:: namespace, looked up once. A LibTorch without it fails here with
// the operator's name.
c10::OperatorHandle quantizedOperator(const char* name, const char* overload) {
    return c10::Dispatcher::singleton().findSchemaOrThrow(name, overload);
}

c10::IValue call(const c10::OperatorHandle& op, std::vector<c10::IValue> stack) {
    op.callBoxed(&stack);
    return std::move(stack.front());
}

c10::List<int64_t> squareSizeList(int64_t value) {
    return c10::List<int64_t>({value, value});
}

} // namespace

const char* toString(QuantizedEngine engine) {
    switch (engine) {
    case QuantizedEngine::Auto:
        return "auto";
    case QuantizedEngine::Onednn:
        return "onednn";
    case QuantizedEngine::Qnnpack:
        return "qnnpack";
    }
    return "";
}

bool parseQuantizedEngine(const std::string& text, QuantizedEngine& engine) {
    for (QuantizedEngine candidate :
         {QuantizedEngine::Auto, QuantizedEngine::Onednn, QuantizedEngine::Qnnpack})
        if (text == toString(candidate)) {
            engine = candidate;
            return true;
        }
    return false;
}

std::vector<QuantizedEngine> availableEngines() {
    const auto& supported = at::globalContext().supportedQEngines();
    std::vector<QuantizedEngine> engines;
    for (QuantizedEngine engine : {QuantizedEngine::Onednn, QuantizedEngine::Qnnpack})
        if (std::find(supported.begin(), supported.end(), libtorchEngine(engine)) != supported.end())
            engines.push_back(engine);
    return engines;
}

EngineScope::EngineScope(QuantizedEngine engine)
    : m_lock(engineMutex())
    , m_previous(at::globalContext().qEngine()) {
    at::globalContext().setQEngine(libtorchEngine(engine));
}

EngineScope::~EngineScope() {
    at::globalContext().setQEngine(m_previous);
}

torch::Tensor Int8Weight::quantized() const {
    if (perChannel)
        return at::_make_per_channel_quantized_tensor(values, scales.to(torch::kDouble),
                                                      torch::zeros({scales.size(0)}, torch::kLong), 0);
    return at::_make_per_tensor_quantized_tensor(values, scales.item<double>(), 0);
}

torch::Tensor Int8Weight::dequantized() const {
    std::vector<int64_t> shape(static_cast<size_t>(values.dim()), 1);
    shape[0] = perChannel ? values.size(0) : 1;
    return values.to(torch::kFloat) * scales.view(shape);
}

Int8Weight quantizeWeight(const torch::Tensor& weight, bool perChannel) {
    torch::NoGradGuard noGrad;
    Int8Weight result;
    result.perChannel = perChannel;
    const torch::Tensor rows = weight.detach().to(torch::kFloat).flatten(1);
    torch::Tensor largest = perChannel ? rows.abs().amax(1) : rows.abs().max().reshape({1});
    // An all-zero row keeps scale 1: its integers are zero whatever the scale.
    result.scales = torch::where(largest > 0, largest / 127.0, torch::ones_like(largest)).contiguous();
    const torch::Tensor rowScales = perChannel ? result.scales.unsqueeze(1) : result.scales;
    result.values =
        (rows / rowScales).round().clamp(-127, 127).to(torch::kChar).view(weight.sizes()).contiguous();
    return result;
}

ActivationQuant activationQuant(double min, double max) {
    ActivationQuant quant;
    quant.min = std::min(min, 0.0);
    quant.max = std::max(max, 0.0);
    if (quant.max - quant.min < 1e-8)
        quant.max = quant.min + 1e-8;
    quant.scale = (quant.max - quant.min) / 255.0;
    quant.zeroPoint = std::clamp<int64_t>(std::llround(-quant.min / quant.scale), 0, 255);
    return quant;
}

std::pair<double, double> observedRange(const torch::Tensor& values, double percentile) {
    torch::NoGradGuard noGrad;
    torch::Tensor flat = values.detach().flatten().to(torch::kFloat);
    if (flat.numel() == 0)
        return {0.0, 0.0};
    if (percentile >= 100.0)
        return {flat.min().item<double>(), flat.max().item<double>()};
    constexpr int64_t kSample = int64_t{1} << 22;
    if (flat.numel() > kSample)
        flat = flat.slice(0, 0, flat.numel(), (flat.numel() + kSample - 1) / kSample);
    const double q = std::clamp(percentile, 50.0, 100.0) / 100.0;
    const auto bounds = torch::quantile(flat, torch::tensor({1.0 - q, q}, torch::kFloat));
    return {bounds[0].item<double>(), bounds[1].item<double>()};
}

torch::Tensor quantizeActivation(const torch::Tensor& input, const ActivationQuant& quant) {
    return torch::quantize_per_tensor(input, quant.scale, quant.zeroPoint, torch::kQUInt8);
}

c10::IValue packLinear(const Int8Weight& weight, const torch::Tensor& bias) {
    static const c10::OperatorHandle op = quantizedOperator("quantized::linear_prepack", "");
    return call(op, {weight.quantized(), bias});
}

c10::IValue packConv2d(const Int8Weight& weight, const torch::Tensor& bias, int64_t stride, int64_t padding) {
    static const c10::OperatorHandle op = quantizedOperator("quantized::conv2d_prepack", "");
    return call(op, {weight.quantized(), bias, squareSizeList(stride), squareSizeList(padding),
                     squareSizeList(1), int64_t{1}});
}

torch::Tensor runLinear(const torch::Tensor& input, const c10::IValue& packed, const ActivationQuant& output,
                        bool relu) {
    static const c10::OperatorHandle plain = quantizedOperator("quantized::linear", "");
    static const c10::OperatorHandle withRelu = quantizedOperator("quantized::linear_relu", "");
    return call(relu ? withRelu : plain, {input, packed, output.scale, output.zeroPoint}).toTensor();
}

torch::Tensor runConv2d(const torch::Tensor& input, const c10::IValue& packed, const ActivationQuant& output,
                        bool relu) {
    static const c10::OperatorHandle plain = quantizedOperator("quantized::conv2d", "new");
    static const c10::OperatorHandle withRelu = quantizedOperator("quantized::conv2d_relu", "new");
    return call(relu ? withRelu : plain, {input, packed, output.scale, output.zeroPoint}).toTensor();
}

std::vector<int64_t> histogram(const torch::Tensor& values, double low, double high, int bins) {
    torch::NoGradGuard noGrad;
    if (!(high > low))
        high = low + 1e-12 + std::abs(low) * 1e-6;
    const torch::Tensor counts =
        torch::histc(values.detach().flatten().to(torch::kFloat), bins, low, high).to(torch::kLong);
    return std::vector<int64_t>(counts.data_ptr<int64_t>(), counts.data_ptr<int64_t>() + counts.numel());
}

} // namespace tunelab::detail
