#include "training/data_parallel_run.h"

#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

// c10d's headers show their process groups only to code that says the library has them.
#if defined(TUNELAB_WITH_GLOO)
#ifndef USE_C10D_GLOO
#define USE_C10D_GLOO
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif
#if defined(TUNELAB_WITH_NCCL)
#ifndef USE_C10D_NCCL
#define USE_C10D_NCCL
#endif
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

namespace tunelab::detail {

#if defined(TUNELAB_WITH_GLOO)

namespace {

std::string where(const DataParallelSettings& settings) {
    return settings.address + ":" + std::to_string(settings.port);
}

std::string errorText(const std::exception& error) {
    if (const auto* torchError = dynamic_cast<const c10::Error*>(&error))
        return torchError->what_without_backtrace();
    return error.what();
}

// The address of this host's interface on the way to `host` (rank 0's), where this process
// listens for the others; "" when there is no route. A datagram socket's connect sends nothing.
std::string localAddressTowards(const std::string& host, int port) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    addrinfo* found = nullptr;
    if (::getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0)
        return {};
    std::string local;
    for (addrinfo* each = found; each && local.empty(); each = each->ai_next) {
        const int fd = ::socket(each->ai_family, SOCK_DGRAM, 0);
        if (fd < 0)
            continue;
        sockaddr_storage address{};
        socklen_t length = sizeof(address);
        char text[INET6_ADDRSTRLEN] = {};
        if (::connect(fd, each->ai_addr, each->ai_addrlen) == 0 &&
            ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0 &&
            ::getnameinfo(reinterpret_cast<sockaddr*>(&address), length, text, sizeof(text), nullptr, 0,
                          NI_NUMERICHOST) == 0)
            local = text;
        ::close(fd);
    }
    ::freeaddrinfo(found);
    return local;
}

} // namespace

struct DataParallelRun::Group {
    c10::intrusive_ptr<c10d::Store> store;
#if defined(TUNELAB_WITH_NCCL)
    c10::intrusive_ptr<c10d::ProcessGroupNCCL> nccl;
#endif
    c10::intrusive_ptr<c10d::ProcessGroupGloo> gloo;

    void allReduceSum(std::vector<at::Tensor>& tensors) {
#if defined(TUNELAB_WITH_NCCL)
        if (nccl) {
            nccl->allreduce(tensors)->wait();
            return;
        }
#endif
        gloo->allreduce(tensors)->wait();
    }

    void broadcast(std::vector<at::Tensor>& tensors) {
        c10d::BroadcastOptions options;
        options.rootRank = 0;
#if defined(TUNELAB_WITH_NCCL)
        if (nccl) {
            nccl->broadcast(tensors, options)->wait();
            return;
        }
#endif
        gloo->broadcast(tensors, options)->wait();
    }
};

DataParallelRun::DataParallelRun(const DataParallelSettings& settings, const torch::Device& device)
    : m_settings(settings)
    , m_backend(dataParallelBackend(device.str())) {
    const auto timeout = std::chrono::milliseconds(static_cast<int64_t>(settings.timeoutSeconds * 1000.0));
    m_group = std::make_unique<Group>();
    try {
        c10d::TCPStoreOptions storeOptions;
        storeOptions.port = static_cast<uint16_t>(settings.port);
        storeOptions.isServer = settings.rank == 0;
        storeOptions.numWorkers = static_cast<size_t>(settings.worldSize);
        storeOptions.waitWorkers = true;
        storeOptions.timeout = timeout;
        m_group->store = c10::make_intrusive<c10d::TCPStore>(settings.address, storeOptions);
    } catch (const std::exception& error) {
        throw std::runtime_error(
            "data parallel: process " + std::to_string(settings.rank) + " of " +
            std::to_string(settings.worldSize) + " could not reach the meeting point " + where(settings) +
            (settings.rank == 0 ? " (it serves it)" : " (rank 0 serves it)") + ": " + errorText(error));
    }
    try {
#if defined(TUNELAB_WITH_NCCL)
        if (m_backend == "nccl") {
            m_group->nccl = c10::make_intrusive<c10d::ProcessGroupNCCL>(
                m_group->store, settings.rank, settings.worldSize, c10d::ProcessGroupNCCL::Options::create());
            return;
        }
#endif
        auto options = c10d::ProcessGroupGloo::Options::create(timeout);
        // GLOO_SOCKET_IFNAME names the interface to use; else the one on the way to rank 0 (the
        // loopback interface on one host), which every process of the group can reach as rank 0 can.
        const std::string local = localAddressTowards(settings.address, settings.port);
        if (const char* interface = std::getenv("GLOO_SOCKET_IFNAME"); interface && *interface)
            options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(interface));
        else if (!local.empty())
            options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(local));
        else
            options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
        options->threads = 1;
        m_group->gloo = c10::make_intrusive<c10d::ProcessGroupGloo>(m_group->store, settings.rank,
                                                                    settings.worldSize, options);
    } catch (const std::exception& error) {
        char seconds[32];
        std::snprintf(seconds, sizeof(seconds), "%g", settings.timeoutSeconds);
        throw std::runtime_error("data parallel: process " + std::to_string(settings.rank) + " of " +
                                 std::to_string(settings.worldSize) + " could not connect to the other " +
                                 std::to_string(settings.worldSize - 1) + " at the meeting point " +
                                 where(settings) + " within " + seconds + " s (" + m_backend +
                                 "): " + errorText(error));
    }
}

