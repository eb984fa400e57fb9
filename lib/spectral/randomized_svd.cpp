// Randomized SVD (Halko, Martinsson & Tropp 2011, algorithms 4.4 and 5.1) over
// a ShardedMatrix. Every tall matrix lives on one side of A (see
// sharded_matrix.h), so the same code runs whole, row-split and column-split.
#include <ATen/ATen.h>

#include <algorithm>

#include "lib/spectral/cholesky_qr2.h"
#include "lib/spectral/engine_cost.h"
#include "lib/spectral/sketch_matrix.h"
#include "lib/spectral/svd_engines.h"
#include "sharding/errors.h"

namespace revive::spectral {
namespace {

// Orthonormal basis of the row-side (m x l) or column-side (n x l) matrix x.
at::Tensor orthonormal_rows_side(const ShardedMatrix& a, const at::Tensor& x) {
  return cholesky_qr2(x, a.row_group(), a.rows).q.to(a.local.scalar_type());
}
at::Tensor orthonormal_cols_side(const ShardedMatrix& a, const at::Tensor& x) {
  return cholesky_qr2(x, a.col_group(), a.cols).q.to(a.local.scalar_type());
}

}  // namespace

SvdFactors randomized_svd(const ShardedMatrix& a, const RsvdOptions& opts) {
  const int64_t full_rank = std::min(a.rows, a.cols);
  const int64_t k = opts.rank;
  REVIVE_CHECK(k >= 1 && k <= full_rank, "randomized_svd: rank " + std::to_string(k) + " outside [1, " +
                                             std::to_string(full_rank) + "]");
  REVIVE_CHECK(opts.power_iters >= 0, "randomized_svd: negative power_iters");
  if (choose_power_operator(a.rows, a.cols, opts) == PowerOperator::kGram) return gram_subspace_svd(a, opts);
  const int64_t l = sketch_width(a.rows, a.cols, opts);

  // Omega (n x l): this rank generates the rows matching its columns of A (on
  // the host, so CPU and GPU runs sketch with the same Omega).
  const at::Tensor omega = gaussian_sketch_rows(opts.seed, a.col_begin(), a.col_count(), l).to(a.local.device());
  at::Tensor q = orthonormal_rows_side(a, a.apply(omega));
  for (int i = 0; i < opts.power_iters; ++i) {
    // Re-orthonormalise between the two half steps: plain (A A^T)^q A Omega
    // loses every direction below s_1 * eps^(1/(2q+1)).
    const at::Tensor z = orthonormal_cols_side(a, a.apply_t(q));
    q = orthonormal_rows_side(a, a.apply(z));
  }
  // B = Q^T A (l x n). Factor B^T = Qb Rb (column side) and take the SVD of the
  // small Rb = Ur S Vr^T: then A ~ Q B = (Q Vr) S (Qb Ur)^T.
  const QrFactors bt = cholesky_qr2(a.apply_t(q), a.col_group(), a.cols);
  auto [ur, s, vrh] = at::linalg_svd(bt.r, /*full_matrices=*/false);
  replicate_from_root(a.group, ur);
  replicate_from_root(a.group, s);
  replicate_from_root(a.group, vrh);
  SvdFactors f;
  const at::ScalarType dt = a.local.scalar_type();
  f.u = at::matmul(q.to(at::kDouble), vrh.narrow(0, 0, k).t()).to(dt);
  f.v = at::matmul(bt.q, ur.narrow(1, 0, k)).to(dt);
  f.s = s.narrow(0, 0, k).contiguous();
  return f;
}

}  // namespace revive::spectral
