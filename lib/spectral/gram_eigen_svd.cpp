// Gram-eigen SVD: A A^T = U S^2 U^T (or A^T A = V S^2 V^T) by a replicated f64
// eigen-decomposition, the other factor by one GEMM: V = A^T U S^{-1}.
// Exact for any k; singular values carry an absolute error ~ eps s_1^2 / s_i.
#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "lib/spectral/svd_engines.h"
#include "sharding/errors.h"

namespace revive::spectral {
namespace {

// 1/s where s is resolvable by the Gram route, 0 elsewhere (the matching
// factor column of a rank-deficient A is then zero instead of noise). From
// eigenvalues of A A^T, s carries an absolute error ~ sqrt(eps N) s_1 near zero.
at::Tensor safe_inverse(const at::Tensor& s, int64_t rows, int64_t cols) {
  const double top = s.numel() > 0 ? s.max().item<double>() : 0.0;
  const double cutoff =
      top * std::sqrt(static_cast<double>(std::max(rows, cols)) * std::numeric_limits<double>::epsilon());
  return at::where(s > cutoff, 1.0 / s.clamp_min(std::numeric_limits<double>::min()), at::zeros_like(s));
}

SvdFactors gram_eigen_whole_or_split(const ShardedMatrix& a, bool over_rows, int64_t k, double energy,
                                     double frobenius_sq) {
  // The contraction runs over the other side; it sums over the group when that side is split.
  at::Tensor g = over_rows ? at::matmul(a.local, a.local.t()) : at::matmul(a.local.t(), a.local);
  sum_over(over_rows ? a.col_group() : a.row_group(), g);
  g = g.to(at::kDouble);
  g = (g + g.t()) * 0.5;
  auto [evals, evecs] = at::linalg_eigh(g);  // ascending
  evals = evals.flip(0);
  evecs = evecs.flip(1);
  at::Tensor s_all = evals.clamp_min(0).sqrt();
  replicate_from_root(a.group, s_all);
  if (energy > 0) k = energy_rank(s_all, frobenius_sq, energy);
  const int64_t full_rank = std::min(a.rows, a.cols);
  REVIVE_CHECK(k >= 1 && k <= full_rank,
               "gram_eigen_svd: rank " + std::to_string(k) + " outside [1, " + std::to_string(full_rank) + "]");
  at::Tensor e = evecs.narrow(1, 0, k).contiguous();
  replicate_from_root(a.group, e);
  SvdFactors f;
  f.s = s_all.narrow(0, 0, k).contiguous();
  const at::Tensor inv = safe_inverse(f.s, a.rows, a.cols);
  const at::ScalarType dt = a.local.scalar_type();
  if (over_rows) {
    f.u = e.to(dt);
    f.v = (a.apply_t(f.u).to(at::kDouble) * inv).to(dt);
  } else {
    f.v = e.to(dt);
    f.u = (a.apply(f.v).to(at::kDouble) * inv).to(dt);
  }
  return f;
}

}  // namespace

SvdFactors gram_eigen_svd(const ShardedMatrix& a, int64_t k, double energy, double frobenius_sq) {
  const bool rows_smaller = a.rows <= a.cols;
  switch (a.split) {
    case Split::kNone:
      return gram_eigen_whole_or_split(a, rows_smaller, k, energy, frobenius_sq);
    case Split::kCols:
      if (rows_smaller) return gram_eigen_whole_or_split(a, true, k, energy, frobenius_sq);
      break;
    case Split::kRows:
      if (!rows_smaller) return gram_eigen_whole_or_split(a, false, k, energy, frobenius_sq);
      break;
  }
  // The split side is the smaller one (unusual for Megatron layouts, where the
  // split dimension is d_ff or the head dimension): its Gram is not a sum of
  // local products, so gather A, solve whole, keep this rank's rows.
  ShardedMatrix whole = ShardedMatrix::whole(a.gather_full());
  SvdFactors f = gram_eigen_whole_or_split(whole, rows_smaller, k, energy, frobenius_sq);
  if (a.split == Split::kRows) f.u = f.u.narrow(0, a.offset, a.length).contiguous();
  if (a.split == Split::kCols) f.v = f.v.narrow(0, a.offset, a.length).contiguous();
  replicate_from_root(a.group, f.s);
  return f;
}

int64_t energy_rank(const at::Tensor& s, double total_sq, double tau) {
  REVIVE_CHECK(tau > 0 && tau <= 1, "energy_rank: tau must lie in (0, 1]");
  const at::Tensor cum = s.to(at::kDouble).square().cumsum(0);
  const double target = tau * total_sq;
  const double* c = cum.data_ptr<double>();
  for (int64_t i = 0; i < cum.numel(); ++i) {
    if (c[i] >= target) return i + 1;
  }
  return cum.numel();
}

void replicate_from_root(sharding::Communicator* group, at::Tensor& t) {
  if (group == nullptr || group->size() == 1) return;
  if (!t.is_contiguous()) t = t.contiguous();
  group->broadcast(t);
}

}  // namespace revive::spectral
