// revive: sequential knowledge editing with spectral protection.
// main() stays thin: pick the subcommand, parse its options, start the
// communication runtime, run, and turn any error into a clear message.
#include <boost/program_options.hpp>

#include <algorithm>
#include <fstream>
#include <memory>
#include <iostream>

#include "launch/revive/command.h"
#include "launch/revive/common_options.h"
#include "lib/version.h"
#include "sharding/errors.h"

namespace po = boost::program_options;
using revive::cli::Command;

namespace {

void usage(std::ostream& os) {
  os << "usage: revive <command> [options]\n\ncommands:\n";
  for (const Command& c : revive::cli::commands()) os << "  " << c.name << "\t" << c.summary << "\n";
  os << "\n`revive <command> --help` lists a command's options; `revive --version` the build.\n";
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
    usage(std::cout);
    return argc < 2 ? 2 : 0;
  }
  if (std::string(argv[1]) == "--version") {
    std::cout << revive::build_info_json() << "\n";
    return 0;
  }
  const Command* cmd = nullptr;
  for (const Command& c : revive::cli::commands()) {
    if (c.name == argv[1]) cmd = &c;
  }
  if (!cmd) {
    std::cerr << "revive: unknown command '" << argv[1] << "'\n";
    usage(std::cerr);
    return 2;
  }

  po::options_description desc("revive " + cmd->name + ": " + cmd->summary);
  desc.add_options()("help,h", "show this help");
  cmd->add_options(desc);
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc - 1, argv + 1, desc), vm);
    if (vm.count("config")) {
      const std::string path = vm["config"].as<std::string>();
      std::ifstream in(path);
      if (!in) throw revive::Error(path + ": cannot open config file");
      try {
        po::parsed_options parsed = po::parse_config_file(in, desc);
        for (const po::option& o : parsed.options) {
          if (o.string_key == "config") throw revive::Error("'config' is not read from a config file (one --config per run)");
        }
        // An option given on the command line wins over the file's. (store()
        // would append the file's values to a multi-value option such as
        // --filter.)
        auto& opts = parsed.options;
        opts.erase(std::remove_if(opts.begin(), opts.end(),
                                  [&](const po::option& o) { return vm.count(o.string_key) && !vm[o.string_key].defaulted(); }),
                   opts.end());
        po::store(parsed, vm);
      } catch (const std::exception& e) {
        throw revive::Error(path + ": " + e.what());
      }
    }
    if (vm.count("help")) {
      std::cout << desc << "\n";
      return 0;
    }
    po::notify(vm);
  } catch (const std::exception& e) {
    std::cerr << "revive " << cmd->name << ": " << e.what() << "\n";
    return 2;
  }

  // The runtime outlives everything the command creates.
  std::unique_ptr<revive::sharding::CommRuntime> runtime;
  try {
    runtime = std::make_unique<revive::sharding::CommRuntime>(
        vm.count("backend") ? revive::cli::backend(vm) : revive::sharding::Backend::kAuto, &argc, &argv);
  } catch (const std::exception& e) {
    std::cerr << "revive " << cmd->name << ": " << e.what() << "\n";
    return 2;
  }
  try {
    return cmd->run(vm, *runtime);
  } catch (const std::exception& e) {
    // Abort the whole job so other ranks do not wait in a collective for us.
    runtime->abort(std::string("revive ") + cmd->name + ": error: " + e.what(), 1);
  }
}
