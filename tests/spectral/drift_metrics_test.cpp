#include "lib/spectral/drift_metrics.h"

#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include "lib/spectral/revive_filter.h"
#include "sharding/comm/local_communicator.h"
#include "tests/spectral/spectral_fixtures.h"

namespace revive::spectral {
namespace {

using sharding::Layout;
using sharding::LocalCommunicator;
using sharding::ShardedTensor;

class DriftTest : public ::testing::Test {
 protected:
  void SetUp() override {
    // Six dominant directions well above the rest, so the protected subspace is well defined.
    const at::Tensor top = at::arange(10, 4, -1, at::kDouble);
    w_ = testing::matrix_with_spectrum(
        70, 100, at::cat({top, testing::singular_values(testing::Spectrum::kFastDecay, 64)}), 51);
    SvdOptions o;
    o.rsvd.rank = 6;
    o.engine = SvdEngine::kGramEigen;
    basis_ = ProtectedBasis::compute(ShardedTensor::from_full(w_, Layout::kReplicated, group_), "w", o);
  }
  DriftMetrics drift(const at::Tensor& now) {
    SvdOptions o;
    o.engine = SvdEngine::kGramEigen;
    return spectral_drift(basis_, ShardedTensor::from_full(now, Layout::kReplicated, group_), o);
  }
  LocalCommunicator group_;
  at::Tensor w_;
  ProtectedBasis basis_;
};

TEST_F(DriftTest, UnchangedAndScaledWeightsHaveNoDrift) {
  for (double scale : {1.0, 2.5}) {
    const DriftMetrics d = drift(w_ * scale);
    EXPECT_NEAR(d.subspace_similarity_u, 1.0, 1e-10);
    EXPECT_NEAR(d.subspace_similarity_v, 1.0, 1e-10);
    EXPECT_NEAR(d.energy_weighted_similarity_u, 1.0, 1e-10);
    EXPECT_TRUE(at::allclose(d.direction_cos_u, at::ones({6}, at::kDouble), 0, 1e-9));
    EXPECT_NEAR(d.frobenius_growth, scale, 1e-12);
    EXPECT_NEAR(d.spectral_growth, scale, 1e-10);
    EXPECT_NEAR(d.protected_energy_share, d.energy_share, 1e-12);
  }
}

// A runaway edit can leave an f32 weight at ~1e30, finite but with a Gram
// beyond f32: the drift still measures it (the runner logs it every batch).
TEST(Drift, AnF32WeightBlownUpTo1e30IsMeasured) {
  LocalCommunicator group;
  const at::Tensor w = testing::matrix_with_spectrum(
      70, 100, testing::singular_values(testing::Spectrum::kSlowDecay, 70), 52).to(at::kFloat);
  SvdOptions o;
  o.rsvd.rank = 6;
  o.engine = SvdEngine::kGramEigen;
  const ProtectedBasis basis = ProtectedBasis::compute(ShardedTensor::from_full(w, Layout::kReplicated, group), "w", o);
  o.rsvd.rank = 0;
  const DriftMetrics d = spectral_drift(basis, ShardedTensor::from_full(w * 1e30f, Layout::kReplicated, group), o);
  EXPECT_NEAR(d.subspace_similarity_u, 1.0, 1e-4);
  EXPECT_NEAR(d.subspace_similarity_v, 1.0, 1e-4);
  EXPECT_NEAR(d.spectral_growth / 1e30, 1.0, 1e-5);
  EXPECT_NEAR(d.frobenius_growth / 1e30, 1.0, 1e-5);
  EXPECT_NEAR(d.protected_energy_share, d.energy_share, 1e-4);
}

TEST_F(DriftTest, MatchesClosedFormsOnAnEditedWeight) {
  const at::Tensor edited = w_ + 0.02 * at::matmul(gaussian_sketch_rows(1, 0, 70, 3), gaussian_sketch_rows(2, 0, 100, 3).t());
  const DriftMetrics d = drift(edited);
  auto [u0, s0, vh0] = at::linalg_svd(w_, false);
  auto [u1, s1, vh1] = at::linalg_svd(edited, false);
  const at::Tensor cu = at::matmul(u0.narrow(1, 0, 6).t(), u1.narrow(1, 0, 6));
  EXPECT_NEAR(d.subspace_similarity_u, cu.square().sum().item<double>() / 6, 1e-9);
  const at::Tensor w = s0.narrow(0, 0, 6).square();
  EXPECT_NEAR(d.energy_weighted_similarity_u, (w * cu.square().sum(1)).sum().item<double>() / w.sum().item<double>(),
              1e-9);
  EXPECT_TRUE(at::allclose(d.direction_cos_u, cu.diagonal().abs(), 0, 1e-8));
  EXPECT_TRUE(at::allclose(d.singular_values, s1.narrow(0, 0, 6), 1e-10, 0));
  EXPECT_NEAR(d.frobenius_growth, edited.norm().item<double>() / w_.norm().item<double>(), 1e-12);
  EXPECT_NEAR(d.spectral_growth, s1[0].item<double>() / s0[0].item<double>(), 1e-10);
  EXPECT_NEAR(d.energy_share, s1.narrow(0, 0, 6).square().sum().item<double>() / edited.square().sum().item<double>(),
              1e-10);
  const at::Tensor core = at::matmul(u0.narrow(1, 0, 6).t(), at::matmul(edited, vh0.narrow(0, 0, 6).t()));
  EXPECT_NEAR(d.protected_energy_share, core.square().sum().item<double>() / edited.square().sum().item<double>(),
              1e-10);
  EXPECT_LT(d.subspace_similarity_u, 0.9999);
}

TEST_F(DriftTest, FilteredEditsDriftLessThanRawOnes) {
  // The point of REVIVE: the same sequence of updates, filtered, leaves the
  // dominant subspace in place.
  const ReviveFilter filter(basis_);
  at::Tensor raw = w_.clone(), safe = w_.clone();
  for (int step = 0; step < 10; ++step) {
    const at::Tensor r = gaussian_sketch_rows(100 + step, 0, 70, 2) * 0.003;
    const at::Tensor x = gaussian_sketch_rows(200 + step, 0, 100, 2);
    raw += at::matmul(r, x.t());
    const FactoredUpdate f = filter.apply(FactoredUpdate{r, x});
    safe += at::matmul(f.r, f.x.t());
  }
  const DriftMetrics d_raw = drift(raw), d_safe = drift(safe);
  EXPECT_LT(d_raw.energy_weighted_similarity_u, 1.0 - 1e-6);
  EXPECT_NEAR(d_safe.energy_weighted_similarity_u, 1.0, 1e-10);
  EXPECT_NEAR(d_safe.subspace_similarity_v, 1.0, 1e-10);
  // Filtered edits never touch the protected block: U_k^T W' V_k = S_k exactly.
  const at::Tensor core = at::matmul(basis_.u().local().t(), at::matmul(safe, basis_.v().local()));
  EXPECT_LT(testing::rel_diff(core, at::diag(basis_.s())), 1e-12);
}

// A flat spectrum (2.4% between neighbours, as stories260K's down_proj has at
// its k = 13): the basis (energy mode: Gram-eigen) and the drift's top k must
// come from one engine, or an unedited weight measures as rotated (a randomized
// top 13 of it gives 0.998). The engine survives the basis's cache file.
TEST(SpectralDrift, OfAnUnchangedWeightIsOneByTheBasissEngine) {
  LocalCommunicator group;
  const at::Tensor s = at::pow(0.976, at::arange(64, at::kDouble)) * 2.0;
  const at::Tensor w = testing::matrix_with_spectrum(64, 172, s, 7);
  const ShardedTensor sw = ShardedTensor::from_full(w, Layout::kReplicated, group);
  SvdOptions tau;
  tau.energy = 0.5;
  const ProtectedBasis basis = ProtectedBasis::compute(sw, "w", tau);
  ASSERT_EQ(basis.engine(), SvdEngine::kGramEigen);
  const std::string file = ::testing::TempDir() + "/drift_basis.safetensors";
  basis.save(file);
  const ProtectedBasis reloaded = ProtectedBasis::load(file, sw, "w");
  EXPECT_EQ(reloaded.engine(), SvdEngine::kGramEigen);
  for (const ProtectedBasis* b : {&basis, &reloaded}) {
    const DriftMetrics d = spectral_drift(*b, sw);
    EXPECT_NEAR(d.subspace_similarity_u, 1.0, 1e-10);
    EXPECT_NEAR(d.subspace_similarity_v, 1.0, 1e-10);
  }
  SvdOptions randomized;
  randomized.engine = SvdEngine::kRandomized;
  EXPECT_LT(spectral_drift(basis, sw, randomized).subspace_similarity_u, 1.0 - 1e-6)
      << "the spectrum should be flat enough that another estimate of the top k differs";
}

TEST(SubspaceSimilarity, IsOneForTheSameSpanAndZeroForOrthogonal) {
  const at::Tensor q = testing::random_orthonormal(40, 10, 3);
  const at::Tensor rot = testing::random_orthonormal(5, 5, 4);
  const at::Tensor a = q.narrow(1, 0, 5);
  EXPECT_NEAR(subspace_similarity(a, at::matmul(a, rot)), 1.0, 1e-12);
  EXPECT_NEAR(subspace_similarity(a, q.narrow(1, 5, 5)), 0.0, 1e-12);
  EXPECT_NEAR(energy_weighted_similarity(a, at::ones({5}, at::kDouble), q.narrow(1, 0, 4)), 0.8, 1e-12);
}

}  // namespace
}  // namespace revive::spectral
