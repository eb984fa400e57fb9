// The NCCL backend against the same closed-form results as the MPI backend.
// Needs one CUDA device per rank and a CUDA-enabled LibTorch; skips otherwise.
#include <ATen/ATen.h>
#include <ATen/Context.h>
#include <gtest/gtest.h>

#include "revive/config.h"
#include "sharding/comm/cuda/nccl_communicator.h"
#include "tests/support/test_world.h"

namespace revive::sharding {
namespace {

using revive::testing::world;

bool gpus_for_every_rank() {
  if (!at::hasCUDA()) return false;
  // Every rank must see enough devices (one per rank on this node).
  return at::getNumGPUs() >= static_cast<size_t>(world().size());
}

TEST(NcclCommunicator, CollectivesMatchClosedForm) {
  // The decision must be the same on every rank, since creating the NCCL world is collective.
  at::Tensor ok = at::full({1}, gpus_for_every_rank() ? 1 : 0, at::kLong);
  world().all_reduce(ok, {ReduceOp::kMax});
  if (!REVIVE_TORCH_HAS_CUDA || !gpus_for_every_rank()) {
    GTEST_SKIP() << "no CUDA device per rank (or CPU-only LibTorch): NCCL backend compiled but not run";
  }
  auto nccl = make_nccl_world();
  const int r = nccl->rank(), n = nccl->size();
  auto cuda = at::TensorOptions().device(at::kCUDA, r % at::getNumGPUs());
  for (at::ScalarType dt : {at::kFloat, at::kDouble, at::kBFloat16, at::kHalf, at::kLong}) {
    at::Tensor t = at::full({5}, r + 1, cuda.dtype(dt));
    nccl->all_reduce(t);
    EXPECT_EQ(t.cpu().to(at::kLong)[0].item<int64_t>(), n * (n + 1) / 2);
    at::Tensor g = nccl->all_gather(at::full({r + 1, 2}, r, cuda.dtype(dt)));
    EXPECT_EQ(g.size(0), n * (n + 1) / 2);
    at::Tensor b = at::full({3}, r, cuda.dtype(dt));
    nccl->broadcast(b, {n - 1});
    EXPECT_EQ(b.cpu().to(at::kLong)[2].item<int64_t>(), n - 1);
    at::Tensor rs = nccl->reduce_scatter(at::ones({2 * n + 1, 2}, cuda.dtype(dt)));
    EXPECT_EQ(rs.size(0), shard_range(2 * n + 1, r, n).size);
  }
  nccl->barrier();
  auto tp = nccl->split(r / 2, r % 2, "tp");
  EXPECT_EQ(tp->size(), std::min(2, n - (r / 2) * 2));
}

}  // namespace
}  // namespace revive::sharding
