#include "lib/spectral/truncated_svd.h"

#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <limits>
#include <string>

#include "lib/spectral/engine_cost.h"
#include "sharding/errors.h"
#include "tests/spectral/spectral_fixtures.h"

namespace revive::spectral {
namespace {

using testing::Spectrum;

struct Exact {
  at::Tensor u, s, v;
};

Exact exact_svd(const at::Tensor& a) {
  auto [u, s, vh] = at::linalg_svd(a, false);
  return {u, s, vh.t()};
}

SvdOptions fixed(int64_t k, SvdEngine engine, int q = 4, int64_t p = -1,
                 PowerOperator op = PowerOperator::kAuto) {
  SvdOptions o;
  o.rsvd.power_operator = op;
  o.rsvd.rank = k;
  o.rsvd.power_iters = q;
  o.rsvd.oversample = p;
  o.engine = engine;
  return o;
}

double orthogonality_error(const at::Tensor& q) {
  const at::Tensor d = q.to(at::kDouble);
  return (at::matmul(d.t(), d) - at::eye(d.size(1), d.options())).abs().max().item<double>();
}

class SpectrumTest : public ::testing::TestWithParam<Spectrum> {};

TEST_P(SpectrumTest, GramEigenMatchesExactSvd) {
  for (auto shape : {std::pair<int64_t, int64_t>{120, 300}, {300, 120}}) {
    const int64_t m = shape.first, n = shape.second, r = std::min(m, n);
    const at::Tensor a = testing::matrix_with_spectrum(m, n, testing::singular_values(GetParam(), r), 5);
    const Exact ex = exact_svd(a);
    const int64_t k = 40;
    const SvdResult res = truncated_svd(a, fixed(k, SvdEngine::kGramEigen));
    ASSERT_EQ(res.k, k);
    EXPECT_EQ(res.engine, SvdEngine::kGramEigen);
    EXPECT_LT(testing::rel_diff(res.s, ex.s.narrow(0, 0, k)), 1e-6);
    EXPECT_LT(orthogonality_error(res.u), 1e-10);
    EXPECT_LT(orthogonality_error(res.v), 1e-10);
    // A V = U S holds for every triplet, whatever the basis inside a repeated block.
    EXPECT_LT(testing::rel_diff(at::matmul(a, res.v), res.u * res.s), 1e-9);
    EXPECT_NEAR(testing::captured_energy(a, res.u, ex.s), 1.0, 1e-10);
    EXPECT_NEAR(res.frobenius_sq, a.square().sum().item<double>(), 1e-12 * res.frobenius_sq);
  }
}

TEST_P(SpectrumTest, RandomizedCapturesTheOptimalEnergy) {
  const int64_t m = 200, n = 360, k = 20;
  const at::Tensor a = testing::matrix_with_spectrum(m, n, testing::singular_values(GetParam(), m), 9);
  const Exact ex = exact_svd(a);
  for (PowerOperator op : {PowerOperator::kMatrix, PowerOperator::kGram}) {
  SCOPED_TRACE(to_string(op));
  const SvdResult res = truncated_svd(a, fixed(k, SvdEngine::kRandomized, 4, -1, op));
  EXPECT_EQ(res.engine, SvdEngine::kRandomized);
  EXPECT_LT(orthogonality_error(res.u), 1e-12);
  EXPECT_LT(orthogonality_error(res.v), 1e-12);
  const double captured = testing::captured_energy(a, res.u, ex.s);
  const double similarity = testing::energy_weighted_similarity(ex.u, ex.s, res.u);
  if (GetParam() == Spectrum::kFlat) {
    // No gap anywhere: every k-dimensional subspace is optimal.
    EXPECT_NEAR(captured, 1.0, 1e-10);
  } else if (GetParam() == Spectrum::kSlowDecay) {
    EXPECT_GT(captured, 0.99);
    EXPECT_GT(similarity, 0.95);
  } else if (GetParam() == Spectrum::kRepeated) {
    EXPECT_GT(captured, 0.999);
    EXPECT_GT(similarity, 0.99);
  } else {
    EXPECT_GT(captured, 0.9999);
    EXPECT_GT(similarity, 0.999);
  }
  EXPECT_LE(captured, 1.0 + 1e-10);  // nothing beats the optimum
  // The estimated singular values never exceed the true ones.
  EXPECT_TRUE((res.s <= ex.s.narrow(0, 0, k) * (1 + 1e-12)).all().item<bool>());
  }
}

INSTANTIATE_TEST_SUITE_P(Spectra, SpectrumTest,
                         ::testing::Values(Spectrum::kFastDecay, Spectrum::kSlowDecay, Spectrum::kFlat,
                                           Spectrum::kRepeated),
                         [](const auto& info) { return std::string(testing::name(info.param)); });

TEST(TruncatedSvd, RandomizedWithoutPowerStepsIsWorseOnSlowDecay) {
  // The power steps are what makes slow spectra tractable: q = 0 must lose energy.
  const at::Tensor a = testing::matrix_with_spectrum(200, 300, testing::singular_values(Spectrum::kSlowDecay, 200), 3);
  const Exact ex = exact_svd(a);
  for (PowerOperator op : {PowerOperator::kMatrix, PowerOperator::kGram}) {
    auto energy = [&](int q) {
      return testing::captured_energy(a, truncated_svd(a, fixed(10, SvdEngine::kRandomized, q, 5, op)).u, ex.s);
    };
    EXPECT_LT(energy(0), energy(4)) << to_string(op);
    EXPECT_GT(energy(4), 0.98) << to_string(op);
  }
}

TEST(TruncatedSvd, RandomizedIsExactWhenTheSketchCoversTheRank) {
  at::Tensor s = testing::singular_values(Spectrum::kSlowDecay, 80);
  s.narrow(0, 15, 65).zero_();  // rank 15
  const at::Tensor a = testing::matrix_with_spectrum(80, 150, s, 4);
  for (PowerOperator op : {PowerOperator::kMatrix, PowerOperator::kGram}) {
    const SvdResult res = truncated_svd(a, fixed(10, SvdEngine::kRandomized, 1, 10, op));
    EXPECT_LT(testing::rel_diff(res.s, s.narrow(0, 0, 10)), 1e-12) << to_string(op);
  }
}

TEST(TruncatedSvd, PowerStepsRunOnTheGramWhenFormingItIsCheaper) {
  RsvdOptions o;
  o.rank = 205;  // 5% of 4096, p = k, q = 4: 11 passes of 410 columns > 4096
  EXPECT_EQ(choose_power_operator(4096, 14336, o), PowerOperator::kGram);
  o.rank = 20;  // 11 x 40 columns: the passes over A are cheaper
  EXPECT_EQ(choose_power_operator(4096, 14336, o), PowerOperator::kMatrix);
  o.power_operator = PowerOperator::kGram;
  EXPECT_EQ(choose_power_operator(4096, 14336, o), PowerOperator::kGram);
}

TEST(TruncatedSvd, EnergyModePicksTheExactK) {
  const at::Tensor s = testing::singular_values(Spectrum::kSlowDecay, 150);
  const at::Tensor a = testing::matrix_with_spectrum(150, 260, s, 21);
  const at::Tensor cum = s.square().cumsum(0) / s.square().sum();
  for (double tau : {0.3, 0.5, 0.9, 0.99}) {
    const int64_t expected = (cum < tau).sum().item<int64_t>() + 1;
    SvdOptions o;
    o.energy = tau;
    const SvdResult res = truncated_svd(a, o);
    EXPECT_EQ(res.engine, SvdEngine::kGramEigen);
    EXPECT_EQ(res.k, expected) << "tau " << tau;
    EXPECT_EQ(res.u.size(1), expected);
    // Forced randomized: grows k until the energy is reached; converged sketches give the same k.
    o.engine = SvdEngine::kRandomized;
    o.rsvd.power_iters = 6;
    const SvdResult rnd = truncated_svd(a, o);
    EXPECT_GE(rnd.k, expected);
    EXPECT_LE(rnd.k, expected + 2) << "tau " << tau;
  }
}

TEST(TruncatedSvd, SignsAreCanonical) {
  const at::Tensor a = testing::matrix_with_spectrum(90, 70, testing::singular_values(Spectrum::kFastDecay, 70), 8);
  for (SvdEngine e : {SvdEngine::kGramEigen, SvdEngine::kRandomized}) {
    const SvdResult res = truncated_svd(a, fixed(6, e));
    const at::Tensor idx = res.u.abs().argmax(0);
    const at::Tensor top = res.u.gather(0, idx.unsqueeze(0));
    EXPECT_TRUE((top > 0).all().item<bool>()) << to_string(e);
    // Flipping A's sign flips V only.
    const SvdResult neg = truncated_svd(-a, fixed(6, e));
    EXPECT_LT(testing::rel_diff(neg.u, res.u), 1e-8);
    EXPECT_LT(testing::rel_diff(neg.v, -res.v), 1e-8);
  }
}

TEST(TruncatedSvd, F32InputComputesInF32) {
  const at::Tensor a =
      testing::matrix_with_spectrum(100, 180, testing::singular_values(Spectrum::kFastDecay, 100), 2).to(at::kFloat);
  const Exact ex = exact_svd(a.to(at::kDouble));
  for (SvdEngine e : {SvdEngine::kGramEigen, SvdEngine::kRandomized}) {
    const SvdResult res = truncated_svd(a, fixed(8, e));
    EXPECT_EQ(res.u.scalar_type(), at::kFloat);
    EXPECT_EQ(res.s.scalar_type(), at::kDouble);
    EXPECT_LT(testing::rel_diff(res.s, ex.s.narrow(0, 0, 8)), 1e-5) << to_string(e);
  }
}

// An edited weight blown up to ~1e30 is finite in f32, but its Gram (and the
// sketch's Y^T Y) is not: the engines work on A scaled by a power of two.
TEST(TruncatedSvd, HugeAndTinyF32MatricesAreScaledNotOverflowed) {
  const at::Tensor a = testing::matrix_with_spectrum(100, 180, testing::singular_values(Spectrum::kFastDecay, 100), 2);
  const Exact ex = exact_svd(a);
  for (double scale : {1e30, 1e-30}) {
    const at::Tensor big = (a * scale).to(at::kFloat);
    ASSERT_TRUE(at::isfinite(big).all().item<bool>());
    for (SvdEngine e : {SvdEngine::kGramEigen, SvdEngine::kRandomized}) {
      const SvdResult res = truncated_svd(big, fixed(8, e));
      EXPECT_LT(testing::rel_diff(res.s, ex.s.narrow(0, 0, 8) * scale), 1e-5) << to_string(e) << " scale " << scale;
      EXPECT_LT(orthogonality_error(res.u), 1e-5) << to_string(e) << " scale " << scale;
      EXPECT_NEAR(testing::captured_energy(a, res.u, ex.s), 1.0, 1e-5) << to_string(e) << " scale " << scale;
      EXPECT_NEAR(res.frobenius_sq / (scale * scale), a.square().sum().item<double>(), 1e-5 * res.frobenius_sq / (scale * scale));
    }
  }
}

TEST(TruncatedSvd, RejectsNonFiniteMatrices) {
  at::Tensor a = testing::matrix_with_spectrum(40, 30, testing::singular_values(Spectrum::kFlat, 30), 3);
  a[3][4] = std::numeric_limits<double>::quiet_NaN();
  try {
    truncated_svd(a, fixed(4, SvdEngine::kGramEigen));
    FAIL() << "a NaN entry was accepted";
  } catch (const revive::Error& err) {
    EXPECT_NE(std::string(err.what()).find("non-finite"), std::string::npos) << err.what();
  }
}

TEST(TruncatedSvd, RejectsBadOptions) {
  const at::Tensor a = at::ones({5, 4}, at::kDouble);
  EXPECT_THROW(truncated_svd(a, SvdOptions{}), revive::Error);            // neither rank nor energy
  EXPECT_THROW(truncated_svd(a, fixed(5, SvdEngine::kRandomized)), revive::Error);  // k > min(m, n)
  SvdOptions o;
  o.energy = 1.5;
  EXPECT_THROW(truncated_svd(a, o), revive::Error);
}

TEST(EngineCost, SmallKPrefersRandomizedLargeKGram) {
  SvdOptions o;
  o.rsvd.rank = 205;  // 5% of 4096
  EXPECT_EQ(choose_engine(4096, 14336, o), SvdEngine::kRandomized);
  o.rsvd.rank = 1600;  // tau = 0.5 on an LLM spectrum
  EXPECT_EQ(choose_engine(4096, 14336, o), SvdEngine::kGramEigen);
  o.engine = SvdEngine::kRandomized;
  EXPECT_EQ(choose_engine(4096, 14336, o), SvdEngine::kRandomized);
  SvdOptions energy;
  energy.energy = 0.5;
  EXPECT_EQ(choose_engine(4096, 14336, energy), SvdEngine::kGramEigen);
}

}  // namespace
}  // namespace revive::spectral
