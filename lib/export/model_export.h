#pragma once
// `revive export`: the model an edit run holds at one of its checkpoints,
// written as a folder in the original model's layout, loadable wherever the
// original is (transformers, vLLM, REVIVE).
//
//  * Every file of the original folder is reproduced under the same relative
//    path: config.json, tokenizer files, the safetensors index and side files
//    copied byte for byte (or hard-linked, `link_unedited`), as are safetensors
//    files holding no edited tensor.
//  * A safetensors file holding an edited tensor is rewritten with the same
//    header (tensor order, names, dtypes, shapes, offsets, __metadata__); the
//    bytes of its unedited tensors are copied verbatim, never re-encoded. An
//    edited tensor is its tp shards concatenated along the split dim of its
//    layout (sharding/layout/param_layout.h), transposed back for GPT-2's
//    Conv1D, and cast from f32 to the stored dtype with round-to-nearest-even
//    (LibTorch's f32 -> bf16/f16 conversion); bf16 stays bf16.
//  * Streamed: one edited tensor in memory at a time (with its shards), files
//    copied in bounded chunks.
//  * All or nothing: written into a hidden sibling of `out_dir` and renamed
//    onto it (sharding::AtomicFolder), so a failure or a killed process never
//    leaves a folder at `out_dir`. An existing `out_dir` is refused unless `force`.
//  * The model folder must be the one the run edited: its fingerprint
//    (sharding::fingerprint_checkpoint, as `revive edit` records it in
//    state.json's run_config.model) must match, else an InputError names the field.
//  * config.json is unchanged; `edit_record` adds revive_edit.json beside it
//    (editor, layers, edits, tp, the source fingerprint, the run's settings).
// Single process: it reads every tp shard file itself (under mpirun the
// command runs it on rank 0).
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace revive::exporting {

inline constexpr const char* kEditRecordFile = "revive_edit.json";

struct ExportOptions {
  std::string run_dir;     // the --out of `revive edit`
  std::string model_dir;   // the model folder the run edited
  std::string out_dir;     // the folder to create
  int64_t at_edits = -1;   // the checkpoint at this many edits; < 0: the latest
  bool force = false;      // replace an existing out_dir
  bool link_unedited = false;  // hard-link files without edited tensors (copied across file systems)
  bool edit_record = true;     // write revive_edit.json
  // Called after each file of the output is in place (its path relative to the
  // folder): progress, and the tests' fault injection.
  std::function<void(const std::string& file)> on_file;
};

struct ExportSummary {
  std::string out_dir;
  std::string checkpoint_dir;
  int64_t edits = 0;
  int tp_size = 1;
  std::vector<std::string> edited_tensors;   // checkpoint names, as stored
  std::vector<std::string> rewritten_files;  // relative paths
  std::vector<std::string> copied_files;     // relative paths (copied or linked)
  // Left out: weight files in formats REVIVE does not read (.bin, .pth, .h5, a
  // .safetensors the index does not list...) and hidden entries (.git/), so no
  // loader finds the unedited weights there.
  std::vector<std::string> skipped_files;
  std::vector<std::string> warnings;         // e.g. a PRUNE checkpoint before its restraint
  double seconds = 0;
};

// The checks of the output folder an export does first, for callers that
// export after hours of work (`revive edit --save-model`): --out is not, holds
// or lies inside the model or run folder, its parent exists, and it does not
// exist unless options.force. InputError naming --out.
void check_export_paths(const ExportOptions& options);

ExportSummary export_edited_model(const ExportOptions& options);

}  // namespace revive::exporting
