#pragma once
// Rotary position embedding, HF "rotate-half" form (Llama family):
//   inv_freq[i] = theta^(-2i/d), i < d/2   (llama3 rope_scaling rescales it)
//   x' = x * cos(p * f) + rotate_half(x) * sin(p * f),  f = [inv_freq, inv_freq],
//   rotate_half([x1, x2]) = [-x2, x1].
// Angles are computed in f64 and cast to the activations' dtype.
#include <ATen/core/Tensor.h>

#include <utility>

#include "lib/model/config.h"

namespace revive::model {

// The (possibly llama3-scaled) inverse frequencies, f64 [head_dim / 2].
at::Tensor rope_inv_freq(int64_t head_dim, double theta, const RopeScaling& scaling);

class RotaryEmbedding {
 public:
  RotaryEmbedding() = default;
  RotaryEmbedding(int64_t head_dim, double theta, const RopeScaling& scaling);

  // cos and sin for integer positions [B, T], shaped [B, 1, T, head_dim] to
  // broadcast over heads.
  std::pair<at::Tensor, at::Tensor> cos_sin(const at::Tensor& positions, at::ScalarType dtype) const;

 private:
  at::Tensor inv_freq_;
};

// x: [B, H, T, head_dim]; cos, sin from RotaryEmbedding::cos_sin.
at::Tensor apply_rotary(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin);

}  // namespace revive::model
