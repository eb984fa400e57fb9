// `revive edit`: a sequential editing run - N edits in batches of B with any
// editor, with or without the REVIVE / RECT filters, metrics JSONL, checkpoints
// and --resume (lib/edit/run/sequential_runner.h). Evaluation during the run
// (lib/eval): CounterFact efficacy / generalisation / specificity on a sample of
// the requests edited so far, recall of facts not edited, perplexity of a text.
#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <iterator>
#include <sstream>
#include <vector>

#include "launch/revive/command.h"
#include "launch/revive/common_options.h"
#include "launch/revive/edit_session.h"
#include "lib/data/request_files.h"
#include "lib/data/text_corpus.h"
#include "lib/edit/run/batch_edit.h"
#include "lib/edit/editors/editor_factory.h"
#include "lib/edit/presets.h"
#include "lib/edit/run/context_templates.h"
#include "lib/edit/run/edit_prompts.h"
#include "lib/edit/filters/filter_family.h"
#include "lib/edit/run/sequential_runner.h"
#include "lib/eval/counterfact.h"
#include "lib/eval/perplexity.h"
#include "lib/eval/recall.h"
#include "lib/export/model_export.h"
#include "lib/spectral/revive_filter.h"
#include "sharding/errors.h"
#include "sharding/sharded_tensor.h"

