#pragma once
// What `revive stats`, `revive basis` and `revive edit` share: the model on the
// process grid, the edited layers (from a preset or --layers/--module), layer
// statistics and protected bases, each cached under --cache-dir so the commands
// can run separately or together.
#include <boost/program_options.hpp>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "lib/edit/run/layer_statistics.h"
#include "lib/edit/presets.h"
#include "lib/model/tokenizer.h"
#include "lib/model/transformer.h"
#include "lib/spectral/protected_basis.h"
#include "sharding/comm/comm_runtime.h"
#include "sharding/process_grid.h"

namespace revive::cli {

namespace po = boost::program_options;

// --model, --preset, --layers, --module, --cache-dir
po::options_description edit_model_options();
// --stats-corpus, --stats-split, --stats-samples, --stats-max-length, --stats-batch
po::options_description statistics_options();
// --tau, --rank, --svd-engine
po::options_description basis_options();
// The protected bases' SVD options from them (a bad value names its option).
spectral::SvdOptions basis_svd_options(const po::variables_map& vm);

struct EditSession {
  EditSession(const po::variables_map& vm, sharding::CommRuntime& rt);

  sharding::ProcessGrid grid;
  std::string model_folder;
  std::string cache_dir;
  std::string fingerprint;      // of the checkpoint files (cache key)
  model::Tokenizer tokenizer;
  std::unique_ptr<model::Transformer> model;
  edit::EditPreset preset;      // the chosen preset with --layers/--module applied
  std::vector<int64_t> layers;
  std::string module;           // block-relative ("mlp.down_proj")
  std::vector<std::string> names;  // full weight names of the edited layers

  bool leader() const { return grid.world().rank() == 0; }
  // Prints on world rank 0 (stderr: progress never mixes with --json output).
  void say(const std::string& line) const;

  // Statistics of every edited layer (cached under cache_dir).
  std::map<std::string, edit::LayerStatistics> statistics(const po::variables_map& vm);
  // Protected basis of every edited layer's ORIGINAL weight (cached; the cache
  // file is checked against the weight's checksum on load).
  std::map<std::string, std::unique_ptr<spectral::ProtectedBasis>> bases(const spectral::SvdOptions& svd);
};

}  // namespace revive::cli
