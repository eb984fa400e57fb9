#include "sharding/comm/local_communicator.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "sharding/errors.h"

namespace revive::sharding {
namespace {

TEST(LocalCommunicator, CollectivesAreIdentities) {
  LocalCommunicator comm;
  at::Tensor t = at::arange(6, at::kFloat).reshape({2, 3});
  at::Tensor orig = t.clone();
  for (ReduceOp op : {ReduceOp::kSum, ReduceOp::kMax, ReduceOp::kAvg}) {
    comm.all_reduce(t, {op});
    EXPECT_TRUE(at::equal(t, orig));
  }
  comm.broadcast(t);
  EXPECT_TRUE(at::equal(comm.all_gather(t, {1}), orig));
  EXPECT_TRUE(at::equal(comm.reduce_scatter(t), orig));
  comm.barrier();
  auto sub = comm.split(3, 0, "tp");
  EXPECT_EQ(sub->size(), 1);
  EXPECT_EQ(sub->name(), "local:tp");
}

TEST(LocalCommunicator, RejectsWhatTheDistributedBackendsReject) {
  LocalCommunicator comm;
  at::Tensor strided = at::zeros({3, 3}).t();
  EXPECT_THROW(comm.all_reduce(strided), CommError);
  at::Tensor ints = at::zeros({3}, at::kInt);
  EXPECT_THROW(comm.broadcast(ints), CommError);
  at::Tensor undefined;
  EXPECT_THROW(comm.all_reduce(undefined), CommError);
  LocalCommunicator cuda_comm("world", c10::DeviceType::CUDA);
  at::Tensor cpu = at::zeros({2});
  try {
    cuda_comm.all_reduce(cpu);
    FAIL();
  } catch (const CommError& e) {
    EXPECT_NE(std::string(e.what()).find("cuda"), std::string::npos) << e.what();
  }
}

TEST(ShardRange, BalancedWithRemainderFirst) {
  int64_t covered = 0;
  for (int p = 0; p < 4; ++p) {
    const Range r = shard_range(10, p, 4);
    EXPECT_EQ(r.begin, covered);
    EXPECT_EQ(r.size, p < 2 ? 3 : 2);
    covered = r.end();
  }
  EXPECT_EQ(covered, 10);
  EXPECT_EQ(shard_range(2, 3, 4).size, 0);
  EXPECT_THROW(shard_range(5, 4, 4), Error);
}

}  // namespace
}  // namespace revive::sharding
