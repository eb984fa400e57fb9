#pragma once
// A `revive` subcommand: its option description and its entry point. Each lives
// in its own cmd_<name>.cpp and registers itself with REVIVE_REGISTER_COMMAND,
// so adding a command touches no shared list.
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

// Every registered command, sorted by name.
const std::vector<Command>& commands();

// Registration at static-initialisation time (the cmd_*.cpp files are linked
// into the executable directly, so their registrars always run).
struct CommandRegistrar {
  explicit CommandRegistrar(Command (*make)());
};
#define REVIVE_REGISTER_COMMAND(make_fn) \
  static const ::revive::cli::CommandRegistrar revive_command_registrar_##make_fn(&make_fn)

}  // namespace revive::cli
