#pragma once
// Collectives on tensors that live anywhere: a tensor not on the communicator's
// device (CPU for MPI and local, CUDA for NCCL) or not contiguous is copied to a
// contiguous one there for the call, and the result copied back to its own
// device. Made for the values algorithms create wherever their math ran (status
// words, counts, a solve's result, statistics); staging costs a copy each way, so
// large tensors should already be on the communicator's device, and then nothing
// is copied. The plain Communicator stays strict so that a misplaced activation
// in a model pass is an error, not a silent detour through the host.
// On a one-rank group the in-place calls return at once.
#include <ATen/core/Tensor.h>

#include "sharding/comm/communicator.h"

namespace revive::sharding {

// In place, like Communicator::all_reduce / broadcast.
void all_reduce_staged(Communicator& comm, at::Tensor& tensor, const AllReduceOptions& opts = {});
void broadcast_staged(Communicator& comm, at::Tensor& tensor, const BroadcastOptions& opts = {});
// Like Communicator::all_gather; the result is on `local`'s device.
at::Tensor all_gather_staged(Communicator& comm, const at::Tensor& local, const AllGatherOptions& opts = {});

}  // namespace revive::sharding
