// Staged collectives (staged_collectives.h) against the plain collective's result:
// tensors the communicator would reject as they are (non-contiguous views, and
// CUDA tensors over MPI where a GPU exists) reach the same values, written back
// into the caller's tensor and nothing else.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "sharding/comm/staged_collectives.h"
#include "sharding/errors.h"
#include "tests/support/test_world.h"

namespace revive::sharding {
namespace {

using revive::testing::world;

// Rank r's values: small integers, exact in every reduction below.
at::Tensor values_of(int rank, int64_t rows, int64_t cols) {
  return (at::arange(rows * cols, at::kDouble).remainder(5) + rank * 2 - 3).reshape({rows, cols});
}

// A [rows, cols] view into a larger buffer: column stride 2, so not contiguous.
struct StridedView {
  at::Tensor buffer, view;
};
StridedView strided_view(const at::Tensor& values) {
  StridedView s;
  s.buffer = at::full({values.size(0), 2 * values.size(1)}, -100.0, at::kDouble);
  s.view = s.buffer.slice(1, 0, 2 * values.size(1), 2);
  s.view.copy_(values);
  return s;
}

at::Tensor expected_sum(int size, int64_t rows, int64_t cols) {
  at::Tensor acc = at::zeros({rows, cols}, at::kDouble);
  for (int r = 0; r < size; ++r) acc += values_of(r, rows, cols);
  return acc;
}

// The odd columns of the buffer are not part of the view and stay as filled.
void expect_untouched_gaps(const StridedView& s) {
  const at::Tensor gaps = s.buffer.slice(1, 1, s.buffer.size(1), 2);
  EXPECT_TRUE(at::equal(gaps, at::full_like(gaps, -100.0)));
}

TEST(StagedCollectives, PlainCollectivesRejectTheViewsTheseTake) {
  Communicator& comm = world();
  StridedView s = strided_view(values_of(comm.rank(), 3, 4));
  EXPECT_FALSE(s.view.is_contiguous());
  EXPECT_THROW(comm.all_reduce(s.view), CommError);
}

TEST(StagedCollectives, AllReduceOfAViewWritesTheSumIntoTheView) {
  Communicator& comm = world();
  StridedView s = strided_view(values_of(comm.rank(), 3, 4));
  all_reduce_staged(comm, s.view);
  EXPECT_TRUE(at::equal(s.view, expected_sum(comm.size(), 3, 4))) << s.view;
  expect_untouched_gaps(s);
}

TEST(StagedCollectives, BroadcastOfAViewFromEveryRoot) {
  Communicator& comm = world();
  for (int root = 0; root < comm.size(); ++root) {
    StridedView s = strided_view(values_of(comm.rank(), 2, 5));
    BroadcastOptions o;
    o.root = root;
    broadcast_staged(comm, s.view, o);
    EXPECT_TRUE(at::equal(s.view, values_of(root, 2, 5))) << "root " << root;
    expect_untouched_gaps(s);
  }
}

TEST(StagedCollectives, AllGatherOfATransposeEqualsGatheringItsContiguousCopy) {
  Communicator& comm = world();
  const at::Tensor mine = values_of(comm.rank(), 4, 2 + comm.rank()).t();  // [2 + rank, 4], not contiguous
  AllGatherOptions o;
  o.dim = 0;
  const at::Tensor got = all_gather_staged(comm, mine, o);
  const at::Tensor want = comm.all_gather(mine.contiguous(), o);
  EXPECT_TRUE(at::equal(got, want));
}

TEST(StagedCollectives, TensorsOnTheCommunicatorsDeviceAreReducedInPlace) {
  Communicator& comm = world();
  at::Tensor t = values_of(comm.rank(), 2, 3);
  const void* data = t.data_ptr();
  all_reduce_staged(comm, t);
  EXPECT_EQ(t.data_ptr(), data);
  EXPECT_TRUE(at::equal(t, expected_sum(comm.size(), 2, 3)));
}

TEST(StagedCollectives, CudaTensorsOverAHostCommunicatorComeBackOnTheGpu) {
  Communicator& comm = world();
  if (comm.device_type() != at::kCPU) GTEST_SKIP() << "needs a host communicator";
  if (!at::hasCUDA()) GTEST_SKIP() << "no CUDA LibTorch or no GPU";
  at::Tensor t = values_of(comm.rank(), 3, 3).to(at::kCUDA);
  all_reduce_staged(comm, t);
  EXPECT_TRUE(t.is_cuda());
  EXPECT_TRUE(at::equal(t.cpu(), expected_sum(comm.size(), 3, 3)));
  at::Tensor b = values_of(comm.rank(), 2, 2).to(at::kCUDA);
  broadcast_staged(comm, b);
  EXPECT_TRUE(b.is_cuda());
  EXPECT_TRUE(at::equal(b.cpu(), values_of(0, 2, 2)));
  const at::Tensor g = all_gather_staged(comm, values_of(comm.rank(), 1, 2).to(at::kCUDA));
  EXPECT_TRUE(g.is_cuda());
  EXPECT_TRUE(at::equal(g.cpu(), comm.all_gather(values_of(comm.rank(), 1, 2))));
  // A view of a CUDA buffer: the sum lands in the view only.
  at::Tensor buffer = at::full({3, 8}, -100.0, at::TensorOptions().dtype(at::kDouble).device(at::kCUDA));
  at::Tensor view = buffer.slice(1, 0, 8, 2);
  view.copy_(values_of(comm.rank(), 3, 4));
  all_reduce_staged(comm, view);
  EXPECT_TRUE(at::equal(view.cpu(), expected_sum(comm.size(), 3, 4)));
  const at::Tensor gaps = buffer.slice(1, 1, 8, 2).cpu();
  EXPECT_TRUE(at::equal(gaps, at::full_like(gaps, -100.0)));
}

}  // namespace
}  // namespace revive::sharding
