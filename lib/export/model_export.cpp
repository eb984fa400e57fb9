#include "lib/export/model_export.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <map>
#include <set>

#include "lib/export/run_checkpoint.h"
#include "lib/model/config.h"
#include "sharding/checkpoint/atomic_file.h"
#include "sharding/checkpoint/atomic_folder.h"
#include "sharding/checkpoint/content_hash.h"
#include "sharding/checkpoint/safetensors.h"
#include "sharding/checkpoint/safetensors_rewrite.h"
#include "sharding/comm/watchdog.h"
#include "sharding/errors.h"

namespace revive::exporting {
namespace fs = std::filesystem;

namespace {

// One checkpoint parameter the run edited: its stored name, layout, and the
// edited modules that make it up (one, or some of GPT-2's fused q, k, v).
struct EditedParam {
  std::string param;   // canonical name ("transformer.h.1.attn.c_attn.weight")
  std::string stored;  // as the file names it (GPT-2 files may drop "transformer.")
  std::string file;    // the file holding it
  sharding::ParamLayout layout;
  std::vector<std::pair<std::string, int64_t>> parts;  // (edited module, part index)
};

// The checkpoint parameter of an edited module, and which fused part it is.
std::pair<std::string, int64_t> param_of_module(const std::string& module) {
  const char* parts[] = {".q", ".k", ".v"};
  for (int64_t p = 0; p < 3; ++p) {
    const std::string tail = std::string("c_attn") + parts[p];
    if (module.size() > tail.size() && module.compare(module.size() - tail.size(), tail.size(), tail) == 0) {
      return {module.substr(0, module.size() - 2) + ".weight", p};
    }
  }
  return {module + ".weight", 0};
}

std::map<std::string, EditedParam> edited_params(const RunCheckpoint& ckpt, const sharding::CheckpointReader& reader,
                                                 const sharding::ModelDims& dims) {
  std::map<std::string, EditedParam> out;  // by stored name
  for (const std::string& module : ckpt.layers) {
    const auto [param, part] = param_of_module(module);
    std::string stored = param;
    const std::string gpt2_prefix = "transformer.";
    if (!reader.contains(stored) && stored.rfind(gpt2_prefix, 0) == 0) stored = stored.substr(gpt2_prefix.size());
    if (!reader.contains(stored)) {
      throw InputError(reader.folder(), param, "the run edited " + module + " (" + ckpt.state_file +
                                                   "), but the model folder holds no such tensor");
    }
    EditedParam& e = out[stored];
    if (e.param.empty()) {
      e.param = param;
      e.stored = stored;
      e.file = reader.file_of(stored);
      e.layout = sharding::param_layout(param, dims);
      if (reader.info(stored).shape != e.layout.stored_shape) {
        throw InputError(e.file, stored, "shape differs from the one config.json gives it");
      }
    }
    e.parts.emplace_back(module, part);
  }
  return out;
}

at::ScalarType checked_float_dtype(const sharding::TensorInfo& info, const std::string& file) {
  const at::ScalarType t = info.dtype;
  if (t != at::kFloat && t != at::kBFloat16 && t != at::kHalf && t != at::kDouble) {
    throw InputError(file, info.name, std::string("stored as ") + c10::toString(t) + ", not a floating type an edit can be cast to");
  }
  return t;
}

// The edited parameter in its stored shape and dtype. The f32 -> bf16/f16
// conversion of LibTorch rounds to nearest even.
at::Tensor assemble_param(const RunCheckpoint& ckpt, const sharding::CheckpointReader& reader, const EditedParam& p,
                          const sharding::TensorInfo& info) {
  const at::ScalarType dtype = checked_float_dtype(info, p.file);
  if (p.layout.parts == 1) {
    at::Tensor full = gather_edited_weight(ckpt, p.parts.front().first, p.layout, p.param);
    if (p.layout.transpose) full = full.t();
    return full.to(dtype).contiguous();
  }
  // A fused tensor: the parts not edited keep their values (exact in f32/f64).
  at::Tensor fused = reader.read(p.stored, dtype == at::kDouble ? at::kDouble : at::kFloat);
  at::Tensor logical = p.layout.transpose ? fused.t() : fused;  // [parts * out, in]
  const int64_t rows = logical.size(0) / p.layout.parts;
  for (const auto& [module, part] : p.parts) {
    logical.narrow(0, part * rows, rows).copy_(gather_edited_weight(ckpt, module, p.layout, p.param));
  }
  return fused.to(dtype).contiguous();
}

// Weights in formats REVIVE does not read (PyTorch, TensorFlow, Flax, GGUF, a
// model's "original" consolidated copies): copied unedited, a loader that
// prefers them would get the original model, so they are left out.
bool is_other_weight_file(const fs::path& rel, const std::set<std::string>& read_files) {
  static const std::set<std::string> kWeightExtensions = {".bin", ".pt", ".pth", ".h5", ".msgpack", ".ckpt", ".gguf"};
  const std::string ext = rel.extension().string();
  if (ext == ".safetensors") return read_files.count(rel.string()) == 0;
  return kWeightExtensions.count(ext) != 0;
}

// The files of `dir` an export reproduces, relative, sorted; `skipped` gets the
// weight files in other formats and anything under a hidden (dot) entry (.git,
// .cache).
std::vector<std::string> folder_files(const std::string& dir, const std::set<std::string>& read_files,
                                      std::vector<std::string>& skipped) {
  std::vector<std::string> files;
  for (auto it = fs::recursive_directory_iterator(dir); it != fs::recursive_directory_iterator(); ++it) {
    const fs::path rel = fs::relative(it->path(), dir);
    if (rel.filename().string().rfind('.', 0) == 0) {
      skipped.push_back(rel.string() + (it->is_directory() ? "/" : ""));
      if (it->is_directory()) it.disable_recursion_pending();
      continue;
    }
    if (!it->is_regular_file()) continue;
    (is_other_weight_file(rel, read_files) ? skipped : files).push_back(rel.string());
  }
  std::sort(files.begin(), files.end());
  std::sort(skipped.begin(), skipped.end());
  return files;
}

void copy_or_link(const std::string& src, const std::string& dst, bool link) {
  if (link) {
    std::error_code ec;
    // The file itself, not a symlink to it (HF cache snapshots link to blobs).
    fs::create_hard_link(fs::canonical(src), dst, ec);
    if (!ec) return;  // else (another file system, no permission): copy
  }
  sharding::copy_file_atomic(src, dst);
}

nlohmann::json edit_record(const RunCheckpoint& ckpt, const ExportOptions& o) {
  nlohmann::json j;
  j["exported_by"] = "revive export";
  j["editor"] = ckpt.editor;
  j["layers"] = ckpt.layers;
  j["edits"] = ckpt.edits;
  j["tp_size"] = ckpt.tp_size;
  j["source_model"] = fs::absolute(o.model_dir).lexically_normal().string();
  j["source_fingerprint"] = ckpt.model_fingerprint();
  j["checkpoint"] = fs::absolute(ckpt.dir).lexically_normal().string();
  for (const char* key : {"requests_fingerprint", "batch_size", "run_config"}) {
    if (ckpt.state.contains(key)) j[key] = ckpt.state[key];
  }
  j["finished"] = ckpt.state.value("finished", false);  // the editor's step after the last batch is in
  return j;
}

}  // namespace

void check_export_paths(const ExportOptions& o) {
  if (o.out_dir.empty()) throw InputError("--out", "", "no output folder given");
  const fs::path out = fs::weakly_canonical(fs::absolute(o.out_dir));
  auto within = [](const fs::path& inner, const fs::path& outer) {
    auto i = inner.begin(), e = outer.begin();
    for (; e != outer.end() && !e->empty(); ++i, ++e) {
      if (i == inner.end() || *i != *e) return false;
    }
    return true;
  };
  for (const std::string* src : {&o.model_dir, &o.run_dir}) {
    const fs::path from = fs::weakly_canonical(fs::absolute(*src));
    if (within(from, out) || within(out, from)) {
      throw InputError("--out", "", o.out_dir + " is, holds or lies inside the source folder " + *src +
                                        ": export to a new folder elsewhere");
    }
  }
  if (!fs::is_directory(out.parent_path())) throw InputError("--out", "", o.out_dir + ": its parent folder does not exist");
  if (fs::exists(out) && !o.force) throw InputError("--out", "", o.out_dir + " already exists (--force replaces it)");
}

namespace {

// A PRUNE run restrains its update once, after its last batch: a checkpoint
// before that (an --at-edits one, an interrupted run's) holds MEMIT's weights.
std::vector<std::string> checkpoint_warnings(const RunCheckpoint& ckpt) {
  const nlohmann::json& rc = ckpt.state.value("run_config", nlohmann::json::object());
  const bool restrains_at_end = rc.is_object() && rc.contains("solve") && rc["solve"].is_object() &&
                                rc["solve"].value("prune_when", std::string()) == "end";
  if (!restrains_at_end || ckpt.state.value("finished", false)) return {};
  return {ckpt.state_file + ": PRUNE restrains its update after the run's last batch, and this checkpoint at " +
          std::to_string(ckpt.edits) + " edits is from before it: the export holds the unrestrained weights"};
}

// The model folder's files into `temp`: the safetensors files holding edited
// tensors rewritten, every other file copied (or linked), the edit record.
void write_export_files(const ExportOptions& o, const RunCheckpoint& ckpt,
                        const sharding::CheckpointReader& reader,
                        const std::map<std::string, EditedParam>& params, const std::string& temp,
                        ExportSummary& s) {
  std::map<std::string, std::set<std::string>> by_file;  // file -> stored names edited there
  for (const auto& [stored, p] : params) by_file[fs::canonical(p.file).string()].insert(stored);
  std::set<std::string> read_files;  // relative to the model folder
  for (const std::string& f : reader.files()) read_files.insert(fs::relative(f, o.model_dir).string());
  for (const std::string& rel : folder_files(o.model_dir, read_files, s.skipped_files)) {
    const fs::path src = fs::path(o.model_dir) / rel, dst = fs::path(temp) / rel;
    fs::create_directories(dst.parent_path());
    const auto edited = by_file.find(fs::canonical(src).string());
    if (edited != by_file.end()) {
      sharding::rewrite_safetensors(src.string(), dst.string(), edited->second,
                                    [&](const sharding::TensorInfo& info) {
                                      return assemble_param(ckpt, reader, params.at(info.name), info);
                                    });
      s.rewritten_files.push_back(rel);
    } else {
      copy_or_link(src.string(), dst.string(), o.link_unedited);
      s.copied_files.push_back(rel);
    }
    if (o.on_file) o.on_file(rel);
  }
  if (o.edit_record) {
    sharding::write_file_atomic((fs::path(temp) / kEditRecordFile).string(),
                                edit_record(ckpt, o).dump(2) + "\n");
    if (o.on_file) o.on_file(kEditRecordFile);
  }
}

}  // namespace

ExportSummary export_edited_model(const ExportOptions& o) {
  const sharding::watchdog::Phase phase("export");
  const auto t0 = std::chrono::steady_clock::now();
  check_export_paths(o);
  const RunCheckpoint ckpt = open_run_checkpoint(o.run_dir, o.at_edits);
  const std::string want = ckpt.model_fingerprint();
  const std::string have = sharding::fingerprint_checkpoint(o.model_dir);
  if (want != have) {
    throw InputError(ckpt.state_file, "run_config.model",
                     "the run edited a model with fingerprint " + want + ", but --model " + o.model_dir +
                         " has fingerprint " + have + ": give the model folder the run edited");
  }
  const model::ModelConfig config = model::load_config(o.model_dir);
  const sharding::CheckpointReader reader(o.model_dir);
  const std::map<std::string, EditedParam> params = edited_params(ckpt, reader, model::model_dims(config));

  ExportSummary s;
  s.checkpoint_dir = ckpt.dir;
  s.edits = ckpt.edits;
  s.tp_size = ckpt.tp_size;
  for (const auto& [stored, p] : params) s.edited_tensors.push_back(stored);
  s.warnings = checkpoint_warnings(ckpt);

  sharding::remove_stale_partial_folders(o.out_dir);
  sharding::AtomicFolder folder(o.out_dir, o.force);
  s.out_dir = folder.target();
  try {
    write_export_files(o, ckpt, reader, params, folder.temp_path(), s);
    folder.commit();
  } catch (const InputError&) {
    throw;
  } catch (const std::exception& e) {
    // A full or read-only disk names a temporary: say which folder could not be made.
    throw Error("cannot write " + s.out_dir +
                " (nothing of it is left; the original model is untouched): " + e.what());
  }
  s.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return s;
}

}  // namespace revive::exporting
