#include "lib/spectral/revive_filter.h"

#include <ATen/ATen.h>

#include "lib/spectral/sharded_matrix.h"
#include "sharding/errors.h"

namespace revive::spectral {

ReviveFilter::ReviveFilter(const ProtectedBasis& basis) : basis_(basis) {}

sharding::Communicator* ReviveFilter::row_group() const {
  return basis_.weight_spec().dim == 0 ? &basis_.reduce_group() : nullptr;
}

sharding::Communicator* ReviveFilter::col_group() const {
  return basis_.weight_spec().dim == 1 ? &basis_.reduce_group() : nullptr;
}

at::Tensor ReviveFilter::project_out(const at::Tensor& factor_local, const at::Tensor& x_local,
                                     sharding::Communicator* group) const {
  const at::Tensor f = factor_local.to(x_local.scalar_type());
  at::Tensor coeff = at::matmul(f.t(), x_local);  // k x n
  sum_over(group, coeff);
  return x_local - at::matmul(f, coeff);
}

at::Tensor ReviveFilter::apply(const at::Tensor& dw_local) const {
  const std::vector<int64_t> expected = basis_.weight_spec().local_shape();
  if (dw_local.sizes().vec() != expected) {
    throw Error("ReviveFilter: update shard " + c10::str(dw_local.sizes()) + " does not match the weight shard " +
                c10::str(at::IntArrayRef(expected)) + " of '" + basis_.source() + "'");
  }
  const at::Tensor dw = dw_local.to(compute_dtype(dw_local.scalar_type()));
  // Left: (I - U U^T) dW, reducing U^T dW over the row split.
  const at::Tensor left = project_out(basis_.u().local(), dw, row_group());
  // Right: X (I - V V^T) = (X^T - V (V^T X^T))^T, reducing over the column split.
  const at::Tensor both = project_out(basis_.v().local(), left.t(), col_group()).t();
  return both.to(dw_local.scalar_type()).contiguous();
}

FactoredUpdate ReviveFilter::apply(const FactoredUpdate& update) const {
  const std::vector<int64_t> expected = basis_.weight_spec().local_shape();
  REVIVE_CHECK(update.r.dim() == 2 && update.x.dim() == 2 && update.r.size(1) == update.x.size(1),
               "ReviveFilter: a factored update is R (m x n) and X (d_in x n)");
  if (update.r.size(0) != expected[0] || update.x.size(0) != expected[1]) {
    throw Error("ReviveFilter: factors with " + std::to_string(update.r.size(0)) + " and " +
                std::to_string(update.x.size(0)) + " rows do not match the weight shard " +
                c10::str(at::IntArrayRef(expected)) + " of '" + basis_.source() + "'");
  }
  const at::Tensor r = update.r.to(compute_dtype(update.r.scalar_type()));
  const at::Tensor x = update.x.to(compute_dtype(update.x.scalar_type()));
  FactoredUpdate out;
  out.r = project_out(basis_.u().local(), r, row_group()).to(update.r.scalar_type());
  out.x = project_out(basis_.v().local(), x, col_group()).to(update.x.scalar_type());
  return out;
}

}  // namespace revive::spectral
