// `revive info`: what this build is and how the process grid came out.
#include <nlohmann/json.hpp>

#include <iostream>

#include "launch/revive/command.h"
#include "launch/revive/common_options.h"
#include "lib/version.h"

namespace revive::cli {

Command info_command() {
  Command c;
  c.name = "info";
  c.summary = "print the build configuration and this run's process grid";
  // Its output is JSON either way; --json (and --config) are accepted like every command's.
  c.add_options = [](po::options_description& d) { d.add(grid_options()).add(output_options()); };
  c.run = [](const po::variables_map& vm, sharding::CommRuntime& rt) {
    sharding::ProcessGrid grid(rt.world(), grid_spec(vm));
    nlohmann::json j;
    j["build"] = nlohmann::json::parse(build_info_json());
    j["backend"] = sharding::to_string(rt.backend());
    j["world_rank"] = grid.world().rank();
    j["world_size"] = grid.world().size();
    j["tp_rank"] = grid.tp_rank();
    j["tp_size"] = grid.tp_size();
    j["dp_rank"] = grid.dp_rank();
    j["dp_size"] = grid.dp_size();
    // One line per rank, in rank order.
    for (int r = 0; r < grid.world().size(); ++r) {
      grid.world().barrier();
      if (r == grid.world().rank()) std::cout << j.dump() << std::endl;
    }
    return 0;
  };
  return c;
}

REVIVE_REGISTER_COMMAND(info_command);

}  // namespace revive::cli
