#include "lib/spectral/protected_basis.h"

#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <filesystem>
#include <fstream>

#include "lib/spectral/weight_checksum.h"
#include "sharding/checkpoint/safetensors.h"
#include "sharding/comm/local_communicator.h"
#include "sharding/errors.h"
#include "tests/spectral/spectral_fixtures.h"
#include "tests/support/fixtures.h"

namespace revive::spectral {
namespace {

using sharding::Layout;
using sharding::LocalCommunicator;
using sharding::ShardedTensor;

at::Tensor test_weight() {
  return testing::matrix_with_spectrum(50, 80, testing::singular_values(testing::Spectrum::kSlowDecay, 50), 41)
      .to(at::kFloat);
}

TEST(ProtectedBasis, EnergyModeRecordsKTauAndChecksum) {
  LocalCommunicator group;
  const at::Tensor w = test_weight();
  const ShardedTensor weight = ShardedTensor::from_full(w, Layout::kReplicated, group);
  SvdOptions o;
  o.energy = 0.6;
  const ProtectedBasis b = ProtectedBasis::compute(weight, "model.layers.3.mlp.down_proj.weight", o);
  const at::Tensor s = at::linalg_svdvals(w.to(at::kDouble));
  const at::Tensor cum = s.square().cumsum(0) / s.square().sum();
  EXPECT_EQ(b.k(), (cum < 0.6).sum().item<int64_t>() + 1);
  EXPECT_DOUBLE_EQ(b.tau(), 0.6);
  EXPECT_EQ(b.u().local().sizes(), (std::vector<int64_t>{50, b.k()}));
  EXPECT_EQ(b.v().local().sizes(), (std::vector<int64_t>{80, b.k()}));
  EXPECT_EQ(b.checksum(), weight_checksum(weight));
  EXPECT_EQ(b.source(), "model.layers.3.mlp.down_proj.weight");
}

TEST(ProtectedBasis, SaveLoadRoundTrip) {
  LocalCommunicator group;
  const ShardedTensor weight = ShardedTensor::from_full(test_weight(), Layout::kRow, group);
  SvdOptions o;
  o.rsvd.rank = 7;
  const ProtectedBasis b = ProtectedBasis::compute(weight, "w", o);
  const std::string path = revive::testing::temp_dir("spectral_basis") + "/w.basis.safetensors";
  b.save(path);
  const ProtectedBasis back = ProtectedBasis::load(path, weight, "w");
  EXPECT_EQ(back.k(), 7);
  EXPECT_TRUE(at::equal(back.u().local(), b.u().local()));
  EXPECT_TRUE(at::equal(back.v().local(), b.v().local()));
  EXPECT_TRUE(at::equal(back.s(), b.s()));
  EXPECT_EQ(back.checksum(), b.checksum());
  EXPECT_DOUBLE_EQ(back.frobenius_sq(), b.frobenius_sq());
  EXPECT_EQ(back.weight_layout(), Layout::kRow);
  // No temporary file is left next to it.
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(std::filesystem::path(path).parent_path())) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 1);
}

TEST(ProtectedBasis, RefusesAnotherWeight) {
  LocalCommunicator group;
  const at::Tensor w = test_weight();
  const ShardedTensor weight = ShardedTensor::from_full(w, Layout::kReplicated, group);
  SvdOptions o;
  o.rsvd.rank = 5;
  const std::string path = revive::testing::temp_dir("spectral_basis_refuse") + "/b.safetensors";
  ProtectedBasis::compute(weight, "w", o).save(path);

  at::Tensor edited = w.clone();
  edited[3][7] += 1e-3f;  // one edited entry
  const ShardedTensor other = ShardedTensor::from_full(edited, Layout::kReplicated, group);
  try {
    ProtectedBasis::load(path, other, "w");
    FAIL() << "loaded a basis against an edited weight";
  } catch (const InputError& e) {
    EXPECT_EQ(e.file(), path);
    EXPECT_EQ(e.field(), "__metadata__.checksum");
  }
  EXPECT_THROW(ProtectedBasis::load(path, weight, "another.name"), InputError);
  const ShardedTensor wrong_shape = ShardedTensor::from_full(w.narrow(0, 0, 40).contiguous(), Layout::kReplicated, group);
  EXPECT_THROW(ProtectedBasis::load(path, wrong_shape, "w"), InputError);
}

TEST(ProtectedBasis, RejectsAFileThatIsNotABasis) {
  LocalCommunicator group;
  const ShardedTensor weight = ShardedTensor::from_full(test_weight(), Layout::kReplicated, group);
  const std::string dir = revive::testing::temp_dir("spectral_basis_bad");
  sharding::write_safetensors(dir + "/other.safetensors", {{"u", at::zeros({50, 2})}});
  EXPECT_THROW(ProtectedBasis::load(dir + "/other.safetensors", weight, "w"), InputError);
  std::ofstream(dir + "/garbage.safetensors") << "not a safetensors file";
  EXPECT_THROW(ProtectedBasis::load(dir + "/garbage.safetensors", weight, "w"), InputError);
}

TEST(WeightChecksum, DependsOnValuesNotOnLayout) {
  LocalCommunicator group;
  const at::Tensor w = test_weight();
  const uint64_t a = weight_checksum(ShardedTensor::from_full(w, Layout::kReplicated, group));
  EXPECT_EQ(a, weight_checksum(ShardedTensor::from_full(w, Layout::kRow, group)));
  EXPECT_EQ(a, weight_checksum(ShardedTensor::from_full(w, Layout::kColumn, group)));
  EXPECT_NE(a, weight_checksum(ShardedTensor::from_full(w.t().contiguous(), Layout::kReplicated, group)));
  at::Tensor swapped = w.clone();
  swapped[0][0] = w[0][1];
  swapped[0][1] = w[0][0];
  EXPECT_NE(a, weight_checksum(ShardedTensor::from_full(swapped, Layout::kReplicated, group)));
}

}  // namespace
}  // namespace revive::spectral
