#include "sharding/comm/local_communicator.h"

#include <ATen/ATen.h>

#include "sharding/comm/tensor_checks.h"
#include "sharding/errors.h"

namespace revive::sharding {

void LocalCommunicator::all_reduce(at::Tensor& tensor, const AllReduceOptions&) {
  check_collective_tensor(*this, "all_reduce", tensor);
}

void LocalCommunicator::broadcast(at::Tensor& tensor, const BroadcastOptions& opts) {
  check_collective_tensor(*this, "broadcast", tensor);
  if (opts.root != 0) throw CommError(0, name(), "broadcast", "root " + std::to_string(opts.root) + " out of range");
}

at::Tensor LocalCommunicator::all_gather(const at::Tensor& local, const AllGatherOptions& opts) {
  check_collective_tensor(*this, "all_gather", local);
  if (opts.dim < -local.dim() || opts.dim >= std::max<int64_t>(local.dim(), 1)) {
    throw CommError(0, name(), "all_gather", "dim " + std::to_string(opts.dim) + " out of range");
  }
  return local.clone();
}

at::Tensor LocalCommunicator::reduce_scatter(const at::Tensor& input, const ReduceScatterOptions& opts) {
  check_collective_tensor(*this, "reduce_scatter", input);
  if (input.dim() == 0) throw CommError(0, name(), "reduce_scatter", "input must have at least one dimension");
  reduce_scatter_counts(*this, input.size(0), opts.counts);
  return input.clone();
}

std::unique_ptr<Communicator> LocalCommunicator::split(int, int, const std::string& name) {
  return std::make_unique<LocalCommunicator>(name, device_);
}

}  // namespace revive::sharding
