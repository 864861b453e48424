#include "training/mixed_precision.h"

#include <ATen/autocast_mode.h>
#include <torch/version.h>

namespace tunelab::detail {

namespace {

// LibTorch 2.4 gave autocast one interface for every device type; before, each had its own calls.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
#define TUNELAB_AUTOCAST_BY_DEVICE_TYPE 1
#endif

// Autocast to bfloat16 on one device type for the calling thread while it lives (the settings are
// per thread), as Python's `torch.autocast` does: its cache of cast weights is dropped at the end.
class BFloat16Autocast {
public:
    explicit BFloat16Autocast(c10::DeviceType type)
        : m_type(type) {
#ifdef TUNELAB_AUTOCAST_BY_DEVICE_TYPE
        m_wasEnabled = at::autocast::is_autocast_enabled(type);
        m_previousType = at::autocast::get_autocast_dtype(type);
        at::autocast::set_autocast_dtype(type, at::kBFloat16);
        at::autocast::set_autocast_enabled(type, true);
#else
        const bool cpu = type == c10::DeviceType::CPU;
        m_wasEnabled = cpu ? at::autocast::is_cpu_enabled() : at::autocast::is_enabled();
        m_previousType =
            cpu ? at::autocast::get_autocast_cpu_dtype() : at::autocast::get_autocast_gpu_dtype();
        if (cpu) {
            at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
            at::autocast::set_cpu_enabled(true);
        } else {
            at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
            at::autocast::set_enabled(true);
        }
#endif
        at::autocast::increment_nesting();
    }

    ~BFloat16Autocast() {
        if (at::autocast::decrement_nesting() == 0)
            at::autocast::clear_cache();
#ifdef TUNELAB_AUTOCAST_BY_DEVICE_TYPE
        at::autocast::set_autocast_enabled(m_type, m_wasEnabled);
        at::autocast::set_autocast_dtype(m_type, m_previousType);
#else
        if (m_type == c10::DeviceType::CPU) {
            at::autocast::set_cpu_enabled(m_wasEnabled);
            at::autocast::set_autocast_cpu_dtype(m_previousType);
        } else {
            at::autocast::set_enabled(m_wasEnabled);
            at::autocast::set_autocast_gpu_dtype(m_previousType);
        }
#endif
    }

    BFloat16Autocast(const BFloat16Autocast&) = delete;
    BFloat16Autocast& operator=(const BFloat16Autocast&) = delete;

private:
    c10::DeviceType m_type;
    bool m_wasEnabled = false;
    at::ScalarType m_previousType = at::kFloat;
};

} // namespace

torch::Tensor forwardInPrecision(Precision precision, const std::function<torch::Tensor()>& forward,
                                 const torch::Device& device) {
    if (precision == Precision::Float32)
        return forward();
    torch::Tensor output;
    {
        BFloat16Autocast autocast(device.type());
        output = forward();
    }
    return output.scalar_type() == torch::kFloat ? output : output.to(torch::kFloat);
}

} // namespace tunelab::detail
