// main() of every multi-rank test binary: starts MPI, hands the world
// communicator to the tests, prints the full report on rank 0 and only failures
// elsewhere, and makes every rank exit non-zero if any rank failed.
#include <gtest/gtest.h>

#include <ATen/ATen.h>

#include <iostream>

#include "sharding/comm/comm_runtime.h"
#include "tests/support/test_world.h"

namespace {

// Non-root ranks report only what failed, prefixed by their rank.
class RankFailurePrinter : public ::testing::EmptyTestEventListener {
 public:
  explicit RankFailurePrinter(int rank) : rank_(rank) {}
  void OnTestPartResult(const ::testing::TestPartResult& r) override {
    if (!r.failed()) return;
    std::cerr << "[rank " << rank_ << "] " << (r.file_name() ? r.file_name() : "?") << ":" << r.line_number()
              << ": Failure\n" << r.summary() << std::endl;
  }

 private:
  int rank_;
};

}  // namespace

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  revive::sharding::CommRuntime runtime(revive::sharding::Backend::kMpi, &argc, &argv);
  int failed = 0;
  {
    auto world = runtime.world();
    revive::testing::set_world(&runtime, world.get());
    if (world->rank() != 0) {
      auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
      delete listeners.Release(listeners.default_result_printer());
      listeners.Append(new RankFailurePrinter(world->rank()));
    }
    failed = RUN_ALL_TESTS() != 0 ? 1 : 0;
    // Every rank learns whether any rank failed.
    at::Tensor flag = at::full({1}, failed, at::kLong);
    world->all_reduce(flag, {revive::sharding::ReduceOp::kMax});
    failed = static_cast<int>(flag.item<int64_t>());
    if (world->rank() == 0) {
      std::cout << "[mpi] " << world->size() << " ranks: " << (failed ? "FAILED" : "passed") << std::endl;
    }
    revive::testing::set_world(nullptr, nullptr);
  }
  return failed;
}
