// config.json parsing for llama / mistral / qwen2 / gpt2, one test per
// malformed case (naming config.json and the field), and the stories260K
// checkpoint against the shapes its config implies.
#include "lib/model/config.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <set>

#include "sharding/checkpoint/safetensors.h"
#include "sharding/errors.h"
#include "sharding/layout/shard_loader.h"
#include "tests/support/fixtures.h"
#include "tests/support/input_error.h"

namespace revive::model {
namespace {

using nlohmann::json;

// An invented Llama config with GQA; the real stories260K config.json is read
// from ../shared/data by the last test.
json llama_config_json() {
  return json::parse(R"({
    "model_type": "llama", "architectures": ["LlamaForCausalLM"], "vocab_size": 1000,
    "num_hidden_layers": 3, "hidden_size": 96, "intermediate_size": 256,
    "num_attention_heads": 6, "num_key_value_heads": 2, "max_position_embeddings": 256,
    "bos_token_id": 3, "eos_token_id": 4, "rope_theta": 50000.0, "rms_norm_eps": 2e-05,
    "attention_bias": false, "tie_word_embeddings": true, "hidden_act": "silu",
    "torch_dtype": "bfloat16"})");
}

json gpt2_config_json() {
  return json::parse(R"({
    "model_type": "gpt2", "vocab_size": 50257, "n_embd": 768, "n_layer": 12, "n_head": 12,
    "n_positions": 1024, "n_inner": null, "layer_norm_epsilon": 1e-05,
    "activation_function": "gelu_new", "bos_token_id": 50256, "eos_token_id": 50256})");
}

ModelConfig parse_test_config(const json& j) { return parse_config(j.dump(), "dir/config.json"); }

void expect_config_field_error(const json& j, const std::string& field) {
  SCOPED_TRACE(j.dump());
  ::revive::testing::expect_input_error([&] { parse_test_config(j); }, "dir/config.json", field);
}

TEST(ConfigTest, LlamaWithGqa) {
  const ModelConfig c = parse_test_config(llama_config_json());
  EXPECT_EQ(c.family, Family::kLlama);
  EXPECT_EQ(c.model_type, "llama");
  EXPECT_EQ(c.vocab_size, 1000);
  EXPECT_EQ(c.hidden_size, 96);
  EXPECT_EQ(c.intermediate_size, 256);
  EXPECT_EQ(c.num_layers, 3);
  EXPECT_EQ(c.num_heads, 6);
  EXPECT_EQ(c.num_kv_heads, 2);
  EXPECT_EQ(c.head_dim, 16);
  EXPECT_EQ(c.max_position_embeddings, 256);
  EXPECT_DOUBLE_EQ(c.rms_norm_eps, 2e-5);
  EXPECT_DOUBLE_EQ(c.rope_theta, 50000.0);
  EXPECT_EQ(c.rope_scaling.type, "");
  EXPECT_FALSE(c.attention_bias);
  EXPECT_TRUE(c.tie_word_embeddings);
  EXPECT_EQ(c.bos_token_id, 3);
  EXPECT_EQ(c.eos_token_id, 4);
  EXPECT_EQ(c.torch_dtype, "bfloat16");
  const sharding::ModelDims d = model_dims(c);
  EXPECT_EQ(d.arch, sharding::Arch::kLlama);
  EXPECT_EQ(d.num_kv_heads, 2);
  EXPECT_EQ(d.head_dim, 16);
}

TEST(ConfigTest, DefaultsOfTheHfConfigClasses) {
  json j = llama_config_json();
  for (const char* k : {"num_key_value_heads", "max_position_embeddings", "rms_norm_eps", "rope_theta",
                        "hidden_act", "tie_word_embeddings", "bos_token_id", "eos_token_id", "attention_bias"}) {
    j.erase(k);
  }
  const ModelConfig c = parse_test_config(j);
  EXPECT_EQ(c.num_kv_heads, 6);
  EXPECT_EQ(c.max_position_embeddings, 2048);
  EXPECT_DOUBLE_EQ(c.rms_norm_eps, 1e-6);
  EXPECT_FALSE(c.tie_word_embeddings);
  EXPECT_FALSE(c.bos_token_id.has_value());
  // null means "default" as well.
  j["num_key_value_heads"] = nullptr;
  EXPECT_EQ(parse_test_config(j).num_kv_heads, 6);
}