namespace revive::cli {
namespace {

namespace fs = std::filesystem;

// n items spread evenly over v (all of them when n >= |v|, none when n == 0).
std::vector<data::EditRequest> edit_sample(const std::vector<data::EditRequest>& v, size_t n) {
  if (n == 0) return {};
  if (v.size() <= n) return v;
  std::vector<data::EditRequest> out;
  for (size_t i = 0; i < n; ++i) out.push_back(v[i * v.size() / n]);
  return out;
}

std::string edit_fixed(double x, int digits = 3) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(digits) << x;
  return s.str();
}

// The run's counts and folders, checked here so a mistake is reported before
// the statistics pass rather than after it.
edit::RunnerOptions runner_options(const po::variables_map& vm) {
  edit::RunnerOptions o;
  o.batch_size = vm["batch-size"].as<int64_t>();
  o.num_edits = static_cast<int64_t>(count_option(vm, "num-edits"));
  o.metrics_every = static_cast<int64_t>(count_option(vm, "metrics-every"));
  o.checkpoint_every = static_cast<int64_t>(count_option(vm, "checkpoint-every"));
  o.out_dir = vm.count("out") ? vm["out"].as<std::string>() : "";
  o.resume = is_on(vm, "resume");
  o.record_start = true;
  if (o.batch_size < 1) throw InputError("--batch-size", "", "must be at least 1");
  if (o.out_dir.empty()) {
    if (o.resume) throw InputError("--resume", "", "needs --out, the folder of the run to continue");
    if (o.checkpoint_every > 0) throw InputError("--checkpoint-every", "", "needs --out, the folder to write them to");
  } else {
    std::error_code ec;  // e.g. a path under a regular file
    if (fs::exists(o.out_dir, ec) && !fs::is_directory(o.out_dir, ec)) {
      throw InputError("--out", "", o.out_dir + " exists and is not a folder");
    }
    fs::create_directories(o.out_dir, ec);
    if (ec) throw InputError("--out", "", "cannot create " + o.out_dir + ": " + ec.message());
  }
  edit::SequentialRunner::check_run_folder(o);
  return o;
}

// A real setting: the preset's `value`, or --option when given; either must be
// finite and > 0 (>= 0 with zero_ok). !(x > 0) also refuses NaN.
void finite_setting(const po::variables_map& vm, const char* option, double& value, bool zero_ok = false) {
  if (vm.count(option)) value = vm[option].as<double>();
  if ((zero_ok ? value >= 0 : value > 0) && std::isfinite(value)) return;
  throw InputError(std::string("--") + option, "", zero_ok ? "must be a finite number >= 0" : "must be a finite number > 0");
}

// v*: the preset's settings with the command line's overrides.
edit::ValueOptions value_options(const po::variables_map& vm, const edit::EditPreset& preset) {
  edit::ValueOptions v = preset.values();
  if (vm.count("v-steps")) v.steps = vm["v-steps"].as<int64_t>();
  v.kl_prompt = vm["kl-prompt"].as<std::string>();
  if (vm.count("fact-token")) v.fact_token = edit::parse_fact_token(vm["fact-token"].as<std::string>());
  if (v.steps < 1) throw InputError("--v-steps", "", "must be at least 1");
  finite_setting(vm, "v-lr", v.lr);
  finite_setting(vm, "clamp-norm-factor", v.clamp_norm_factor);
  finite_setting(vm, "kl-factor", v.kl_factor, /*zero_ok=*/true);
  return v;
}

// --filter and its settings, checked (cheap: before the statistics pass).
edit::FilterChoice filter_choice_of(const po::variables_map& vm, const edit::EditPreset& preset) {
  edit::FilterChoice choice;
  if (vm.count("filter")) choice.names = vm["filter"].as<std::vector<std::string>>();
  if (choice.names.size() == 1 && choice.names[0] == "none") choice.names.clear();
  choice.rect_keep_fraction = preset.rect_keep_fraction;
  finite_setting(vm, "sphere-eta", choice.sphere.energy_ratio);
  finite_setting(vm, "sphere-alpha", choice.sphere.alpha, /*zero_ok=*/true);
  edit::check_filter_choice(choice, "--filter");
  const std::string writable = vm["writable-values"].as<std::string>();
  if (writable != "on" && writable != "off") {
    throw InputError("--writable-values", "", "'" + writable + "' is not on or off");
  }
  if (writable == "on" && !edit::removes_protected_outputs(choice)) {
    throw InputError("--writable-values", "",
                     "needs a filter that removes the protected outputs (revive, revive-output, constrained)");
  }
  return choice;
}

// Each edited layer's filter pipeline, and the inputs of its diagnostics (its
// statistics and, where computed, its protected U_k: collective over the tp group).
void attach_filters(edit::BatchEditor& be, edit::FilterFamily& family, const std::vector<std::string>& names,
                    const std::map<std::string, const spectral::ProtectedBasis*>& basis_of,
                    const std::map<std::string, edit::LayerStatistics>& stats) {
  for (const std::string& name : names) {
    const auto b = basis_of.find(name);
    const spectral::ProtectedBasis* basis = b == basis_of.end() ? nullptr : b->second;
    edit::FilterPipeline fp = family.pipeline(name, basis);
    if (!fp.empty()) be.set_filters(name, std::move(fp));
    be.set_diagnostics(name, stats.at(name).second_moment, basis ? basis->u().full() : at::Tensor());
  }
}

// --save-model's folder, checked before the run rather than after it.
void check_save_model(const po::variables_map& vm, const edit::RunnerOptions& opts, const std::string& model_folder) {
  if (!vm.count("save-model")) return;
  const std::string save = vm["save-model"].as<std::string>();
  if (opts.checkpoint_every == 0) {
    throw InputError("--save-model", "", "exports the run's last checkpoint: give --checkpoint-every");
  }
  if (fs::exists(save)) throw InputError("--save-model", "", save + " already exists");
  exporting::ExportOptions eo;
  eo.run_dir = opts.out_dir;
  eo.model_dir = model_folder;
  eo.out_dir = save;
  try {
    exporting::check_export_paths(eo);
  } catch (const InputError& e) {
    const std::string why = e.what();
    throw InputError("--save-model", "", why.substr(why.find(": ") + 2));  // named as this option
  }
}

}  // namespace

