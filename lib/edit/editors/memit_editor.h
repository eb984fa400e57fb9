#pragma once
// MEMIT (Meng et al., "Mass-Editing Memory in a Transformer", ICLR 2023), the
// per-layer closed form (memit_main.py):
//
//     dW = R K^T (lambda C + K K^T)^{-1},      lambda = mom2_update_weight,
//
// with C = E[k k^T] over the statistics corpus, K the batch's keys (d_in x n) and
// R this layer's residual share (spread_residual). Factored as dW = R X^T with
//     X = (lambda C + K K^T)^{-1} K          (d_in x n; the operator is symmetric),
// solved by Cholesky in f64 (LU fallback), never by an explicit inverse.
//
// MEMIT with key memory ("memit-seq", the AlphaEdit repository's MEMIT_seq):
//     X = (lambda C + K_p K_p^T + K K^T)^{-1} K,
// K_p the keys of every past batch (KeyCache), so that later batches keep the
// earlier edits' keys mapped as they were written.
#include <ATen/core/Tensor.h>

#include <map>
#include <string>

#include "lib/edit/editors/editor.h"
#include "lib/edit/editors/key_cache.h"
#include "lib/edit/editors/linear_solve.h"

namespace revive::edit {

struct MemitOptions {
  // Published: 15000 (GPT-J, Llama-3-8B), 20000 (GPT2-XL); see presets.h.
  double mom2_update_weight = 15000.0;
  bool key_memory = false;  // memit-seq: past batches' keys join the solve
};

// X = (lambda C + past + K K^T)^{-1} K in f64, `past` = K_p K_p^T or undefined
// (none); `what` names the solve in errors.
at::Tensor memit_solve(const at::Tensor& second_moment, const at::Tensor& keys, double mom2_update_weight,
                       const std::string& what, SolveMethod* used = nullptr, const at::Tensor& past = {});

class MemitEditor : public FactoredEditor {
 public:
  explicit MemitEditor(MemitOptions opts = {});

  std::string name() const override { return opts_.key_memory ? "MEMIT-seq" : "MEMIT"; }
  void set_statistics(const std::string& layer, const at::Tensor& second_moment) override;
  bool has_layer(const std::string& layer) const override { return c_.count(layer) != 0; }
  at::Tensor solve_keys(const std::string& layer, const at::Tensor& keys) override;
  void record_keys(const std::string& layer, const at::Tensor& keys) override;
  bool records_keys() const override { return opts_.key_memory; }
  std::map<std::string, at::Tensor> state() const override { return cache_.state(); }
  void load_state(const std::map<std::string, at::Tensor>& state) override { cache_.load_state(state); }

  const MemitOptions& options() const { return opts_; }
  // Which factorisation the last solve used (Cholesky unless A was not SPD).
  SolveMethod last_method() const { return last_method_; }

 private:
  MemitOptions opts_;
  std::map<std::string, at::Tensor> c_;
  KeyCache cache_{"MEMIT-seq"};  // layers registered only with key_memory
  SolveMethod last_method_ = SolveMethod::kCholesky;
};

}  // namespace revive::edit
