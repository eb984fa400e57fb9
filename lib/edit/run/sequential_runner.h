#pragma once
// The sequential editing run (DESIGN.md section 2; the product's main loop):
// N edits in batches of B applied one after another to the same model, with
//  * a metrics record every M edits appended to <out>/metrics.jsonl (one JSON
//    object per line): efficacy of the batch just written, v* loss, per edited
//    matrix the update norms, weight-norm growth and spectral drift against the
//    original's protected basis, timings per phase, and whatever the evaluator
//    returns (generalisation, specificity, perplexity...);
//  * a checkpoint every C edits in <out>/checkpoints/edits-<E>/: the edited
//    weights (each tp rank its shard), each tp rank's editor memory (AlphaEdit's
//    key cache) and state.json; <out>/checkpoints/latest names the newest one and
//    is replaced atomically only after every file of it is in place, so a crash
//    at any moment leaves the previous checkpoint usable;
//  * resume: the weights and editor memory of the latest checkpoint are restored
//    (after the caller has built the statistics and bases from the ORIGINAL
//    weights), metrics records past it are dropped, and the run continues with
//    the next batch. The request list must be the same (its fingerprint is
//    checked), and so must RunnerOptions::run_config (model, filters, v*
//    settings...). A fresh run refuses an output folder that holds a checkpoint
//    (a later resume would pick up the older run's).
// Editors with a step after the last batch (PRUNE's restraint, Editor::finish)
// get it after the run's last batch, before its last record and checkpoint; that
// checkpoint is marked finished and cannot be resumed into a longer run. A
// longer run's (unfinished) checkpoint resumed as a run of exactly its length
// gets the step then, with a record of its own. The last record's eval and
// layer norms show the model after the step; its batch efficacy and update
// norms are the last batch's, before it.
// A batch whose update holds NaN/Inf (or fails otherwise) is rejected with every
// weight restored (batch_edit.h); the run stops with a message naming the batch
// and the last checkpoint, which stays intact.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "lib/data/edit_request.h"
#include "lib/edit/run/batch_edit.h"

namespace revive::spectral {
class ProtectedBasis;
}

namespace revive::edit {

struct RunnerOptions {
  int64_t batch_size = 10;
  int64_t num_edits = 0;          // 0: every request
  int64_t metrics_every = 0;      // 0: after every batch; else whenever a multiple of it is crossed
  int64_t checkpoint_every = 0;   // 0: no checkpoints (except none); else as metrics_every
  std::string out_dir;            // "" : no files (metrics only returned)
  bool resume = false;
  // Also record the unedited model (edits = 0) before the first batch of a fresh run.
  bool record_start = false;
  // What a resume must match beyond the editor, layers, tp, batch size and
  // requests (the runner checks those itself): the caller's settings that shape
  // the edits, e.g. {"model": fingerprint, "filters": [...], "v_steps": 25}.
  // Stored in every checkpoint; a resume names the first key that differs.
  nlohmann::json run_config = nlohmann::json::object();
  // Readable progress lines (called on every rank; the CLI prints on rank 0).
  std::function<void(const std::string&)> log;
};

// Extra metrics at a record: edits done and the requests edited so far.
using RunEvaluator = std::function<nlohmann::json(int64_t edits, const std::vector<data::EditRequest>& edited)>;

struct RunSummary {
  int64_t edits = 0;              // edits applied in total (including before a resume)
  int64_t batches = 0;
  int64_t resumed_from = 0;       // edits restored from a checkpoint
  double seconds = 0;             // this process's editing time
  std::vector<nlohmann::json> records;  // metrics records written by this process
  // The run's latest metrics record: records.back(), or when this process wrote
  // none (a resume of a finished run) the last one of metrics.jsonl.
  nlohmann::json last_record = nlohmann::json::object();
};

class SequentialRunner {
 public:
  SequentialRunner(BatchEditor& editor, RunnerOptions options);

  // A fresh run (no resume) must not write into a folder holding a checkpoint:
  // a later resume would pick up the older run's. InputError naming it; the
  // constructor checks too (callers may check before expensive preparation).
  static void check_run_folder(const RunnerOptions& options);

  // Protected bases of the ORIGINAL weights, for drift metrics (optional).
  void set_basis(const std::string& layer, const spectral::ProtectedBasis* basis);
  // Called at every record; its collectives are named as the phase "evaluation".
  void set_evaluator(RunEvaluator evaluator);

  // Collective over the model's tp group and dp.
  RunSummary run(const std::vector<data::EditRequest>& requests);

  // Fraction of requests whose target_new has a lower mean token NLL than
  // target_true after the prompt (MEMIT's rewrite "efficacy success"). Requests
  // without target_true count as success when target_new's NLL is below ln 2
  // (i.e. p > 0.5 for a single token).
  static double efficacy(model::Transformer& model, const model::Tokenizer& tokenizer,
                         const std::vector<data::EditRequest>& requests);

 private:
  struct Restored {
    int64_t edits = 0;
    double seconds = 0;        // editing time of the run up to the checkpoint
    nlohmann::json last_record = nlohmann::json::object();  // its last kept metrics record
    nlohmann::json window;     // sums since that record (null: none saved, an older checkpoint)
    bool finished = false;     // the editor's step after the last batch is in its weights
  };
  Restored restore_checkpoint(const std::vector<data::EditRequest>& requests, int64_t total);
  // `finished`: the editor's step after the last batch is in the weights.
  void write_checkpoint(int64_t edits, int64_t batches, double seconds, const nlohmann::json& window,
                        const std::vector<data::EditRequest>& requests, bool finished);
  // The editor's step after the last batch (BatchEditor::finish_run), as the
  // last record's "final_step" ({editor, layers: {name: {update_norm}}, seconds});
  // null when the editor has none.
  nlohmann::json finish_run(int64_t batches, const std::string& last_checkpoint);
  nlohmann::json layer_metrics(const BatchReport& report);

  BatchEditor& editor_;
  RunnerOptions options_;
  std::map<std::string, const spectral::ProtectedBasis*> bases_;
  RunEvaluator evaluator_;
};

// Fingerprint of the first `count` requests (prompt, subject, targets).
std::string requests_fingerprint(const std::vector<data::EditRequest>& requests, int64_t count);

}  // namespace revive::edit