Command edit_command() {
  Command c;
  c.name = "edit";
  c.summary = "sequential knowledge editing run (MEMIT, AlphaEdit, ... with or without REVIVE)";
  c.add_options = [](po::options_description& d) {
    po::options_description e("Editing run");
    e.add_options()
        ("requests", po::value<std::vector<std::string>>()->required()->multitoken(),
         "request files (CounterFact ROME/EasyEdit, zsRE, JSONL), edited in the order given")
        ("editor", po::value<std::string>()->default_value("memit"), "memit, memit-seq (MEMIT with past batches' keys in the solve), alphaedit, emmet, nse, rect, prune")
        ("filter", po::value<std::vector<std::string>>()->multitoken()->composing(),
         "update filters in order (default: none): revive (the paper's two-sided filter), revive-output, "
         "revive-input, revive-block (one side, or the protected block only), sphere (SPHERE's soft projector), "
         "constrained (REVIVE's extension: the editor's least squares solved in the unprotected subspace), rect")
        ("writable-values", po::value<std::string>()->default_value("off"),
         "on: keep v*'s delta off the last edited layer's protected output directions, which revive, "
         "revive-output and constrained delete (an experiment: on stories260K it raised efficacy a little and "
         "perplexity 1.5-10x; README)")
        ("sphere-eta", po::value<double>()->default_value(0.5), "SPHERE: cumulative eigenvalue ratio of the suppressed directions")
        ("sphere-alpha", po::value<double>()->default_value(0.5), "SPHERE: suppression strength in [0, 1]")
        ("num-edits", po::value<int64_t>()->default_value(0), "edits to apply (0: every request)")
        ("batch-size", po::value<int64_t>()->default_value(10), "requests per batch")
        ("metrics-every", po::value<int64_t>()->default_value(0), "edits between metrics records (0: every batch)")
        ("checkpoint-every", po::value<int64_t>()->default_value(0), "edits between checkpoints (0: none)")
        ("out", po::value<std::string>(), "run folder: metrics.jsonl, checkpoints/")
        ("save-model", po::value<std::string>(),
         "at the end, write the edited model to this new folder as `revive export` does (needs --checkpoint-every)")
        ("resume", on_off(), "continue from the latest checkpoint in --out")
        ("context-templates", po::value<int64_t>(),
         "generated context templates per prefix for keys and v*: the prompt alone plus this many texts the model "
         "writes after each of 5 prefixes (default: the preset's; 1 as MEMIT's and AlphaEdit's code; 0: the "
         "prompt alone)")
        ("v-steps", po::value<int64_t>(), "v* optimisation steps (default: the preset's)")
        ("v-lr", po::value<double>(), "v* learning rate (default: the preset's)")
        ("clamp-norm-factor", po::value<double>(), "v* delta norm bound, x the original's norm (default: the preset's)")
        ("kl-factor", po::value<double>(), "weight of the v* KL term (default: the preset's)")
        ("mom2-update-weight", po::value<double>(), "MEMIT-family lambda on the statistics (default: the preset's)")
        ("nullspace-threshold", po::value<double>(),
         "AlphaEdit: eigenvalues of the statistics below this span the preserved null space (default: the preset's)")
        ("alphaedit-l2", po::value<double>(), "AlphaEdit: L2 regulariser of its solve (default: the preset's)")
        ("rect-keep", po::value<double>(),
         "RECT: fraction of the update's entries kept, largest relative change first (default: the preset's, 0.4 "
         "as the AlphaEdit repository's RECT; the RECT paper's text: 0.2)")
        ("prune-when", po::value<std::string>(),
         "PRUNE: end (restrain the accumulated update once, after the last batch, as the PRUNE authors' and the "
         "AlphaEdit repository's code; the default) or batch (after every batch)")
        ("kl-prompt", po::value<std::string>()->default_value("{} is a"), "essence prompt of the KL term ('' disables)")
        ("fact-token", po::value<std::string>(), "subject_last or last: where keys are read (default: the preset's)")
        ("rewind-values", po::value<std::string>()->default_value("auto"),
         "optimise v* on the edited layers' original weights (NSE's weights rewinding): auto (on for nse), on, off")
        ("iterative-editing", po::value<std::string>()->default_value("auto"),
         "edit the layers again while a request's output is between alpha and the upper bound away from v* (NSE): "
         "auto (on for nse), on, off")
        ("max-iterations", po::value<int64_t>(), "iterative editing: measurements (passes = this - 1; default: the preset's)")
        ("iteration-alpha", po::value<double>(), "iterative editing: a request is done within this distance (default: the preset's)")
        ("iteration-upper-bound", po::value<double>(), "iterative editing: a request is given up beyond this distance (default: the preset's)")
        ("request-clusters", po::value<int64_t>(),
         "split each batch into this many groups of requests by the overlap of their selected neurons, edited one "
         "after another (NSE's clustering; default: the preset's for nse, else 1)");
    po::options_description v("Evaluation during the run");
    v.add_options()
        ("eval-edited", po::value<int64_t>()->default_value(200), "edited requests evaluated per record (0: none)")
        ("eval-retained", po::value<int64_t>()->default_value(200),
         "facts NOT edited (true targets of the requests after --num-edits) checked for recall (0: none)")
        ("eval-text", po::value<std::string>(), "text file for perplexity at each record")
        ("eval-text-split", po::value<std::string>()->default_value("lines"), "separator, lines, blank-lines, whole, json")
        ("eval-text-docs", po::value<int64_t>()->default_value(100), "documents of --eval-text")
        ("no-drift", on_off(), "skip spectral drift metrics (they need the protected bases)");
    d.add(e).add(request_options()).add(v).add(edit_model_options()).add(statistics_options()).add(basis_options()).add(grid_options())
        .add(device_options()).add(output_options());
  };
  c.run = [](const po::variables_map& vm, sharding::CommRuntime& rt) {
    EditSession s(vm, rt);
    const data::RequestFileOptions ro = request_file_options(vm);
    const std::vector<std::string> req_files = vm["requests"].as<std::vector<std::string>>();
    std::vector<data::EditRequest> requests;
    std::string req_file;  // the files' names, for messages
    for (const std::string& file : req_files) {
      data::ReadResult read = data::read_requests(file, ro);
      report_skipped(read, s.leader());
      if (!read.skipped.empty()) s.say("skipped " + std::to_string(read.skipped.size()) + " malformed requests of " + file);
      if (read.requests.empty()) throw InputError(file, "", "no usable requests");
      requests.insert(requests.end(), std::make_move_iterator(read.requests.begin()),
                      std::make_move_iterator(read.requests.end()));
      req_file += (req_file.empty() ? "" : ", ") + file;
    }

    // Options that are cheap to check are checked before the statistics pass.
    finite_setting(vm, "rect-keep", s.preset.rect_keep_fraction);
    if (s.preset.rect_keep_fraction > 1.0) throw InputError("--rect-keep", "", "must be in (0, 1]");
    const edit::FilterChoice filter_choice = filter_choice_of(vm, s.preset);
    const std::vector<std::string>& filters = filter_choice.names;
    const bool want_revive = edit::needs_protected_basis(filter_choice);
    const spectral::SvdOptions svd = basis_svd_options(vm);
    edit::RunnerOptions opts = runner_options(vm);
    check_save_model(vm, opts, s.model_folder);
    const size_t n_edited = count_option(vm, "eval-edited"), n_retained = count_option(vm, "eval-retained");
    edit::ContextTemplateOptions cto;
    cto.per_prefix = vm.count("context-templates") ? static_cast<int64_t>(count_option(vm, "context-templates"))
                                                   : s.preset.context_templates;
    std::vector<std::string> ppl_docs;
    if (vm.count("eval-text")) {
      const std::string file = vm["eval-text"].as<std::string>();
      data::CorpusOptions co;
      co.split = data::parse_document_split(vm["eval-text-split"].as<std::string>(), "--eval-text-split");
      co.max_documents = count_option(vm, "eval-text-docs");
      for (const auto& d : data::read_documents(file, co)) ppl_docs.push_back(d.text);
      if (ppl_docs.empty()) throw InputError(file, "", "no documents for --eval-text's perplexity");
    }

    // The plan but for its context templates (they need the model's generations).
    const std::string editor_name = vm["editor"].as<std::string>();
    edit::EditPlan plan;
    plan.layers = s.layers;
    plan.module = s.module;
    plan.values = value_options(vm, s.preset);
    // auto|on|off switches whose auto means "on for NSE".
    auto nse_switch = [&](const std::string& option) {
      const std::string v = vm[option].as<std::string>();
      if (v != "auto" && v != "on" && v != "off") throw InputError("--" + option, "", "'" + v + "' is not auto, on or off");
      return v == "on" || (v == "auto" && editor_name == "nse");
    };
    plan.rewind_values = nse_switch("rewind-values");
    if (nse_switch("iterative-editing")) {
      plan.iterations = s.preset.nse_iterations();
      if (vm.count("max-iterations")) plan.iterations.max_iterations = vm["max-iterations"].as<int64_t>();
      if (vm.count("iteration-alpha")) plan.iterations.alpha = vm["iteration-alpha"].as<double>();
      if (vm.count("iteration-upper-bound")) plan.iterations.upper_bound = vm["iteration-upper-bound"].as<double>();
    }
    if (editor_name == "nse") plan.clustering = s.preset.nse_clustering();
    if (vm.count("request-clusters")) {
      plan.clustering.clusters = vm["request-clusters"].as<int64_t>();
      if (plan.clustering.clusters < 1) throw InputError("--request-clusters", "", "must be >= 1");
    }
    if (vm.count("prune-when")) {
      if (editor_name != "prune") throw InputError("--prune-when", "", "applies to --editor prune only");
      s.preset.prune_when = edit::parse_prune_when(vm["prune-when"].as<std::string>(), "--prune-when");
    }
    finite_setting(vm, "mom2-update-weight", s.preset.mom2_update_weight, /*zero_ok=*/true);
    // AlphaEdit's: NaN or <= 0 would leave no null space or no solve.
    finite_setting(vm, "nullspace-threshold", s.preset.nullspace_threshold);
    finite_setting(vm, "alphaedit-l2", s.preset.alphaedit_l2);
    std::unique_ptr<edit::Editor> editor = edit::make_editor(editor_name, s.preset, "--editor");
    edit::check_constrainable(*editor, filter_choice, "--filter");
    const bool uses_rect = editor_name == "rect" || std::count(filters.begin(), filters.end(), "rect") > 0;
    if (vm.count("rect-keep") && !uses_rect) {
      throw InputError("--rect-keep", "", "applies to --editor rect or --filter rect only");
    }
    const auto stats = s.statistics(vm);
    std::map<std::string, std::unique_ptr<spectral::ProtectedBasis>> bases;
    if (want_revive || !is_on(vm, "no-drift")) bases = s.bases(svd);
    std::map<std::string, const spectral::ProtectedBasis*> basis_of;
    for (const auto& [name, b] : bases) basis_of[name] = b.get();
    editor = edit::constrain_if_chosen(std::move(editor), filter_choice, basis_of, "--filter");
    if (vm["writable-values"].as<std::string>() == "on") {
      plan.values.protected_output = bases.at(s.names.back())->u().full();  // collective
    }
    for (const auto& [name, st] : stats) editor->set_statistics(name, st.second_moment);

    plan.templates = edit::make_context_templates(*s.model, s.tokenizer, cto);
    edit::BatchEditor be(*s.model, s.tokenizer, *editor, plan, &s.grid.dp());

    edit::FilterFamily family(filter_choice);
    attach_filters(be, family, s.names, basis_of, stats);

    // What shapes the edits: a resume must match it (the runner checks the
    // editor, layers, batch size, tp and requests itself).
    nlohmann::json& rc = opts.run_config;
    rc["model"] = s.fingerprint;
    rc["preset"] = s.preset.name;
    rc["filters"] = nlohmann::json::array();
    for (const std::string& f : filters) {
      if (f.rfind("revive", 0) == 0 || f == "constrained") {
        // The bases as used (a cached one is reused whatever engine is asked for).
        nlohmann::json layers = nlohmann::json::object();
        for (const auto& [name, b] : bases) {
          layers[name] = {{"k", b->k()}, {"tau", b->tau()}, {"engine", spectral::to_string(b->engine())}};
        }
        rc["filters"].push_back({{"name", f}, {"bases", layers}});
      } else if (f == "sphere") {
        rc["filters"].push_back({{"name", f}, {"eta", filter_choice.sphere.energy_ratio},
                                 {"alpha", filter_choice.sphere.alpha}});
      } else {
        rc["filters"].push_back({{"name", f}, {"keep_fraction", s.preset.rect_keep_fraction}});
      }
    }
    // The statistics by content: their cache file's name holds the key of model,
    // corpus bytes, split and lengths (a relative or moved corpus path is the same).
    rc["statistics"] = nlohmann::json::object();
    for (const auto& [name, st] : stats) {
      rc["statistics"][name] = {{"cache_key", fs::path(st.cache_file).filename().string()},
                                {"documents", st.documents}, {"tokens", st.tokens}};
    }
    rc["solve"] = {{"mom2_update_weight", s.preset.mom2_update_weight},
                   {"nullspace_threshold", s.preset.nullspace_threshold},
                   {"alphaedit_l2", s.preset.alphaedit_l2}};
    // RECT's share: its default changed (0.2 -> 0.4), so an older RECT checkpoint is refused.
    if (editor_name == "rect") rc["solve"]["rect_keep"] = s.preset.rect_keep_fraction;
    // PRUNE's schedule: its default changed (every batch -> after the last), so an older PRUNE checkpoint is refused.
    if (editor_name == "prune") rc["solve"]["prune_when"] = edit::prune_when_name(s.preset.prune_when);
    const edit::ValueOptions& vo = plan.values;
    rc["values"] = {{"steps", vo.steps}, {"lr", vo.lr}, {"weight_decay", vo.weight_decay},
                    {"clamp_norm_factor", vo.clamp_norm_factor}, {"kl_factor", vo.kl_factor},
                    {"kl_prompt", vo.kl_prompt}, {"early_stop_loss", vo.early_stop_loss},
                    {"fact_token", edit::fact_token_name(vo.fact_token)}};
    // Only when on, so a checkpoint of an older build (no such setting) resumes.
    if (vo.protected_output.defined()) rc["values"]["writable"] = true;
    rc["rewind_values"] = plan.rewind_values;
    rc["iterations"] = {{"enabled", plan.iterations.enabled}, {"max", plan.iterations.max_iterations},
                        {"alpha", plan.iterations.alpha}, {"upper_bound", plan.iterations.upper_bound}};
    rc["clusters"] = {{"count", plan.clustering.clusters}, {"neuron_threshold", plan.clustering.neuron_threshold}};
    rc["context_templates"] = cto.per_prefix;
    opts.log = [&](const std::string& line) { s.say(line); };
    edit::SequentialRunner runner(be, opts);
    for (const auto& [name, b] : bases) runner.set_basis(name, b.get());

    // Evaluation on the model as edited so far.
    const int64_t total = opts.num_edits > 0 ? std::min<int64_t>(opts.num_edits, static_cast<int64_t>(requests.size()))
                                             : static_cast<int64_t>(requests.size());
    const std::vector<data::EditRequest> unedited(requests.begin() + total, requests.end());
    const std::vector<data::EditRequest> retained = edit_sample(unedited, n_retained);
    runner.set_evaluator([&](int64_t edits, const std::vector<data::EditRequest>& edited) {
      nlohmann::json j;
      if (n_edited > 0) {
        // Before any edit, score the first requests to be edited (the baseline).
        const auto& pool = edits > 0 ? edited : std::vector<data::EditRequest>(requests.begin(), requests.begin() + total);
        eval::CounterFactOptions co;
        co.fluency = false;
        co.batch_size = 64;
        const eval::CounterFactResult r = eval::evaluate_counterfact(*s.model, s.tokenizer, edit_sample(pool, n_edited), co, &s.grid.dp());
        j["efficacy"] = r.efficacy;
        j["generalization"] = r.generalization;
        j["specificity"] = r.specificity;
      }
      if (!retained.empty()) {
        eval::RecallOptions rc;
        rc.batch_size = 64;
        j["retained_recall"] = eval::evaluate_recall(*s.model, s.tokenizer, eval::true_facts(retained), rc, &s.grid.dp()).accuracy;
      }
      if (!ppl_docs.empty()) {
        eval::PerplexityOptions po;
        // Windows of 256 tokens, or the model's positions where it has fewer.
        po.max_length = s.model->config().within_positions(256);
        po.truncate = true;
        j["perplexity"] = eval::evaluate_perplexity(*s.model, s.tokenizer, ppl_docs, po, &s.grid.dp()).perplexity();
      }
      return j;
    });

    std::string filter_names;
    for (const std::string& f : filters) filter_names += " + " + f;
    s.say("revive edit: " + editor->name() + filter_names + " on " + std::to_string(total) + " requests of " + req_file + ", layers " + s.names.front() + " .. " +
          s.names.back() + ", batch " + std::to_string(opts.batch_size) + ", tp " + std::to_string(s.grid.tp_size()) +
          " x dp " + std::to_string(s.grid.dp_size()));
    const edit::RunSummary sum = runner.run(requests);
    if (!s.leader()) return 0;
    if (vm.count("save-model")) {  // rank 0 alone, as `revive export` under mpirun
      exporting::ExportOptions eo;
      eo.run_dir = opts.out_dir;
      eo.model_dir = s.model_folder;
      eo.out_dir = vm["save-model"].as<std::string>();
      const exporting::ExportSummary es = exporting::export_edited_model(eo);
      s.say("saved the edited model (" + std::to_string(es.edits) + " edits) to " + es.out_dir);
    }
    const nlohmann::json& last = sum.last_record;
    if (is_on(vm, "json")) {
      nlohmann::json j;
      j["command"] = "edit";
      j["editor"] = editor->name();
      j["filters"] = filters;
      j["edits"] = sum.edits;
      j["resumed_from"] = sum.resumed_from;
      j["seconds"] = sum.seconds;
      j["edits_per_second"] = sum.seconds > 0 ? static_cast<double>(sum.edits - sum.resumed_from) / sum.seconds : 0.0;
      j["final"] = last;
      std::cout << j.dump() << std::endl;
    } else {
      std::cout << "edits: " << sum.edits << " in " << edit_fixed(sum.seconds, 1) << " s ("
                << edit_fixed(sum.seconds > 0 ? static_cast<double>(sum.edits - sum.resumed_from) / sum.seconds : 0.0, 2)
                << " edits/s)\n";
      if (last.contains("eval")) {
        for (const auto& [k, v] : last["eval"].items()) std::cout << "  " << k << ": " << edit_fixed(v.get<double>()) << "\n";
      }
      if (last.contains("layers")) {
        for (const auto& [name, m] : last["layers"].items()) {
          std::cout << "  " << name << ": weight norm x" << edit_fixed(m.value("weight_norm_growth", 0.0));
          if (m.contains("subspace_similarity_u")) {
            std::cout << ", subspace similarity U " << edit_fixed(m["subspace_similarity_u"].get<double>()) << " V "
                      << edit_fixed(m["subspace_similarity_v"].get<double>());
          }
          std::cout << "\n";
        }
      }
    }
    return 0;
  };
  return c;
}

REVIVE_REGISTER_COMMAND(edit_command);

}  // namespace revive::cli
