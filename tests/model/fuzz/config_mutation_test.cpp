// Randomized mutations of config.json text (bytes, and values swapped for
// hostile ones of other types): parse_config either accepts the result with a
// self-consistent config or throws revive::InputError naming config.json;
// nothing else (no other exception type, no crash).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <random>

#include "lib/model/config.h"
#include "sharding/errors.h"

namespace revive::model {
namespace {

constexpr int kConfigMutations = 3000;

const char* kConfigSeeds[] = {
    R"({"model_type":"llama","hidden_size":96,"intermediate_size":256,"num_hidden_layers":3,
        "num_attention_heads":6,"num_key_value_heads":2,"vocab_size":1000,"rope_theta":500000.0,
        "rope_scaling":{"rope_type":"llama3","factor":8.0,"low_freq_factor":1.0,"high_freq_factor":4.0,
        "original_max_position_embeddings":8192},"eos_token_id":[1,2],"tie_word_embeddings":true})",
    R"({"model_type":"gpt2","vocab_size":100,"n_embd":16,"n_layer":2,"n_head":4,"n_positions":32,
        "n_inner":null,"layer_norm_epsilon":1e-5,"activation_function":"gelu_new"})",
};

void check_config_mutant(const std::string& text, int& accepted) {
  try {
    const ModelConfig c = parse_config(text, "config.json");
    ++accepted;
    EXPECT_GT(c.hidden_size, 0);
    EXPECT_GT(c.num_heads, 0);
    EXPECT_GT(c.num_kv_heads, 0);
    EXPECT_EQ(c.num_heads % c.num_kv_heads, 0);
    EXPECT_GT(c.head_dim, 0);
    EXPECT_GT(c.vocab_size, 0);
    EXPECT_GT(c.num_layers, 0);
  } catch (const InputError& e) {
    EXPECT_EQ(e.file(), "config.json");
  }
}

TEST(ConfigMutationTest, ByteMutationsOnlyEverRaiseInputError) {
  std::mt19937_64 rng(99);
  int accepted = 0;
  for (int it = 0; it < kConfigMutations; ++it) {
    std::string s = kConfigSeeds[it % 2];
    for (int e = 0, n = 1 + static_cast<int>(rng() % 3); e < n; ++e) {
      const size_t pos = rng() % s.size();
      switch (rng() % 3) {
        case 0: s[pos] = static_cast<char>(rng()); break;
        case 1: s.erase(pos, 1 + rng() % 8); break;
        case 2: s.insert(pos, 1, "{}[]\",:0-9e"[rng() % 11]); break;
      }
      if (s.empty()) s = "{";
    }
    check_config_mutant(s, accepted);
  }
  EXPECT_GT(accepted, 0);
}

TEST(ConfigMutationTest, ValueSwapsOnlyEverRaiseInputError) {
  const std::vector<nlohmann::json> values = {nullptr, true, 0, -1, 3, 7, 1.5, "x", "llama3", "gpt2",
                                              nlohmann::json::array(), nlohmann::json::object(),
                                              9223372036854775807LL, 1e300};
  std::mt19937_64 rng(100);
  int accepted = 0;
  for (int it = 0; it < kConfigMutations; ++it) {
    nlohmann::json j = nlohmann::json::parse(kConfigSeeds[it % 2]);
    for (int e = 0, n = 1 + static_cast<int>(rng() % 3); e < n; ++e) {
      std::vector<std::string> keys;
      for (const auto& item : j.items()) keys.push_back(item.key());
      const std::string& k = keys[rng() % keys.size()];
      if (rng() % 4 == 0) {
        j.erase(k);
      } else if (k == "rope_scaling" && j[k].is_object() && !j[k].empty() && rng() % 2 == 0) {
        auto& rs = j[k];
        std::vector<std::string> sub;
        for (const auto& item : rs.items()) sub.push_back(item.key());
        rs[sub[rng() % sub.size()]] = values[rng() % values.size()];
      } else {
        j[k] = values[rng() % values.size()];
      }
      if (j.empty()) j["model_type"] = "llama";
    }
    check_config_mutant(j.dump(), accepted);
  }
  EXPECT_GT(accepted, 0);
}

}  // namespace
}  // namespace revive::model
