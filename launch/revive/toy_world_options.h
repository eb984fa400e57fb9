#pragma once
// The toy world's options, shared by `revive toy-world` and `revive toy-model`.
#include <boost/program_options.hpp>

#include "lib/data/toy_world.h"

namespace revive::cli {

// --seed, --subjects, --relations, --objects, --phrasings, --neighbors,
// --general-sentences, --held-out-sentences; `out_help` describes --out.
boost::program_options::options_description toy_world_options(const char* out_help, const char* seed_help);
data::ToyWorldOptions toy_world_options(const boost::program_options::variables_map& vm);

}  // namespace revive::cli
