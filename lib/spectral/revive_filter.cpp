#include "lib/spectral/revive_filter.h"

#include <ATen/ATen.h>

#include "lib/spectral/sharded_matrix.h"
#include "sharding/errors.h"

namespace revive::spectral {

const char* to_string(ProtectedSides s) {
  switch (s) {
    case ProtectedSides::kBoth: return "both";
    case ProtectedSides::kOutput: return "output";
    case ProtectedSides::kInput: return "input";
    case ProtectedSides::kBlock: return "block";
  }
  return "?";
}

ReviveFilter::ReviveFilter(const ProtectedBasis& basis, ProtectedSides sides) : basis_(basis), sides_(sides) {}

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
  // Left: (I - U U^T) A, reducing U^T A over the row split.
  auto left = [&](const at::Tensor& a) { return project_out(basis_.u().local(), a, row_group()); };
  // Right: A (I - V V^T) = (A^T - V (V^T A^T))^T, reducing over the column split.
  auto right = [&](const at::Tensor& a) { return project_out(basis_.v().local(), a.t(), col_group()).t(); };
  at::Tensor safe;
  switch (sides_) {
    case ProtectedSides::kBoth: safe = right(left(dw)); break;
    case ProtectedSides::kOutput: safe = left(dw); break;
    case ProtectedSides::kInput: safe = right(dw); break;
    case ProtectedSides::kBlock: {
      const at::Tensor on_u = dw - left(dw);           // U U^T dW
      safe = dw - (on_u - right(on_u));                // dW - U U^T dW V V^T
      break;
    }
  }
  return safe.to(dw_local.scalar_type()).contiguous();
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
  // R_safe = (I - U U^T) R and X_safe = (I - V V^T) X, as far as the sides ask.
  const bool output = sides_ != ProtectedSides::kInput, input = sides_ != ProtectedSides::kOutput;
  const at::Tensor r_safe = output ? project_out(basis_.u().local(), r, row_group()) : r;
  const at::Tensor x_safe = input ? project_out(basis_.v().local(), x, col_group()) : x;
  FactoredUpdate out;
  if (sides_ == ProtectedSides::kBlock) {
    // R X^T - (U U^T R)(V V^T X)^T = [R, -(R - R_safe)] [X, X - X_safe]^T.
    out.r = at::cat({r, r_safe - r}, 1).to(update.r.scalar_type());
    out.x = at::cat({x, x - x_safe}, 1).to(update.x.scalar_type());
  } else {
    out.r = r_safe.to(update.r.scalar_type());
    out.x = x_safe.to(update.x.scalar_type());
  }
  return out;
}

}  // namespace revive::spectral
