#include "lib/edit/run/sequential_runner.h"

#include <ATen/ATen.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "lib/edit/run/edit_prompts.h"
#include "lib/edit/run/target_scores.h"
#include "lib/model/transformer.h"
#include "lib/spectral/drift_metrics.h"
#include "lib/spectral/protected_basis.h"
#include "sharding/checkpoint/atomic_file.h"
#include "sharding/checkpoint/content_hash.h"
#include "sharding/checkpoint/file_tree.h"
#include "sharding/checkpoint/latest_pointer.h"
#include "sharding/checkpoint/safetensors.h"
#include "sharding/comm/communicator.h"
#include "sharding/comm/staged_collectives.h"
#include "sharding/comm/watchdog.h"
#include "sharding/errors.h"
#include "sharding/process_memory.h"
#include "sharding/sharded_tensor.h"

namespace revive::edit {
namespace fs = std::filesystem;
using nlohmann::json;
namespace {

double runner_seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Crossed a multiple of `every` going from `before` to `after` edits.
bool runner_crossed(int64_t before, int64_t after, int64_t every) {
  return every > 0 && after / every > before / every;
}

double runner_global_sq(const at::Tensor& local, sharding::Communicator& group) {
  at::Tensor t = at::tensor({local.to(at::kDouble).pow(2).sum().item<double>()}, at::kDouble);
  if (group.size() > 1) sharding::all_reduce_staged(group, t);
  return t.item<double>();
}

// One readable line of a metrics record.
std::string runner_progress_line(const json& rec, int64_t total) {
  std::ostringstream line;
  line.setf(std::ios::fixed);
  line.precision(3);
  line << "[" << rec.value("edits", int64_t{0}) << "/" << total << " edits] batch efficacy "
       << rec.value("batch_efficacy_window", 0.0) << ", v* loss " << rec.value("value_loss", 0.0);
  if (rec.contains("eval")) {
    for (const auto& [k, v] : rec.at("eval").items()) {
      if (v.is_number()) line << ", " << k << " " << v.get<double>();
    }
  }
  // The edited matrix whose protected subspace moved most.
  double worst = 2.0;
  if (rec.contains("layers")) {
    for (const auto& [name, m] : rec.at("layers").items()) {
      if (!m.contains("subspace_similarity_u")) continue;
      worst = std::min({worst, m.at("subspace_similarity_u").get<double>(), m.at("subspace_similarity_v").get<double>()});
    }
  }
  if (worst <= 1.0) line << ", min subspace similarity " << worst;
  if (rec.contains("memory")) line << ", rss " << rec.at("memory").value("rss_mib", 0.0) << " MiB";
  line << ", " << rec.value("seconds", 0.0) << " s";
  return line.str();
}

// Sums over the batches since the last metrics record. Checkpoints need not
// fall on records, so each one saves the window: a resumed run's next record
// then averages the same batches as the uninterrupted run's.
struct MetricsWindow {
  double efficacy = 0, value_loss = 0, value_prob = 0;
  int64_t batches = 0, requests = 0, passes = 0, converged = 0, given_up = 0, groups = 0;
  json seconds = {{"values", 0.0}, {"keys", 0.0},  {"solve", 0.0},   {"filter", 0.0},
                  {"write", 0.0},  {"record", 0.0}, {"efficacy", 0.0}, {"diagnostics", 0.0}};

  void add_seconds(const char* phase, double s) { seconds[phase] = seconds[phase].get<double>() + s; }

  void add(const BatchReport& rep, double batch_efficacy) {
    efficacy += batch_efficacy;
    ++batches;
    passes += rep.passes;
    groups += static_cast<int64_t>(rep.cluster_sizes.size());
    converged += rep.converged;
    given_up += rep.given_up;
    for (size_t i = 0; i < rep.values.final_loss.size(); ++i) {
      value_loss += rep.values.final_loss[i];
      value_prob += rep.values.target_prob[i];
      ++requests;
    }
    add_seconds("values", rep.seconds_values);
    add_seconds("record", rep.seconds_record);
    add_seconds("efficacy", rep.seconds_efficacy);
    add_seconds("keys", rep.seconds_first_keys);
    for (const LayerEditReport& lr : rep.layers) {
      add_seconds("keys", lr.seconds_keys);
      add_seconds("solve", lr.seconds_solve);
      add_seconds("filter", lr.seconds_filter);
      add_seconds("write", lr.seconds_write);
      add_seconds("diagnostics", lr.seconds_diagnostics);
    }
  }

