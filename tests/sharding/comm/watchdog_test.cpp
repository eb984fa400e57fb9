// The run's phase, named by the watchdog when a job fails: markers nest and
// restore the outer phase; a process reports its own state to the peer probe.
#include <gtest/gtest.h>

#include "sharding/comm/watchdog.h"

namespace revive::sharding::watchdog {
namespace {

TEST(WatchdogPhase, NestsAndRestoresTheOuterPhase) {
  EXPECT_STREQ(current_phase(), "");
  {
    const Phase outer("evaluation");
    EXPECT_STREQ(current_phase(), "evaluation");
    {
      const Phase inner("v*");
      EXPECT_STREQ(current_phase(), "v*");
    }
    EXPECT_STREQ(current_phase(), "evaluation");
  }
  EXPECT_STREQ(current_phase(), "");
}

TEST(WatchdogPhase, NoPeersMeansNoneDeadOrStopped) {
  // Without install() there are no peers to probe; the texts say so.
  EXPECT_EQ(dead_peers(), "none found on this host");
  EXPECT_EQ(stopped_peers(), "none found on this host");
}

}  // namespace
}  // namespace revive::sharding::watchdog
