#include "lib/spectral/cholesky_qr2.h"

#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include "tests/spectral/spectral_fixtures.h"

namespace revive::spectral {
namespace {

double q_orthogonality_error(const at::Tensor& q) {
  return (at::matmul(q.t(), q) - at::eye(q.size(1), q.options())).abs().max().item<double>();
}

// ||A - QR|| / (eps * N * ||A||), the scale-invariant residual of STYLE.md 12.
double scaled_residual(const at::Tensor& a, const QrFactors& f) {
  const double eps = 2.2e-16;
  return (a - at::matmul(f.q, f.r)).norm().item<double>() / (eps * a.size(0) * a.norm().item<double>());
}

TEST(CholeskyQr2, WellConditionedIsOrthonormalAndExact) {
  const at::Tensor a = gaussian_sketch_rows(7, 0, 400, 30);
  const QrFactors f = cholesky_qr2(a);
  EXPECT_LT(q_orthogonality_error(f.q), 1e-14);
  EXPECT_LT(scaled_residual(a, f), 1.0);
  EXPECT_LT(f.r.tril(-1).abs().max().item<double>(), 1e-12 * f.r.abs().max().item<double>());
}

TEST(CholeskyQr2, IllConditionedTakesTheShiftedPath) {
  // cond = 1e12: plain CholeskyQR2 breaks down (Gram condition 1e24).
  const at::Tensor s = at::logspace(0, -12, 25, 10, at::kDouble);
  const at::Tensor a = testing::matrix_with_spectrum(300, 25, s, 11);
  const QrFactors f = cholesky_qr2(a);
  EXPECT_LT(q_orthogonality_error(f.q), 1e-13);
  EXPECT_LT(scaled_residual(a, f), 10.0);
}

TEST(CholeskyQr2, RankDeficientKeepsTheRangeAndFactorisation) {
  at::Tensor s = at::zeros({20}, at::kDouble);
  s.narrow(0, 0, 12).fill_(1.0);
  const at::Tensor a = testing::matrix_with_spectrum(200, 20, s, 13);
  const QrFactors f = cholesky_qr2(a);
  EXPECT_LT(scaled_residual(a, f), 10.0);
  // The nonzero columns are orthonormal and span the range of A (columns past
  // the rank are either zero or arbitrary orthonormal completions).
  at::Tensor norms = f.q.norm(2, 0);
  at::Tensor kept = f.q.index({at::indexing::Slice(), norms > 0.5});
  EXPECT_GE(kept.size(1), 12);
  EXPECT_LT(q_orthogonality_error(kept), 1e-12);
  EXPECT_LT((a - at::matmul(kept, at::matmul(kept.t(), a))).norm().item<double>(), 1e-12 * a.norm().item<double>());
}

TEST(CholeskyQr2, ConvertsF32InputToF64Factors) {
  const at::Tensor a = gaussian_sketch_rows(3, 0, 100, 8).to(at::kFloat);
  const QrFactors f = cholesky_qr2(a);
  EXPECT_EQ(f.q.scalar_type(), at::kDouble);
  EXPECT_LT(q_orthogonality_error(f.q), 1e-14);
}

}  // namespace
}  // namespace revive::spectral
