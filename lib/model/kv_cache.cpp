#include "lib/model/kv_cache.h"

#include <ATen/ATen.h>

#include "sharding/errors.h"

namespace revive::model {

std::pair<at::Tensor, at::Tensor> KvCache::append(int64_t layer, const at::Tensor& k, const at::Tensor& v) {
  REVIVE_CHECK(layer >= 0, "KvCache: negative layer");
  if (static_cast<size_t>(layer) >= k_.size()) {
    k_.resize(static_cast<size_t>(layer) + 1);
    v_.resize(static_cast<size_t>(layer) + 1);
  }
  at::Tensor& kc = k_[static_cast<size_t>(layer)];
  at::Tensor& vc = v_[static_cast<size_t>(layer)];
  if (kc.defined()) {
    REVIVE_CHECK(kc.size(0) == k.size(0), "KvCache: batch size changed between calls");
    kc = at::cat({kc, k}, 2);
    vc = at::cat({vc, v}, 2);
  } else {
    kc = k;
    vc = v;
  }
  return {kc, vc};
}

void KvCache::commit(at::Tensor key_valid, at::Tensor next_position) {
  valid_ = std::move(key_valid);
  next_pos_ = std::move(next_position);
}

void KvCache::clear() {
  k_.clear();
  v_.clear();
  valid_ = at::Tensor();
  next_pos_ = at::Tensor();
}

}  // namespace revive::model
