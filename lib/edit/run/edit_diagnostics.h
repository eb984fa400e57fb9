#pragma once
// Diagnostics of one layer's edit and of a batch's v* (issue 22): the figures
// that explain why an edit took or did not, and what it cost the model.
//
// Per edited layer, for the update before and after the filters:
//   disturbance  sqrt(tr(dW C dW^T) / tr(W0 C W0^T)): the RMS change of the
//                layer's output on the statistics corpus' keys (C = E[k k^T]),
//                relative to the original weight's RMS output there;
//   achieved     1 - ||dW K - R|| / ||R||: the share of this layer's residual
//                the update writes on the batch's keys (1: all of it, 0: none,
//                < 0: it made the fit worse);
// and, with a protected basis, the share of the residual outside the protected
// output directions, ||(I - U_k U_k^T) R|| / ||R||: what an output-side filter
// lets through at most.
// Per batch, of v*: mean ||z0|| (the last edited layer's output at the fact
// token), mean ||delta|| / ||z0||, and the fraction of requests whose delta sits
// at the clamp (clamp_norm_factor * ||z0||).
//
// Every function takes this rank's shard of the update, laid out like the
// weight, and reduces over the weight's group: all ranks of the tp group call it
// and get the same value. Keys, residuals and statistics are whole on every rank.
#include <ATen/core/Tensor.h>

#include <string>
#include <utility>
#include <vector>

#include "lib/edit/run/value_optimizer.h"
#include "lib/edit/weight_update.h"
#include "sharding/sharded_tensor.h"

namespace revive::edit {

// tr(dW C dW^T) for this rank's shard `update` of a weight laid out like `w`
// (collective over w.reduce_group()). C: d_in x d_in.
double update_disturbance_sq(const WeightUpdate& update, const sharding::ShardedTensor& w,
                             const at::Tensor& c);
// tr(W C W^T) of the weight whose shard is `local`, laid out like `w`.
double weight_output_energy(const at::Tensor& local, const sharding::ShardedTensor& w, const at::Tensor& c);
// ||dW K - R||_F (collective over w.reduce_group()). keys: d_in x n, residual:
// d_out x n, both whole.
double update_fit_error(const WeightUpdate& update, const sharding::ShardedTensor& w, const at::Tensor& keys,
                        const at::Tensor& residual);
// ||(I - U U^T) R|| / ||R|| for the whole U (d_out x k) and R (d_out x n); 1 for R = 0.
double unprotected_share(const at::Tensor& residual, const at::Tensor& u);

struct ValueDiagnostics {
  double z0_norm = 0;           // mean ||z0||
  double delta_ratio = 0;       // mean ||v* - z0|| / ||z0||
  double clamped_fraction = 0;  // requests with ||delta|| >= (1 - 1e-3) clamp
};
ValueDiagnostics value_diagnostics(const ValueResult& values, double clamp_norm_factor);
// {"z0_norm", ...}, {"delta_ratio", ...}, {"clamped_fraction", ...}.
std::vector<std::pair<std::string, double>> named_diagnostics(const ValueDiagnostics& d);

}  // namespace revive::edit