  json to_json() const {
    return {{"efficacy", efficacy}, {"value_loss", value_loss}, {"value_prob", value_prob}, {"batches", batches},
            {"requests", requests}, {"passes", passes},         {"converged", converged},   {"given_up", given_up},
            {"groups", groups},     {"seconds", seconds}};
  }

  // Throws json::exception for a missing or mistyped field. JSON writes a
  // NaN/Inf sum (a diverged v* loss) as null, which reads back as NaN.
  static MetricsWindow from_json(const json& j) {
    const auto sum = [](const json& v) { return v.is_null() ? std::nan("") : v.get<double>(); };
    MetricsWindow w;
    w.efficacy = sum(j.at("efficacy"));
    w.value_loss = sum(j.at("value_loss"));
    w.value_prob = sum(j.at("value_prob"));
    w.batches = j.at("batches").get<int64_t>();
    w.requests = j.at("requests").get<int64_t>();
    w.passes = j.at("passes").get<int64_t>();
    w.converged = j.at("converged").get<int64_t>();
    w.given_up = j.at("given_up").get<int64_t>();
    w.groups = j.at("groups").get<int64_t>();
    // A phase a checkpoint of an older build did not time ("diagnostics") is 0.
    const json& secs = j.at("seconds");
    for (auto& [phase, v] : w.seconds.items()) v = secs.contains(phase) ? sum(secs.at(phase)) : 0.0;
    return w;
  }
};

// The checkpoint name held by <root>/latest, or "" when there is none.
std::string runner_latest_checkpoint(const fs::path& root) {
  return sharding::read_latest_pointer((root / "latest").string());
}

// The checkpoint a run in `root` continues from: <root>/latest's, or "" when
// there is none. Without the pointer, a complete checkpoint folder (its
// state.json is written last) means the pointer was lost, not that the run is
// new: starting afresh would overwrite its metrics, so that is refused.
std::string runner_checkpoint_to_resume(const fs::path& root) {
  const std::string latest = runner_latest_checkpoint(root);
  if (!latest.empty() || !fs::is_directory(root)) return latest;
  std::vector<std::string> complete;
  for (const fs::directory_entry& e : fs::directory_iterator(root)) {
    if (e.is_directory() && fs::exists(e.path() / "state.json")) complete.push_back(e.path().filename().string());
  }
  if (complete.empty()) return "";
  std::sort(complete.begin(), complete.end());
  std::string names;
  for (const std::string& c : complete) names += (names.empty() ? "" : ", ") + c;
  throw InputError((root / "latest").string(), "",
                   "missing, but the folder holds the checkpoint(s) " + names +
                       ": write the name of the one to resume into it, or remove them to start afresh");
}

}  // namespace

std::string requests_fingerprint(const std::vector<data::EditRequest>& requests, int64_t count) {
  sharding::ContentHash h;
  h.number(static_cast<uint64_t>(count));
  for (int64_t i = 0; i < count && i < static_cast<int64_t>(requests.size()); ++i) {
    const data::EditRequest& r = requests[static_cast<size_t>(i)];
    h.text(r.prompt_template).text(r.subject).text(r.target_new).text(r.target_true);
  }
  return h.hex();
}

SequentialRunner::SequentialRunner(BatchEditor& editor, RunnerOptions options)
    : editor_(editor), options_(std::move(options)) {
  REVIVE_CHECK(options_.batch_size >= 1, "runner: batch_size must be at least 1");
  REVIVE_CHECK(options_.num_edits >= 0 && options_.metrics_every >= 0 && options_.checkpoint_every >= 0,
               "runner: counts must not be negative");
  REVIVE_CHECK(options_.checkpoint_every == 0 || !options_.out_dir.empty(),
               "runner: checkpoints need an output directory");
  REVIVE_CHECK(!options_.resume || !options_.out_dir.empty(), "runner: --resume needs an output directory");
  check_run_folder(options_);
}

void SequentialRunner::check_run_folder(const RunnerOptions& options) {
  if (options.resume || options.out_dir.empty()) return;
  const fs::path root = fs::path(options.out_dir) / "checkpoints";
  if (!runner_checkpoint_to_resume(root).empty()) {
    throw InputError(root.string(), "", "holds a checkpoint of an earlier run: resume it, or write this run to another folder");
  }
}

void SequentialRunner::set_basis(const std::string& layer, const spectral::ProtectedBasis* basis) {
  editor_.original_weight(layer);  // must be an edited layer
  bases_[layer] = basis;
}

double SequentialRunner::efficacy(model::Transformer& model, const model::Tokenizer& tokenizer,
                                  const std::vector<data::EditRequest>& requests) {
  if (requests.empty()) return 0.0;
  return edit::efficacy(score_targets(model, tokenizer, requests));
}

json SequentialRunner::layer_metrics(const BatchReport& report) {
  json out = json::object();
  model::Transformer& m = editor_.model();
  for (const std::string& name : editor_.layer_names()) {
    const sharding::ShardedTensor& w = m.linear_weight(name);
    json j;
    const double now_sq = runner_global_sq(w.local(), w.reduce_group());
    const double orig_sq = runner_global_sq(editor_.original_weight(name), w.reduce_group());
    j["weight_norm"] = std::sqrt(now_sq);
    j["weight_norm_growth"] = orig_sq > 0 ? std::sqrt(now_sq / orig_sq) : 0.0;
    for (const LayerEditReport& lr : report.layers) {
      if (lr.layer != name) continue;
      j["update_norm"] = lr.update_norm;
      j["filtered_norm"] = lr.filtered_norm;
      j["residual_norm"] = lr.residual_norm;
      // Diagnostics of the batch closing the record (those measured).
      for (const auto& [key, v] : named_diagnostics(lr)) j[key] = v;
    }
    const auto b = bases_.find(name);
    if (b != bases_.end() && b->second != nullptr) {
      const spectral::DriftMetrics d = spectral::spectral_drift(*b->second, w);
      j["k"] = d.k;
      j["subspace_similarity_u"] = d.subspace_similarity_u;
      j["subspace_similarity_v"] = d.subspace_similarity_v;
      j["energy_weighted_similarity_u"] = d.energy_weighted_similarity_u;
      j["energy_weighted_similarity_v"] = d.energy_weighted_similarity_v;
      j["protected_energy_share"] = d.protected_energy_share;
      j["spectral_growth"] = d.spectral_growth;
      j["top_singular_value"] = d.singular_values.numel() > 0 ? d.singular_values[0].item<double>() : 0.0;
    }
    out[name] = j;
  }
  return out;
}

void SequentialRunner::set_evaluator(RunEvaluator evaluator) {
  if (!evaluator) {
    evaluator_ = nullptr;
    return;
  }
  evaluator_ = [inner = std::move(evaluator)](int64_t edits, const std::vector<data::EditRequest>& edited) {
    const sharding::watchdog::Phase phase("evaluation");
    return inner(edits, edited);
  };
}

void SequentialRunner::write_checkpoint(int64_t edits, int64_t batches, double seconds, const json& window,
                                        const std::vector<data::EditRequest>& requests, bool finished) {
  const sharding::watchdog::Phase phase("checkpoint");
  model::Transformer& m = editor_.model();
  sharding::Communicator& tp = m.tp();
  sharding::Communicator* dp = editor_.dp();
  const bool dp_leader = dp == nullptr || dp->rank() == 0;
  const fs::path root = fs::path(options_.out_dir) / "checkpoints";
  const std::string name = "edits-" + std::to_string(edits);
  const fs::path dir = root / name;
  // A checkpoint that cannot be written whole (a full disk) leaves no folder behind.
  const bool existed = dp_leader && fs::exists(dir);
  if (dp_leader) {
    try {
      fs::create_directories(dir);
      sharding::NamedTensors weights;
      for (const std::string& layer : editor_.layer_names())
        weights.emplace_back(layer, m.linear_weight(layer).local());
      const std::string r = std::to_string(tp.rank());
      sharding::write_safetensors((dir / ("weights.tp" + r + ".safetensors")).string(), weights,
                                  {{"tp_rank", r}, {"tp_size", std::to_string(tp.size())}});
      sharding::NamedTensors state;
      for (const auto& [k, v] : editor_.editor().state()) state.emplace_back(k, v);
      sharding::write_safetensors((dir / ("editor.tp" + r + ".safetensors")).string(), state,
                                  {{"tp_rank", r}});
      tp.barrier();
      if (tp.rank() == 0) {
        json st;
        st["edits"] = edits;
        st["batches"] = batches;
        st["batch_size"] = options_.batch_size;
        st["editor"] = editor_.editor().name();
        st["layers"] = editor_.layer_names();
        st["tp_size"] = tp.size();
        st["requests_fingerprint"] = requests_fingerprint(requests, edits);
        st["run_config"] = options_.run_config;
        st["seconds"] = seconds;
        st["metrics_window"] = window;
        // The editor's step after the last batch is in these weights (PRUNE's restraint).
        if (finished) st["finished"] = true;
        sharding::write_file_atomic((dir / "state.json").string(), st.dump(2) + "\n");
        // The pointer moves only now that every file of the checkpoint is in place.
        const std::string previous = runner_latest_checkpoint(root);
        sharding::write_file_atomic((root / "latest").string(), name + "\n");
        if (!previous.empty() && previous != name) sharding::remove_tree((root / previous).string());
      }
    } catch (...) {
      if (!existed && runner_latest_checkpoint(root) != name) {
        try {
          sharding::remove_tree(dir.string());
        } catch (...) {  // the first error is the one to report
        }
      }
      throw;
    }
  }
  if (dp != nullptr) dp->barrier();
  tp.barrier();
}

SequentialRunner::Restored SequentialRunner::restore_checkpoint(const std::vector<data::EditRequest>& requests,
                                                                int64_t total) {
  const fs::path root = fs::path(options_.out_dir) / "checkpoints";
  const std::string name = runner_checkpoint_to_resume(root);
  Restored restored;
  if (name.empty()) return restored;
  const fs::path dir = root / name;
  const std::string state_file = (dir / "state.json").string();
  json st;
  try {
    st = json::parse(sharding::read_text_file(state_file));
  } catch (const json::exception& e) {
    throw InputError(state_file, "", std::string("malformed JSON: ") + e.what());
  }
  // A field of state.json as T; a missing or mistyped one is named.
  auto field = [&](const char* key, auto as) {
    using T = decltype(as);
    if (!st.contains(key)) throw InputError(state_file, key, "missing");
    try {
      return st.at(key).get<T>();
    } catch (const json::exception&) {
      throw InputError(state_file, key, "has the wrong type: " + st.at(key).dump());
    }
  };
  model::Transformer& m = editor_.model();
  const int64_t edits = field("edits", int64_t{});
  if (edits > total) {
    throw InputError(state_file, "edits", "the checkpoint holds " + std::to_string(edits) + " edits, more than the " +
                                              std::to_string(total) + " this run is asked for");
  }
  if (field("editor", std::string{}) != editor_.editor().name()) {
    throw InputError(state_file, "editor", "checkpoint was made by " + field("editor", std::string{}) +
                                               ", this run uses " + editor_.editor().name());
  }
  if (field("layers", std::vector<std::string>{}) != editor_.layer_names()) {
    throw InputError(state_file, "layers", "checkpoint edits other layers than this run");
  }
  if (field("tp_size", int{}) != m.tp().size()) {
    throw InputError(state_file, "tp_size", "checkpoint was written with tp = " +
                                                std::to_string(field("tp_size", int{})) + ", this run has tp = " +
                                                std::to_string(m.tp().size()));
  }
  if (field("batch_size", int64_t{}) != options_.batch_size) {
    throw InputError(state_file, "batch_size", "checkpoint used batch size " +
                                                   std::to_string(field("batch_size", int64_t{})));
  }
  if (edits > static_cast<int64_t>(requests.size()) ||
      field("requests_fingerprint", std::string{}) != requests_fingerprint(requests, edits)) {
    throw InputError(state_file, "requests_fingerprint", "the first " + std::to_string(edits) +
                                                             " requests differ from the checkpointed run's");
  }
  if (st.contains("run_config")) {
    const json config = field("run_config", json{});
    if (!config.is_object()) throw InputError(state_file, "run_config", "is not an object: " + config.dump());
    // As it reads back from JSON (inf and NaN are written as null).
    const json current = json::parse(options_.run_config.dump());
    for (const json* side : std::initializer_list<const json*>{&config, &current}) {
      for (const auto& item : side->items()) {
        const std::string& key = item.key();
        const json was = config.contains(key) ? config.at(key) : json(nullptr);
        const json now = current.contains(key) ? current.at(key) : json(nullptr);
        if (was != now) {
          throw InputError(state_file, "run_config." + key,
                           "the checkpointed run had " + was.dump() + ", this run has " + now.dump());
        }
      }
    }
  } else if (options_.log) {
    options_.log(state_file + " predates run_config: the run's settings are not checked against it");
  }
  restored.finished = st.contains("finished") && field("finished", bool{});
  if (edits < total && restored.finished) {
    throw InputError(state_file, "finished",
                     "the checkpoint at " + std::to_string(edits) + " edits holds the weights after " +
                         editor_.editor().name() + "'s step after the last batch (PRUNE's restraint); a longer run "
                         "cannot continue from them: start over with the longer run, or restrain after every "
                         "batch (--prune-when batch)");
  }
  restored.edits = edits;
  restored.seconds = st.contains("seconds") ? field("seconds", double{}) : 0.0;
  if (st.contains("metrics_window")) {
    restored.window = st.at("metrics_window");
    try {
      MetricsWindow::from_json(restored.window);
    } catch (const json::exception& e) {
      throw InputError(state_file, "metrics_window", std::string("malformed: ") + e.what());
    }
  }
  const std::string r = std::to_string(m.tp().rank());
  {
    sharding::SafetensorsFile wf((dir / ("weights.tp" + r + ".safetensors")).string());
    at::NoGradGuard no_grad;
    for (const std::string& layer : editor_.layer_names()) {
      at::Tensor& local = m.linear_weight(layer).local();
      if (!wf.contains(layer)) throw InputError(wf.path(), layer, "missing edited weight");
      const at::Tensor saved = wf.read(layer, local.scalar_type());
      if (saved.sizes() != local.sizes()) throw InputError(wf.path(), layer, "shape differs from the model's shard");
      local.copy_(saved);
    }
  }
  {
    sharding::SafetensorsFile ef((dir / ("editor.tp" + r + ".safetensors")).string());
    std::map<std::string, at::Tensor> state;
    for (const sharding::TensorInfo& info : ef.tensors()) state[info.name] = ef.read(info.name, info.dtype);
    if (!state.empty()) editor_.editor().load_state(state);
  }
  // Drop metrics recorded after the checkpoint (they will be recomputed).
  const bool leader = m.tp().rank() == 0 && (editor_.dp() == nullptr || editor_.dp()->rank() == 0);
  const fs::path metrics = fs::path(options_.out_dir) / "metrics.jsonl";
  if (leader && fs::exists(metrics)) {
    std::ifstream in(metrics);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    while (!lines.empty() && lines.back().empty()) lines.pop_back();
    std::string kept;
    for (size_t i = 0; i < lines.size(); ++i) {
      json j;
      try {
        j = json::parse(lines[i]);
      } catch (const json::exception& e) {
        if (i + 1 == lines.size()) break;  // a torn last line from a crash: dropped
        // Rewriting the file would lose the record: leave it for the user to mend.
        throw InputError(metrics.string(), "line " + std::to_string(i + 1),
                         std::string("not valid JSON (only a torn last line is dropped on resume): ") + e.what());
      }
      if (j.value("edits", int64_t{0}) <= edits) {
        kept += lines[i] + "\n";
        restored.last_record = j;
      }
    }
    sharding::write_file_atomic(metrics.string(), kept);
  }
  m.tp().barrier();
  return restored;
}

json SequentialRunner::finish_run(int64_t batches, const std::string& last_checkpoint) {
  if (!editor_.editor().finishes()) return json();
  std::vector<LayerEditReport> reports;
  try {
    reports = editor_.finish_run();
  } catch (const std::exception& e) {
    throw Error(editor_.editor().name() + "'s step after the last batch (batch " + std::to_string(batches) +
                ") failed, the weights are as that batch left them: " + e.what() +
                "; last checkpoint: " + last_checkpoint);
  }
  json out = {{"editor", editor_.editor().name()}, {"layers", json::object()}};
  double seconds = 0;
  for (const LayerEditReport& lr : reports) {
    out["layers"][lr.layer] = {{"update_norm", lr.update_norm}};
    seconds += lr.seconds_solve + lr.seconds_write;
  }
  out["seconds"] = seconds;
  if (options_.log) options_.log(editor_.editor().name() + ": step after the last batch written to every edited layer");
  return out;
}

RunSummary SequentialRunner::run(const std::vector<data::EditRequest>& requests) {
  model::Transformer& m = editor_.model();
  sharding::Communicator* dp = editor_.dp();
  const bool leader = m.tp().rank() == 0 && (dp == nullptr || dp->rank() == 0);
  const int64_t n = static_cast<int64_t>(requests.size());
  const int64_t total = options_.num_edits > 0 ? std::min(options_.num_edits, n) : n;
  REVIVE_CHECK(total > 0, "runner: no requests to edit");
  auto say = [&](const std::string& s) {
    if (options_.log) options_.log(s);
  };

  RunSummary summary;
  const fs::path metrics_path = fs::path(options_.out_dir) / "metrics.jsonl";
  if (!options_.out_dir.empty() && leader) fs::create_directories(options_.out_dir);
  double seconds_before = 0;  // editing time of the run before a resume
  bool restored_finished = false;  // the editor's step after the last batch is in the restored weights
  MetricsWindow win;
  if (options_.resume) {
    const Restored restored = restore_checkpoint(requests, total);
    if (!restored.window.is_null()) win = MetricsWindow::from_json(restored.window);
    summary.resumed_from = restored.edits;
    seconds_before = restored.seconds;
    restored_finished = restored.finished;
    summary.last_record = restored.last_record;
    if (restored.edits == total) {
      say("the checkpoint at " + std::to_string(total) + " edits completes this run: nothing left to edit");
    } else if (restored.edits > 0) {
      say("resumed from the checkpoint at " + std::to_string(restored.edits) + " edits");
    } else {
      say("no checkpoint in " + options_.out_dir + ": starting from the first edit");
    }
  }
  // A fresh start (no checkpoint to resume) owns the metrics file.
  if (summary.resumed_from == 0 && !options_.out_dir.empty() && leader) {
    sharding::write_file_atomic(metrics_path.string(), "");
  }
  if (!options_.out_dir.empty()) m.tp().barrier();

  const auto t0 = std::chrono::steady_clock::now();
  int64_t done = summary.resumed_from;
  int64_t batches = done / options_.batch_size;
  std::string last_checkpoint = summary.resumed_from > 0 ? "edits-" + std::to_string(summary.resumed_from) : "none";
  auto append_record = [&](const json& rec) {
    if (leader && !options_.out_dir.empty()) {
      std::ofstream out(metrics_path, std::ios::app);
      out << rec.dump() << "\n";
      out.flush();
      if (!out) throw Error(metrics_path.string() + ": cannot append the metrics record");
    }
    summary.records.push_back(rec);
    summary.last_record = rec;
  };
  if (options_.record_start && done == 0) {
    json rec;
    rec["edits"] = 0;
    rec["batch"] = 0;
    rec["seconds"] = 0.0;
    rec["layers"] = layer_metrics(BatchReport{});
    if (evaluator_) rec["eval"] = evaluator_(0, {});
    append_record(rec);
    say(runner_progress_line(rec, total) + " (unedited)");
  }
  if (done == total && !restored_finished && editor_.editor().finishes()) {
    // A longer run's checkpoint resumed as a run of exactly its length: the
    // step after this run's last batch is still to do.
    json rec;
    rec["edits"] = done;
    rec["batch"] = batches;
    rec["seconds"] = seconds_before;
    rec["final_step"] = finish_run(batches, last_checkpoint);
    rec["layers"] = layer_metrics(BatchReport{});
    if (evaluator_) rec["eval"] = evaluator_(done, {requests.begin(), requests.begin() + done});
    append_record(rec);
    say(runner_progress_line(rec, total) + " (after " + editor_.editor().name() + "'s step after the last batch)");
    if (options_.checkpoint_every > 0) {
      write_checkpoint(done, batches, seconds_before, win.to_json(), requests, /*finished=*/true);
    }
  }
  while (done < total) {
    const int64_t end = std::min(total, done + options_.batch_size);
    const std::vector<data::EditRequest> batch(requests.begin() + done, requests.begin() + end);
    BatchReport rep;
    try {
      rep = editor_.apply(batch);
    } catch (const std::exception& e) {
      throw Error("batch " + std::to_string(batches + 1) + " (edits " + std::to_string(done + 1) + ".." +
                  std::to_string(end) + ") rejected, the model is unchanged by it: " + e.what() +
                  "; last checkpoint: " + last_checkpoint);
    }
    const double eff = rep.efficacy;  // scored by the batch edit's finiteness check
    const int64_t before = done;
    done = end;
    ++batches;
    win.add(rep, eff);
    // The editor's step after the last batch (PRUNE's restraint), before the
    // run's last record and checkpoint so both show the model the run delivers.
    const json finished = done == total ? finish_run(batches, last_checkpoint) : json();

    if (options_.metrics_every == 0 || runner_crossed(before, done, options_.metrics_every) || done == total) {
      json rec;
      rec["edits"] = done;
      rec["batch"] = batches;
      rec["seconds"] = seconds_before + runner_seconds_since(t0);
      rec["batch_efficacy"] = eff;
      rec["batch_efficacy_window"] = win.efficacy / static_cast<double>(win.batches);
      rec["value_loss"] = win.requests > 0 ? win.value_loss / static_cast<double>(win.requests) : 0.0;
      rec["value_prob"] = win.requests > 0 ? win.value_prob / static_cast<double>(win.requests) : 0.0;
      rec["values"] = json::object();  // v* of the batch closing the record
      for (const auto& [key, v] : named_diagnostics(rep.value_diagnostics)) rec["values"][key] = v;
      // A measurement that fails (e.g. the drift SVD of a weight an extreme
      // setting blew up) says which batch left the model so.
      auto measured = [&](const char* what, const auto& measure) {
        try {
          return measure();
        } catch (const std::exception& e) {
          throw Error(std::string(what) + " after batch " + std::to_string(batches) + " (edits " +
                      std::to_string(before + 1) + ".." + std::to_string(done) + ") failed: " + e.what() +
                      "; the batch was applied but not checkpointed; last checkpoint: " + last_checkpoint);
        }
      };
      rec["layers"] = measured("the layer metrics", [&] { return layer_metrics(rep); });
      if (!finished.is_null()) rec["final_step"] = finished;
      rec["passes_per_batch"] = static_cast<double>(win.passes) / static_cast<double>(win.batches);
      if (editor_.plan().clustering.clusters > 1) {
        rec["groups_per_batch"] = static_cast<double>(win.groups) / static_cast<double>(win.batches);
      }
      if (editor_.plan().iterations.enabled) rec["iterative"] = {{"converged", win.converged}, {"given_up", win.given_up}};
      if (evaluator_) {
        const auto tv = std::chrono::steady_clock::now();
        const std::vector<data::EditRequest> edited(requests.begin(), requests.begin() + done);
        rec["eval"] = measured("the evaluation", [&] { return evaluator_(done, edited); });
        win.seconds["eval"] = runner_seconds_since(tv);
      }
      rec["timings"] = win.seconds;
      const sharding::ProcessMemory mem = sharding::process_memory();
      rec["memory"] = {{"rss_mib", mem.rss_mib}, {"peak_rss_mib", mem.peak_rss_mib}};
      append_record(rec);
      say(runner_progress_line(rec, total));
      win = MetricsWindow{};
    }
    if (runner_crossed(before, done, options_.checkpoint_every) || (options_.checkpoint_every > 0 && done == total)) {
      write_checkpoint(done, batches, seconds_before + runner_seconds_since(t0), win.to_json(), requests,
                       !finished.is_null());
      last_checkpoint = "edits-" + std::to_string(done);
      say("checkpoint " + (fs::path(options_.out_dir) / "checkpoints" / last_checkpoint).string());
    }
  }
  summary.edits = done;
  summary.batches = batches;
  summary.seconds = runner_seconds_since(t0);
  return summary;
}

}  // namespace revive::edit
