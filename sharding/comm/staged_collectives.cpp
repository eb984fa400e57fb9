#include "sharding/comm/staged_collectives.h"

#include <ATen/ATen.h>

#include "sharding/errors.h"

namespace revive::sharding {
namespace {

// `t` itself when it can be handed to `comm` as is, else a contiguous copy on
// its device (CUDA: the current device).
at::Tensor on_comm_device(const Communicator& comm, const at::Tensor& t) {
  REVIVE_CHECK(t.defined(), comm.name() + ": collective on an undefined tensor");
  if (t.device().type() == comm.device_type()) return t.contiguous();
  return t.to(at::Device(comm.device_type())).contiguous();
}

void copy_back(at::Tensor& tensor, const at::Tensor& staged) {
  if (!staged.is_same(tensor)) tensor.copy_(staged);
}

}  // namespace

void all_reduce_staged(Communicator& comm, at::Tensor& tensor, const AllReduceOptions& opts) {
  if (comm.size() == 1) return;
  at::Tensor staged = on_comm_device(comm, tensor);
  comm.all_reduce(staged, opts);
  copy_back(tensor, staged);
}

void broadcast_staged(Communicator& comm, at::Tensor& tensor, const BroadcastOptions& opts) {
  if (comm.size() == 1) return;
  at::Tensor staged = on_comm_device(comm, tensor);
  comm.broadcast(staged, opts);
  copy_back(tensor, staged);
}

at::Tensor all_gather_staged(Communicator& comm, const at::Tensor& local, const AllGatherOptions& opts) {
  return comm.all_gather(on_comm_device(comm, local), opts).to(local.device());
}

}  // namespace revive::sharding
