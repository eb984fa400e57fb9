#include "lib/model/rope.h"

#include <ATen/ATen.h>

#include <cmath>

#include "sharding/errors.h"

namespace revive::model {

at::Tensor rope_inv_freq(int64_t head_dim, double theta, const RopeScaling& s) {
  REVIVE_CHECK(head_dim > 0 && head_dim % 2 == 0, "rotary embedding needs an even head_dim");
  const auto f64 = at::TensorOptions().dtype(at::kDouble);
  at::Tensor inv_freq = at::pow(theta, -at::arange(0, head_dim, 2, f64) / static_cast<double>(head_dim));
  if (s.type.empty() || s.type == "default") return inv_freq;
  REVIVE_CHECK(s.type == "llama3", "unsupported rope_scaling type " + s.type);
  // Llama 3.1: long wavelengths are slowed by `factor`, short ones kept, and the
  // band between low_freq_wavelen and high_freq_wavelen interpolated smoothly.
  const double old_len = static_cast<double>(s.original_max_position_embeddings);
  const double low_freq_wavelen = old_len / s.low_freq_factor;
  const double high_freq_wavelen = old_len / s.high_freq_factor;
  const at::Tensor wavelen = 2.0 * M_PI / inv_freq;
  const at::Tensor scaled = at::where(wavelen > low_freq_wavelen, inv_freq / s.factor, inv_freq);
  const at::Tensor smooth = (old_len / wavelen - s.low_freq_factor) / (s.high_freq_factor - s.low_freq_factor);
  const at::Tensor smoothed = (1.0 - smooth) * scaled / s.factor + smooth * scaled;
  const at::Tensor medium = (wavelen >= high_freq_wavelen).logical_and(wavelen <= low_freq_wavelen);
  return at::where(medium, smoothed, scaled);
}

RotaryEmbedding::RotaryEmbedding(int64_t head_dim, double theta, const RopeScaling& scaling)
    : inv_freq_(rope_inv_freq(head_dim, theta, scaling)) {}

std::pair<at::Tensor, at::Tensor> RotaryEmbedding::cos_sin(const at::Tensor& positions,
                                                           at::ScalarType dtype) const {
  const at::Tensor inv = inv_freq_.to(positions.device());
  const at::Tensor angles = positions.to(at::kDouble).unsqueeze(-1) * inv;  // [B, T, d/2]
  const at::Tensor emb = at::cat({angles, angles}, -1).unsqueeze(1);        // [B, 1, T, d]
  return {emb.cos().to(dtype), emb.sin().to(dtype)};
}

at::Tensor apply_rotary(const at::Tensor& x, const at::Tensor& cos, const at::Tensor& sin) {
  const int64_t half = x.size(-1) / 2;
  const at::Tensor rotated = at::cat({-x.narrow(-1, half, half), x.narrow(-1, 0, half)}, -1);
  return x * cos + rotated * sin;
}

}  // namespace revive::model
