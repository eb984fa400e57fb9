#pragma once
// K_p K_p^T of every past batch, one d_in x d_in matrix per edited layer (fixed
// memory however many edits): the memory of AlphaEdit and NSE, which keep later
// updates from overwriting earlier edits. Saved and restored with the runner's
// checkpoints as "key_cache/<layer>".
#include <ATen/core/Tensor.h>
#include <c10/core/TensorOptions.h>

#include <map>
#include <string>

namespace revive::edit {

class KeyCache {
 public:
  // `editor` names the owner in errors.
  explicit KeyCache(std::string editor) : editor_(std::move(editor)) {}

  // A zero d x d cache for `layer` (replacing any), with `options` (dtype and
  // device: those of the editor's operators for the layer).
  void add_layer(const std::string& layer, int64_t d, const at::TensorOptions& options);
  // cache += K K^T for keys K (d x n); throws for an unknown layer or wrong d.
  void record(const std::string& layer, const at::Tensor& keys);
  const at::Tensor& get(const std::string& layer) const;

  std::map<std::string, at::Tensor> state() const;
  // Entries must be "key_cache/<layer>" of registered layers with matching shapes.
  void load_state(const std::map<std::string, at::Tensor>& state);

 private:
  at::Tensor& slot(const std::string& layer);

  std::string editor_;
  std::map<std::string, at::Tensor> cache_;
};

}  // namespace revive::edit
