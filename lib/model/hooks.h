#pragma once
// Hooks into one forward pass, for knowledge editing:
//  * capture_input: record the input of a module (e.g. layer L's mlp.down_proj)
//    at chosen token positions - the editing "keys";
//  * add_to_block_output: add a vector (typically a trainable leaf with
//    requires_grad) to the output of block L at chosen positions - the residual
//    delta optimised for the target "values". Gradients flow through the
//    tensor-parallel model; every rank holds the same delta and ends with the
//    same, complete gradient.
// Modules are named as in the HF checkpoint, relative to the block: Llama
// "self_attn.{q,k,v,o}_proj", "mlp.{gate,up,down}_proj"; GPT-2 "attn.c_attn",
// "attn.c_proj", "mlp.c_fc", "mlp.c_proj". Positions index the batch of the
// forward call (row, token index within this call).
#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

#include "sharding/comm/communicator.h"

namespace revive::model {

struct TokenPos {
  int64_t row = 0;
  int64_t pos = 0;
};

// A module input captured at n positions.
struct CapturedInput {
  int64_t layer = 0;
  std::string module;
  std::vector<TokenPos> at;
  // [n, d_local]. When `split` (the input of a row-parallel module, e.g.
  // down_proj / c_proj / o_proj), this rank holds its shard_range() slice of the
  // d features - the slice its weight shard's columns multiply; otherwise all d.
  at::Tensor local;
  bool split = false;
  sharding::Communicator* tp = nullptr;

  // [n, d] on every rank (an all-gather over tp when split).
  at::Tensor full() const;
};

class Hooks {
 public:
  // Registers a capture for the next forward; returns its index for captured().
  size_t capture_input(int64_t layer, std::string module, std::vector<TokenPos> at);
  // delta: [n, hidden] (one vector per position) or [hidden] (the same vector at
  // every position). Deltas at a repeated position add up.
  void add_to_block_output(int64_t layer, std::vector<TokenPos> at, at::Tensor delta);
  // Records the output of block `layer` at the given positions, BEFORE any delta
  // of that layer is added ([n, hidden], replicated; part of the autograd graph).
  // Returns its index for block_output().
  size_t capture_block_output(int64_t layer, std::vector<TokenPos> at);
  const at::Tensor& block_output(size_t index) const;

  const CapturedInput& captured(size_t index) const;
  size_t num_captures() const { return captures_.size(); }
  void clear();

  // --- called by the blocks during forward ---
  bool wants_input(int64_t layer, const std::string& module) const;
  void record_input(int64_t layer, const std::string& module, const at::Tensor& x, bool split,
                    sharding::Communicator& tp);
  // Records the block-output captures of `layer`, then returns h plus every
  // delta registered for `layer`.
  at::Tensor apply_block_deltas(int64_t layer, const at::Tensor& h);
  // Every registered layer/module must exist: `modules` are the block's names.
  void validate(int64_t num_layers, const std::vector<std::string>& modules) const;

 private:
  struct Delta {
    int64_t layer;
    std::vector<TokenPos> at;
    at::Tensor delta;
  };
  struct OutputCapture {
    int64_t layer;
    std::vector<TokenPos> at;
    at::Tensor value;
  };
  std::vector<CapturedInput> captures_;
  std::vector<Delta> deltas_;
  std::vector<OutputCapture> outputs_;
};

}  // namespace revive::model
