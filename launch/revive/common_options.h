#pragma once
// Option groups shared by several subcommands, defined once (grid, output).
#include <boost/program_options.hpp>

#include "sharding/comm/comm_runtime.h"
#include "sharding/process_grid.h"

namespace revive::cli {

namespace po = boost::program_options;

// --tp, --dp, --backend
po::options_description grid_options();
sharding::GridSpec grid_spec(const po::variables_map& vm);
sharding::Backend backend(const po::variables_map& vm);

// --json, --config
po::options_description output_options();

}  // namespace revive::cli
