#include "lib/model/model_loader.h"

#include "lib/model/config.h"
#include "lib/model/weight_source.h"

namespace revive::model {

std::unique_ptr<Transformer> load_model(const std::string& folder, sharding::Communicator& tp,
                                        const LoadOptions& opts) {
  ModelConfig config = load_config(folder);
  CheckpointWeightSource weights(folder, model_dims(config), opts.dtype, opts.device);
  return std::make_unique<Transformer>(std::move(config), weights, tp);
}

}  // namespace revive::model
