#include "sharding/comm/cuda/nccl_communicator.h"

#include <ATen/ATen.h>
#include <cuda_runtime.h>
#include <mpi.h>
#include <nccl.h>

#include <chrono>
#include <cstdio>
#include <thread>

#include "revive/config.h"
#include "sharding/comm/comm_runtime.h"
#include "sharding/comm/comm_timeout.h"
#include "sharding/comm/tensor_checks.h"
#include "sharding/comm/watchdog.h"
#include "sharding/errors.h"
#if REVIVE_TORCH_HAS_CUDA
#include <c10/cuda/CUDAStream.h>
#endif

#define REVIVE_NCCL_CHECK(call, op)                                                      \
  do {                                                                                    \
    ncclResult_t revive_nccl_rc_ = (call);                                                \
    if (revive_nccl_rc_ != ncclSuccess) {                                                 \
      throw ::revive::CommError(rank_, name_, (op),                                       \
                                std::string(#call) + " failed: " +                        \
                                    ncclGetErrorString(revive_nccl_rc_) + " (" REVIVE_WHERE ")"); \
    }                                                                                     \
  } while (0)

#define REVIVE_CUDA_CHECK(call, op)                                                      \
  do {                                                                                    \
    cudaError_t revive_cuda_rc_ = (call);                                                 \
    if (revive_cuda_rc_ != cudaSuccess) {                                                 \
      throw ::revive::CommError(rank_, name_, (op),                                       \
                                std::string(#call) + " failed: " +                        \
                                    cudaGetErrorString(revive_cuda_rc_) + " (" REVIVE_WHERE ")"); \
    }                                                                                     \
  } while (0)

namespace revive::sharding {
namespace {

ncclDataType_t nccl_type(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return ncclFloat32;
    case at::kDouble: return ncclFloat64;
    case at::kLong: return ncclInt64;
    case at::kBFloat16: return ncclBfloat16;
    case at::kHalf: return ncclFloat16;
    default: return ncclInt8;
  }
}

class NcclCommunicator final : public Communicator {
 public:
  NcclCommunicator(ncclComm_t comm, std::string group, int device) : comm_(comm), name_("nccl:" + std::move(group)), device_(device) {
    REVIVE_NCCL_CHECK(ncclCommUserRank(comm_, &rank_), "init");
    REVIVE_NCCL_CHECK(ncclCommCount(comm_, &size_), "init");
#if !REVIVE_TORCH_HAS_CUDA
    REVIVE_CUDA_CHECK(cudaStreamCreateWithFlags(&own_stream_, cudaStreamNonBlocking), "init");
#endif
  }
  ~NcclCommunicator() override {
    if (comm_) ncclCommDestroy(comm_);
    if (own_stream_) cudaStreamDestroy(own_stream_);
  }

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string name() const override { return name_; }
  c10::DeviceType device_type() const override { return c10::DeviceType::CUDA; }

  void all_reduce(at::Tensor& tensor, const AllReduceOptions& opts) override {
    check_collective_tensor(*this, "all_reduce", tensor);
    watchdog::Scope scope("all_reduce", name_.c_str());
    at::Tensor work = is_half_precision(tensor.scalar_type()) ? tensor.to(at::kFloat) : tensor;
    const bool int_avg = opts.op == ReduceOp::kAvg && !at::isFloatingType(work.scalar_type());
    ncclRedOp_t op = opts.op == ReduceOp::kMax ? ncclMax : (opts.op == ReduceOp::kAvg && !int_avg ? ncclAvg : ncclSum);
    REVIVE_NCCL_CHECK(ncclAllReduce(work.data_ptr(), work.data_ptr(), work.numel(), nccl_type(work.scalar_type()), op,
                                    comm_, stream()),
                      "all_reduce");
    wait("all_reduce", opts.timeout);
    if (int_avg) work.floor_divide_(size_);
    if (!work.is_same(tensor)) tensor.copy_(work);
  }

  void broadcast(at::Tensor& tensor, const BroadcastOptions& opts) override {
    check_collective_tensor(*this, "broadcast", tensor);
    if (opts.root < 0 || opts.root >= size_) throw CommError(rank_, name_, "broadcast", "root out of range");
    watchdog::Scope scope("broadcast", name_.c_str());
    REVIVE_NCCL_CHECK(ncclBroadcast(tensor.data_ptr(), tensor.data_ptr(), tensor.nbytes(), ncclInt8, opts.root, comm_,
                                    stream()),
                      "broadcast");
    wait("broadcast", opts.timeout);
  }

  at::Tensor all_gather(const at::Tensor& local, const AllGatherOptions& opts) override {
    check_collective_tensor(*this, "all_gather", local);
    if (local.dim() == 0) throw CommError(rank_, name_, "all_gather", "tensor must have at least one dimension");
    const int64_t dim = opts.dim < 0 ? opts.dim + local.dim() : opts.dim;
    if (dim < 0 || dim >= local.dim()) throw CommError(rank_, name_, "all_gather", "dim out of range");
    watchdog::Scope scope("all_gather", name_.c_str());
    at::Tensor rows = local.movedim(dim, 0).contiguous();
    // Row counts of every rank, gathered on the device.
    at::Tensor n_local = at::full({1}, rows.size(0), local.options().dtype(at::kLong));
    at::Tensor n_all = at::empty({size_}, n_local.options());
    REVIVE_NCCL_CHECK(ncclAllGather(n_local.data_ptr(), n_all.data_ptr(), 1, ncclInt64, comm_, stream()), "all_gather");
    wait("all_gather", opts.timeout);
    at::Tensor n_host = n_all.cpu();
    const int64_t* n = n_host.data_ptr<int64_t>();
    int64_t max_rows = 0, total = 0;
    for (int r = 0; r < size_; ++r) max_rows = std::max(max_rows, n[r]), total += n[r];
    std::vector<int64_t> shape = rows.sizes().vec();
    shape[0] = max_rows;
    at::Tensor padded = at::zeros(shape, rows.options());
    padded.narrow(0, 0, rows.size(0)).copy_(rows);
    shape.insert(shape.begin(), size_);
    at::Tensor gathered = at::empty(shape, rows.options());
    REVIVE_NCCL_CHECK(ncclAllGather(padded.data_ptr(), gathered.data_ptr(), padded.nbytes(), ncclInt8, comm_, stream()),
                      "all_gather");
    wait("all_gather", opts.timeout);
    std::vector<at::Tensor> parts;
    for (int r = 0; r < size_; ++r) parts.push_back(gathered[r].narrow(0, 0, n[r]));
    at::Tensor out = at::cat(parts, 0);
    (void)total;
    return dim == 0 ? out : out.movedim(0, dim).contiguous();
  }

  at::Tensor reduce_scatter(const at::Tensor& input, const ReduceScatterOptions& opts) override {
    check_collective_tensor(*this, "reduce_scatter", input);
    if (input.dim() == 0) throw CommError(rank_, name_, "reduce_scatter", "input must have at least one dimension");
    const std::vector<int64_t> counts = reduce_scatter_counts(*this, input.size(0), opts.counts);
    int64_t begin = 0;
    for (int r = 0; r < rank_; ++r) begin += counts[r];
    at::Tensor full = input.clone();
    AllReduceOptions ar;
    ar.op = opts.op;
    ar.timeout = opts.timeout;
    all_reduce(full, ar);  // uneven splits are the norm in REVIVE; keep one path
    return full.narrow(0, begin, counts[rank_]).clone();
  }

  void barrier(const BarrierOptions& opts) override {
    at::Tensor t = at::zeros({1}, at::TensorOptions().dtype(at::kFloat).device(at::kCUDA, device_));
    AllReduceOptions ar;
    ar.timeout = opts.timeout;
    all_reduce(t, ar);
  }

  std::unique_ptr<Communicator> split(int color, int key, const std::string& name) override {
    ncclComm_t sub = nullptr;
    REVIVE_NCCL_CHECK(ncclCommSplit(comm_, color, key, &sub, nullptr), "split");
    return std::make_unique<NcclCommunicator>(sub, name, device_);
  }

 private:
  cudaStream_t stream() const {
#if REVIVE_TORCH_HAS_CUDA
    return c10::cuda::getCurrentCUDAStream(device_).stream();
#else
    return own_stream_;
#endif
  }

  void wait(const char* op, Timeout timeout) {
    using clock = std::chrono::steady_clock;
    const auto start = clock::now();
    const auto deadline = start + resolve_timeout(timeout);
    for (;;) {
      const cudaError_t q = cudaStreamQuery(stream());
      if (q == cudaSuccess) return;
      if (q != cudaErrorNotReady) REVIVE_CUDA_CHECK(q, op);
      ncclResult_t async = ncclSuccess;
      REVIVE_NCCL_CHECK(ncclCommGetAsyncError(comm_, &async), op);
      const bool timed_out = clock::now() > deadline;
      if (async != ncclSuccess || timed_out) {
        std::fprintf(stderr, "revive: rank %d [%s] %s (collective #%llu) %s; dead peers: %s; aborting the job\n",
                     rank_, name_.c_str(), op, static_cast<unsigned long long>(watchdog::sequence()),
                     timed_out ? "timed out" : ncclGetErrorString(async), watchdog::dead_peers().c_str());
        std::fflush(stderr);
        ncclCommAbort(comm_);
        comm_ = nullptr;
        MPI_Abort(MPI_COMM_WORLD, 3);
        std::_Exit(3);
      }
      std::this_thread::sleep_for(std::chrono::microseconds(20));
    }
  }

  ncclComm_t comm_;
  std::string name_;
  int device_;
  int rank_ = 0, size_ = 1;
  cudaStream_t own_stream_ = nullptr;
};

}  // namespace

std::unique_ptr<Communicator> make_nccl_world() {
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  const int local_rank = node_local_rank();
  int devices = 0;
  if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
    throw CommError(rank, "nccl:world", "init", "no CUDA device is visible to this rank");
  }
  const int device = local_rank % devices;
  cudaSetDevice(device);
  ncclUniqueId id;
  if (rank == 0 && ncclGetUniqueId(&id) != ncclSuccess) throw CommError(rank, "nccl:world", "init", "ncclGetUniqueId failed");
  MPI_Bcast(&id, sizeof(id), MPI_BYTE, 0, MPI_COMM_WORLD);
  ncclComm_t comm = nullptr;
  const ncclResult_t rc = ncclCommInitRank(&comm, size, id, rank);
  if (rc != ncclSuccess) throw CommError(rank, "nccl:world", "init", std::string("ncclCommInitRank failed: ") + ncclGetErrorString(rc));
  return std::make_unique<NcclCommunicator>(comm, "world", device);
}

}  // namespace revive::sharding
