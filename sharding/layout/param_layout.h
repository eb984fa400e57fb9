#pragma once
// Shard layouts per architecture: for each HF checkpoint tensor name, how the
// tensor is stored and how tensor parallelism splits it.
//
// Layouts are stated for the HF nn.Linear convention W = [out, in] (Y = X W^T):
//  - column-parallel (rows split): q/k/v_proj, gate/up_proj; GPT-2 c_attn, c_fc
//    (and their biases);
//  - row-parallel (columns split): o_proj, down_proj; GPT-2 attn.c_proj,
//    mlp.c_proj (their biases are replicated: added once after the reduction);
//  - vocab-parallel: embed_tokens, lm_head, GPT-2 wte;
//  - replicated: norms, GPT-2 wpe and LayerNorm weights/biases.
//
// Granule: attention projections are split by whole heads, never by raw rows.
// q and o_proj are cut at multiples of head_dim over num_heads heads, k and v
// over num_kv_heads heads (GQA), so tp must divide both head counts; otherwise
// shard_spec() throws naming the tensor and the head count. Given that, the
// head-aligned split coincides with shard_range()'s balanced split, so these
// shards are ordinary ShardSpecs. Granule-1 splits (MLP, vocabulary) may be
// uneven.
//
// GPT-2 Conv1D weights are stored [in, out]; `transpose` says so, and loading
// returns them as [out, in] like every other weight. GPT-2's c_attn fuses
// q|k|v along `out` (stored [E, 3E], bias [3E]): `parts` = 3, and the loader
// returns three logical tensors q, k, v of [E, E] (bias [E]), each split by
// heads on its own - a plain row split of the fused [3E, E] would give rank 0
// all of q and none of v.
#include <optional>
#include <string>
#include <vector>

#include "sharding/layout/model_dims.h"
#include "sharding/sharded_tensor.h"

namespace revive::sharding {

struct ParamLayout {
  Layout layout = Layout::kReplicated;   // of each logical part, in [out, in] terms
  int64_t granule = 1;                   // the split dim is cut only at multiples of this
  std::string granule_name;              // what a granule is ("q heads", "kv heads"), for errors
  bool transpose = false;                // stored [in, out] (GPT-2 Conv1D)
  int64_t parts = 1;                     // equal logical tensors fused along out (c_attn: 3)
  std::vector<int64_t> stored_shape;     // shape in the checkpoint, from the config

  // Shape of one logical part in [out, in] terms (bias: [out]).
  std::vector<int64_t> part_shape() const;
  // This rank's ShardSpec of one part; throws revive::Error when tp_size does
  // not divide the granule count along the split dim.
  ShardSpec shard_spec(const std::string& name, int tp_rank, int tp_size) const;
};

// The layout of checkpoint tensor `name`, or nullopt (with the reason in
// `why`) for a name that is not a parameter of this architecture/size
// (unknown module, layer index past num_layers). Accepts GPT-2 names with or
// without the "transformer." prefix.
std::optional<ParamLayout> find_param_layout(const std::string& name, const ModelDims& dims,
                                             std::string* why = nullptr);
// As find_param_layout, throwing revive::Error for an unknown name.
ParamLayout param_layout(const std::string& name, const ModelDims& dims);

// The decoder block a checkpoint tensor belongs to in `arch`'s naming
// ("model.layers.N." / "transformer.h.N." or "h.N."), or nullopt for a tensor
// outside the blocks. Unlike find_param_layout it ignores num_layers, so a
// loader can tell a checkpoint holding more blocks than its config declares.
std::optional<int64_t> block_index(const std::string& name, Arch arch);

// Entries some checkpoints carry that are buffers, not parameters (rotary
// inv_freq, GPT-2's attn.bias / attn.masked_bias causal masks): skip them.
bool is_non_parameter_buffer(const std::string& name);

// Every parameter name of the architecture, in HF order (tied embeddings: no
// lm_head.weight; q/k/v biases only with `attention_bias`, as Qwen2).
struct ParamNameOptions {
  bool tie_word_embeddings = false;
  bool attention_bias = false;       // q/k/v biases (Llama family)
  bool attention_out_bias = false;   // o_proj bias (Llama with attention_bias)
  bool mlp_bias = false;             // gate/up/down biases (Llama mlp_bias)
};
std::vector<std::string> parameter_names(const ModelDims& dims, const ParamNameOptions& opts = {});

}  // namespace revive::sharding
