#include "launch/revive/common_options.h"

namespace revive::cli {

po::options_description grid_options() {
  po::options_description d("Process grid");
  d.add_options()
      ("tp", po::value<int>()->default_value(0), "tensor-parallel size (0: REVIVE_TP, else world/dp)")
      ("dp", po::value<int>()->default_value(0), "data-parallel size (0: REVIVE_DP, else world/tp)")
      ("backend", po::value<std::string>()->default_value("auto"), "communication backend: auto, local, mpi, nccl");
  return d;
}

sharding::GridSpec grid_spec(const po::variables_map& vm) {
  return {vm["tp"].as<int>(), vm["dp"].as<int>()};
}

sharding::Backend backend(const po::variables_map& vm) {
  return sharding::parse_backend(vm["backend"].as<std::string>());
}

po::options_description output_options() {
  po::options_description d("Output");
  d.add_options()
      ("json", "print one JSON object of results at the end")
      ("config", po::value<std::string>(), "read further options from this INI-style file (key = value)");
  return d;
}

}  // namespace revive::cli
