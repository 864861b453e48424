#pragma once

#include "common/result.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tunelab {

struct DeviceInfo {
    std::string id;          // "cpu", "cuda:0", ...
    std::string name;        // "CPU", "NVIDIA H200", ...
    int64_t memoryBytes = 0; // total device memory; 0 when unknown (CPU)
};

std::vector<DeviceInfo> availableDevices();

// Resolves "auto"/"cpu"/"cuda"/"cuda:N" to a concrete device id, or says why it cannot.
Result<std::string> resolveDevice(const std::string& requested);

// Sets LibTorch's intra-op threads for the calling thread's work and OpenBLAS's thread count
// together (they oversubscribe the cores otherwise); 0 means one per core. The first call also
// keeps freed activation buffers in the process's heap (glibc), instead of returning them to the
// system after every step.
void setComputeThreads(int threads);

// While one lives, the calling thread's LibTorch work on `device` (a resolved id, "cuda:N") goes to a
// CUDA stream of its own instead of the device's default stream, so that runs trained at once on one
// GPU (a study's parallel trials, a race's set-ups) overlap their kernels rather than queue behind each
// other. Nothing on the CPU, or where LibTorch has no CUDA.
class OwnStream {
public:
    explicit OwnStream(const std::string& device);
    ~OwnStream();
    OwnStream(const OwnStream&) = delete;
    OwnStream& operator=(const OwnStream&) = delete;
    // Whether the thread's work goes to a stream of its own.
    bool active() const { return m_guard != nullptr; }

private:
    std::shared_ptr<void> m_guard;
};

// Lowers the calling thread's scheduling priority by `niceness` (Linux; elsewhere nothing).
void lowerThreadPriority(int niceness);

} // namespace tunelab
