#include "training/devices.h"

#include "spec/spec.h"

#include <torch/torch.h>

#if defined(TUNELAB_WITH_CUDA) && __has_include(<ATen/cuda/CUDAContext.h>) && __has_include(<cuda_runtime_api.h>)
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#define TUNELAB_HAS_CUDA_PROPERTIES 1
#endif

#include <dlfcn.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <mutex>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <thread>

namespace tunelab {

namespace {

int cudaDeviceCount() {
    try {
        return torch::cuda::is_available() ? static_cast<int>(torch::cuda::device_count()) : 0;
    } catch (const std::exception&) {
        return 0;
    }
}

} // namespace

std::vector<DeviceInfo> availableDevices() {
    std::vector<DeviceInfo> devices;
    devices.push_back({"cpu", "CPU", 0});
    const int count = cudaDeviceCount();
    for (int index = 0; index < count; ++index) {
        DeviceInfo info{"cuda:" + std::to_string(index), "CUDA device " + std::to_string(index), 0};
#ifdef TUNELAB_HAS_CUDA_PROPERTIES
        if (const auto* properties = at::cuda::getDeviceProperties(index)) {
            info.name = properties->name;
            info.memoryBytes = static_cast<int64_t>(properties->totalGlobalMem);
        }
#endif
        devices.push_back(info);
    }
    return devices;
}

Result<std::string> resolveDevice(const std::string& requested) {
    if (const std::string problem = deviceStringError(requested); !problem.empty())
        return Result<std::string>::failure("device: " + problem);
    const int count = cudaDeviceCount();
    if (requested == "cpu")
        return std::string("cpu");
    if (requested == "auto")
        return count > 0 ? std::string("cuda:0") : std::string("cpu");
    if (count == 0)
        return Result<std::string>::failure("device \"" + requested +
                                            "\": no CUDA device is available here (use \"auto\" or \"cpu\")");
    const int index = requested == "cuda" ? 0 : std::stoi(requested.substr(5));
    if (index >= count)
        return Result<std::string>::failure(
            "device \"" + requested + "\": only " + std::to_string(count) +
            " CUDA device(s) are available (cuda:0 to cuda:" + std::to_string(count - 1) + ")");
    return "cuda:" + std::to_string(index);
}

namespace {

// A training step frees and allocates the same activation buffers again and again. glibc returns
// a freed buffer of more than 128 KB to the system (munmap, or trimming the heap's top) and the next
// step faults its pages in again: on a residual network, whose skip connections keep more buffers
// alive, that was a quarter of its step time. Buffers up to 32 MB come from the heap instead, and the
// heap keeps up to 128 MB free at its top.
void keepActivationBuffers() {
#ifdef __GLIBC__
    static std::once_flag once;
    std::call_once(once, [] {
        mallopt(M_MMAP_THRESHOLD, 32 << 20);
        mallopt(M_TRIM_THRESHOLD, 128 << 20);
    });
#endif
}

} // namespace

void setComputeThreads(int threads) {
    keepActivationBuffers();
    if (threads <= 0)
        threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    torch::set_num_threads(threads);
    // OpenBLAS keeps its own pool; without this, runs on parallel threads oversubscribe the cores.
    using SetThreads = void (*)(int);
    if (auto* setOpenBlasThreads =
            reinterpret_cast<SetThreads>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads")))
        setOpenBlasThreads(threads);
}

OwnStream::OwnStream(const std::string& device) {
#ifdef TUNELAB_HAS_CUDA_PROPERTIES
    if (device.rfind("cuda:", 0) != 0)
        return;
    const auto index = static_cast<c10::DeviceIndex>(std::stoi(device.substr(5)));
    m_guard = std::make_shared<c10::cuda::CUDAStreamGuard>(c10::cuda::getStreamFromPool(false, index));
#else
    (void)device;
#endif
}

OwnStream::~OwnStream() = default;

void lowerThreadPriority(int niceness) {
#ifdef __linux__
    if (niceness > 0) {
        // On Linux, niceness is per thread: PRIO_PROCESS with a thread id changes only that thread.
        const auto threadId = static_cast<id_t>(syscall(SYS_gettid));
        setpriority(PRIO_PROCESS, threadId, getpriority(PRIO_PROCESS, threadId) + niceness);
    }
#else
    (void)niceness;
#endif
}

} // namespace tunelab
