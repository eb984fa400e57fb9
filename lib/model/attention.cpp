#include "lib/model/attention.h"

#include <ATen/ATen.h>

#include <limits>

#include "sharding/errors.h"

namespace revive::model {

at::Tensor causal_mask(const at::Tensor& key_valid, int64_t num_queries) {
  const int64_t slots = key_valid.size(1);
  const int64_t past = slots - num_queries;
  REVIVE_CHECK(past >= 0, "causal_mask: more queries than key slots");
  const auto i64 = at::TensorOptions().dtype(at::kLong).device(key_valid.device());
  const at::Tensor query_slot = at::arange(past, slots, i64).unsqueeze(1);  // [T, 1]
  const at::Tensor key_slot = at::arange(0, slots, i64).unsqueeze(0);       // [1, S]
  const at::Tensor causal = key_slot <= query_slot;                         // [T, S]
  return causal.unsqueeze(0).logical_and(key_valid.to(at::kBool).unsqueeze(1)).unsqueeze(1);
}

at::Tensor masked_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                            const at::Tensor& allowed, double scale) {
  const int64_t heads = q.size(1), kv_heads = k.size(1);
  REVIVE_CHECK(kv_heads > 0 && heads % kv_heads == 0, "attention: q heads not a multiple of kv heads");
  at::Tensor kx = k, vx = v;
  if (heads != kv_heads) {
    kx = k.repeat_interleave(heads / kv_heads, 1);
    vx = v.repeat_interleave(heads / kv_heads, 1);
  }
  const at::ScalarType dtype = q.scalar_type();
  const at::ScalarType acc = (dtype == at::kDouble) ? at::kDouble : at::kFloat;
  at::Tensor scores = at::matmul(q.to(acc), kx.to(acc).transpose(-2, -1)) * scale;  // [B, H, T, S]
  scores = scores.masked_fill(allowed.logical_not(), std::numeric_limits<float>::lowest());
  const at::Tensor probs = at::softmax(scores, -1).to(dtype);
  const at::Tensor out = at::matmul(probs, vx);  // [B, H, T, d]
  return out.transpose(1, 2).reshape({q.size(0), q.size(2), heads * q.size(3)});
}

}  // namespace revive::model
