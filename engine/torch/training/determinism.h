#pragma once

// Private to the engine: included only by engine .cpp files.
//
// Reproducible runs (training.deterministic, docs/experiment-format.md). On the CPU TuneLab's training
// is reproducible already; on a GPU some kernels (cuDNN's fastest convolutions, atomic adds) give
// results that differ from run to run in the last bits.

#include <memory>
#include <string>
#include <vector>

namespace tunelab::detail {

// While one lives (on the thread that trains), LibTorch uses deterministic algorithms: cuDNN's
// deterministic convolutions and no benchmarking of them, and cuBLAS with a fixed workspace
// (CUBLAS_WORKSPACE_CONFIG, set for the process when not set already). An operation that has no
// deterministic implementation still runs, and is remembered: unmet() names them. The settings are
// LibTorch's, for the whole process: while any such scope lives, runs trained beside it in the same
// process use deterministic algorithms too; the last one to end restores what was set before.
class DeterministicAlgorithms {
public:
    explicit DeterministicAlgorithms(bool cuda);
    ~DeterministicAlgorithms();
    DeterministicAlgorithms(const DeterministicAlgorithms&) = delete;
    DeterministicAlgorithms& operator=(const DeterministicAlgorithms&) = delete;

    // The operations this thread ran that have no deterministic implementation, in the order first met.
    std::vector<std::string> unmet() const;

private:
    class Handler;
    std::unique_ptr<Handler> m_handler;
};

} // namespace tunelab::detail
