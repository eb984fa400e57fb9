// config.json of the supported architectures. Each field is read through a
// typed accessor that names config.json and the field on any problem, so a
// malformed file never yields a half-filled config.
#include "lib/model/config.h"

#include <nlohmann/json.hpp>

#include <filesystem>

#include "sharding/checkpoint/file_tree.h"
#include "sharding/errors.h"

namespace revive::model {
namespace {

using nlohmann::json;

// Bound on every size field, so derived sizes (4 x n_embd, heads x head_dim)
// cannot overflow int64.
constexpr int64_t kMaxSize = int64_t{1} << 40;

class Fields {
 public:
  // `prefix` qualifies field names of a nested object ("rope_scaling.").
  Fields(const json& j, std::string source, std::string prefix = {})
      : j_(j), source_(std::move(source)), prefix_(std::move(prefix)) {}
  const std::string& source() const { return source_; }

  const json* find(const std::string& key) const {
    const auto it = j_.find(key);
    return (it == j_.end() || it->is_null()) ? nullptr : &*it;
  }
  [[noreturn]] void fail(const std::string& field, const std::string& what) const {
    throw InputError(source_, prefix_ + field, what);
  }
  int64_t integer(const json& v, const std::string& field) const {
    if (!v.is_number_integer()) fail(field, "expected an integer, got " + v.dump());
    return v.get<int64_t>();
  }
  int64_t required_positive(const std::string& key) const {
    const json* v = find(key);
    if (!v) fail(key, "missing");
    return positive(*v, key);
  }
  int64_t positive(const json& v, const std::string& field) const {
    const int64_t x = integer(v, field);
    if (x <= 0) fail(field, "must be positive, got " + std::to_string(x));
    if (x > kMaxSize) fail(field, std::to_string(x) + " is implausibly large");
    return x;
  }
  int64_t optional_positive(const std::string& key, int64_t fallback) const {
    const json* v = find(key);
    return v ? positive(*v, key) : fallback;
  }
  double number(const json& v, const std::string& field) const {
    if (!v.is_number()) fail(field, "expected a number, got " + v.dump());
    return v.get<double>();
  }
  double optional_positive_number(const std::string& key, double fallback) const {
    const json* v = find(key);
    if (!v) return fallback;
    const double x = number(*v, key);
    if (!(x > 0)) fail(key, "must be positive, got " + v->dump());
    return x;
  }
  bool optional_bool(const std::string& key, bool fallback) const {
    const json* v = find(key);
    if (!v) return fallback;
    if (!v->is_boolean()) fail(key, "expected true or false, got " + v->dump());
    return v->get<bool>();
  }
  std::string optional_string(const std::string& key, const std::string& fallback) const {
    const json* v = find(key);
    if (!v) return fallback;
    if (!v->is_string()) fail(key, "expected a string, got " + v->dump());
    return v->get<std::string>();
  }
  // An id that HF allows as an integer or a list of integers (eos of
  // instruction-tuned Llama-3).
  std::vector<int64_t> token_ids(const std::string& key) const {
    const json* v = find(key);
    if (!v) return {};
    if (v->is_array()) {
      std::vector<int64_t> ids;
      for (const auto& x : *v) ids.push_back(integer(x, key));
      return ids;
    }
    return {integer(*v, key)};
  }