void DataParallelRun::agree(uint64_t fingerprint, FlatParameters& flat) {
    torch::NoGradGuard noGrad;
    try {
        // The fingerprint in four 16-bit words: exact in a float, whatever the back end reduces in.
        auto words = torch::empty({4}, torch::kFloat);
        for (int i = 0; i < 4; ++i)
            words[i] = static_cast<float>((fingerprint >> (16 * i)) & 0xFFFF);
        auto theirs = words.to(flat.values.device(), /*non_blocking=*/false, /*copy=*/true);
        std::vector<at::Tensor> broadcast{theirs};
        m_group->broadcast(broadcast);
        const bool same = torch::equal(theirs.to(torch::kCPU), words);
        auto disagreeing = torch::full({1}, same ? 0.0f : 1.0f, flat.values.options());
        std::vector<at::Tensor> count{disagreeing};
        m_group->allReduceSum(count);
        const int others = static_cast<int>(std::lround(disagreeing.item<double>()));
        if (others > 0)
            throw std::runtime_error(
                "data parallel: " + std::to_string(others) + " of the " +
                std::to_string(m_settings.worldSize) +
                " processes train a different experiment, data split or network than rank 0" +
                (same ? "" : " (this one, rank " + std::to_string(m_settings.rank) + ", does)") +
                ": give every process the same spec and data");
        std::vector<at::Tensor> values{flat.values};
        m_group->broadcast(values);
    } catch (const std::runtime_error& error) {
        if (std::string(error.what()).rfind("data parallel:", 0) == 0)
            throw;
        throw std::runtime_error("data parallel: the processes could not compare their experiments: " +
                                 errorText(error));
    }
}

ExchangedStep DataParallelRun::exchange(FlatParameters& flat, const torch::Tensor& shareOfLoss,
                                        bool stopRequested, bool wantsFlush, int64_t step) {
    torch::NoGradGuard noGrad;
    const int64_t parameters = flat.grads.numel();
    auto control = flat.exchange.narrow(0, parameters, kExchangeControlWords);
    control[0].copy_(shareOfLoss.detach().reshape({}));
    control[1].fill_(stopRequested ? 1.0 : 0.0);
    control[2].fill_(m_settings.rank == 0 && wantsFlush ? 1.0 : 0.0);
    try {
        std::vector<at::Tensor> tensors{flat.exchange};
        m_group->allReduceSum(tensors);
    } catch (const std::exception& error) {
        throw std::runtime_error(
            "data parallel: process " + std::to_string(m_settings.rank) + " lost the others at step " +
            std::to_string(step + 1) +
            " (a process of this run stopped, was killed or stopped answering): " + errorText(error));
    }
    ExchangedStep result;
    result.loss = control[0].clone();
    auto flags = control.narrow(0, 1, 2).to(torch::kCPU);
    result.stop = flags[0].item<float>() > 0.5f;
    result.flush = flags[1].item<float>() > 0.5f;
    return result;
}

#else

struct DataParallelRun::Group {};

DataParallelRun::DataParallelRun(const DataParallelSettings& settings, const torch::Device&)
    : m_settings(settings) {
    throw std::runtime_error("data parallel: " + dataParallelUnavailableReason());
}

void DataParallelRun::agree(uint64_t, FlatParameters&) {}

ExchangedStep DataParallelRun::exchange(FlatParameters&, const torch::Tensor& shareOfLoss, bool, bool,
                                        int64_t) {
    return {shareOfLoss, false, false};
}

#endif

DataParallelRun::~DataParallelRun() = default;

std::string DataParallelRun::note() const {
    return "trained by " + std::to_string(m_settings.worldSize) + " processes (data parallel over " +
           m_backend + ")";
}

} // namespace tunelab::detail
