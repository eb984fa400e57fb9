#pragma once
// ProcessGrid: world = dp x tp. Tensor-parallel groups are runs of tp consecutive
// ranks (one node's GPUs); data-parallel groups take one rank from each tp group
// (stride tp, across nodes). Built once in main() and passed by reference: there
// is no global parallel state.
#include <memory>

#include "sharding/comm/communicator.h"

namespace revive::sharding {

struct GridSpec {
  int tp = 0;  // 0: from REVIVE_TP, else world / dp
  int dp = 0;  // 0: from REVIVE_DP, else world / tp
};

// Fills unset sizes from REVIVE_TP / REVIVE_DP and the world size; throws
// revive::Error with both numbers when world != dp x tp.
GridSpec resolve_grid(GridSpec requested, int world_size);

class ProcessGrid {
 public:
  ProcessGrid(std::unique_ptr<Communicator> world, GridSpec spec = {});

  Communicator& world() const { return *world_; }
  Communicator& tp() const { return *tp_; }
  Communicator& dp() const { return *dp_; }

  int tp_size() const { return spec_.tp; }
  int dp_size() const { return spec_.dp; }
  int tp_rank() const { return world_->rank() % spec_.tp; }
  int dp_rank() const { return world_->rank() / spec_.tp; }
  // GPU index for this rank on its node: its place in the tp group.
  int local_device() const { return tp_rank(); }

 private:
  std::unique_ptr<Communicator> world_, tp_, dp_;
  GridSpec spec_;
};

}  // namespace revive::sharding
