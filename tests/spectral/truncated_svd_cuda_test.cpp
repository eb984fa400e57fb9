// The spectral routines on CUDA tensors against the same routines on the host
// and the exact SVD: both engines (and the Gram-eigen engine's cuSOLVER top-k
// solve where built), energy mode, the filter, bases and drift metrics.
// Skipped without a CUDA LibTorch and a GPU.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <cmath>
#include <string>

#include "lib/spectral/drift_metrics.h"
#include "lib/spectral/protected_basis.h"
#include "lib/spectral/revive_filter.h"
#include "lib/spectral/truncated_svd.h"
#include "revive/config.h"
#include "sharding/comm/local_communicator.h"
#include "sharding/errors.h"
#include "tests/spectral/spectral_fixtures.h"
#include "tests/support/fixtures.h"

namespace revive::spectral {
namespace {

using sharding::Layout;
using sharding::LocalCommunicator;
using sharding::ShardedTensor;

class OnCuda : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA LibTorch or no GPU: the CUDA paths are not exercised";
  }
  static at::Tensor gpu(const at::Tensor& t) { return t.to(at::Device(at::kCUDA)); }
};

// Same rank, same engine: the device changes only rounding.
void expect_same_factors(const SvdResult& cpu, const SvdResult& cuda, const at::Tensor& a, double tol) {
  ASSERT_EQ(cpu.k, cuda.k);
  EXPECT_TRUE(cuda.u.is_cuda() && cuda.v.is_cuda());
  EXPECT_LT(testing::rel_diff(cuda.s.cpu(), cpu.s), tol);
  // Signs are canonical, so the factors match column by column where the spectrum has gaps.
  EXPECT_LT(testing::rel_diff(cuda.u.cpu(), cpu.u), std::sqrt(tol));
  EXPECT_NEAR(testing::captured_energy(a, cuda.u.cpu(), cpu.s), testing::captured_energy(a, cpu.u, cpu.s), tol);
}

TEST_F(OnCuda, GramEigenMatchesTheHostAndTheExactSvd) {
  const at::Tensor s_true = testing::singular_values(testing::Spectrum::kFastDecay, 120);
  const at::Tensor a = testing::matrix_with_spectrum(120, 300, s_true, 71);
  for (GramSolver solver : {GramSolver::kFull, GramSolver::kTopK}) {
    if (solver == GramSolver::kTopK && !REVIVE_HAVE_CUDA) continue;
    SCOPED_TRACE(to_string(solver));
    SvdOptions o;
    o.rsvd.rank = 12;
    o.engine = SvdEngine::kGramEigen;
    o.gram_solver = solver;
    const SvdResult cuda = truncated_svd(gpu(a), o);
    EXPECT_EQ(cuda.gram_solver, solver);
    o.gram_solver = GramSolver::kFull;
    const SvdResult cpu = truncated_svd(a, o);
    expect_same_factors(cpu, cuda, a, 1e-10);
    EXPECT_LT(testing::rel_diff(cuda.s.cpu(), s_true.narrow(0, 0, 12)), 1e-10);
  }
}

TEST_F(OnCuda, RandomizedUsesTheSameSketchAsTheHost) {
  const at::Tensor s_true = testing::singular_values(testing::Spectrum::kSlowDecay, 150);
  const at::Tensor a = testing::matrix_with_spectrum(150, 220, s_true, 72);
  SvdOptions o;
  o.rsvd.rank = 10;
  o.engine = SvdEngine::kRandomized;
  const SvdResult cpu = truncated_svd(a, o);
  const SvdResult cuda = truncated_svd(gpu(a), o);
  expect_same_factors(cpu, cuda, a, 1e-9);
}

