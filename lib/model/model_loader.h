#pragma once
// Loading a model from a Hugging Face folder: config.json, then the weights -
// each rank of the tp group reads only its own slices of the safetensors files.
#include <ATen/core/Tensor.h>

#include <memory>
#include <string>

#include "lib/model/transformer.h"

namespace revive::model {

struct LoadOptions {
  at::ScalarType dtype = at::kFloat;          // weights are converted to this on load
  c10::Device device = c10::Device(c10::kCPU);
};

std::unique_ptr<Transformer> load_model(const std::string& folder, sharding::Communicator& tp,
                                        const LoadOptions& opts = {});

}  // namespace revive::model
