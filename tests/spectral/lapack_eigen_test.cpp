// The host top-k eigen-solve (LAPACK dsytrd + dstemr + dormtr) against LibTorch's
// full eigh on symmetric matrices with known spectra, and the Gram-eigen
// engine's choice of solver on the host.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <vector>

#include "lib/spectral/truncated_svd.h"
#include "revive/config.h"
#include "sharding/errors.h"
#include "tests/spectral/spectral_fixtures.h"

#if REVIVE_HAVE_LAPACK
#include "lib/spectral/lapack/lapack_eigen.h"
#endif

namespace revive::spectral {
namespace {

// Q diag(values) Q^T, n x n, f64.
at::Tensor symmetric_with(const at::Tensor& values, uint64_t seed) {
  const at::Tensor q = testing::random_orthonormal(values.numel(), values.numel(), seed);
  return at::matmul(q * values.unsqueeze(0), q.t());
}

#if REVIVE_HAVE_LAPACK
TEST(LapackTopEigenpairs, MatchesTheFullEighOnKnownSpectra) {
  for (auto kind : {testing::Spectrum::kFastDecay, testing::Spectrum::kSlowDecay, testing::Spectrum::kRepeated}) {
    SCOPED_TRACE(testing::name(kind));
    const int64_t n = 120, k = 17;
    const at::Tensor exact = testing::singular_values(kind, n).square();  // descending, positive
    const at::Tensor sym = symmetric_with(exact, 11);
    std::vector<double> seen;
    auto [values, vecs] = lapack::top_eigenpairs(sym, [&](const at::Tensor& all) {
      seen.assign(all.data_ptr<double>(), all.data_ptr<double>() + all.numel());
      return k;
    });
    // The rank callback sees every eigenvalue, descending.
    ASSERT_EQ(static_cast<int64_t>(seen.size()), n);
    EXPECT_LT((at::tensor(seen, at::kDouble) - exact).abs().max().item<double>(), 1e-10 * exact[0].item<double>());
    ASSERT_EQ(values.sizes(), (at::IntArrayRef{k}));
    ASSERT_EQ(vecs.sizes(), (at::IntArrayRef{n, k}));
    EXPECT_LT((values - exact.narrow(0, 0, k)).abs().max().item<double>(), 1e-10 * exact[0].item<double>());
    // Orthonormal eigenvectors with small residuals (per-vector comparison is
    // ill-posed inside a repeated block, so judge A v = lambda v instead).
    EXPECT_LT((at::matmul(vecs.t(), vecs) - at::eye(k, at::kDouble)).abs().max().item<double>(), 1e-12);
    const at::Tensor residual = at::matmul(sym, vecs) - vecs * values.unsqueeze(0);
    EXPECT_LT(residual.abs().max().item<double>(), 1e-11 * exact[0].item<double>());
  }
}

TEST(LapackTopEigenpairs, TheSpanOfATopBlockMatchesEigh) {
  // A gap after k: the top-k subspace is well defined and must agree with eigh's.
  at::Tensor vals = at::cat({at::linspace(10, 5, 6, at::kDouble), at::linspace(1, 0.1, 34, at::kDouble)});
  const at::Tensor sym = symmetric_with(vals, 5);
  auto [values, vecs] = lapack::top_eigenpairs(sym, [](const at::Tensor&) { return int64_t{6}; });
  auto [ref_vals, ref_vecs] = at::linalg_eigh(sym);
  const at::Tensor ref_top = ref_vecs.narrow(1, 34, 6);
  const double overlap = at::matmul(ref_top.t(), vecs).square().sum().item<double>() / 6.0;
  EXPECT_NEAR(overlap, 1.0, 1e-12);
}

TEST(LapackTopEigenpairs, BadInputIsAClearError) {
  const at::Tensor sym = symmetric_with(at::linspace(3, 1, 8, at::kDouble), 3);
  auto rank = [](int64_t k) { return [k](const at::Tensor&) { return k; }; };
  EXPECT_THROW(lapack::top_eigenpairs(sym, rank(0)), Error);
  EXPECT_THROW(lapack::top_eigenpairs(sym, rank(9)), Error);
  EXPECT_THROW(lapack::top_eigenpairs(sym.to(at::kFloat), rank(2)), Error);
  EXPECT_THROW(lapack::top_eigenpairs(at::zeros({3, 4}, at::kDouble), rank(2)), Error);
  EXPECT_NO_THROW(lapack::top_eigenpairs(sym, rank(8)));
}
#endif

// Gram-eigen with the top-k solve equals the exact SVD, fixed k and energy mode,
// for wide and tall matrices; kAuto takes it for k <= n/2 where LAPACK is built.
TEST(GramSolverOnTheHost, TopKMatchesTheExactSvdAndAutoChoosesIt) {
  for (auto shape : {std::pair<int64_t, int64_t>{60, 150}, std::pair<int64_t, int64_t>{150, 60}}) {
    const int64_t r = std::min(shape.first, shape.second);
    const at::Tensor s_exact = testing::singular_values(testing::Spectrum::kSlowDecay, r);
    const at::Tensor a = testing::matrix_with_spectrum(shape.first, shape.second, s_exact, 21);
    SvdOptions o;
    o.engine = SvdEngine::kGramEigen;
    o.rsvd.rank = 9;
    o.gram_solver = GramSolver::kAuto;
    const SvdResult automatic = truncated_svd(a, o);
    EXPECT_EQ(automatic.gram_solver, REVIVE_HAVE_LAPACK ? GramSolver::kTopK : GramSolver::kFull);
    o.gram_solver = GramSolver::kFull;
    const SvdResult full = truncated_svd(a, o);
    EXPECT_EQ(full.gram_solver, GramSolver::kFull);
    o.gram_solver = GramSolver::kTopK;
    if (!REVIVE_HAVE_LAPACK) {
      EXPECT_THROW(truncated_svd(a, o), Error);  // names the missing LAPACK
      continue;
    }
    const SvdResult top = truncated_svd(a, o);
    EXPECT_EQ(top.gram_solver, GramSolver::kTopK);
    EXPECT_LT(((top.s - s_exact.narrow(0, 0, 9)).abs() / s_exact.narrow(0, 0, 9)).max().item<double>(), 1e-6);
    EXPECT_LT((top.u - full.u).abs().max().item<double>(), 1e-8);  // sign-canonical, gap-free spectrum
    EXPECT_LT((top.v - full.v).abs().max().item<double>(), 1e-8);

    // Energy mode: the exact k, and the same factors as the full solve.
    o.energy = 0.5;
    const SvdResult top_e = truncated_svd(a, o);
    o.gram_solver = GramSolver::kFull;
    const SvdResult full_e = truncated_svd(a, o);
    const at::Tensor cum = s_exact.square().cumsum(0) / s_exact.square().sum();
    const int64_t k_exact = (cum < 0.5).sum().item<int64_t>() + 1;
    EXPECT_EQ(top_e.k, k_exact);
    EXPECT_EQ(full_e.k, k_exact);
    EXPECT_LT((top_e.u - full_e.u).abs().max().item<double>(), 1e-8);
  }
}

TEST(GramSolverOnTheHost, AutoKeepsTheFullSolveForLargeK) {
  const at::Tensor a = testing::matrix_with_spectrum(
      40, 50, testing::singular_values(testing::Spectrum::kFastDecay, 40), 8);
  SvdOptions o;
  o.engine = SvdEngine::kGramEigen;
  o.rsvd.rank = 30;  // > n / 2
  EXPECT_EQ(truncated_svd(a, o).gram_solver, GramSolver::kFull);
}

}  // namespace
}  // namespace revive::spectral
