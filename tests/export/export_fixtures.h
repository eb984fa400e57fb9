#pragma once
// Helpers of the export tests: a small random Llama folder in any dtype, and
// a run checkpoint as the sequential runner writes it (weights.tp<r> shards of
// an edited weight, state.json, latest), made without running an edit.
#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "lib/export/model_export.h"
#include "lib/model/config.h"
#include "sharding/checkpoint/atomic_file.h"
#include "sharding/checkpoint/content_hash.h"
#include "sharding/checkpoint/file_tree.h"
#include "sharding/checkpoint/safetensors.h"
#include "sharding/checkpoint/safetensors_header.h"
#include "sharding/layout/param_layout.h"

namespace revive::exporting::test {
namespace fs = std::filesystem;

// intermediate_size 23: the down_proj columns split unevenly at tp 2.
inline const char* kSmallLlamaConfig = R"({"architectures": ["LlamaForCausalLM"], "model_type": "llama",
  "hidden_size": 16, "intermediate_size": 23, "num_hidden_layers": 2, "num_attention_heads": 4,
  "num_key_value_heads": 2, "vocab_size": 32, "max_position_embeddings": 64, "rms_norm_eps": 1e-05,
  "hidden_act": "silu", "tie_word_embeddings": false, "torch_dtype": "bfloat16"})";

inline std::string file_bytes(const std::string& path) { return sharding::read_text_file(path); }

// The header length a safetensors file's bytes start with (8 bytes, little-endian).
inline uint64_t header_length(const std::string& bytes) {
  return sharding::decode_header_length(reinterpret_cast<const uint8_t*>(bytes.data()));
}

inline ExportOptions export_options(const std::string& run, const std::string& model, const std::string& out) {
  ExportOptions o;
  o.run_dir = run;
  o.model_dir = model;
  o.out_dir = out;
  return o;
}

// The part of a run checkpoint beside its weight shards, as the runner writes
// it: state.json (a MEMIT run of `layers` at `edits` edits of `model_dir`, its
// fingerprint in run_config.model, plus `extra` fields) and the latest pointer.
inline void write_run_state(const std::string& run, int64_t edits, int tp, const std::vector<std::string>& layers,
                            const std::string& model_dir, const std::string& preset,
                            const nlohmann::json& extra = nlohmann::json::object()) {
  const fs::path dir = fs::path(run) / "checkpoints" / ("edits-" + std::to_string(edits));
  nlohmann::json st = extra;
  st["edits"] = edits;
  st["batches"] = 1;
  st["batch_size"] = edits;
  st["editor"] = "MEMIT";
  st["layers"] = layers;
  st["tp_size"] = tp;
  st["run_config"] = {{"model", sharding::fingerprint_checkpoint(model_dir)}, {"preset", preset}};
  sharding::write_file_atomic((dir / "state.json").string(), st.dump(2) + "\n");
  sharding::write_file_atomic((fs::path(run) / "checkpoints" / "latest").string(),
                              "edits-" + std::to_string(edits) + "\n");
}

// A random-weight Llama folder: config.json, side files, and its tensors in
// `dtype` over several files with an index (max_shard_bytes) or one file.
inline void write_small_llama(const std::string& dir, at::ScalarType dtype, int64_t max_shard_bytes, uint64_t seed) {
  fs::create_directories(dir);
  sharding::write_file_atomic(dir + "/config.json", kSmallLlamaConfig);
  sharding::write_file_atomic(dir + "/tokenizer_config.json", "{\"model_max_length\": 64}\n");
  sharding::write_file_atomic(dir + "/generation_config.json", "{\"do_sample\": false}\n");
  const model::ModelConfig config = model::parse_config(kSmallLlamaConfig, "config.json");
  const sharding::ModelDims dims = model::model_dims(config);
  at::manual_seed(seed);
  sharding::NamedTensors tensors;
  for (const std::string& name : sharding::parameter_names(dims)) {
    const sharding::ParamLayout l = sharding::param_layout(name, dims);
    tensors.emplace_back(name, (at::randn(l.stored_shape, at::kFloat) * 0.2).to(dtype));
  }
  sharding::write_checkpoint(dir, tensors, max_shard_bytes);
}

// A run checkpoint at `edits` edits holding `weights` (module -> full f32
// [out, in] weight) split over tp ranks as the model shards them.
inline void write_run_checkpoint(const std::string& run, int64_t edits, int tp,
                                 const std::map<std::string, at::Tensor>& weights, const std::string& model_dir) {
  const model::ModelConfig config = model::load_config(model_dir);
  const sharding::ModelDims dims = model::model_dims(config);
  const fs::path dir = fs::path(run) / "checkpoints" / ("edits-" + std::to_string(edits));
  fs::create_directories(dir);
  std::vector<std::string> layers;
  for (int r = 0; r < tp; ++r) {
    sharding::NamedTensors shards;
    for (const auto& [module, full] : weights) {
      const sharding::ShardSpec spec = sharding::param_layout(module + ".weight", dims).shard_spec(module, r, tp);
      shards.emplace_back(module, spec.dim < 0 ? full : full.narrow(spec.dim, spec.offset, spec.length).contiguous());
    }
    sharding::write_safetensors((dir / ("weights.tp" + std::to_string(r) + ".safetensors")).string(), shards,
                                {{"tp_rank", std::to_string(r)}, {"tp_size", std::to_string(tp)}});
  }
  for (const auto& [module, full] : weights) layers.push_back(module);
  write_run_state(run, edits, tp, layers, model_dir, "test");
}

// The raw stored bytes of tensor `name` in safetensors file `path`.
inline std::string tensor_bytes(const std::string& path, const std::string& name) {
  const std::string all = file_bytes(path);
  const uint64_t n = header_length(all);
  const sharding::SafetensorsFile f(path);
  const sharding::TensorInfo& info = f.info(name);
  return all.substr(8 + n + static_cast<size_t>(info.data_begin), static_cast<size_t>(info.data_end - info.data_begin));
}

}  // namespace revive::exporting::test
