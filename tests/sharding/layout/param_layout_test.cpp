// Shard layouts per architecture: which layout, granule and stored shape each
// HF name gets, head-aligned splits under GQA, and the divisibility errors.
#include "sharding/layout/param_layout.h"

#include <gtest/gtest.h>

#include <set>

#include "sharding/errors.h"

namespace revive::sharding {
namespace {

ModelDims layout_llama_dims() {  // GQA: 8 q heads, 4 kv heads of 8, as stories260K
  ModelDims d;
  d.arch = Arch::kLlama;
  d.vocab_size = 512;
  d.hidden_size = 64;
  d.intermediate_size = 172;
  d.num_layers = 5;
  d.num_heads = 8;
  d.num_kv_heads = 4;
  d.head_dim = 8;
  d.max_positions = 512;
  return d;
}

ModelDims layout_gpt2_dims() {
  ModelDims d;
  d.arch = Arch::kGpt2;
  d.vocab_size = 50;
  d.hidden_size = 12;
  d.intermediate_size = 48;
  d.num_layers = 2;
  d.num_heads = 3;
  d.num_kv_heads = 3;
  d.head_dim = 4;
  d.max_positions = 16;
  return d;
}

using Shape = std::vector<int64_t>;

TEST(ParamLayoutTest, LlamaLayoutsAndStoredShapes) {
  const ModelDims d = layout_llama_dims();
  struct Case {
    const char* name;
    Layout layout;
    Shape shape;
    int64_t granule;
  };
  const Case cases[] = {
      {"model.embed_tokens.weight", Layout::kVocab, {512, 64}, 1},
      {"lm_head.weight", Layout::kVocab, {512, 64}, 1},
      {"model.norm.weight", Layout::kReplicated, {64}, 1},
      {"model.layers.4.input_layernorm.weight", Layout::kReplicated, {64}, 1},
      {"model.layers.0.post_attention_layernorm.weight", Layout::kReplicated, {64}, 1},
      {"model.layers.3.self_attn.q_proj.weight", Layout::kColumn, {64, 64}, 8},
      {"model.layers.3.self_attn.q_proj.bias", Layout::kColumn, {64}, 8},
      {"model.layers.3.self_attn.k_proj.weight", Layout::kColumn, {32, 64}, 8},
      {"model.layers.3.self_attn.v_proj.bias", Layout::kColumn, {32}, 8},
      {"model.layers.3.self_attn.o_proj.weight", Layout::kRow, {64, 64}, 8},
      {"model.layers.3.self_attn.o_proj.bias", Layout::kReplicated, {64}, 1},
      {"model.layers.3.mlp.gate_proj.weight", Layout::kColumn, {172, 64}, 1},
      {"model.layers.3.mlp.up_proj.weight", Layout::kColumn, {172, 64}, 1},
      {"model.layers.3.mlp.down_proj.weight", Layout::kRow, {64, 172}, 1},
      {"model.layers.3.mlp.down_proj.bias", Layout::kReplicated, {64}, 1},
  };
  for (const Case& c : cases) {
    const ParamLayout p = param_layout(c.name, d);
    EXPECT_EQ(p.layout, c.layout) << c.name;
    EXPECT_EQ(p.stored_shape, c.shape) << c.name;
    EXPECT_EQ(p.part_shape(), c.shape) << c.name;
    EXPECT_EQ(p.granule, c.granule) << c.name;
    EXPECT_FALSE(p.transpose) << c.name;
    EXPECT_EQ(p.parts, 1) << c.name;
  }
}

TEST(ParamLayoutTest, GqaSplitsByWholeHeads) {
  const ModelDims d = layout_llama_dims();
  const ParamLayout k = param_layout("model.layers.0.self_attn.k_proj.weight", d);
  const ParamLayout q = param_layout("model.layers.0.self_attn.q_proj.weight", d);
  const ParamLayout o = param_layout("model.layers.0.self_attn.o_proj.weight", d);
  for (int tp : {1, 2, 4}) {
    for (int r = 0; r < tp; ++r) {
      const ShardSpec ks = k.shard_spec("k", r, tp);
      EXPECT_EQ(ks.dim, 0);
      EXPECT_EQ(ks.length, 4 / tp * 8);  // kv heads per rank x head_dim
      EXPECT_EQ(ks.offset, r * (4 / tp) * 8);
      const ShardSpec qs = q.shard_spec("q", r, tp);
      EXPECT_EQ(qs.length, 8 / tp * 8);
      EXPECT_EQ(qs.offset % 8, 0);
      const ShardSpec os = o.shard_spec("o", r, tp);
      EXPECT_EQ(os.dim, 1);  // o_proj: its input columns are the q heads
      EXPECT_EQ(os.length, 8 / tp * 8);
    }
  }
  // 3 ranks cannot hold whole kv heads of 4 (nor q heads of 8); 8 ranks can
  // hold q heads but not kv heads.
  EXPECT_THROW(k.shard_spec("k", 0, 3), Error);
  EXPECT_THROW(q.shard_spec("q", 0, 3), Error);
  EXPECT_THROW(o.shard_spec("o", 0, 3), Error);
  EXPECT_NO_THROW(q.shard_spec("q", 7, 8));
  EXPECT_THROW(k.shard_spec("k", 7, 8), Error);
  try {
    k.shard_spec("model.layers.0.self_attn.k_proj.weight", 0, 3);
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("model.layers.0.self_attn.k_proj.weight"), std::string::npos) << msg;
    EXPECT_NE(msg.find("4 kv heads"), std::string::npos) << msg;
  }
  // Granule-1 splits may be uneven: intermediate 172 over 3 ranks.
  const ParamLayout up = param_layout("model.layers.0.mlp.up_proj.weight", d);
  EXPECT_EQ(up.shard_spec("up", 0, 3).length, 58);
  EXPECT_EQ(up.shard_spec("up", 2, 3).length, 57);
}

TEST(ParamLayoutTest, Gpt2Conv1DAndFusedQkv) {
  const ModelDims d = layout_gpt2_dims();
  for (const std::string prefix : {"transformer.", ""}) {
    const ParamLayout c_attn = param_layout(prefix + "h.1.attn.c_attn.weight", d);
    EXPECT_EQ(c_attn.layout, Layout::kColumn);
    EXPECT_TRUE(c_attn.transpose);
    EXPECT_EQ(c_attn.parts, 3);
    EXPECT_EQ(c_attn.stored_shape, (Shape{12, 36}));  // Conv1D [in, out] with out = q|k|v
    EXPECT_EQ(c_attn.part_shape(), (Shape{12, 12}));  // one of q, k, v as [out, in]
    EXPECT_EQ(c_attn.granule, 4);
    const ParamLayout bias = param_layout(prefix + "h.1.attn.c_attn.bias", d);
    EXPECT_EQ(bias.parts, 3);
    EXPECT_EQ(bias.part_shape(), (Shape{12}));
    const ParamLayout proj = param_layout(prefix + "h.0.attn.c_proj.weight", d);
    EXPECT_EQ(proj.layout, Layout::kRow);
    EXPECT_TRUE(proj.transpose);
    EXPECT_EQ(proj.granule, 4);
    const ParamLayout fc = param_layout(prefix + "h.0.mlp.c_fc.weight", d);
    EXPECT_EQ(fc.layout, Layout::kColumn);
    EXPECT_EQ(fc.stored_shape, (Shape{12, 48}));
    EXPECT_EQ(fc.part_shape(), (Shape{48, 12}));
    const ParamLayout down = param_layout(prefix + "h.0.mlp.c_proj.weight", d);
    EXPECT_EQ(down.layout, Layout::kRow);
    EXPECT_EQ(down.stored_shape, (Shape{48, 12}));
    EXPECT_EQ(down.part_shape(), (Shape{12, 48}));
    EXPECT_EQ(param_layout(prefix + "wte.weight", d).layout, Layout::kVocab);
    EXPECT_EQ(param_layout(prefix + "wpe.weight", d).stored_shape, (Shape{16, 12}));
    EXPECT_EQ(param_layout(prefix + "h.0.ln_2.bias", d).layout, Layout::kReplicated);
    EXPECT_EQ(param_layout(prefix + "h.0.mlp.c_proj.bias", d).layout, Layout::kReplicated);
    EXPECT_EQ(param_layout(prefix + "h.0.mlp.c_fc.bias", d).layout, Layout::kColumn);
  }
  // 3 heads: tp 2 cannot split c_attn or attn.c_proj by heads; tp 3 can.
  const ParamLayout c_attn = param_layout("transformer.h.0.attn.c_attn.weight", d);
  EXPECT_THROW(c_attn.shard_spec("c_attn", 0, 2), Error);
  EXPECT_EQ(c_attn.shard_spec("c_attn", 1, 3).offset, 4);
}

TEST(ParamLayoutTest, UnknownNamesAndLayersOutOfRange) {
  std::string why;
  EXPECT_FALSE(find_param_layout("model.layers.5.mlp.up_proj.weight", layout_llama_dims(), &why));
  EXPECT_NE(why.find("5 layers"), std::string::npos) << why;
  EXPECT_FALSE(find_param_layout("model.layers.x.mlp.up_proj.weight", layout_llama_dims(), &why));
  EXPECT_FALSE(find_param_layout("model.layers.0.mlp.fc.weight", layout_llama_dims(), &why));
  EXPECT_FALSE(find_param_layout("model.layers.99999999999999999999.mlp.up_proj.weight", layout_llama_dims(), &why));
  EXPECT_FALSE(find_param_layout("transformer.h.0.attn.c_attn.weight", layout_llama_dims(), &why));
  EXPECT_FALSE(find_param_layout("model.embed_tokens.weight", layout_gpt2_dims(), &why));
  EXPECT_FALSE(find_param_layout("transformer.h.2.ln_1.weight", layout_gpt2_dims(), &why));
  EXPECT_THROW(param_layout("nonsense", layout_llama_dims()), Error);
  EXPECT_TRUE(is_non_parameter_buffer("model.layers.0.self_attn.rotary_emb.inv_freq"));
  EXPECT_TRUE(is_non_parameter_buffer("transformer.h.0.attn.masked_bias"));
  EXPECT_TRUE(is_non_parameter_buffer("h.0.attn.bias"));
  EXPECT_FALSE(is_non_parameter_buffer("transformer.h.0.attn.c_attn.bias"));
}

// The block a name belongs to, whatever the config's layer count (a loader
// refuses checkpoints with blocks past it).
TEST(ParamLayoutTest, BlockIndexReadsEachArchitecturesNaming) {
  EXPECT_EQ(block_index("model.layers.7.mlp.up_proj.weight", Arch::kLlama), 7);
  EXPECT_EQ(block_index("model.layers.12.self_attn.rotary_emb.inv_freq", Arch::kLlama), 12);
  EXPECT_EQ(block_index("model.embed_tokens.weight", Arch::kLlama), std::nullopt);
  EXPECT_EQ(block_index("model.layers.x.mlp.up_proj.weight", Arch::kLlama), std::nullopt);
  EXPECT_EQ(block_index("h.3.attn.c_attn.weight", Arch::kLlama), std::nullopt);
  EXPECT_EQ(block_index("transformer.h.3.attn.c_attn.weight", Arch::kGpt2), 3);
  EXPECT_EQ(block_index("h.40.ln_1.bias", Arch::kGpt2), 40);
  EXPECT_EQ(block_index("transformer.wte.weight", Arch::kGpt2), std::nullopt);
  EXPECT_EQ(block_index("model.layers.0.mlp.up_proj.weight", Arch::kGpt2), std::nullopt);
}

TEST(ParamLayoutTest, ParameterNamesAllHaveLayouts) {
  ParamNameOptions qwen;
  qwen.attention_bias = true;
  const auto llama_tied = parameter_names(layout_llama_dims(), {true});
  EXPECT_EQ(llama_tied.size(), 1 + 5 * 9 + 1u);
  const auto llama_qwen = parameter_names(layout_llama_dims(), qwen);
  EXPECT_EQ(llama_qwen.size(), 1 + 5 * 12 + 2u);
  const auto gpt2 = parameter_names(layout_gpt2_dims(), {true});
  EXPECT_EQ(gpt2.size(), 2 + 2 * 12 + 2u);
  for (const auto* names : {&llama_tied, &llama_qwen}) {
    EXPECT_EQ(std::set<std::string>(names->begin(), names->end()).size(), names->size());
    for (const auto& n : *names) EXPECT_TRUE(find_param_layout(n, layout_llama_dims())) << n;
  }
  for (const auto& n : gpt2) EXPECT_TRUE(find_param_layout(n, layout_gpt2_dims())) << n;
}

}  // namespace
}  // namespace revive::sharding
