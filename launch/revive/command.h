#pragma once
// A `revive` subcommand: its option description and its entry point. Each lives
// in its own cmd_<name>.cpp and registers itself in commands().
#include <boost/program_options.hpp>

#include <functional>
#include <string>
#include <vector>

#include "sharding/comm/comm_runtime.h"

namespace revive::cli {

namespace po = boost::program_options;

struct Command {
  std::string name;
  std::string summary;
  // Adds this command's options (common groups are added by the caller).
  std::function<void(po::options_description&)> add_options;
  // Runs with the parsed options; returns the process exit code.
  std::function<int(const po::variables_map&, sharding::CommRuntime&)> run;
};

const std::vector<Command>& commands();

}  // namespace revive::cli
