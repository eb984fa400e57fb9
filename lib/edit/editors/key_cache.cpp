#include "lib/edit/editors/key_cache.h"

#include <ATen/ATen.h>

#include "lib/edit/editors/editor.h"
#include "sharding/errors.h"

namespace revive::edit {
namespace {
const std::string kKeyCachePrefix = "key_cache/";
}  // namespace

void KeyCache::add_layer(const std::string& layer, int64_t d, const at::TensorOptions& options) {
  cache_[layer] = at::zeros({d, d}, options);
}

void KeyCache::record(const std::string& layer, const at::Tensor& keys) {
  at::Tensor& cache = slot(layer);
  check_keys(editor_, layer, keys, cache.size(0));
  const at::Tensor k = keys.to(cache.device(), cache.scalar_type());
  cache.addmm_(k, k.t());
}

const at::Tensor& KeyCache::get(const std::string& layer) const { return find_operator(cache_, editor_, layer); }

at::Tensor& KeyCache::slot(const std::string& layer) {
  find_operator(cache_, editor_, layer);  // the error for an unknown layer
  return cache_.at(layer);
}

std::map<std::string, at::Tensor> KeyCache::state() const {
  std::map<std::string, at::Tensor> out;
  for (const auto& [layer, cache] : cache_) out[kKeyCachePrefix + layer] = cache;
  return out;
}

void KeyCache::load_state(const std::map<std::string, at::Tensor>& state) {
  for (const auto& [name_in_state, value] : state) {
    if (name_in_state.rfind(kKeyCachePrefix, 0) != 0) {
      throw Error(editor_ + ": unknown state entry '" + name_in_state + "'");
    }
    const std::string layer = name_in_state.substr(kKeyCachePrefix.size());
    at::Tensor& cache = slot(layer);
    if (value.sizes() != cache.sizes()) {
      throw Error(editor_ + ": key cache of layer '" + layer + "' has the wrong shape");
    }
    cache.copy_(value);
  }
}

}  // namespace revive::edit