TEST(ConfigTest, Llama3RopeScalingHeadDimAndListEos) {
  json j = llama_config_json();
  j["rope_scaling"] = {{"rope_type", "llama3"}, {"factor", 8.0}, {"low_freq_factor", 1.0},
                       {"high_freq_factor", 4.0}, {"original_max_position_embeddings", 8192}};
  j["rope_theta"] = 500000.0;
  j["head_dim"] = 32;  // explicit, not hidden / heads
  j["eos_token_id"] = {128001, 128008, 128009};
  const ModelConfig c = parse_test_config(j);
  EXPECT_EQ(c.rope_scaling.type, "llama3");
  EXPECT_DOUBLE_EQ(c.rope_scaling.factor, 8.0);
  EXPECT_DOUBLE_EQ(c.rope_scaling.low_freq_factor, 1.0);
  EXPECT_DOUBLE_EQ(c.rope_scaling.high_freq_factor, 4.0);
  EXPECT_EQ(c.rope_scaling.original_max_position_embeddings, 8192);
  EXPECT_DOUBLE_EQ(c.rope_theta, 500000.0);
  EXPECT_EQ(c.head_dim, 32);
  EXPECT_EQ(c.eos_token_id, 128001);
  EXPECT_EQ(c.eos_token_ids, (std::vector<int64_t>{128001, 128008, 128009}));
  // The older spelling "type".
  j["rope_scaling"].erase("rope_type");
  j["rope_scaling"]["type"] = "llama3";
  EXPECT_EQ(parse_test_config(j).rope_scaling.type, "llama3");
  j["rope_scaling"] = {{"type", "default"}};
  EXPECT_EQ(parse_test_config(j).rope_scaling.type, "");
}

TEST(ConfigTest, AttentionBiasAndMistralQwen2) {
  json j = llama_config_json();
  j["attention_bias"] = true;
  j["mlp_bias"] = true;
  ModelConfig c = parse_test_config(j);
  EXPECT_TRUE(c.attention_bias);
  EXPECT_TRUE(c.attention_out_bias);
  EXPECT_TRUE(c.mlp_bias);
  j = llama_config_json();
  j["model_type"] = "qwen2";
  j.erase("attention_bias");
  j.erase("max_position_embeddings");
  c = parse_test_config(j);
  EXPECT_EQ(c.family, Family::kLlama);
  EXPECT_TRUE(c.attention_bias);       // Qwen2 always has q/k/v biases
  EXPECT_FALSE(c.attention_out_bias);  // and none on o_proj
  EXPECT_EQ(c.max_position_embeddings, 32768);
  j["model_type"] = "mistral";
  j["sliding_window"] = 4096;
  c = parse_test_config(j);
  EXPECT_EQ(c.family, Family::kLlama);
  EXPECT_FALSE(c.attention_bias);
}

TEST(ConfigTest, Gpt2) {
  const ModelConfig c = parse_test_config(gpt2_config_json());
  EXPECT_EQ(c.family, Family::kGpt2);
  EXPECT_EQ(c.vocab_size, 50257);
  EXPECT_EQ(c.hidden_size, 768);
  EXPECT_EQ(c.intermediate_size, 4 * 768);  // n_inner null
  EXPECT_EQ(c.num_layers, 12);
  EXPECT_EQ(c.num_heads, 12);
  EXPECT_EQ(c.num_kv_heads, 12);
  EXPECT_EQ(c.head_dim, 64);
  EXPECT_EQ(c.max_position_embeddings, 1024);
  EXPECT_DOUBLE_EQ(c.layer_norm_eps, 1e-5);
  EXPECT_TRUE(c.tie_word_embeddings);  // PretrainedConfig's default
  EXPECT_EQ(c.hidden_act, "gelu_new");
  json j = gpt2_config_json();
  j["n_inner"] = 1000;
  j["tie_word_embeddings"] = false;
  const ModelConfig c2 = parse_test_config(j);
  EXPECT_EQ(c2.intermediate_size, 1000);
  EXPECT_FALSE(c2.tie_word_embeddings);
  EXPECT_EQ(model_dims(c2).arch, sharding::Arch::kGpt2);
  EXPECT_EQ(model_dims(c2).max_positions, 1024);
}

TEST(ConfigTest, LengthsAreCutToTheModelsPositions) {
  ModelConfig c = parse_test_config(gpt2_config_json());  // n_positions 1024
  EXPECT_EQ(c.within_positions(256), 256);
  EXPECT_EQ(c.within_positions(1024), 1024);
  EXPECT_EQ(c.within_positions(4096), 1024);
  c.max_position_embeddings = 0;  // unknown: no limit
  EXPECT_EQ(c.within_positions(4096), 4096);
}

TEST(ConfigTest, MissingFieldNamesIt) {
  for (const char* k : {"vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
                        "num_attention_heads", "model_type"}) {
    json j = llama_config_json();
    j.erase(k);
    expect_config_field_error(j, k);
  }
  for (const char* k : {"vocab_size", "n_embd", "n_layer", "n_head", "n_positions"}) {
    json j = gpt2_config_json();
    j.erase(k);
    expect_config_field_error(j, k);
  }
  json j = llama_config_json();
  j["rope_scaling"] = {{"rope_type", "llama3"}, {"factor", 8.0}, {"low_freq_factor", 1.0},
                       {"original_max_position_embeddings", 8192}};
  expect_config_field_error(j, "rope_scaling.high_freq_factor");
}

