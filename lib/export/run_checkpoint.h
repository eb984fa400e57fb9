#pragma once
// A checkpoint of an edit run, as the sequential runner writes it
// (lib/edit/run/sequential_runner.cpp): <run>/checkpoints/edits-<E>/ holds
// weights.tp<r>.safetensors (rank r's f32 shard of each edited weight, named
// by its module, "model.layers.1.mlp.down_proj"), editor.tp<r>.safetensors and
// state.json (edits, tp_size, layers, editor, run_config with the model's
// fingerprint); <run>/checkpoints/latest names the newest. Read-only here.
#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "sharding/layout/param_layout.h"

namespace revive::exporting {

struct RunCheckpoint {
  std::string dir;          // <run>/checkpoints/edits-<E>
  std::string state_file;   // <dir>/state.json
  int64_t edits = 0;
  int tp_size = 1;
  std::string editor;
  std::vector<std::string> layers;  // edited modules, as the model names them
  nlohmann::json state;             // state.json as read

  // run_config.model: the fingerprint of the model folder the run edited
  // (sharding::fingerprint_checkpoint); an InputError naming the field if absent.
  std::string model_fingerprint() const;
  // <dir>/weights.tp<r>.safetensors
  std::string weights_file(int tp_rank) const;
};

// Edit counts of the complete checkpoints (state.json present) in <run>/checkpoints, ascending.
std::vector<int64_t> run_checkpoint_counts(const std::string& run_dir);

// The checkpoint at `at_edits` edits, or the one <run>/checkpoints/latest names
// when at_edits < 0. A count with no checkpoint is an InputError naming the
// counts that exist; a malformed state.json names its field.
RunCheckpoint open_run_checkpoint(const std::string& run_dir, int64_t at_edits = -1);

// The full f32 weight of edited module `layer` ([out, in], one logical part):
// its shards from every weights.tp<r>.safetensors, each checked against
// `layout`'s ShardSpec for rank r of tp_size, concatenated along the split dim.
// `param_name` names the checkpoint parameter in errors and for the spec.
at::Tensor gather_edited_weight(const RunCheckpoint& ckpt, const std::string& layer,
                                const sharding::ParamLayout& layout, const std::string& param_name);

}  // namespace revive::exporting
