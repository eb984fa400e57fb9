// Every collective and dtype of the MPI backend against the value a single
// process computes from every rank's (deterministic) contribution.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <cstdlib>

#include "sharding/env.h"
#include "sharding/errors.h"
#include "tests/support/test_world.h"

namespace revive::sharding {
namespace {

using revive::testing::world;

const std::vector<at::ScalarType> kDtypes = {at::kFloat, at::kDouble, at::kBFloat16, at::kHalf, at::kLong};

// Rank r's contribution: small integers, so every dtype (bf16 too) represents
// each value, sum and average of up to 4 ranks exactly.
at::Tensor contribution(int rank, std::vector<int64_t> shape, at::ScalarType dtype) {
  const int64_t n = c10::multiply_integers(shape);
  at::Tensor base = at::arange(n, at::kLong).remainder(7) + rank * 3 - 4;
  return base.reshape(shape).to(dtype);
}

at::Tensor expected_reduce(ReduceOp op, int size, std::vector<int64_t> shape, at::ScalarType dtype) {
  at::Tensor acc = contribution(0, shape, at::kDouble);
  for (int r = 1; r < size; ++r) {
    at::Tensor c = contribution(r, shape, at::kDouble);
    acc = op == ReduceOp::kMax ? at::maximum(acc, c) : acc + c;
  }
  if (op == ReduceOp::kAvg) acc = dtype == at::kLong ? at::floor_divide(acc, size) : acc / size;
  return acc.to(dtype);
}

class AllReduceTest : public ::testing::TestWithParam<std::tuple<at::ScalarType, ReduceOp>> {};

TEST_P(AllReduceTest, MatchesSingleProcessReduction) {
  const auto [dtype, op] = GetParam();
  Communicator& comm = world();
  for (std::vector<int64_t> shape : {std::vector<int64_t>{1}, {5, 3}, {2, 3, 4}}) {
    at::Tensor t = contribution(comm.rank(), shape, dtype);
    AllReduceOptions o;
    o.op = op;
    comm.all_reduce(t, o);
    EXPECT_EQ(t.scalar_type(), dtype);
    EXPECT_TRUE(at::equal(t, expected_reduce(op, comm.size(), shape, dtype)))
        << to_string(op) << " " << c10::toString(dtype) << "\n" << t;
  }
}

INSTANTIATE_TEST_SUITE_P(AllDtypesAndOps, AllReduceTest,
                         ::testing::Combine(::testing::ValuesIn(kDtypes),
                                            ::testing::Values(ReduceOp::kSum, ReduceOp::kMax, ReduceOp::kAvg)));

class DtypeTest : public ::testing::TestWithParam<at::ScalarType> {};

TEST_P(DtypeTest, BroadcastFromEveryRoot) {
  Communicator& comm = world();
  for (int root = 0; root < comm.size(); ++root) {
    at::Tensor t = contribution(comm.rank(), {4, 3}, GetParam());
    BroadcastOptions o;
    o.root = root;
    comm.broadcast(t, o);
    EXPECT_TRUE(at::equal(t, contribution(root, {4, 3}, GetParam()))) << "root " << root;
  }
}

TEST_P(DtypeTest, AllGatherUnevenAlongEveryDim) {
  Communicator& comm = world();
  for (int64_t dim : {0, 1, 2, -1}) {
    // Rank r contributes r+1 entries along `dim` (uneven; rank 0 of 1 too).
    std::vector<int64_t> shape = {2, 3, 2};
    const int64_t d = dim < 0 ? dim + 3 : dim;
    auto shape_of = [&](int r) { auto s = shape; s[d] = r + 1; return s; };
    AllGatherOptions o;
    o.dim = dim;
    at::Tensor got = comm.all_gather(contribution(comm.rank(), shape_of(comm.rank()), GetParam()), o);
    std::vector<at::Tensor> parts;
    for (int r = 0; r < comm.size(); ++r) parts.push_back(contribution(r, shape_of(r), GetParam()));
    EXPECT_TRUE(at::equal(got, at::cat(parts, d))) << "dim " << dim;
  }
}

TEST_P(DtypeTest, AllGatherWithEmptyContribution) {
  Communicator& comm = world();
  const int64_t rows = comm.rank() == 0 ? 0 : 2;
  at::Tensor got = comm.all_gather(contribution(comm.rank(), {rows, 3}, GetParam()));
  std::vector<at::Tensor> parts;
  for (int r = 0; r < comm.size(); ++r) parts.push_back(contribution(r, {r == 0 ? 0 : 2, 3}, GetParam()));
  EXPECT_TRUE(at::equal(got, at::cat(parts, 0)));
}

TEST_P(DtypeTest, ReduceScatterBalancedAndExplicitCounts) {
  Communicator& comm = world();
  for (ReduceOp op : {ReduceOp::kSum, ReduceOp::kMax, ReduceOp::kAvg}) {
    const int64_t rows = 2 * comm.size() + 1;  // uneven over any size > 1
    at::Tensor full = expected_reduce(op, comm.size(), {rows, 3}, GetParam());
    ReduceScatterOptions o;
    o.op = op;
    at::Tensor got = comm.reduce_scatter(contribution(comm.rank(), {rows, 3}, GetParam()), o);
    const Range r = shard_range(rows, comm.rank(), comm.size());
    EXPECT_TRUE(at::equal(got, full.narrow(0, r.begin, r.size))) << to_string(op);

    // Explicit counts: everything to the last rank.
    o.counts.assign(comm.size(), 0);
    o.counts.back() = rows;
    got = comm.reduce_scatter(contribution(comm.rank(), {rows, 3}, GetParam()), o);
    EXPECT_EQ(got.size(0), comm.rank() == comm.size() - 1 ? rows : 0);
    if (comm.rank() == comm.size() - 1) {
      EXPECT_TRUE(at::equal(got, full));
    }
  }
}

INSTANTIATE_TEST_SUITE_P(AllDtypes, DtypeTest, ::testing::ValuesIn(kDtypes));

// Counts past one MPI call's limit are chunked: lower the limit so a small
// tensor needs many chunks, and compare with the unchunked result.
TEST(MpiChunking, CollectivesSplitLargeCounts) {
  setenv(env::kMpiMaxCount, "7", 1);
  auto chunked = world().split(0, world().rank(), "chunked");
  unsetenv(env::kMpiMaxCount);
  Communicator& comm = *chunked;
  const std::vector<int64_t> shape = {9, 5};  // 45 elements, 180+ bytes: many chunks
  for (at::ScalarType dtype : kDtypes) {
    at::Tensor t = contribution(comm.rank(), shape, dtype);
    comm.all_reduce(t);
    EXPECT_TRUE(at::equal(t, expected_reduce(ReduceOp::kSum, comm.size(), shape, dtype)));

    at::Tensor b = contribution(comm.rank(), shape, dtype);
    BroadcastOptions bo;
    bo.root = comm.size() - 1;
    comm.broadcast(b, bo);
    EXPECT_TRUE(at::equal(b, contribution(comm.size() - 1, shape, dtype)));

    at::Tensor g = comm.all_gather(contribution(comm.rank(), shape, dtype));
    std::vector<at::Tensor> parts;
    for (int r = 0; r < comm.size(); ++r) parts.push_back(contribution(r, shape, dtype));
    EXPECT_TRUE(at::equal(g, at::cat(parts, 0)));

    at::Tensor rs = comm.reduce_scatter(contribution(comm.rank(), shape, dtype));
    const Range r = shard_range(shape[0], comm.rank(), comm.size());
    EXPECT_TRUE(at::equal(rs, expected_reduce(ReduceOp::kSum, comm.size(), shape, dtype).narrow(0, r.begin, r.size)));
  }
}

TEST(MpiCommunicator, RejectsBadTensorsWithClearErrors) {
  Communicator& comm = world();
  at::Tensor strided = at::zeros({4, 4}).t();
  try {
    comm.all_reduce(strided);
    FAIL() << "non-contiguous tensor accepted";
  } catch (const CommError& e) {
    EXPECT_NE(std::string(e.what()).find("not contiguous"), std::string::npos) << e.what();
    EXPECT_EQ(e.op(), "all_reduce");
    EXPECT_EQ(e.rank(), comm.rank());
  }
  at::Tensor ints = at::zeros({3}, at::kInt);
  EXPECT_THROW(comm.all_reduce(ints), CommError);
  at::Tensor ok = at::zeros({3});
  BroadcastOptions bad_root;
  bad_root.root = comm.size();
  EXPECT_THROW(comm.broadcast(ok, bad_root), CommError);
  ReduceScatterOptions bad_counts;
  bad_counts.counts = {1};
  if (comm.size() > 1) {
    EXPECT_THROW(comm.reduce_scatter(at::zeros({5, 2}), bad_counts), CommError);
  }
}

TEST(MpiCommunicator, AllGatherRejectsMismatchedShapes) {
  Communicator& comm = world();
  if (comm.size() == 1) GTEST_SKIP() << "needs two ranks";
  // Ranks disagree on the non-gathered dimension: an error on every rank, not corruption.
  at::Tensor t = at::zeros({2, 3 + comm.rank()});
  EXPECT_THROW(comm.all_gather(t), CommError);
}

TEST(MpiCommunicator, BarrierAndSplitIntoSubgroups) {
  Communicator& comm = world();
  comm.barrier();
  // Even and odd ranks form groups; each group's sum is closed-form.
  auto sub = comm.split(comm.rank() % 2, comm.rank(), "parity");
  int expected_size = 0;
  int64_t expected_sum = 0;
  for (int r = 0; r < comm.size(); ++r) {
    if (r % 2 == comm.rank() % 2) ++expected_size, expected_sum += r;
  }
  EXPECT_EQ(sub->size(), expected_size);
  EXPECT_EQ(sub->rank(), comm.rank() / 2);
  at::Tensor t = at::full({1}, comm.rank(), at::kLong);
  sub->all_reduce(t);
  EXPECT_EQ(t.item<int64_t>(), expected_sum);
  EXPECT_NE(sub->name().find("parity"), std::string::npos);
}

}  // namespace
}  // namespace revive::sharding
