#include "lib/model/transformer.h"

#include <ATen/ATen.h>

#include "lib/model/attention.h"
#include "lib/model/gpt2_block.h"
#include "lib/model/hooks.h"
#include "lib/model/kv_cache.h"
#include "lib/model/llama_block.h"
#include "sharding/errors.h"

namespace revive::model {

using sharding::ShardedTensor;

namespace {

bool is_gpt2(const ModelConfig& c) { return c.family == Family::kGpt2; }

std::string layer_prefix(const ModelConfig& c) { return is_gpt2(c) ? "transformer.h." : "model.layers."; }

}  // namespace

Transformer::Transformer(ModelConfig config, WeightSource& w, sharding::Communicator& tp)
    : config_(std::move(config)), tp_(&tp) {
  const ModelConfig& c = config_;
  const std::string embed_name = is_gpt2(c) ? "transformer.wte.weight" : "model.embed_tokens.weight";
  ShardedTensor embed = w.load(embed_name, tp);
  embed_ = sharding::VocabParallelEmbedding(embed);
  if (is_gpt2(c)) {
    position_table_ = w.load_replicated("transformer.wpe.weight", tp);
    final_norm_w_ = w.load_replicated("transformer.ln_f.weight", tp);
    final_norm_b_ = w.load_replicated("transformer.ln_f.bias", tp);
  } else {
    rope_ = RotaryEmbedding(c.head_dim, c.rope_theta, c.rope_scaling);
    final_norm_w_ = w.load_replicated("model.norm.weight", tp);
  }
  for (int64_t l = 0; l < c.num_layers; ++l) {
    if (is_gpt2(c)) {
      blocks_.push_back(std::make_unique<Gpt2Block>(c, l, w, tp));
    } else {
      blocks_.push_back(std::make_unique<LlamaBlock>(c, l, w, tp));
    }
  }
  // Tied: the LM head multiplies by the embedding shard itself (same storage,
  // so an edit of one is an edit of both).
  ShardedTensor head = c.tie_word_embeddings ? embed : w.load("lm_head.weight", tp);
  lm_head_ = sharding::ColumnParallelLinear(head, ShardedTensor(), /*gather_output=*/true);
}

Transformer::~Transformer() = default;

Block& Transformer::block(int64_t layer) {
  REVIVE_CHECK(layer >= 0 && layer < num_layers(), "Transformer::block: layer out of range");
  return *blocks_[static_cast<size_t>(layer)];
}

at::ScalarType Transformer::dtype() const { return final_norm_w_.scalar_type(); }

c10::Device Transformer::device() const { return final_norm_w_.device(); }

at::Tensor Transformer::run_blocks(const at::Tensor& ids_in, at::Tensor h, int64_t begin, int64_t end,
                                   const ForwardOptions& opts) {
  REVIVE_CHECK(0 <= begin && begin <= end && end <= num_layers(), "forward: block range out of range");
  const bool from_embedding = begin == 0;
  if (from_embedding) {
    REVIVE_CHECK(ids_in.dim() == 2, "forward: input_ids must be [batch, tokens]");
  } else {
    REVIVE_CHECK(h.dim() == 3 && h.size(2) == config_.hidden_size,
                 "hidden_after: stream must be [batch, tokens, hidden]");
  }
  const at::Tensor ids = from_embedding ? ids_in.to(device(), at::kLong) : at::Tensor();
  const int64_t B = from_embedding ? ids.size(0) : h.size(0), T = from_embedding ? ids.size(1) : h.size(1);
  const at::TensorOptions long_opts = at::TensorOptions().dtype(at::kLong).device(device());
  const at::Tensor mask = opts.attention_mask.defined() ? opts.attention_mask.to(device(), at::kBool)
                                                        : at::ones({B, T}, long_opts.dtype(at::kBool));
  REVIVE_CHECK(mask.dim() == 2 && mask.size(0) == B && mask.size(1) == T,
               "forward: attention_mask must be [batch, tokens] of the input");
  KvCache* cache = opts.cache;
  REVIVE_CHECK(cache == nullptr || (begin == 0 && end == num_layers()), "forward: a KV cache needs the whole pass");
  const bool continuing = cache != nullptr && !cache->empty();
  if (continuing) REVIVE_CHECK(cache->key_valid().size(0) == B, "forward: batch size differs from the cache's");
  if (opts.hooks != nullptr && !blocks_.empty()) opts.hooks->validate(num_layers(), blocks_.front()->module_names());

  // Position ids count real tokens: row b's t-th real token is at start_b + t.
  const at::Tensor start = continuing ? cache->next_position() : at::zeros({B}, long_opts);
  const at::Tensor counted = mask.to(at::kLong).cumsum(1);
  const at::Tensor positions = start.unsqueeze(1) + (counted - 1).clamp_min(0);
  const at::Tensor key_valid = continuing ? at::cat({cache->key_valid(), mask}, 1) : mask;

  BlockContext ctx;
  ctx.allowed = causal_mask(key_valid, T);
  ctx.cache = cache;
  ctx.hooks = opts.hooks;

  if (from_embedding) {
    h = embed_.forward(ids);
    if (is_gpt2(config_)) {
      const int64_t max_pos = position_table_.size(0);
      if (T > 0 && positions.max().item<int64_t>() >= max_pos) {
        throw Error("forward: position " + std::to_string(positions.max().item<int64_t>()) +
                    " beyond GPT-2's learned positions (n_positions " + std::to_string(max_pos) + ")");
      }
      h = h + at::embedding(position_table_, positions);
    }
  }
  if (!is_gpt2(config_)) std::tie(ctx.rope_cos, ctx.rope_sin) = rope_.cos_sin(positions, h.scalar_type());
  for (int64_t l = begin; l < end; ++l) h = blocks_[static_cast<size_t>(l)]->forward(h, ctx);
  if (cache != nullptr) cache->commit(key_valid, start + mask.to(at::kLong).sum(1));
  return h;
}

at::Tensor Transformer::final_norm(const at::Tensor& h) const {
  if (is_gpt2(config_)) return at::layer_norm(h, {h.size(-1)}, final_norm_w_, final_norm_b_, config_.layer_norm_eps);
  return rms_norm(h, final_norm_w_, config_.rms_norm_eps);
}

at::Tensor Transformer::hidden_states(const at::Tensor& ids, const ForwardOptions& opts) {
  return final_norm(run_blocks(ids, at::Tensor(), 0, num_layers(), opts));
}

at::Tensor Transformer::stream_after(const at::Tensor& ids, int64_t layer, const ForwardOptions& opts) {
  REVIVE_CHECK(layer >= 0 && layer < num_layers(), "stream_after: layer out of range");
  REVIVE_CHECK(opts.cache == nullptr, "stream_after: no KV cache");
  return run_blocks(ids, at::Tensor(), 0, layer + 1, opts);
}

at::Tensor Transformer::hidden_after(int64_t layer, const at::Tensor& stream, const ForwardOptions& opts) {
  REVIVE_CHECK(layer >= 0 && layer < num_layers(), "hidden_after: layer out of range");
  REVIVE_CHECK(opts.cache == nullptr, "hidden_after: no KV cache");
  return final_norm(run_blocks(at::Tensor(), stream, layer + 1, num_layers(), opts));
}

at::Tensor Transformer::logits(const at::Tensor& hidden) const { return lm_head_.forward(hidden); }

at::Tensor Transformer::forward(const at::Tensor& input_ids, const ForwardOptions& opts) {
  return logits(hidden_states(input_ids, opts));
}

ModuleRef Transformer::parse_module(const std::string& name_in) const {
  std::string name = name_in;
  static const std::string kWeight = ".weight";
  if (name.size() > kWeight.size() && name.compare(name.size() - kWeight.size(), kWeight.size(), kWeight) == 0) {
    name.resize(name.size() - kWeight.size());
  }
  std::string prefix = layer_prefix(config_);
  if (is_gpt2(config_) && name.rfind(prefix, 0) != 0 && name.rfind("h.", 0) == 0) prefix = "h.";
  const auto fail = [&](const std::string& why) { return Error("module '" + name_in + "': " + why); };
  if (name.rfind(prefix, 0) != 0) throw fail("expected a name starting with " + prefix);
  const size_t dot = name.find('.', prefix.size());
  if (dot == std::string::npos) throw fail("no module after the layer index");
  ModuleRef ref;
  try {
    size_t used = 0;
    ref.layer = std::stoll(name.substr(prefix.size(), dot - prefix.size()), &used);
    if (used != dot - prefix.size()) throw fail("bad layer index");
  } catch (const std::logic_error&) {
    throw fail("bad layer index");
  }
  if (ref.layer < 0 || ref.layer >= num_layers()) throw fail("layer outside [0, " + std::to_string(num_layers()) + ")");
  ref.module = name.substr(dot + 1);
  return ref;
}

std::string Transformer::module_name(const ModuleRef& ref) const {
  return layer_prefix(config_) + std::to_string(ref.layer) + "." + ref.module;
}

ShardedTensor& Transformer::linear_weight(const std::string& name) {
  const ModuleRef ref = parse_module(name);
  return block(ref.layer).linear_weight(ref.module);
}

}  // namespace revive::model