TEST(ConfigTest, IllTypedOrInvalidFieldNamesIt) {
  auto with = [](json j, const std::string& k, json v) {
    j[k] = std::move(v);
    return j;
  };
  expect_config_field_error(with(llama_config_json(), "hidden_size", "96"), "hidden_size");
  expect_config_field_error(with(llama_config_json(), "hidden_size", 96.5), "hidden_size");
  expect_config_field_error(with(llama_config_json(), "num_hidden_layers", 0), "num_hidden_layers");
  expect_config_field_error(with(llama_config_json(), "num_attention_heads", -6), "num_attention_heads");
  expect_config_field_error(with(llama_config_json(), "num_key_value_heads", 4), "num_key_value_heads");
  expect_config_field_error(with(with(llama_config_json(), "num_attention_heads", 7), "num_key_value_heads", 7),
                     "num_attention_heads");  // 96 % 7 and no head_dim
  expect_config_field_error(with(llama_config_json(), "rms_norm_eps", "1e-5"), "rms_norm_eps");
  expect_config_field_error(with(llama_config_json(), "tie_word_embeddings", 1), "tie_word_embeddings");
  expect_config_field_error(with(llama_config_json(), "eos_token_id", "2"), "eos_token_id");
  expect_config_field_error(with(llama_config_json(), "hidden_act", "gelu"), "hidden_act");
  expect_config_field_error(with(llama_config_json(), "rope_scaling", 2), "rope_scaling");
  expect_config_field_error(with(llama_config_json(), "rope_scaling", json{{"rope_type", "yarn"}, {"factor", 4.0}}),
                     "rope_scaling.rope_type");
  expect_config_field_error(with(llama_config_json(), "model_type", "bert"), "model_type");
  expect_config_field_error(with(llama_config_json(), "model_type", 3), "model_type");
  expect_config_field_error(with(gpt2_config_json(), "n_head", 7), "n_head");
  expect_config_field_error(with(gpt2_config_json(), "activation_function", "swish"), "activation_function");
  expect_config_field_error(with(gpt2_config_json(), "scale_attn_by_inverse_layer_idx", true), "scale_attn_by_inverse_layer_idx");
  expect_config_field_error(with(gpt2_config_json(), "n_inner", "x"), "n_inner");
}

TEST(ConfigTest, BrokenJsonAndMissingFile) {
  try {
    parse_config("{\"model_type\": \"llama\",", "dir/config.json");
    ADD_FAILURE();
  } catch (const InputError& e) {
    EXPECT_EQ(e.file(), "dir/config.json");
  }
  EXPECT_THROW(parse_config("[1]", "dir/config.json"), InputError);
  const std::string dir = revive::testing::temp_dir("config");
  try {
    load_config(dir);
    ADD_FAILURE();
  } catch (const InputError& e) {
    EXPECT_EQ(e.file(), dir + "/config.json");
  }
  std::ofstream(dir + "/config.json") << llama_config_json().dump();
  EXPECT_EQ(load_config(dir).source, dir + "/config.json");
  EXPECT_EQ(load_config(dir + "/config.json").num_kv_heads, 2);
}

TEST(ConfigTest, Stories260KTensorsHaveTheConfigsShapes) {
  REVIVE_REQUIRE_DATA(dir, "stories260K-hf");
  const ModelConfig c = load_config(dir);
  // Against the file's own fields (nothing of it is copied here).
  std::ifstream in(dir + "/config.json");
  const json raw = json::parse(in);
  EXPECT_EQ(c.model_type, raw.at("model_type").get<std::string>());
  EXPECT_EQ(c.vocab_size, raw.at("vocab_size").get<int64_t>());
  EXPECT_EQ(c.hidden_size, raw.at("hidden_size").get<int64_t>());
  EXPECT_EQ(c.num_layers, raw.at("num_hidden_layers").get<int64_t>());
  EXPECT_EQ(c.num_heads, raw.at("num_attention_heads").get<int64_t>());
  EXPECT_EQ(c.num_kv_heads, raw.at("num_key_value_heads").get<int64_t>());
  EXPECT_EQ(c.head_dim, c.hidden_size / c.num_heads);
  EXPECT_EQ(c.tie_word_embeddings, raw.at("tie_word_embeddings").get<bool>());
  const sharding::ModelDims d = model_dims(c);
  sharding::CheckpointReader ckpt(dir);
  sharding::ParamNameOptions opts;
  opts.tie_word_embeddings = c.tie_word_embeddings;
  const std::vector<std::string> expected = sharding::parameter_names(d, opts);
  const std::vector<std::string> names = ckpt.names();
  EXPECT_EQ(std::set<std::string>(expected.begin(), expected.end()), std::set<std::string>(names.begin(), names.end()));
  for (const auto& name : names) {
    const sharding::ParamLayout layout = sharding::checked_layout(ckpt, name, d);  // throws on a mismatch
    EXPECT_EQ(ckpt.read(name, at::kFloat).sizes().vec(), layout.stored_shape) << name;
  }
  // The same checkpoint under a config that disagrees: the error names the file and tensor.
  ModelConfig wrong = c;
  wrong.intermediate_size = c.intermediate_size - 1;
  ::revive::testing::expect_input_error(
      [&] { sharding::checked_layout(ckpt, "model.layers.2.mlp.down_proj.weight", model_dims(wrong)); },
      dir + "/model.safetensors", "model.layers.2.mlp.down_proj.weight");
}

}  // namespace
}  // namespace revive::model
