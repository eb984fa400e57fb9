// `revive eval`: CounterFact or zsRE metrics of a model on a request file, split
// over the dp ranks of the process grid (each tp group holds one model copy).
#include <nlohmann/json.hpp>

#include <iostream>
#include <memory>

#include "launch/revive/command.h"
#include "launch/revive/common_options.h"
#include "lib/data/request_files.h"
#include "lib/eval/choice_tasks.h"
#include "lib/eval/counterfact.h"
#include "lib/eval/recall.h"
#include "lib/eval/zsre.h"
#include "lib/model/model_loader.h"
#include "lib/model/tokenizer.h"
#include "sharding/errors.h"

namespace revive::cli {

namespace {

enum class EvalSuite { kCounterFact, kZsre };

// "auto": zsRE metrics for a zsRE file (`format`: the file's, never kAuto).
EvalSuite eval_suite(const std::string& name, data::RequestFormat format) {
  if (name == "counterfact") return EvalSuite::kCounterFact;
  if (name == "zsre") return EvalSuite::kZsre;
  if (name == "auto") return format == data::RequestFormat::kZsre ? EvalSuite::kZsre : EvalSuite::kCounterFact;
  throw InputError("--format", "", "'" + name + "' is not one of counterfact, zsre, auto");
}

}  // namespace

Command eval_command() {
  Command c;
  c.name = "eval";
  c.summary = "CounterFact / zsRE metrics of a model on a request file";
  c.add_options = [](po::options_description& d) {
    po::options_description e("Evaluation");
    e.add_options()
        ("model", po::value<std::string>()->required(), "HF model folder (config.json, safetensors, tokenizer.json)")
        ("requests", po::value<std::string>()->required(), "request file (CounterFact ROME/EasyEdit, zsRE, JSONL)")
        ("format", po::value<std::string>()->default_value("auto"),
         "metric suite: counterfact, zsre, auto (zsre for a zsRE file, else counterfact; the file's own format is "
         "--request-format)")
        ("limit", po::value<int64_t>()->default_value(0), "evaluate the first N requests (0: all)")
        ("batch-size", po::value<int64_t>()->default_value(16), "continuations per forward pass")
        ("no-fluency", on_off(), "CounterFact: skip the generations for fluency (the slow part)")
        ("fluency-tokens", po::value<int64_t>()->default_value(64), "CounterFact: new tokens per generation")
        ("seed", po::value<uint64_t>()->default_value(0), "CounterFact: sampling seed for the generations")
        ("recall", on_off(), "also report recall of the requests' true facts (every answer token the argmax)")
        ("tasks", po::value<std::string>(), "also score a multiple-choice JSONL ({prompt, choices, label})");
    d.add(e).add(request_options()).add(grid_options()).add(device_options()).add(output_options());
  };
  c.run = [](const po::variables_map& vm, sharding::CommRuntime& rt) {
    sharding::ProcessGrid grid(rt.world(), grid_spec(vm));
    const std::string folder = vm["model"].as<std::string>();
    const std::string file = vm["requests"].as<std::string>();
    data::RequestFileOptions ro = request_file_options(vm);
    ro.read.limit = count_option(vm, "limit");
    // Detected once, for the suite and the reader.
    data::RequestFormat format = ro.format;
    const data::ReadResult read = data::read_requests(file, ro, &format);
    const EvalSuite suite = eval_suite(vm["format"].as<std::string>(), format);
    report_skipped(read, grid.world().rank() == 0);
    if (read.requests.empty()) throw InputError(file, "", "no usable requests");
    const model::Tokenizer tokenizer = model::Tokenizer::from_file(folder);
    auto model = model::load_model(folder, grid.tp(), load_options(vm, rt, grid.tp().size()));
    const int64_t batch = vm["batch-size"].as<int64_t>();

    eval::MetricList metrics;
    std::string suite_name;
    if (suite == EvalSuite::kZsre) {
      suite_name = "zsre";
      eval::ZsreOptions opts;
      opts.batch_size = batch;
      metrics = eval::evaluate_zsre(*model, tokenizer, read.requests, opts, &grid.dp()).metrics();
    } else {
      suite_name = "counterfact";
      eval::CounterFactOptions opts;
      opts.batch_size = batch;
      opts.fluency = !is_on(vm, "no-fluency");
      opts.generation.max_new_tokens = vm["fluency-tokens"].as<int64_t>();
      opts.generation.seed = vm["seed"].as<uint64_t>();
      const eval::CounterFactResult result = eval::evaluate_counterfact(*model, tokenizer, read.requests, opts, &grid.dp());
      metrics = result.metrics();
      if (opts.fluency && result.num_fluency == 0 && grid.world().rank() == 0) {
        std::cerr << "revive eval: " << file << " has no generation_prompts (EasyEdit files have none), so fluency "
                  << "is not measured (--no-fluency silences this note)\n";
      }
    }
    if (is_on(vm, "recall")) {
      eval::RecallOptions opts;
      opts.batch_size = batch;
      for (const auto& m : eval::evaluate_recall(*model, tokenizer, eval::true_facts(read.requests), opts, &grid.dp())
                               .metrics()) {
        metrics.push_back(m);
      }
    }
    if (vm.count("tasks")) {
      eval::ChoiceOptions opts;
      opts.batch_size = batch;
      const auto tasks = eval::read_choice_tasks(vm["tasks"].as<std::string>());
      for (const auto& m : eval::evaluate_choices(*model, tokenizer, tasks, opts, &grid.dp()).metrics()) {
        metrics.emplace_back("tasks." + m.first, m.second);
      }
    }
    if (grid.world().rank() == 0) {
      if (is_on(vm, "json")) {
        nlohmann::json j;
        j["command"] = "eval";
        j["suite"] = suite_name;
        j["model"] = folder;
        j["requests"] = file;
        j["num_skipped"] = read.skipped.size();
        j["metrics"] = eval::metrics_json(metrics);
        std::cout << j.dump() << std::endl;
      } else {
        std::cout << "revive eval: " << suite_name << " metrics of " << folder << " on " << read.requests.size()
                  << " requests from " << file << " (dp " << grid.dp_size() << ", tp " << grid.tp_size() << ")\n"
                  << eval::format_metric_table(metrics) << std::flush;
      }
    }
    return 0;
  };
  return c;
}

REVIVE_REGISTER_COMMAND(eval_command);

}  // namespace revive::cli
