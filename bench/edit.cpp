// bench_edit: editing throughput on a real model (default stories260K from
// ../shared/data or $REVIVE_TEST_DATA) with a request file, all measured in one
// run and printed as one JSON object:
//  - the ratio of batched v* optimisation to the one-request-at-a-time loop of
//    MEMIT's own code;
//  - edits/s of the whole batch edit (v*, keys, MEMIT solve, write) at several
//    batch sizes;
//  - edits/s of every editor with and without the REVIVE filter, and REVIVE's
//    share of the batch time (its filter step over the whole batch edit; the
//    bases are computed once per run and reported apart); the share of the
//    batch's scoring on the edited model (efficacy_share: its efficacy and the
//    check that the edit left the outputs finite) too.
//   bench_edit --requests FILE [--model DIR] [--corpus FILE] [--requests-n N] [--batches 1,10,50]
//              [--editors memit,alphaedit,...] [--editor-requests N] [--editor-batch B] [--v-steps S] [--tau T]
#include <ATen/ATen.h>
#include <torch/torch.h>

#include <chrono>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "bench/bench_data.h"
#include "lib/data/request_files.h"
#include "lib/edit/run/batch_edit.h"
#include "lib/edit/editors/editor_factory.h"
#include "lib/edit/run/layer_statistics.h"
#include "lib/edit/editors/memit_editor.h"
#include "lib/edit/presets.h"
#include "lib/edit/filters/revive_update_filter.h"
#include "lib/edit/run/value_optimizer.h"
#include "lib/model/model_loader.h"
#include "lib/model/tokenizer.h"
#include "lib/spectral/protected_basis.h"
#include "lib/spectral/revive_filter.h"
#include "sharding/comm/local_communicator.h"

