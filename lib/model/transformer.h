#pragma once
// Transformer: a decoder-only language model (Llama family or GPT-2) whose
// layers are tensor-parallel over a tp Communicator. Every rank of the tp group
// calls forward with the same inputs and gets the same (replicated) hidden
// states and full logits; weights stay sharded (Megatron layout).
//
// Inputs are batched and right-padded: attention_mask [B, T] marks real tokens
// (1) and padding (0); padding is never attended to and position ids count
// real tokens only. With a KvCache, successive calls continue the cached rows.
#include <ATen/core/Tensor.h>

#include <memory>
#include <string>
#include <vector>

#include "lib/model/block.h"
#include "lib/model/config.h"
#include "lib/model/rope.h"
#include "lib/model/weight_source.h"
#include "sharding/tp/column_parallel_linear.h"
#include "sharding/tp/vocab_parallel_embedding.h"

namespace revive::model {

class Hooks;
class KvCache;

struct ForwardOptions {
  at::Tensor attention_mask;  // [B, T] 0/1 (any integer or bool dtype); undefined: all real
  KvCache* cache = nullptr;   // continue / fill this cache
  Hooks* hooks = nullptr;     // captures and residual deltas for this pass
};

// A module inside a block: layer index and HF-relative name ("mlp.down_proj").
struct ModuleRef {
  int64_t layer = 0;
  std::string module;
};

class Transformer {
 public:
  // Builds the model from `weights` (each rank loads only its shards). The
  // communicator must outlive the model and every autograd graph it builds.
  Transformer(ModelConfig config, WeightSource& weights, sharding::Communicator& tp);
  ~Transformer();
  Transformer(const Transformer&) = delete;
  Transformer& operator=(const Transformer&) = delete;

  // Logits [B, T, vocab] (full vocabulary on every rank).
  at::Tensor forward(const at::Tensor& input_ids, const ForwardOptions& opts = {});
  // Final hidden states after the last norm, [B, T, hidden].
  at::Tensor hidden_states(const at::Tensor& input_ids, const ForwardOptions& opts = {});
  // LM head: hidden [..., hidden] -> logits [..., vocab].
  at::Tensor logits(const at::Tensor& hidden) const;
  // A pass in two parts, for passes that change only block `layer`'s output (v*
  // optimisation): stream_after runs blocks 0..layer and returns the residual
  // stream after block `layer`, [B, T, hidden] (opts.hooks' deltas applied);
  // hidden_after continues from such a stream (changed or not) through blocks
  // layer+1.. and the final norm, so logits(hidden_after(...)) equals forward.
  // The head is left to the caller so it can take it only at the positions it
  // reads ([B, T, vocab] logits dominate v*'s memory). Neither takes a KV cache,
  // and both need the same attention mask.
  at::Tensor stream_after(const at::Tensor& input_ids, int64_t layer, const ForwardOptions& opts = {});
  at::Tensor hidden_after(int64_t layer, const at::Tensor& stream, const ForwardOptions& opts = {});

  const ModelConfig& config() const { return config_; }
  sharding::Communicator& tp() const { return *tp_; }
  int64_t num_layers() const { return static_cast<int64_t>(blocks_.size()); }
  Block& block(int64_t layer);
  at::ScalarType dtype() const;
  // Where the weights live. Input ids and attention masks may come from anywhere
  // (the passes move them here); streams and hook deltas must already be here.
  c10::Device device() const;

  // "model.layers.3.mlp.down_proj" (or "transformer.h.3.mlp.c_proj"), with or
  // without ".weight" -> {3, "mlp.down_proj"}; throws for other names.
  ModuleRef parse_module(const std::string& name) const;
  // HF name of a module ("model.layers.3.mlp.down_proj").
  std::string module_name(const ModuleRef& ref) const;
  // The weight shard of a linear module, for editing in place.
  sharding::ShardedTensor& linear_weight(const std::string& name);

 private:
  // Blocks [begin, end) of one pass over a [B, T] batch: from the embedding of
  // `ids` when begin == 0, else from `h`, the stream after block begin - 1.
  // Returns the stream after block end - 1 (before the final norm).
  at::Tensor run_blocks(const at::Tensor& ids, at::Tensor h, int64_t begin, int64_t end, const ForwardOptions& opts);
  at::Tensor final_norm(const at::Tensor& h) const;

  ModelConfig config_;
  sharding::Communicator* tp_;
  sharding::VocabParallelEmbedding embed_;
  at::Tensor position_table_;       // GPT-2 wpe [max_positions, hidden]
  RotaryEmbedding rope_;            // Llama family
  std::vector<std::unique_ptr<Block>> blocks_;
  at::Tensor final_norm_w_, final_norm_b_;
  sharding::ColumnParallelLinear lm_head_;  // vocab-parallel, gathered
};

}  // namespace revive::model
