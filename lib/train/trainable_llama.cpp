#include "lib/train/trainable_llama.h"

#include <ATen/ATen.h>
#include <torch/utils.h>

#include <cmath>
#include <map>

#include "lib/model/weight_source.h"
#include "sharding/checkpoint/safetensors.h"
#include "sharding/errors.h"
#include "sharding/layout/param_layout.h"

namespace revive::train {

namespace {

// Hands out the caller's tensors themselves as single-rank shards.
class TrainableLeafSource final : public model::WeightSource {
 public:
  TrainableLeafSource(const std::vector<std::pair<std::string, at::Tensor>>& params, sharding::ModelDims dims)
      : dims_(dims) {
    for (const auto& [name, t] : params) tensors_.emplace(name, t);
  }
  bool contains(const std::string& name) const override { return tensors_.count(name) > 0; }
  std::vector<sharding::ShardedTensor> load_parts(const std::string& name,
                                                  sharding::Communicator& tp) override {
    REVIVE_CHECK(tp.size() == 1, "TrainableLlama: training runs on a tensor-parallel group of one");
    auto it = tensors_.find(name);
    if (it == tensors_.end()) throw Error("TrainableLlama: no weight " + name);
    const sharding::ParamLayout layout = sharding::param_layout(name, dims_);
    REVIVE_CHECK(layout.parts == 1 && !layout.transpose,
                 "TrainableLlama: " + name + " is not a plain weight");
    std::vector<sharding::ShardedTensor> out;
    out.emplace_back(it->second, layout.shard_spec(name, tp.rank(), tp.size()), tp);
    return out;
  }

 private:
  std::map<std::string, at::Tensor> tensors_;
  sharding::ModelDims dims_;
};

bool trainable_ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

TrainableLlama::TrainableLlama(model::ModelConfig config, uint64_t seed, sharding::Communicator& tp) {
  REVIVE_CHECK(config.family == model::Family::kLlama,
               "TrainableLlama: only the Llama family is trainable here");
  REVIVE_CHECK(!config.tie_word_embeddings, "TrainableLlama: tied embeddings are not supported");
  const sharding::ModelDims dims = model::model_dims(config);
  sharding::ParamNameOptions names_opts;
  names_opts.attention_bias = config.attention_bias;
  names_opts.attention_out_bias = config.attention_out_bias;
  names_opts.mlp_bias = config.mlp_bias;

  torch::manual_seed(seed);
  const double std_dev = 0.02;
  const double residual_std = std_dev / std::sqrt(2.0 * static_cast<double>(config.num_layers));
  for (const std::string& name : sharding::parameter_names(dims, names_opts)) {
    const sharding::ParamLayout layout = sharding::param_layout(name, dims);
    const std::vector<int64_t> shape = layout.part_shape();
    at::Tensor t;
    if (trainable_ends_with(name, "norm.weight") || trainable_ends_with(name, "layernorm.weight")) {
      t = at::ones(shape, at::kFloat);
    } else if (trainable_ends_with(name, ".bias")) {
      t = at::zeros(shape, at::kFloat);
    } else {
      const bool residual =
          trainable_ends_with(name, "o_proj.weight") || trainable_ends_with(name, "down_proj.weight");
      t = at::randn(shape, at::kFloat) * (residual ? residual_std : std_dev);
    }
    t.set_requires_grad(true);
    params_.emplace_back(name, t);
  }
  TrainableLeafSource source(params_, dims);
  model_ = std::make_unique<model::Transformer>(std::move(config), source, tp);
}

TrainableLlama::~TrainableLlama() = default;

int64_t TrainableLlama::num_parameters() const {
  int64_t n = 0;
  for (const auto& p : params_) n += p.second.numel();
  return n;
}

void TrainableLlama::save_weights(const std::string& folder) const {
  sharding::NamedTensors tensors;
  tensors.reserve(params_.size());
  for (const auto& [name, t] : params_) tensors.emplace_back(name, t.detach().contiguous().clone());
  sharding::write_checkpoint(folder, tensors, 0, {{"producer", "revive train-toy"}});
}

}  // namespace revive::train
