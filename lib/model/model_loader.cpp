#include "lib/model/model_loader.h"

#include "lib/model/config.h"
#include "lib/model/weight_source.h"
#include "sharding/checkpoint/safetensors.h"
#include "sharding/layout/param_layout.h"
#include "sharding/errors.h"

namespace revive::model {

std::unique_ptr<Transformer> load_model(const std::string& folder, sharding::Communicator& tp,
                                        const LoadOptions& opts) {
  ModelConfig config = load_config(folder);
  const sharding::ModelDims dims = model_dims(config);
  CheckpointWeightSource weights(folder, dims, opts.dtype, opts.device);
  // Blocks past the config's count would be dropped without a word.
  for (const std::string& name : weights.reader().names()) {
    const std::optional<int64_t> block = sharding::block_index(name, dims.arch);
    if (block && *block >= config.num_layers) {
      const char* field = config.family == Family::kGpt2 ? "n_layer" : "num_hidden_layers";
      throw InputError(folder + "/config.json", field,
                       std::to_string(config.num_layers) + " blocks, but the checkpoint holds '" + name + "'");
    }
  }
  return std::make_unique<Transformer>(std::move(config), weights, tp);
}

}  // namespace revive::model