 private:
  const json& j_;
  std::string source_, prefix_;
};

RopeScaling parse_rope_scaling(const json* v, const std::string& source) {
  RopeScaling rs;
  if (!v) return rs;
  if (!v->is_object()) throw InputError(source, "rope_scaling", "expected an object or null, got " + v->dump());
  const Fields f(*v, source, "rope_scaling.");
  // transformers renamed "type" to "rope_type"; both appear in the wild.
  std::string type = f.optional_string("rope_type", "");
  if (type.empty()) type = f.optional_string("type", "");
  if (type.empty()) f.fail("rope_type", "missing");
  if (type == "default") return rs;
  if (type != "llama3") {
    f.fail("rope_type", "unsupported rope scaling '" + type + "' (supported: llama3)");
  }
  rs.type = type;
  auto required_number = [&](const std::string& key) {
    const json* x = f.find(key);
    if (!x) f.fail(key, "missing");
    return f.number(*x, key);
  };
  rs.factor = required_number("factor");
  rs.low_freq_factor = required_number("low_freq_factor");
  rs.high_freq_factor = required_number("high_freq_factor");
  const json* omp = f.find("original_max_position_embeddings");
  if (!omp) f.fail("original_max_position_embeddings", "missing");
  rs.original_max_position_embeddings = f.positive(*omp, "original_max_position_embeddings");
  if (!(rs.factor >= 1.0) || !(rs.high_freq_factor > rs.low_freq_factor) || !(rs.low_freq_factor > 0)) {
    throw InputError(source, "rope_scaling", "needs factor >= 1 and high_freq_factor > low_freq_factor > 0");
  }
  return rs;
}

void parse_llama(const Fields& f, ModelConfig& c) {
  c.family = Family::kLlama;
  c.vocab_size = f.required_positive("vocab_size");
  c.hidden_size = f.required_positive("hidden_size");
  c.intermediate_size = f.required_positive("intermediate_size");
  c.num_layers = f.required_positive("num_hidden_layers");
  c.num_heads = f.required_positive("num_attention_heads");
  c.num_kv_heads = f.optional_positive("num_key_value_heads", c.num_heads);
  if (c.num_heads % c.num_kv_heads != 0) {
    f.fail("num_key_value_heads", std::to_string(c.num_kv_heads) + " does not divide num_attention_heads " +
                                      std::to_string(c.num_heads));
  }
  if (!f.find("head_dim") && c.hidden_size % c.num_heads != 0) {
    f.fail("num_attention_heads", std::to_string(c.num_heads) + " does not divide hidden_size " +
                                      std::to_string(c.hidden_size) + " and no head_dim is given");
  }
  c.head_dim = f.optional_positive("head_dim", c.hidden_size / c.num_heads);
  if (c.head_dim > kMaxSize / c.num_heads) f.fail("head_dim", "head_dim x num_attention_heads is implausibly large");
  // Defaults of LlamaConfig / MistralConfig / Qwen2Config.
  const int64_t default_positions =
      c.model_type == "qwen2" ? 32768 : c.model_type == "mistral" ? 4096 * 32 : 2048;
  c.max_position_embeddings = f.optional_positive("max_position_embeddings", default_positions);
  c.rms_norm_eps = f.optional_positive_number("rms_norm_eps", 1e-6);
  c.rope_theta = f.optional_positive_number("rope_theta", 10000.0);
  c.rope_scaling = parse_rope_scaling(f.find("rope_scaling"), f.source());
  if (c.model_type == "qwen2") {  // Qwen2 hard-codes q/k/v biases and no o_proj bias
    c.attention_bias = true;
    c.attention_out_bias = false;
  } else {
    c.attention_bias = f.optional_bool("attention_bias", false);
    c.attention_out_bias = c.attention_bias;  // LlamaAttention uses it for o_proj too
  }
  c.mlp_bias = f.optional_bool("mlp_bias", false);
  c.tie_word_embeddings = f.optional_bool("tie_word_embeddings", false);
  c.hidden_act = f.optional_string("hidden_act", "silu");
  if (c.hidden_act != "silu") f.fail("hidden_act", "unsupported activation '" + c.hidden_act + "' (llama family: silu)");
}

void parse_gpt2(const Fields& f, ModelConfig& c) {
  c.family = Family::kGpt2;
  c.vocab_size = f.required_positive("vocab_size");
  c.hidden_size = f.required_positive("n_embd");
  c.num_layers = f.required_positive("n_layer");
  c.num_heads = f.required_positive("n_head");
  c.max_position_embeddings = f.required_positive("n_positions");
  c.intermediate_size = f.optional_positive("n_inner", 4 * c.hidden_size);
  if (c.hidden_size % c.num_heads != 0) {
    f.fail("n_head", std::to_string(c.num_heads) + " does not divide n_embd " + std::to_string(c.hidden_size));
  }
  c.num_kv_heads = c.num_heads;
  c.head_dim = c.hidden_size / c.num_heads;
  c.layer_norm_eps = f.optional_positive_number("layer_norm_epsilon", 1e-5);
  c.attention_bias = true;
  c.attention_out_bias = true;
  c.mlp_bias = true;
  c.tie_word_embeddings = f.optional_bool("tie_word_embeddings", true);
  c.hidden_act = f.optional_string("activation_function", "gelu_new");
  if (c.hidden_act != "gelu_new" && c.hidden_act != "gelu_pytorch_tanh" && c.hidden_act != "gelu") {
    f.fail("activation_function", "unsupported activation '" + c.hidden_act + "' (gelu_new, gelu_pytorch_tanh, gelu)");
  }
  if (!f.optional_bool("scale_attn_weights", true)) f.fail("scale_attn_weights", "false is not supported");
  if (f.optional_bool("scale_attn_by_inverse_layer_idx", false)) {
    f.fail("scale_attn_by_inverse_layer_idx", "true is not supported");
  }
}

}  // namespace

ModelConfig parse_config(const std::string& text, const std::string& source) {
  const json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) throw InputError(source, "", "not well-formed JSON");
  if (!j.is_object()) throw InputError(source, "", "expected a JSON object");
  const Fields f(j, source);
  ModelConfig c;
  c.source = source;
  const json* type = f.find("model_type");
  if (!type) f.fail("model_type", "missing");
  if (!type->is_string()) f.fail("model_type", "expected a string, got " + type->dump());
  c.model_type = type->get<std::string>();
  if (c.model_type == "llama" || c.model_type == "mistral" || c.model_type == "qwen2") {
    parse_llama(f, c);
  } else if (c.model_type == "gpt2") {
    parse_gpt2(f, c);
  } else {
    f.fail("model_type", "unknown model_type '" + c.model_type + "' (supported: llama, mistral, qwen2, gpt2)");
  }
  const std::vector<int64_t> bos = f.token_ids("bos_token_id");
  if (!bos.empty()) c.bos_token_id = bos.front();
  c.eos_token_ids = f.token_ids("eos_token_id");
  if (!c.eos_token_ids.empty()) c.eos_token_id = c.eos_token_ids.front();
  c.torch_dtype = f.optional_string("torch_dtype", "");
  return c;
}

ModelConfig load_config(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const std::string file = fs::is_directory(path, ec) ? (fs::path(path) / "config.json").string() : path;
  return parse_config(sharding::read_text_file(file), file);
}

sharding::ModelDims model_dims(const ModelConfig& c) {
  sharding::ModelDims d;
  d.arch = c.family == Family::kGpt2 ? sharding::Arch::kGpt2 : sharding::Arch::kLlama;
  d.vocab_size = c.vocab_size;
  d.hidden_size = c.hidden_size;
  d.intermediate_size = c.intermediate_size;
  d.num_layers = c.num_layers;
  d.num_heads = c.num_heads;
  d.num_kv_heads = c.num_kv_heads;
  d.head_dim = c.head_dim;
  d.max_positions = c.max_position_embeddings;
  return d;
}

}  // namespace revive::model
