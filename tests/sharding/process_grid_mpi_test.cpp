// The process grid under mpirun: group membership and collectives over tp and dp
// for every grid the world size allows (np 4: 4x1, 2x2, 1x4).
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "sharding/errors.h"
#include "sharding/process_grid.h"
#include "tests/support/test_world.h"

namespace revive::sharding {
namespace {

using revive::testing::world;

TEST(ProcessGrid, EveryFactorisationOfTheWorld) {
  const int n = world().size();
  for (int tp = 1; tp <= n; ++tp) {
    if (n % tp) continue;
    ProcessGrid grid(world().split(0, world().rank(), "world"), GridSpec{tp, 0});
    const int r = world().rank();
    EXPECT_EQ(grid.tp_size(), tp);
    EXPECT_EQ(grid.dp_size(), n / tp);
    EXPECT_EQ(grid.tp().size(), tp);
    EXPECT_EQ(grid.dp().size(), n / tp);
    EXPECT_EQ(grid.tp().rank(), r % tp);
    EXPECT_EQ(grid.dp().rank(), r / tp);
    EXPECT_EQ(grid.tp_rank(), r % tp);
    EXPECT_EQ(grid.dp_rank(), r / tp);

    // tp groups are consecutive ranks: the sum of world ranks in mine is closed form.
    at::Tensor t = at::full({1}, r, at::kLong);
    grid.tp().all_reduce(t);
    const int first = (r / tp) * tp;
    EXPECT_EQ(t.item<int64_t>(), static_cast<int64_t>(tp) * first + tp * (tp - 1) / 2);
    // dp groups stride by tp.
    at::Tensor d = at::full({1}, r, at::kLong);
    grid.dp().all_reduce(d);
    int64_t expect = 0;
    for (int q = r % tp; q < n; q += tp) expect += q;
    EXPECT_EQ(d.item<int64_t>(), expect);
  }
}

TEST(ProcessGrid, WorldNotDivisibleIsAClearError) {
  const int n = world().size();
  try {
    ProcessGrid grid(world().split(0, world().rank(), "world"), GridSpec{n + 1, 1});
    FAIL() << "accepted tp larger than the world";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("is not dp x tp"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace revive::sharding
