#include "lib/export/run_checkpoint.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <filesystem>

#include "sharding/checkpoint/file_tree.h"
#include "sharding/checkpoint/latest_pointer.h"
#include "sharding/checkpoint/safetensors.h"
#include "sharding/errors.h"

namespace revive::exporting {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr const char* kPrefix = "edits-";

std::string counts_text(const std::vector<int64_t>& counts) {
  if (counts.empty()) return "none";
  std::string s;
  for (int64_t c : counts) s += (s.empty() ? "" : ", ") + std::to_string(c);
  return s;
}

// The checkpoint folder <root>/latest names.
std::string latest_name(const fs::path& root) {
  const fs::path pointer = root / "latest";
  const std::string name = sharding::read_latest_pointer(pointer.string());
  if (name.empty()) throw InputError(pointer.string(), "", "missing (the run's newest checkpoint; is this a run folder?)");
  if (name.rfind(kPrefix, 0) != 0) throw InputError(pointer.string(), "", "does not name a checkpoint folder (edits-N)");
  return name;
}

template <typename T>
T state_field(const json& st, const std::string& file, const char* key) {
  if (!st.contains(key)) throw InputError(file, key, "missing");
  try {
    return st.at(key).get<T>();
  } catch (const json::exception&) {
    throw InputError(file, key, "has the wrong type: " + st.at(key).dump());
  }
}

}  // namespace

std::string RunCheckpoint::model_fingerprint() const {
  if (!state.contains("run_config") || !state["run_config"].is_object() || !state["run_config"].contains("model") ||
      !state["run_config"]["model"].is_string()) {
    throw InputError(state_file, "run_config.model",
                     "missing: the checkpoint does not record which model it edited, so the export cannot check it");
  }
  return state["run_config"]["model"].get<std::string>();
}

std::string RunCheckpoint::weights_file(int tp_rank) const {
  return (fs::path(dir) / ("weights.tp" + std::to_string(tp_rank) + ".safetensors")).string();
}

std::vector<int64_t> run_checkpoint_counts(const std::string& run_dir) {
  const fs::path root = fs::path(run_dir) / "checkpoints";
  std::vector<int64_t> counts;
  std::error_code ec;
  for (const fs::directory_entry& e : fs::directory_iterator(root, ec)) {
    const std::string name = e.path().filename().string();
    if (name.rfind(kPrefix, 0) != 0 || !fs::exists(e.path() / "state.json")) continue;
    const std::string digits = name.substr(std::string(kPrefix).size());
    if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) continue;
    counts.push_back(std::stoll(digits));
  }
  std::sort(counts.begin(), counts.end());
  return counts;
}

RunCheckpoint open_run_checkpoint(const std::string& run_dir, int64_t at_edits) {
  const fs::path root = fs::path(run_dir) / "checkpoints";
  if (!fs::is_directory(root)) {
    throw InputError(run_dir, "", "holds no checkpoints/ folder: is it the --out of a `revive edit` run with --checkpoint-every?");
  }
  std::string name;
  if (at_edits >= 0) {
    const std::vector<int64_t> counts = run_checkpoint_counts(run_dir);
    if (std::find(counts.begin(), counts.end(), at_edits) == counts.end()) {
      throw InputError("--at-edits", "", "the run " + run_dir + " has no checkpoint at " + std::to_string(at_edits) +
                                             " edits; it has checkpoints at: " + counts_text(counts));
    }
    name = kPrefix + std::to_string(at_edits);
  } else {
    name = latest_name(root);
  }
  RunCheckpoint c;
  c.dir = (root / name).string();
  c.state_file = (root / name / "state.json").string();
  try {
    c.state = json::parse(sharding::read_text_file(c.state_file, "(the checkpoint's state)"));
  } catch (const json::exception& e) {
    throw InputError(c.state_file, "", std::string("malformed JSON: ") + e.what());
  }
  c.edits = state_field<int64_t>(c.state, c.state_file, "edits");
  c.tp_size = state_field<int>(c.state, c.state_file, "tp_size");
  c.editor = state_field<std::string>(c.state, c.state_file, "editor");
  c.layers = state_field<std::vector<std::string>>(c.state, c.state_file, "layers");
  if (c.tp_size < 1) throw InputError(c.state_file, "tp_size", "must be at least 1");
  if (name != kPrefix + std::to_string(c.edits)) {
    throw InputError(c.state_file, "edits", "says " + std::to_string(c.edits) + ", but the folder is " + name);
  }
  return c;
}

at::Tensor gather_edited_weight(const RunCheckpoint& ckpt, const std::string& layer,
                                const sharding::ParamLayout& layout, const std::string& param_name) {
  std::vector<at::Tensor> shards;
  int64_t dim = -1;
  for (int r = 0; r < ckpt.tp_size; ++r) {
    const sharding::ShardSpec spec = layout.shard_spec(param_name, r, ckpt.tp_size);
    const sharding::SafetensorsFile file(ckpt.weights_file(r));
    if (!file.contains(layer)) throw InputError(file.path(), layer, "missing edited weight");
    at::Tensor shard = file.read(layer, at::kFloat);
    if (shard.sizes().vec() != spec.local_shape()) {
      throw InputError(file.path(), layer, "shape differs from rank " + std::to_string(r) + " of " +
                                               std::to_string(ckpt.tp_size) + "'s shard of " + param_name);
    }
    dim = spec.dim;
    shards.push_back(std::move(shard));
  }
  if (ckpt.tp_size == 1 || dim < 0) return shards.front();
  return at::cat(shards, dim);
}

}  // namespace revive::exporting
