#pragma once
// Option groups shared by several subcommands, defined once (grid, device, output).
#include <boost/program_options.hpp>

#include <string>

#include "lib/data/request_files.h"
#include "lib/model/model_loader.h"
#include "sharding/comm/comm_runtime.h"
#include "sharding/process_grid.h"

namespace revive::cli {

namespace po = boost::program_options;

// --tp, --dp, --backend
po::options_description grid_options();
sharding::GridSpec grid_spec(const po::variables_map& vm);
sharding::Backend backend(const po::variables_map& vm);

// --device
po::options_description device_options();
// How to load the model: f32 weights on the CPU, or on this rank's GPU. Rejects
// placements the backend cannot move: the CPU under NCCL, a GPU split over tp
// ranks under a host backend (its tensor-parallel collectives take host tensors).
model::LoadOptions load_options(const po::variables_map& vm, const sharding::CommRuntime& rt, int tp_size);

// --json, --config
po::options_description output_options();

// --request-format: the request files' format (auto: detected per file).
// --on-error reject|skip: what a malformed request record does. Skipped records
// are printed (stderr) with their file, index and field.
po::options_description request_options();
// Both as read options; the caller adds its limit (read.limit).
data::RequestFileOptions request_file_options(const po::variables_map& vm);
void report_skipped(const data::ReadResult& read, bool leader);

// An on/off option: `--name` on the command line, `name = true|false` (or
// yes/no, on/off, 1/0) in a --config file. A plain zero-token option would be
// on for any value a config file gives it (`json = false` printed JSON).
po::typed_value<bool>* on_off();

// A count option (declared as int64_t: a size_t option would read "-1" as
// 2^64 - 1, i.e. "all"); a negative value is an error naming the option.
size_t count_option(const po::variables_map& vm, const std::string& name);
bool is_on(const po::variables_map& vm, const std::string& name);

}  // namespace revive::cli
