#pragma once
// Communicator: the collective interface every REVIVE algorithm talks to.
//
// Contract (holds for every backend):
//  * Collective: every rank of the group calls the same operations in the same
//    order, with tensors of the same dtype and (except where noted) shape.
//  * Blocking: a call returns when its result is in place. A collective that
//    cannot complete within its timeout aborts the whole job with a message naming
//    the operation, this rank and, where it can be told, the failed rank; it never
//    hangs (see watchdog.h).
//  * Tensors must be contiguous and on the backend's device (CPU for MPI and
//    local, CUDA for NCCL); anything else is rejected with CommError before any
//    communication, so the failing rank names the bad argument.
//  * Supported dtypes: f32, f64, bf16, f16, i64. bf16/f16 are reduced in f32.
//  * GPU backends run on the caller's current CUDA stream and synchronise it
//    before returning.
#include <ATen/core/Tensor.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace revive::sharding {

enum class ReduceOp { kSum, kMax, kAvg };
const char* to_string(ReduceOp op);

using Timeout = std::chrono::milliseconds;
// Zero means "the communicator's default" (REVIVE_COMM_TIMEOUT_S, else 600 s).
inline constexpr Timeout kDefaultTimeout{0};

struct AllReduceOptions {
  ReduceOp op = ReduceOp::kSum;
  Timeout timeout = kDefaultTimeout;
};

struct BroadcastOptions {
  int root = 0;
  Timeout timeout = kDefaultTimeout;
};

struct AllGatherOptions {
  // Gather along this dimension; ranks may contribute different sizes along it
  // (all other dimensions must agree).
  int64_t dim = 0;
  Timeout timeout = kDefaultTimeout;
};

struct ReduceScatterOptions {
  ReduceOp op = ReduceOp::kSum;
  // Scatter along dim 0 of the input. Empty: the balanced split of shard_range().
  // Otherwise one row count per rank, summing to input.size(0).
  std::vector<int64_t> counts;
  Timeout timeout = kDefaultTimeout;
};

struct BarrierOptions {
  Timeout timeout = kDefaultTimeout;
};

class Communicator {
 public:
  virtual ~Communicator() = default;

  virtual int rank() const = 0;
  virtual int size() const = 0;
  // Backend and group, e.g. "mpi:tp" - used in error messages.
  virtual std::string name() const = 0;
  // The device kind tensors must live on.
  virtual c10::DeviceType device_type() const = 0;

  // In place: every rank ends with op(tensor over ranks).
  virtual void all_reduce(at::Tensor& tensor, const AllReduceOptions& opts = {}) = 0;
  // In place: every rank ends with root's tensor.
  virtual void broadcast(at::Tensor& tensor, const BroadcastOptions& opts = {}) = 0;
  // Concatenation of every rank's `local` along opts.dim, in rank order.
  virtual at::Tensor all_gather(const at::Tensor& local, const AllGatherOptions& opts = {}) = 0;
  // This rank's rows of op(input over ranks); input has the full size on every rank.
  virtual at::Tensor reduce_scatter(const at::Tensor& input, const ReduceScatterOptions& opts = {}) = 0;
  virtual void barrier(const BarrierOptions& opts = {}) = 0;

  // Collective over this group: ranks passing the same color form a new group,
  // ordered by key (then by rank). `name` labels it in messages ("tp", "dp").
  virtual std::unique_ptr<Communicator> split(int color, int key, const std::string& name) = 0;
};

// Balanced split of n items over `parts` ranks: the first n % parts ranks get one
// more. Used for every default sharding so all layers agree.
struct Range {
  int64_t begin = 0;
  int64_t size = 0;
  int64_t end() const { return begin + size; }
};
Range shard_range(int64_t n, int part, int parts);

}  // namespace revive::sharding