namespace {

double bench_seconds(const std::function<void()>& f) {
  const auto t0 = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  using namespace revive;
  std::string model_dir = bench::stories_model_dir(), corpus = bench::stories_corpus();
  std::string requests_file, batches_arg = "1,10,50", preset_name = "stories260k";
  std::string editors_arg;
  size_t n = 50, editor_n = 20, editor_batch = 10;
  int64_t v_steps = 0;  // 0: the preset's
  double tau = 0.5;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i], v = argv[i + 1];
    if (a == "--model") model_dir = v;
    else if (a == "--corpus") corpus = v;
    else if (a == "--requests") requests_file = v;
    else if (a == "--requests-n") n = std::stoul(v);
    else if (a == "--batches") batches_arg = v;
    else if (a == "--preset") preset_name = v;
    else if (a == "--editors") editors_arg = v;
    else if (a == "--editor-requests") editor_n = std::stoul(v);
    else if (a == "--editor-batch") editor_batch = std::stoul(v);
    else if (a == "--v-steps") v_steps = std::stol(v);
    else if (a == "--tau") tau = std::stod(v);
    else {
      std::cerr << "bench_edit: unknown option " << a << "\n";
      return 2;
    }
  }
  if (requests_file.empty()) {
    std::cerr << "bench_edit: --requests FILE is required\n";
    return 2;
  }
  try {
    sharding::LocalCommunicator tp("tp"), dp("dp");
    const model::Tokenizer tok = model::Tokenizer::from_file(model_dir);
    auto model = model::load_model(model_dir, tp);
    std::vector<data::EditRequest> requests = data::read_requests(requests_file).requests;
    if (requests.size() > n) requests.resize(n);
    const edit::EditPreset& preset = edit::find_edit_preset(preset_name);
    std::vector<std::string> names;
    for (int l : preset.layers) names.push_back(model->module_name({l, "mlp.down_proj"}));
    edit::StatisticsOptions so;
    so.corpus = corpus;
    so.corpus_options.max_documents = 200;
    so.max_length = 128;
    const auto stats = edit::compute_layer_statistics(*model, tok, names, so, dp);

    nlohmann::json out;
    out["model"] = model_dir;
    out["requests"] = requests.size();
    out["threads"] = at::get_num_threads();
    edit::ValueOptions vo = preset.values();
    if (v_steps > 0) vo.steps = v_steps;
    out["v_steps"] = vo.steps;
    const int64_t last = preset.layers.back();
    // v*: one request at a time (MEMIT's loop) vs all together.
    const double t_loop = bench_seconds([&] {
      for (const auto& r : requests) edit::compute_values(*model, tok, {r}, last, {{"{}"}}, vo);
    });
    const double t_batched = bench_seconds([&] { edit::compute_values(*model, tok, requests, last, {{"{}"}}, vo); });
    out["values_loop_edits_per_s"] = static_cast<double>(requests.size()) / t_loop;
    out["values_batched_edits_per_s"] = static_cast<double>(requests.size()) / t_batched;
    out["values_batched_speedup"] = t_loop / t_batched;

    std::stringstream ss(batches_arg);
    std::string item;
    while (std::getline(ss, item, ',')) {
      const size_t b = std::stoul(item);
      auto fresh = model::load_model(model_dir, tp);
      edit::MemitEditor editor(preset.memit());
      for (const auto& nm : names) editor.set_statistics(nm, stats.at(nm).second_moment);
      edit::EditPlan plan;
      plan.layers.assign(preset.layers.begin(), preset.layers.end());
      plan.values = vo;
      edit::BatchEditor be(*fresh, tok, editor, plan);
      const double t = bench_seconds([&] {
        for (size_t s = 0; s < requests.size(); s += b) {
          const std::vector<data::EditRequest> batch(requests.begin() + static_cast<long>(s),
                                                     requests.begin() + static_cast<long>(std::min(requests.size(), s + b)));
          be.apply(batch);
        }
      });
      out["memit_edits_per_s"][item] = static_cast<double>(requests.size()) / t;
    }

    // Every editor, without and with REVIVE, on the same requests and batches.
    std::vector<std::string> editors;
    {
      std::stringstream es(editors_arg);
      while (std::getline(es, item, ',')) editors.push_back(item);
      if (editors.empty()) editors = edit::editor_names();
    }
    const std::vector<data::EditRequest> editor_requests(
        requests.begin(), requests.begin() + static_cast<long>(std::min(editor_n, requests.size())));
    std::map<std::string, std::unique_ptr<spectral::ProtectedBasis>> bases;
    std::map<std::string, std::unique_ptr<spectral::ReviveFilter>> revive;
    const double t_bases = bench_seconds([&] {
      for (const auto& nm : names) {
        spectral::SvdOptions so_basis;
        so_basis.energy = tau;
        bases[nm] = std::make_unique<spectral::ProtectedBasis>(
            spectral::ProtectedBasis::compute(model->linear_weight(nm), nm, so_basis));
        revive[nm] = std::make_unique<spectral::ReviveFilter>(*bases[nm]);
      }
    });
    out["revive"] = {{"tau", tau}, {"basis_seconds", t_bases}};
    for (const auto& nm : names) out["revive"]["k"][nm] = bases.at(nm)->k();
    out["editor_requests"] = editor_requests.size();
    out["editor_batch"] = editor_batch;
    for (const std::string& name : editors) {
      double plain_rate = 0;
      for (const bool with_revive : {false, true}) {
        auto fresh = model::load_model(model_dir, tp);
        auto editor = edit::make_editor(name, preset, "--editors");
        for (const auto& nm : names) editor->set_statistics(nm, stats.at(nm).second_moment);
        edit::EditPlan plan;
        plan.layers.assign(preset.layers.begin(), preset.layers.end());
        plan.values = vo;
        plan.rewind_values = name == "nse";  // as `revive edit --editor nse`
        if (name == "nse") plan.iterations = preset.nse_iterations();
        edit::BatchEditor be(*fresh, tok, *editor, plan);
        if (with_revive) {
          for (const auto& nm : names) {
            edit::FilterPipeline fp;
            fp.add(std::make_shared<edit::ReviveUpdateFilter>(*revive.at(nm)));
            be.set_filters(nm, fp);
          }
        }
        double filter = 0, batch_total = 0, values = 0, scoring = 0;
        const double t = bench_seconds([&] {
          for (size_t s0 = 0; s0 < editor_requests.size(); s0 += editor_batch) {
            const std::vector<data::EditRequest> batch(
                editor_requests.begin() + static_cast<long>(s0),
                editor_requests.begin() + static_cast<long>(std::min(editor_requests.size(), s0 + editor_batch)));
            const edit::BatchReport r = be.apply(batch);
            for (const auto& lr : r.layers) filter += lr.seconds_filter;
            batch_total += r.seconds_total;
            values += r.seconds_values;
            scoring += r.seconds_efficacy;
          }
        });
        const double rate = static_cast<double>(editor_requests.size()) / t;
        nlohmann::json j = {
            {"edits_per_s", rate}, {"values_share", values / batch_total}, {"efficacy_share", scoring / batch_total}};
        if (with_revive) {
          j["revive_share"] = filter / batch_total;
          j["slowdown_vs_unfiltered"] = plain_rate / rate;
        } else {
          plain_rate = rate;
        }
        out["editors"][name][with_revive ? "revive" : "none"] = j;
        std::cerr << "bench_edit: " << name << (with_revive ? " + revive" : "") << " " << rate << " edits/s\n";
      }
    }
    std::cout << out.dump() << std::endl;
  } catch (const std::exception& e) {
    std::cerr << "bench_edit: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
