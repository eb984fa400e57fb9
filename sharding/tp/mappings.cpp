#include "sharding/tp/mappings.h"

#include <torch/csrc/autograd/custom_function.h>

namespace revive::sharding {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// The communicator rides in the context as an integer: AutogradContext stores
// IValues only, and the communicator outlives the graph by contract.
void save_comm(AutogradContext* ctx, Communicator& comm) {
  ctx->saved_data["comm"] = reinterpret_cast<int64_t>(&comm);
}
Communicator& load_comm(AutogradContext* ctx) {
  return *reinterpret_cast<Communicator*>(ctx->saved_data["comm"].toInt());
}

at::Tensor all_reduce_copy(const at::Tensor& x, Communicator& comm) {
  at::Tensor out = x.contiguous().clone();
  comm.all_reduce(out);
  return out;
}

at::Tensor own_last_dim_slice(const at::Tensor& x, Communicator& comm) {
  const Range r = shard_range(x.size(-1), comm.rank(), comm.size());
  return x.narrow(-1, r.begin, r.size).contiguous();
}

at::Tensor gather_last_dim(const at::Tensor& x, Communicator& comm) {
  AllGatherOptions o;
  o.dim = x.dim() - 1;
  return comm.all_gather(x.contiguous(), o);
}

struct CopyToTp : torch::autograd::Function<CopyToTp> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, Communicator* comm) {
    save_comm(ctx, *comm);
    return x.view_as(x);
  }
  static variable_list backward(AutogradContext* ctx, variable_list g) {
    return {all_reduce_copy(g[0], load_comm(ctx)), at::Tensor()};
  }
};

struct ReduceFromTp : torch::autograd::Function<ReduceFromTp> {
  static at::Tensor forward(AutogradContext*, const at::Tensor& x, Communicator* comm) {
    return all_reduce_copy(x, *comm);
  }
  static variable_list backward(AutogradContext*, variable_list g) { return {g[0], at::Tensor()}; }
};

struct ScatterToTp : torch::autograd::Function<ScatterToTp> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, Communicator* comm) {
    save_comm(ctx, *comm);
    return own_last_dim_slice(x, *comm);
  }
  static variable_list backward(AutogradContext* ctx, variable_list g) {
    return {gather_last_dim(g[0], load_comm(ctx)), at::Tensor()};
  }
};

struct GatherFromTp : torch::autograd::Function<GatherFromTp> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, Communicator* comm) {
    save_comm(ctx, *comm);
    return gather_last_dim(x, *comm);
  }
  static variable_list backward(AutogradContext* ctx, variable_list g) {
    return {own_last_dim_slice(g[0], load_comm(ctx)), at::Tensor()};
  }
};

}  // namespace

at::Tensor copy_to_tp_region(const at::Tensor& x, Communicator& tp) {
  if (tp.size() == 1) return x;
  return CopyToTp::apply(x, &tp);
}
at::Tensor reduce_from_tp_region(const at::Tensor& x, Communicator& tp) {
  if (tp.size() == 1) return x;
  return ReduceFromTp::apply(x, &tp);
}
at::Tensor scatter_to_tp_region(const at::Tensor& x, Communicator& tp) {
  if (tp.size() == 1) return x;
  return ScatterToTp::apply(x, &tp);
}
at::Tensor gather_from_tp_region(const at::Tensor& x, Communicator& tp) {
  if (tp.size() == 1) return x;
  return GatherFromTp::apply(x, &tp);
}

}  // namespace revive::sharding