TEST_F(OnCuda, EnergyModePicksTheExactKInBothDtypes) {
  const at::Tensor s_true = testing::singular_values(testing::Spectrum::kSlowDecay, 100);
  const at::Tensor a = testing::matrix_with_spectrum(100, 160, s_true, 73);
  const at::Tensor cum = s_true.square().cumsum(0) / s_true.square().sum();
  const int64_t k_exact = (cum < 0.5).sum().item<int64_t>() + 1;
  for (at::ScalarType dt : {at::kDouble, at::kFloat}) {
    for (GramSolver solver : {GramSolver::kFull, GramSolver::kTopK}) {
      if (solver == GramSolver::kTopK && !REVIVE_HAVE_CUDA) continue;
      SCOPED_TRACE(std::string(to_string(solver)) + (dt == at::kDouble ? " f64" : " f32"));
      SvdOptions o;
      o.energy = 0.5;
      o.gram_solver = solver;
      const SvdResult r = truncated_svd(gpu(a.to(dt)), o);
      EXPECT_EQ(r.k, k_exact);
      EXPECT_EQ(r.u.scalar_type(), dt);
      EXPECT_LT(testing::rel_diff(r.s.cpu(), s_true.narrow(0, 0, k_exact)), dt == at::kDouble ? 1e-10 : 1e-4);
    }
  }
}

TEST_F(OnCuda, FilterBasisAndDriftMatchTheHost) {
  const at::Tensor w = testing::matrix_with_spectrum(60, 90, testing::singular_values(testing::Spectrum::kSlowDecay, 60), 74);
  LocalCommunicator host_group;
  LocalCommunicator gpu_group("world", at::kCUDA);
  const ShardedTensor host_w = ShardedTensor::from_full(w, Layout::kReplicated, host_group);
  const ShardedTensor gpu_w = ShardedTensor::from_full(gpu(w), Layout::kReplicated, gpu_group);
  SvdOptions o;
  o.energy = 0.5;
  const ProtectedBasis host_basis = ProtectedBasis::compute(host_w, "w", o);
  const ProtectedBasis gpu_basis = ProtectedBasis::compute(gpu_w, "w", o);
  ASSERT_EQ(gpu_basis.k(), host_basis.k());
  EXPECT_EQ(gpu_basis.checksum(), host_basis.checksum());  // the checksum reads the weight on the host

  // Dense and factored updates: no protected component left, same as on the host.
  const at::Tensor r = gaussian_sketch_rows(75, 0, 60, 4), x = gaussian_sketch_rows(76, 0, 90, 4);
  const ReviveFilter host_filter(host_basis), gpu_filter(gpu_basis);
  const at::Tensor safe = gpu_filter.apply(gpu(at::matmul(r, x.t())));
  EXPECT_TRUE(safe.is_cuda());
  EXPECT_LT(at::matmul(gpu_basis.u().local().t(), safe).abs().max().item<double>(), 1e-12);
  EXPECT_LT(at::matmul(safe, gpu_basis.v().local()).abs().max().item<double>(), 1e-12);
  EXPECT_LT(testing::rel_diff(safe.cpu(), host_filter.apply(at::matmul(r, x.t()))), 1e-10);
  const FactoredUpdate f = gpu_filter.apply(FactoredUpdate{gpu(r), gpu(x)});
  EXPECT_LT(testing::rel_diff(at::matmul(f.r, f.x.t()).cpu(), safe.cpu()), 1e-10);

  // A basis saved from the GPU loads back beside a GPU weight.
  const std::string path = revive::testing::temp_dir("spectral_cuda") + "/w.basis.safetensors";
  gpu_basis.save(path);
  const ProtectedBasis back = ProtectedBasis::load(path, gpu_w, "w");
  EXPECT_TRUE(back.u().local().is_cuda());
  EXPECT_TRUE(at::equal(back.u().local(), gpu_basis.u().local()));

  // Drift after an edit, on both devices.
  const at::Tensor edited = w + 0.3 * at::matmul(r, x.t());
  const DriftMetrics host_d =
      spectral_drift(host_basis, ShardedTensor::from_full(edited, Layout::kReplicated, host_group));
  const DriftMetrics gpu_d =
      spectral_drift(gpu_basis, ShardedTensor::from_full(gpu(edited), Layout::kReplicated, gpu_group));
  EXPECT_NEAR(gpu_d.subspace_similarity_u, host_d.subspace_similarity_u, 1e-9);
  EXPECT_NEAR(gpu_d.subspace_similarity_v, host_d.subspace_similarity_v, 1e-9);
  EXPECT_NEAR(gpu_d.protected_energy_share, host_d.protected_energy_share, 1e-9);
  EXPECT_NEAR(gpu_d.frobenius_growth, host_d.frobenius_growth, 1e-12);
}

}  // namespace
}  // namespace revive::spectral
