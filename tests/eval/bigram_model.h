#pragma once
// A model whose log-probabilities a test can write down: a one-layer Llama with
// zero attention and MLP weights, so each position's logits depend only on its
// own token. With one-hot embeddings (hidden = vocab, rounded up to even) and
// RMSNorm's eps ~ 0, logits(next | ..., t) = table[t] exactly, for a [V, V]
// table the test chooses. Vocabulary: a WordLevel tokenizer (lib/data) with
// [UNK]=0, [BOS]=1, [EOS]=2, [PAD]=3, then the words in order.
#include <ATen/ATen.h>

#include <cmath>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "lib/data/wordlevel_tokenizer.h"
#include "lib/model/tokenizer.h"
#include "lib/model/transformer.h"
#include "lib/model/weight_source.h"
#include "sharding/comm/local_communicator.h"
#include "tests/support/fixtures.h"

namespace revive::eval::testing {

inline std::vector<std::string> bigram_words() {
  return {"alice", "bob", "carol", "dave", "lives", "in", "works", "as", "paris", "rome", "london", "new", "york",
          "doctor", "chef", "pilot", "the", "city", "is", "a", "and", "."};
}

struct BigramModel {
  BigramModel(std::vector<std::string> w, model::Tokenizer t) : words(std::move(w)), tokenizer(std::move(t)) {}

  std::vector<std::string> words;
  at::Tensor table;  // [V, V] f64 logits: row = current token, column = next token
  model::Tokenizer tokenizer;
  sharding::LocalCommunicator tp{"tp"};
  std::unique_ptr<model::Transformer> model;

  int64_t vocab() const { return table.size(0); }
  int64_t id(const std::string& word) const { return *tokenizer.token_to_id(word); }
  // log p(next | current) straight from the table.
  double logp(int64_t current, int64_t next) const {
    return at::log_softmax(table[current], 0)[next].item<double>();
  }
  // Summed NLL of `target` after `prompt` (ids), from the table.
  double nll(const std::vector<int64_t>& prompt, const std::vector<int64_t>& target) const {
    double s = 0;
    int64_t prev = prompt.back();
    for (int64_t t : target) {
      s -= logp(prev, t);
      prev = t;
    }
    return s;
  }
  int64_t argmax(int64_t current) const { return table[current].argmax().item<int64_t>(); }
};

inline model::Tokenizer bigram_tokenizer(const std::vector<std::string>& words, const std::string& tag) {
  const std::string dir = ::revive::testing::temp_dir(tag);
  std::ofstream(dir + "/tokenizer.json") << data::wordlevel_tokenizer_json(words);
  return model::Tokenizer::from_file(dir + "/tokenizer.json");
}

// `seed` fills the table with N(0, 1) logits; `edit` may then set entries.
template <class Edit>
std::unique_ptr<BigramModel> make_bigram_model_with(uint64_t seed, Edit edit, const std::string& tag = "bigram") {
  auto m = std::make_unique<BigramModel>(bigram_words(), bigram_tokenizer(bigram_words(), tag));
  const int64_t V = 4 + static_cast<int64_t>(m->words.size());
  auto g = at::make_generator<at::CPUGeneratorImpl>(seed);
  m->table = at::randn({V, V}, g, at::TensorOptions().dtype(at::kDouble));
  edit(*m);
  const int64_t E = V % 2 == 0 ? V : V + 1;
  model::ModelConfig c;
  c.model_type = "llama";
  c.family = model::Family::kLlama;
  c.vocab_size = V;
  c.hidden_size = E;
  c.intermediate_size = 2;
  c.num_layers = 1;
  c.num_heads = 1;
  c.num_kv_heads = 1;
  c.head_dim = E;
  c.max_position_embeddings = 256;
  c.rms_norm_eps = 1e-300;
  c.hidden_act = "silu";
  c.source = "<bigram>/config.json";
  const auto opts = at::TensorOptions().dtype(at::kDouble);
  std::map<std::string, at::Tensor> w;
  w["model.embed_tokens.weight"] = at::eye(V, E, opts);
  w["model.norm.weight"] = at::ones({E}, opts);
  // RMSNorm(e_t) = sqrt(E) e_t, so lm_head[:, t] = table[t] / sqrt(E).
  at::Tensor head = at::zeros({V, E}, opts);
  head.narrow(1, 0, V).copy_(m->table.t() / std::sqrt(static_cast<double>(E)));
  w["lm_head.weight"] = head;
  const std::string p = "model.layers.0.";
  w[p + "input_layernorm.weight"] = at::ones({E}, opts);
  w[p + "post_attention_layernorm.weight"] = at::ones({E}, opts);
  for (const char* n : {"self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj"}) {
    w[p + n + ".weight"] = at::zeros({E, E}, opts);
  }
  w[p + "self_attn.o_proj.weight"] = at::zeros({E, E}, opts);
  w[p + "mlp.gate_proj.weight"] = at::zeros({2, E}, opts);
  w[p + "mlp.up_proj.weight"] = at::zeros({2, E}, opts);
  w[p + "mlp.down_proj.weight"] = at::zeros({E, 2}, opts);
  model::InMemoryWeightSource src(w, model::model_dims(c), at::kDouble);
  m->model = std::make_unique<model::Transformer>(c, src, m->tp);
  return m;
}

inline std::unique_ptr<BigramModel> make_bigram_model(uint64_t seed, const std::string& tag = "bigram") {
  return make_bigram_model_with(seed, [](BigramModel&) {}, tag);
}

}  // namespace revive::eval::testing
