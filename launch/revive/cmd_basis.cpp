// `revive basis`: the protected singular subspace of each edited layer's
// original weight (distributed SVD over the tp shards), cached for edit runs.
#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <iostream>

#include "launch/revive/command.h"
#include "launch/revive/common_options.h"
#include "launch/revive/edit_session.h"

namespace revive::cli {

Command basis_command() {
  Command c;
  c.name = "basis";
  c.summary = "compute (or reuse) the protected bases U_k, V_k of the edited layers";
  c.add_options = [](po::options_description& d) {
    d.add(edit_model_options()).add(basis_options()).add(grid_options()).add(device_options()).add(output_options());
  };
  c.run = [](const po::variables_map& vm, sharding::CommRuntime& rt) {
    EditSession s(vm, rt);
    const auto bases = s.bases(basis_svd_options(vm));
    if (s.leader() && is_on(vm, "json")) {
      nlohmann::json j;
      j["command"] = "basis";
      j["model"] = s.model_folder;
      for (const auto& [name, b] : bases) {
        const double top = b->s().pow(2).sum().item<double>();
        j["layers"][name] = {{"k", b->k()},
                             {"tau", b->tau()},
                             {"energy_share", b->frobenius_sq() > 0 ? top / b->frobenius_sq() : 0.0},
                             {"s1", b->k() > 0 ? b->s()[0].item<double>() : 0.0}};
      }
      std::cout << j.dump() << std::endl;
    }
    return 0;
  };
  return c;
}

REVIVE_REGISTER_COMMAND(basis_command);

}  // namespace revive::cli
