#pragma once
// Causal multi-head attention over this rank's heads (tensor parallelism splits
// whole heads: q heads and, for GQA, kv heads, so local q head j reads local kv
// head j / (H / H_kv) exactly as in the unsharded model).
#include <ATen/core/Tensor.h>

namespace revive::model {

// allowed[b, 0, i, j]: query i of this call (slot past + i, past = S - T) may
// attend key slot j - slot j holds a real token (key_valid [B, S]) and j <= past + i.
at::Tensor causal_mask(const at::Tensor& key_valid, int64_t num_queries);

// softmax(q k^T * scale, masked by `allowed`) v, with q [B, H, T, d], k and v
// [B, H_kv, S, d] (H a multiple of H_kv). Returns [B, T, H * d]. Scores and
// softmax run in at least f32. A query with no allowed key (a padding row with
// nothing before it) gets a uniform average instead of NaN.
at::Tensor masked_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                            const at::Tensor& allowed, double scale);

}  // namespace revive::model
