#include "sharding/process_grid.h"

#include <cstdlib>
#include <string>

#include "sharding/env.h"
#include "sharding/errors.h"

namespace revive::sharding {
namespace {

int env_int(const char* name) {
  const char* s = std::getenv(name);
  if (!s || !*s) return 0;
  char* end = nullptr;
  const long v = std::strtol(s, &end, 10);
  if (*end != '\0' || v <= 0) {
    throw Error(std::string("environment variable ") + name + "='" + s + "' is not a positive integer");
  }
  return static_cast<int>(v);
}

}  // namespace

GridSpec resolve_grid(GridSpec g, int world) {
  if (g.tp < 0 || g.dp < 0) throw Error("grid sizes must be positive (tp " + std::to_string(g.tp) + ", dp " + std::to_string(g.dp) + ")");
  if (g.tp == 0) g.tp = env_int(env::kTensorParallel);
  if (g.dp == 0) g.dp = env_int(env::kDataParallel);
  if (g.tp == 0 && g.dp == 0) g.tp = world, g.dp = 1;  // editing default: all ranks shard the model
  else if (g.tp == 0 && world % g.dp == 0) g.tp = world / g.dp;
  else if (g.dp == 0 && world % g.tp == 0) g.dp = world / g.tp;
  if (g.tp <= 0 || g.dp <= 0 || g.tp * g.dp != world) {
    throw Error("world size " + std::to_string(world) + " is not dp x tp (dp " + std::to_string(g.dp) +
                ", tp " + std::to_string(g.tp) + "); set --tp/--dp or REVIVE_TP/REVIVE_DP so that dp * tp = " +
                std::to_string(world));
  }
  return g;
}

ProcessGrid::ProcessGrid(std::unique_ptr<Communicator> world, GridSpec spec)
    : world_(std::move(world)), spec_(resolve_grid(spec, world_->size())) {
  const int r = world_->rank();
  tp_ = world_->split(/*color=*/r / spec_.tp, /*key=*/r % spec_.tp, "tp");
  dp_ = world_->split(/*color=*/r % spec_.tp, /*key=*/r / spec_.tp, "dp");
}

}  // namespace revive::sharding
