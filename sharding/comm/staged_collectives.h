#pragma once
// Collectives on tensors that live anywhere: a tensor not on the communicator's
// device (CPU for MPI and local, CUDA for NCCL) or not contiguous is copied to a
// contiguous one there for the call, and the result copied back to its own
// device. For the small values algorithms exchange (status words, counts, a
// solve's n-column result), which are made wherever the math ran; bulk data
// should already be where its communicator wants it, and then nothing is copied.
#include <ATen/core/Tensor.h>

#include "sharding/comm/communicator.h"

namespace revive::sharding {

// In place, like Communicator::all_reduce / broadcast.
void all_reduce_staged(Communicator& comm, at::Tensor& tensor, const AllReduceOptions& opts = {});
void broadcast_staged(Communicator& comm, at::Tensor& tensor, const BroadcastOptions& opts = {});
// Like Communicator::all_gather; the result is on `local`'s device.
at::Tensor all_gather_staged(Communicator& comm, const at::Tensor& local, const AllGatherOptions& opts = {});

}  // namespace revive::sharding
