// The distributed per-layer solve against the single-process update (np 1, 2,
// 4): operators on the owner rank only (layer l -> rank l mod tp), X broadcast,
// every rank's shard of dW (row- and column-parallel weights) equal to the
// narrowed single-process dW; AlphaEdit's key cache across batches; a failed
// solve on the owner reported on every rank.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <functional>
#include <memory>

#include "lib/edit/editors/alphaedit_editor.h"
#include "lib/edit/editors/distributed_solve.h"
#include "lib/edit/editors/emmet_editor.h"
#include "lib/edit/editors/memit_editor.h"
#include "lib/edit/editors/nse_editor.h"
#include "sharding/errors.h"
#include "sharding/sharded_tensor.h"
#include "tests/edit/edit_fixtures.h"
#include "tests/support/test_world.h"

namespace revive::edit {
namespace {

using revive::testing::world;
using testing::randn;
using testing::rel_err;

constexpr int64_t kLayers = 5, kDIn = 18, kDOut = 11, kN = 3;  // uneven over 2 and 4 ranks

std::string layer_name(int64_t l) { return "model.layers." + std::to_string(l) + ".mlp.down_proj"; }

at::Tensor statistics(int64_t l) {
  // Mixed spectrum so AlphaEdit has both a preserved and a null space.
  std::vector<double> ev;
  for (int i = 0; i < kDIn; ++i) ev.push_back(i < 12 ? 0.4 + 0.2 * i : 1e-3 * (i - 11));
  return testing::with_spectrum(ev, 100 + l).c;
}

using MakeEditor = std::function<std::unique_ptr<FactoredEditor>()>;

void check_matches_single_process(const MakeEditor& make, int batches) {
  sharding::Communicator& tp = world();
  auto dist = make(), ref = make();
  int held = 0;
  for (int64_t l = 0; l < kLayers; ++l) {
    ref->set_statistics(layer_name(l), statistics(l));
    if (operator_owner(l, tp.size()) == tp.rank()) {
      dist->set_statistics(layer_name(l), statistics(l));
      ++held;
    }
  }
  EXPECT_LE(held, (kLayers + tp.size() - 1) / tp.size());
  for (int64_t l = 0; l < kLayers; ++l) EXPECT_EQ(dist->has_layer(layer_name(l)), l % tp.size() == tp.rank());

  for (int b = 0; b < batches; ++b) {
    for (int64_t l = 0; l < kLayers; ++l) {
      const uint64_t seed = 1000 * (b + 1) + 10 * l;
      const at::Tensor k = randn({kDIn, kN}, seed), r = randn({kDOut, kN}, seed + 1);
      const at::Tensor w_full = randn({kDOut, kDIn}, seed + 2);
      const LayerEdit e{layer_name(l), k, r, {}, {}};
      const at::Tensor dw_ref = ref->compute(e).materialize();
      for (auto layout : {sharding::Layout::kRow, sharding::Layout::kColumn, sharding::Layout::kReplicated}) {
        // from_full may share storage with its input: give it a copy.
        sharding::ShardedTensor w = sharding::ShardedTensor::from_full(w_full.clone(), layout, tp);
        const WeightUpdate shard = distributed_update(*dist, l, e, w);
        EXPECT_TRUE(shard.is_factored());
        const auto& s = w.spec();
        const at::Tensor expect = s.dim < 0 ? dw_ref : dw_ref.narrow(s.dim, s.offset, s.length);
        EXPECT_LT(rel_err(shard.materialize(), expect), 1e-12)
            << dist->name() << " layer " << l << " " << sharding::to_string(layout) << " rank " << tp.rank();
        at::Tensor& local = w.local();
        shard.apply_to(local);
        EXPECT_LT(rel_err(w.full(), w_full + dw_ref), 1e-12);
      }
      distributed_record_keys(*dist, l, layer_name(l), k, tp);
      ref->record_keys(layer_name(l), k);
    }
  }
}

TEST(DistributedSolve, MemitShardsEqualSingleProcess) {
  check_matches_single_process([] { return std::make_unique<MemitEditor>(MemitOptions{2.0}); }, 1);
}

TEST(DistributedSolve, MemitSeqShardsEqualSingleProcessAcrossBatches) {
  // The key memory lives on the layer's owner, as AlphaEdit's.
  check_matches_single_process([] { return std::make_unique<MemitEditor>(MemitOptions{2.0, true}); }, 3);
}

TEST(DistributedSolve, AlphaEditShardsEqualSingleProcessAcrossBatches) {
  check_matches_single_process([] { return std::make_unique<AlphaEditEditor>(); }, 3);
}

TEST(DistributedSolve, EmmetAndNseShardsEqualSingleProcess) {
  check_matches_single_process([] { return std::make_unique<EmmetEditor>(EmmetOptions{2.0, 0.1, 0.0}); }, 1);
  check_matches_single_process([] { return std::make_unique<NseEditor>(NseOptions{2.0, 0.8}); }, 1);
}

TEST(DistributedSolve, FailedSolveOnTheOwnerIsReportedOnEveryRank) {
  sharding::Communicator& tp = world();
  MemitEditor ed;  // no statistics anywhere: the owner's solve fails
  const at::Tensor w_full = randn({kDOut, kDIn}, 7);
  sharding::ShardedTensor w = sharding::ShardedTensor::from_full(w_full, sharding::Layout::kRow, tp);
  const LayerEdit e{layer_name(3), randn({kDIn, kN}, 8), randn({kDOut, kN}, 9), {}, {}};
  try {
    distributed_update(ed, 3, e, w);
    FAIL() << "expected an error on rank " << tp.rank();
  } catch (const Error& err) {
    const std::string msg = err.what();
    EXPECT_NE(msg.find(layer_name(3)), std::string::npos) << msg;
    EXPECT_NE(msg.find("tp rank " + std::to_string(operator_owner(3, tp.size()))), std::string::npos) << msg;
  }
  tp.barrier();
}

}  // namespace
}  // namespace revive::edit
