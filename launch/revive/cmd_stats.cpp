// `revive stats`: layer statistics E[k k^T] of the edited layers over a corpus,
// split over dp, cached under --cache-dir (and resumable) for later edit runs.
#include <nlohmann/json.hpp>

#include <iostream>

#include "launch/revive/command.h"
#include "launch/revive/common_options.h"
#include "launch/revive/edit_session.h"

namespace revive::cli {

Command stats_command() {
  Command c;
  c.name = "stats";
  c.summary = "compute (or reuse) the layer statistics E[k k^T] of the edited layers";
  c.add_options = [](po::options_description& d) {
    d.add(edit_model_options()).add(statistics_options()).add(grid_options()).add(device_options()).add(output_options());
  };
  c.run = [](const po::variables_map& vm, sharding::CommRuntime& rt) {
    EditSession s(vm, rt);
    const auto stats = s.statistics(vm);
    if (s.leader() && is_on(vm, "json")) {
      nlohmann::json j;
      j["command"] = "stats";
      j["model"] = s.model_folder;
      for (const auto& [name, st] : stats) {
        j["layers"][name] = {{"tokens", st.tokens},
                             {"documents", st.documents},
                             {"cached", st.from_cache},
                             {"file", st.cache_file},
                             {"trace", st.second_moment.trace().item<double>()}};
      }
      std::cout << j.dump() << std::endl;
    }
    return 0;
  };
  return c;
}

REVIVE_REGISTER_COMMAND(stats_command);

}  // namespace revive::cli
