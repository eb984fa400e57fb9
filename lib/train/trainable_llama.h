#pragma once
// A Llama-family Transformer whose weights are trainable leaf tensors.
//
// The model is OUR runtime Transformer (lib/model), built from a WeightSource
// that hands it the very tensors held here (no copy): with a single-rank tp
// group a shard is the whole tensor, so the forward's autograd graph ends in
// these leaves, an optimizer updating them in place updates the model, and
// saving them writes exactly what load_model() reads back.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "lib/model/config.h"
#include "lib/model/transformer.h"
#include "sharding/comm/communicator.h"

namespace revive::train {

class TrainableLlama {
 public:
  // Fresh weights from `seed` (torch::manual_seed; normal(0, 0.02) matrices,
  // residual output projections scaled by 1/sqrt(2 num_layers), unit norms),
  // float32, requires_grad. `tp` must be a group of one and outlive this object.
  TrainableLlama(model::ModelConfig config, uint64_t seed, sharding::Communicator& tp);
  ~TrainableLlama();
  TrainableLlama(const TrainableLlama&) = delete;
  TrainableLlama& operator=(const TrainableLlama&) = delete;

  model::Transformer& model() { return *model_; }
  const model::ModelConfig& config() const { return model_->config(); }
  // Every weight with its HF name, in checkpoint order.
  const std::vector<std::pair<std::string, at::Tensor>>& named_parameters() const { return params_; }
  int64_t num_parameters() const;

  // Writes `<folder>/model.safetensors` (atomic) with detached copies of the weights.
  void save_weights(const std::string& folder) const;

 private:
  std::vector<std::pair<std::string, at::Tensor>> params_;
  std::unique_ptr<model::Transformer> model_;
};

}  // namespace revive::train
