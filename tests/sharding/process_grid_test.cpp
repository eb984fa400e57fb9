#include "sharding/process_grid.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "sharding/comm/local_communicator.h"
#include "sharding/env.h"
#include "sharding/errors.h"

namespace revive::sharding {
namespace {

TEST(ResolveGrid, FillsUnsetSizes) {
  unsetenv(env::kTensorParallel);
  unsetenv(env::kDataParallel);
  EXPECT_EQ(resolve_grid({0, 0}, 8).tp, 8);
  EXPECT_EQ(resolve_grid({0, 0}, 8).dp, 1);
  EXPECT_EQ(resolve_grid({2, 0}, 8).dp, 4);
  EXPECT_EQ(resolve_grid({0, 4}, 8).tp, 2);
  EXPECT_EQ(resolve_grid({2, 4}, 8).tp, 2);
}

TEST(ResolveGrid, ReadsEnvironment) {
  setenv(env::kTensorParallel, "2", 1);
  EXPECT_EQ(resolve_grid({0, 0}, 6).dp, 3);
  EXPECT_EQ(resolve_grid({3, 0}, 6).tp, 3);  // the command line wins
  setenv(env::kTensorParallel, "two", 1);
  EXPECT_THROW(resolve_grid({0, 0}, 6), Error);
  unsetenv(env::kTensorParallel);
}

TEST(ResolveGrid, MismatchNamesBothNumbers) {
  unsetenv(env::kTensorParallel);
  unsetenv(env::kDataParallel);
  try {
    resolve_grid({3, 0}, 8);
    FAIL();
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("world size 8"), std::string::npos) << msg;
    EXPECT_NE(msg.find("tp 3"), std::string::npos) << msg;
  }
  EXPECT_THROW(resolve_grid({2, 2}, 8), Error);
  EXPECT_THROW(resolve_grid({-1, 0}, 8), Error);
}

TEST(ProcessGrid, SingleProcess) {
  ProcessGrid grid(std::make_unique<LocalCommunicator>(), GridSpec{1, 1});
  EXPECT_EQ(grid.tp().size(), 1);
  EXPECT_EQ(grid.dp().size(), 1);
  EXPECT_EQ(grid.local_device(), 0);
}

}  // namespace
}  // namespace revive::sharding
