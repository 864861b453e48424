#include "training/determinism.h"

#include <torch/torch.h>
#include <torch/version.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>

namespace tunelab::detail {

namespace {

// Where LibTorch keeps the per-thread warning handler: c10::Warning became a class in LibTorch 2.
#if TORCH_VERSION_MAJOR >= 2
namespace warnings = c10::WarningUtils;
#else
namespace warnings = c10::Warning;
#endif

// What LibTorch says when an operation without a deterministic implementation runs in warn-only mode:
// "<operation> does not have a deterministic implementation, but you set ...".
constexpr const char* kNoDeterministicImplementation = " does not have a deterministic implementation";

// LibTorch's settings before the first scope, and how many scopes live.
std::mutex g_mutex;
int g_scopes = 0;
bool g_previousAlgorithms = false;
bool g_previousWarnOnly = false;
bool g_previousCudnnDeterministic = false;
bool g_previousCudnnBenchmark = false;

} // namespace

// Catches the alerts of deterministic mode on the training thread (LibTorch's warning handler is per
// thread) and passes every other warning on to the handler that was there before.
class DeterministicAlgorithms::Handler : public c10::WarningHandler {
public:
    Handler()
        : m_previous(warnings::get_warning_handler()) {
        warnings::set_warning_handler(this);
    }
    ~Handler() override { warnings::set_warning_handler(m_previous); }

#if TORCH_VERSION_MAJOR >= 2
    void process(const c10::Warning& warning) override {
        if (!remember(warning.msg()))
            m_previous->process(warning);
    }
#else
    void process(const c10::SourceLocation& location, const std::string& message,
                 const bool verbatim) override {
        if (!remember(message))
            m_previous->process(location, message, verbatim);
    }
#endif

    std::vector<std::string> unmet;

private:
    bool remember(const std::string& message) {
        const size_t end = message.find(kNoDeterministicImplementation);
        if (end == std::string::npos)
            return false;
        std::string operation = message.substr(0, end);
        if (std::find(unmet.begin(), unmet.end(), operation) == unmet.end())
            unmet.push_back(std::move(operation));
        return true;
    }

    c10::WarningHandler* m_previous;
};

DeterministicAlgorithms::DeterministicAlgorithms(bool cuda) {
    {
        std::lock_guard<std::mutex> lock(g_mutex);
        auto& context = at::globalContext();
        if (g_scopes++ == 0) {
            g_previousAlgorithms = context.deterministicAlgorithms();
            g_previousWarnOnly = context.deterministicAlgorithmsWarnOnly();
            g_previousCudnnDeterministic = context.deterministicCuDNN();
            g_previousCudnnBenchmark = context.benchmarkCuDNN();
        }
        // cuBLAS reads it when it makes its first handle: a run on a GPU that cuBLAS already served
        // without it keeps cuBLAS's default workspace, and its matrix products may still vary. Set
        // once, and only when nobody set it: changing the environment races with threads reading it.
        if (cuda && std::getenv("CUBLAS_WORKSPACE_CONFIG") == nullptr)
            setenv("CUBLAS_WORKSPACE_CONFIG", ":4096:8", 0);
        context.setDeterministicAlgorithms(true, true);
        context.setDeterministicCuDNN(true);
        context.setBenchmarkCuDNN(false);
    }
    m_handler = std::make_unique<Handler>();
}

DeterministicAlgorithms::~DeterministicAlgorithms() {
    m_handler.reset();
    std::lock_guard<std::mutex> lock(g_mutex);
    if (--g_scopes > 0)
        return;
    auto& context = at::globalContext();
    context.setDeterministicAlgorithms(g_previousAlgorithms, g_previousWarnOnly);
    context.setDeterministicCuDNN(g_previousCudnnDeterministic);
    context.setBenchmarkCuDNN(g_previousCudnnBenchmark);
}

std::vector<std::string> DeterministicAlgorithms::unmet() const {
    return m_handler->unmet;
}

} // namespace tunelab::detail
