#pragma once
// NCCL backend: CUDA tensors, one GPU per rank, bootstrapped over MPI (rank 0
// makes the unique id and broadcasts it). Sub-groups come from ncclCommSplit.
//  * Work is enqueued on LibTorch's current CUDA stream when LibTorch has CUDA,
//    else on the communicator's own stream; every call synchronises before it
//    returns (blocking contract of communicator.h).
//  * Completion is polled against the timeout together with
//    ncclCommGetAsyncError; a timeout or NCCL error aborts the communicator and
//    the job with the operation and rank named.
//  * bf16/f16 are reduced in f32; uneven all-gathers are padded to the largest
//    contribution; uneven reduce-scatters reduce everything and keep own rows.
#include <memory>

#include "sharding/comm/communicator.h"

namespace revive::sharding {

// Collective over MPI_COMM_WORLD (MPI must be initialised): selects the GPU of
// this rank's node-local index and creates the world NCCL communicator.
std::unique_ptr<Communicator> make_nccl_world();

}  // namespace revive::sharding
