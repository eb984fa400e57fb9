// RECT's mask on tensor-parallel shards (np 1, 2, 4): the ranking stays global
// (a bisection over counts), so each rank's masked shard equals the narrowed
// single-process result, for row- and column-split weights, with ties (zero
// updates), +inf relative changes (zero weights) and uneven shards.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cmath>

#include "lib/edit/editors/rect_editor.h"
#include "sharding/comm/communicator.h"
#include "sharding/errors.h"
#include "tests/edit/edit_fixtures.h"
#include "tests/support/test_world.h"

namespace revive::edit {
namespace {

using revive::testing::world;

struct Case {
  const char* name;
  double keep;
  double zero_update_share;  // entries of dW set to 0 (ties at relative change 0)
  double zero_weight_share;  // entries of W set to 0 (relative change +inf)
};

TEST(RectMaskMpi, EveryShardEqualsTheSerialMask) {
  const int64_t rows = 13, cols = 22;  // uneven over 2 and 4 ranks
  const Case cases[] = {{"plain", 0.2, 0.0, 0.0},
                        {"half of dW zero, keep 70%", 0.7, 0.5, 0.0},
                        {"zero weights", 0.1, 0.0, 0.05},
                        {"keep all", 1.0, 0.1, 0.0}};
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    at::Tensor dw = testing::randn({rows, cols}, 7);
    at::Tensor w = testing::randn({rows, cols}, 8);
    dw = dw * (at::rand({rows, cols}, at::kDouble) >= c.zero_update_share).to(at::kDouble);
    w = w * (at::rand({rows, cols}, at::kDouble) >= c.zero_weight_share).to(at::kDouble);
    // The same matrices everywhere (at::rand is not seeded per test).
    world().broadcast(dw);
    world().broadcast(w);
    const at::Tensor serial = rect_sparsify(dw, w, c.keep);
    const int64_t keep = static_cast<int64_t>(std::ceil(c.keep * rows * cols));
    EXPECT_EQ(rect_mask(dw, w, c.keep).sum().item<int64_t>(), keep);
    for (int64_t dim : {0, 1}) {
      const auto r = sharding::shard_range(dim == 0 ? rows : cols, world().rank(), world().size());
      const at::Tensor dw_local = dw.narrow(dim, r.begin, r.size).contiguous();
      const at::Tensor w_local = w.narrow(dim, r.begin, r.size).contiguous();
      const at::Tensor mask = rect_mask(dw_local, w_local, c.keep, &world());
      at::Tensor kept = mask.sum().to(at::kLong).reshape({1});
      world().all_reduce(kept);
      EXPECT_EQ(kept.item<int64_t>(), keep) << "dim " << dim;
      const at::Tensor local = rect_sparsify(dw_local, w_local, c.keep, &world());
      EXPECT_TRUE(at::equal(local, serial.narrow(dim, r.begin, r.size))) << "dim " << dim << " rank " << world().rank();
    }
  }
}

TEST(RectMaskMpi, NaNUpdatesAreRejectedOnEveryRank) {
  at::Tensor dw = testing::randn({4, 6}, 1);
  dw[1][2] = std::nan("");
  const at::Tensor w = testing::randn({4, 6}, 2);
  EXPECT_THROW(rect_mask(dw, w, 0.5, &world()), Error);
}

}  // namespace
}  // namespace revive::edit
