#include "lib/edit/weight_update.h"

#include <ATen/ATen.h>

#include <algorithm>

#include "sharding/errors.h"

namespace revive::edit {
namespace {

// Rows per block when a half-precision weight is updated through f32: bounds the
// temporary to kHalfBlockRows x d_in floats.
constexpr int64_t kHalfBlockRows = 1024;

std::string shape_of(const at::Tensor& t) { return c10::str(t.sizes()); }

void require_matrix(const at::Tensor& t, const std::string& layer, const char* what) {
  if (!t.defined() || t.dim() != 2) {
    throw Error("edit update for layer '" + layer + "': " + what + " must be a matrix, got " +
                (t.defined() ? shape_of(t) : std::string("nothing")));
  }
  if (!t.is_floating_point()) {
    throw Error("edit update for layer '" + layer + "': " + what + " must be floating point");
  }
}

void require_finite(const at::Tensor& t, const std::string& layer, const char* what) {
  const int64_t bad = count_nonfinite(t);
  if (bad != 0) {
    throw Error("edit update for layer '" + layer + "' rejected: " + what + " has " + std::to_string(bad) +
                " NaN/Inf entr" + (bad == 1 ? "y" : "ies") + " of " + std::to_string(t.numel()) +
                "; the weight was not changed");
  }
}

bool is_half(at::ScalarType t) { return t == at::kHalf || t == at::kBFloat16; }

}  // namespace

int64_t count_nonfinite(const at::Tensor& t) { return t.numel() - at::isfinite(t).sum().item<int64_t>(); }

WeightUpdate WeightUpdate::factored(std::string layer, at::Tensor r, at::Tensor x) {
  require_matrix(r, layer, "R");
  require_matrix(x, layer, "X");
  if (r.size(1) != x.size(1)) {
    throw Error("edit update for layer '" + layer + "': R " + shape_of(r) + " and X " + shape_of(x) +
                " must have the same number of columns (one per edit)");
  }
  if (r.scalar_type() != x.scalar_type()) x = x.to(r.scalar_type());
  WeightUpdate u;
  u.layer_ = std::move(layer);
  u.r_ = std::move(r);
  u.x_ = std::move(x);
  return u;
}

WeightUpdate WeightUpdate::dense(std::string layer, at::Tensor dw) {
  require_matrix(dw, layer, "dW");
  WeightUpdate u;
  u.layer_ = std::move(layer);
  u.dw_ = std::move(dw);
  return u;
}

int64_t WeightUpdate::rows() const { return is_factored() ? r_.size(0) : dw_.size(0); }
int64_t WeightUpdate::cols() const { return is_factored() ? x_.size(0) : dw_.size(1); }

void WeightUpdate::check_finite() const {
  if (!defined()) throw Error("edit update for layer '" + layer_ + "' is empty");
  if (is_factored()) {
    require_finite(r_, layer_, "R");
    require_finite(x_, layer_, "X");
  } else {
    require_finite(dw_, layer_, "dW");
  }
}

void WeightUpdate::apply_to(at::Tensor& weight) const {
  check_finite();
  if (!weight.defined() || weight.dim() != 2 || weight.size(0) != rows() || weight.size(1) != cols()) {
    throw Error("edit update for layer '" + layer_ + "' is " + std::to_string(rows()) + " x " +
                std::to_string(cols()) + " but the weight is " +
                (weight.defined() ? shape_of(weight) : std::string("undefined")) + "; the weight was not changed");
  }
  at::NoGradGuard no_grad;
  const auto wt = weight.scalar_type();
  if (!is_factored()) {
    weight.add_(dw_.to(weight.device(), wt));
    return;
  }
  if (!is_half(wt)) {
    const at::Tensor r = r_.to(weight.device(), wt), x = x_.to(weight.device(), wt);
    weight.addmm_(r, x.t());
    return;
  }
  // Half types: accumulate each block in f32, round once.
  const at::Tensor r = r_.to(weight.device(), at::kFloat), xt = x_.to(weight.device(), at::kFloat).t();
  for (int64_t i = 0; i < rows(); i += kHalfBlockRows) {
    const int64_t b = std::min(kHalfBlockRows, rows() - i);
    at::Tensor w_blk = weight.narrow(0, i, b);
    w_blk.copy_(at::addmm(w_blk.to(at::kFloat), r.narrow(0, i, b), xt));
  }
}

at::Tensor WeightUpdate::materialize() const {
  if (!defined()) throw Error("edit update for layer '" + layer_ + "' is empty");
  return is_factored() ? at::matmul(r_, x_.t()) : dw_;
}

WeightUpdate WeightUpdate::local_shard(const sharding::ShardSpec& spec) const {
  if (spec.global_shape.size() != 2 || spec.global_shape[0] != rows() || spec.global_shape[1] != cols()) {
    throw Error("edit update for layer '" + layer_ + "' is " + std::to_string(rows()) + " x " +
                std::to_string(cols()) + " but the shard spec is for a tensor of shape " +
                c10::str(at::IntArrayRef(spec.global_shape)));
  }
  if (spec.dim < 0) return *this;
  if (!is_factored()) return dense(layer_, dw_.narrow(spec.dim, spec.offset, spec.length).contiguous());
  // dim 0 (column-parallel, vocab): rows of dW are rows of R; dim 1 (row-parallel):
  // columns of dW are rows of X.
  if (spec.dim == 0) return factored(layer_, r_.narrow(0, spec.offset, spec.length).contiguous(), x_);
  return factored(layer_, r_, x_.narrow(0, spec.offset, spec.length).contiguous());
}

}  // namespace revive::edit
