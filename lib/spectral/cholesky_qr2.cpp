#include "lib/spectral/cholesky_qr2.h"

#include <ATen/ATen.h>

#include <cmath>
#include <limits>

#include "lib/spectral/sharded_matrix.h"

namespace revive::spectral {
namespace {

// CholeskyQR2 is reliable while cond(A) stays below ~1e7 (u^{-1/2}/10); past
// that the shifted variant runs. Later passes see a well conditioned matrix.
constexpr double kFirstPassRatio = 1e-7;
constexpr double kRefineRatio = 1e-15;

at::Tensor reduced_gram(const at::Tensor& a, sharding::Communicator* group) {
  at::Tensor g = at::matmul(a.t(), a);
  sum_over(group, g);
  // Exact symmetry keeps the factorisation identical however the GEMM rounded.
  return (g + g.t()) * 0.5;
}

// One Cholesky pass on G + shift*I; false when G is not numerically positive definite.
bool cholesky_pass(const at::Tensor& a, sharding::Communicator* group, double shift, double min_ratio,
                   QrFactors& out) {
  at::Tensor g = reduced_gram(a, group);
  if (shift > 0) g = g + shift * at::eye(g.size(0), g.options());
  auto [l, info] = at::linalg_cholesky_ex(g, /*upper=*/false, /*check_errors=*/false);
  if (info.item<int64_t>() != 0) return false;
  at::Tensor r = l.t().contiguous();
  // Reject a factor whose inverse would amplify rounding beyond what the next
  // pass recovers (diag(R) spread is a cheap lower bound of cond(A)).
  at::Tensor diag = r.diagonal().abs();
  if (!(diag.min().item<double>() > diag.max().item<double>() * min_ratio)) return false;
  out.r = r;
  out.q = at::linalg_solve_triangular(r, a, /*upper=*/true, /*left=*/false);
  return true;
}

// A = Q R through G = E L E^T: Q = A E L^{-1/2} on the numerically nonzero
// eigenvalues, zero columns elsewhere; R = L^{1/2} E^T.
QrFactors eigen_pass(const at::Tensor& a, sharding::Communicator* group) {
  at::Tensor g = reduced_gram(a, group);
  auto [evals, evecs] = at::linalg_eigh(g);
  const double top = std::max(evals.max().item<double>(), 0.0);
  const double cutoff = top * static_cast<double>(g.size(0)) * std::numeric_limits<double>::epsilon();
  at::Tensor keep = evals > cutoff;
  at::Tensor root = at::where(keep, evals.clamp_min(0).sqrt(), at::zeros_like(evals));
  at::Tensor inv_root = at::where(keep, 1.0 / root.clamp_min(std::numeric_limits<double>::min()),
                                  at::zeros_like(evals));
  QrFactors out;
  out.q = at::matmul(a, evecs * inv_root.unsqueeze(0));
  out.r = root.unsqueeze(1) * evecs.t();
  return out;
}

// One more orthonormalisation step of an almost orthonormal q; folds its R into r.
void refine(QrFactors& f, sharding::Communicator* group) {
  QrFactors next;
  if (!cholesky_pass(f.q, group, 0.0, kRefineRatio, next)) next = eigen_pass(f.q, group);
  f.q = next.q;
  f.r = at::matmul(next.r, f.r);
}

}  // namespace

QrFactors cholesky_qr2(const at::Tensor& a_local, sharding::Communicator* rows_group, int64_t global_rows) {
  const at::Tensor a = a_local.to(at::kDouble).contiguous();
  const int64_t l = a.size(1);
  QrFactors f;
  if (cholesky_pass(a, rows_group, 0.0, kFirstPassRatio, f)) {
    refine(f, rows_group);  // CholeskyQR2
    return f;
  }
  if (global_rows < 0) {
    at::Tensor n = at::full({1}, a.size(0), at::kLong);
    sum_over(rows_group, n);
    global_rows = n.item<int64_t>();
  }
  // Shift of shifted CholeskyQR: 11 (N l + l (l + 1)) u ||A||_2^2, with
  // ||A||_2^2 bounded by ||A||_F^2 = trace(G).
  at::Tensor fro = a.square().sum().reshape({1});
  sum_over(rows_group, fro);
  const double u = std::numeric_limits<double>::epsilon() / 2;
  const double shift = 11.0 * (static_cast<double>(global_rows) * l + static_cast<double>(l) * (l + 1)) * u *
                       fro.item<double>();
  if (shift > 0 && cholesky_pass(a, rows_group, shift, kRefineRatio, f)) {
    refine(f, rows_group);
    refine(f, rows_group);  // shifted CholeskyQR3
    return f;
  }
  f = eigen_pass(a, rows_group);
  refine(f, rows_group);
  return f;
}

}  // namespace revive::spectral
