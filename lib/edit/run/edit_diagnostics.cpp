#include "lib/edit/run/edit_diagnostics.h"

#include <ATen/ATen.h>

#include <cmath>

#include "lib/spectral/sharded_matrix.h"
#include "sharding/errors.h"

namespace revive::edit {
namespace {

bool diag_split_rows(const sharding::ShardedTensor& w) {
  return w.spec().layout == sharding::Layout::kColumn;
}
bool diag_split_cols(const sharding::ShardedTensor& w) { return w.spec().layout == sharding::Layout::kRow; }

sharding::Communicator* diag_group(const sharding::ShardedTensor& w) {
  return w.spec().dim >= 0 && w.reduce_group().size() > 1 ? &w.reduce_group() : nullptr;
}

double diag_sum(const sharding::ShardedTensor& w, double local) {
  at::Tensor t = at::tensor({local}, at::kDouble);
  spectral::sum_over(diag_group(w), t);
  return t.item<double>();
}

// The whole of a d_in-row factor (X of a factored update, or W^T's rows) whose
// rows are split like the weight's columns.
at::Tensor diag_whole_input_rows(const at::Tensor& local_rows, const sharding::ShardedTensor& w) {
  if (!diag_split_cols(w) || w.reduce_group().size() == 1) return local_rows;
  const sharding::ShardSpec spec =
      sharding::ShardSpec::make(sharding::Layout::kColumn, {w.spec().global_shape[1], local_rows.size(1)},
                                w.spec().tp_rank, w.spec().tp_size);
  return sharding::ShardedTensor(local_rows.contiguous(), spec, w.reduce_group()).full();
}

// C A (d_in x m) for A's rows in the input space, computed where C lives and in
// its dtype: C is the largest operand (d_in^2), so it is never copied or widened.
at::Tensor diag_c_times(const at::Tensor& c, const at::Tensor& a) {
  return c.mm(a.to(c.device(), c.scalar_type())).to(a.device(), at::kDouble);
}

// Rows of A C A^T's trace for a dense shard A laid out like w (rows split:
// local rows; columns split: the whole matrix gathered once).
double diag_dense_quadratic(const at::Tensor& a_local, const sharding::ShardedTensor& w,
                            const at::Tensor& c) {
  const at::Tensor at_rows =
      diag_split_cols(w) ? diag_whole_input_rows(a_local.t().contiguous(), w) : a_local.t().contiguous();
  const double local = (diag_c_times(c, at_rows) * at_rows.to(at::kDouble)).sum().item<double>();
  return diag_split_rows(w) ? diag_sum(w, local) : local;
}

}  // namespace

double update_disturbance_sq(const WeightUpdate& update, const sharding::ShardedTensor& w,
                             const at::Tensor& c) {
  REVIVE_CHECK(update.defined(), "update_disturbance_sq: no update");
  if (!update.is_factored()) return diag_dense_quadratic(update.dense_delta(), w, c);
  // tr(R X^T C X R^T) = sum((R^T R) .* (X^T C X)), n x n.
  const at::Tensor x = diag_whole_input_rows(update.x(), w).to(at::kDouble);
  const at::Tensor r = update.r().to(x.device(), at::kDouble);
  at::Tensor rtr = r.t().mm(r);
  if (diag_split_rows(w)) spectral::sum_over(diag_group(w), rtr);
  const at::Tensor xcx = x.t().mm(diag_c_times(c, x));
  return (rtr * xcx).sum().item<double>();
}

double weight_output_energy(const at::Tensor& local, const sharding::ShardedTensor& w, const at::Tensor& c) {
  return diag_dense_quadratic(local, w, c);
}

double update_fit_error(const WeightUpdate& update, const sharding::ShardedTensor& w, const at::Tensor& keys,
                        const at::Tensor& residual) {
  REVIVE_CHECK(update.defined(), "update_fit_error: no update");
  const sharding::ShardSpec& spec = w.spec();
  // This rank's columns of K (rows of the key matrix) where the weight's columns
  // are split; its rows of R where the weight's rows are split.
  const at::Tensor k = (diag_split_cols(w) ? keys.narrow(0, spec.offset, spec.length) : keys).to(at::kDouble);
  const at::Tensor r =
      (diag_split_rows(w) ? residual.narrow(0, spec.offset, spec.length) : residual).to(at::kDouble);
  at::Tensor dwk;
  if (update.is_factored()) {
    dwk = update.r().to(k.device(), at::kDouble).mm(update.x().to(k.device(), at::kDouble).t().mm(k));
  } else {
    dwk = update.dense_delta().to(k.device(), at::kDouble).mm(k);
  }
  if (diag_split_cols(w)) {
    spectral::sum_over(diag_group(w), dwk);  // partial products over the column split
    return (dwk - r.to(dwk.device())).norm().item<double>();
  }
  const double sq = (dwk - r.to(dwk.device())).pow(2).sum().item<double>();
  return std::sqrt(diag_split_rows(w) ? diag_sum(w, sq) : sq);
}

double unprotected_share(const at::Tensor& residual, const at::Tensor& u) {
  const at::Tensor r = residual.to(at::kDouble);
  const double total = r.norm().item<double>();
  if (total == 0) return 1.0;
  const at::Tensor ud = u.to(r.device(), at::kDouble);
  return (r - ud.mm(ud.t().mm(r))).norm().item<double>() / total;
}

ValueDiagnostics value_diagnostics(const ValueResult& values, double clamp_norm_factor) {
  ValueDiagnostics d;
  if (!values.targets.defined() || values.targets.size(1) == 0) return d;
  const at::Tensor z0 = values.initial.to(at::kDouble).norm(2, {0});
  const at::Tensor delta = (values.targets.to(at::kDouble) - values.initial.to(at::kDouble)).norm(2, {0});
  const at::Tensor ratio = delta / z0.clamp_min(1e-30);
  d.z0_norm = z0.mean().item<double>();
  d.delta_ratio = ratio.mean().item<double>();
  d.clamped_fraction = (ratio >= clamp_norm_factor * (1.0 - 1e-3)).to(at::kDouble).mean().item<double>();
  return d;
}

std::vector<std::pair<std::string, double>> named_diagnostics(const ValueDiagnostics& d) {
  return {{"z0_norm", d.z0_norm}, {"delta_ratio", d.delta_ratio}, {"clamped_fraction", d.clamped_fraction}};
}

}  // namespace revive::edit
