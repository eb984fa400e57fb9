// `revive report`: metrics against edit count from the runner's metrics JSONL
// (one file per run), as a markdown table and PNG plots (gnuplot).
#include <iostream>

#include "launch/revive/command.h"
#include "launch/revive/common_options.h"
#include "lib/eval/report.h"
#include "sharding/errors.h"

namespace revive::cli {

Command report_command() {
  Command c;
  c.name = "report";
  c.summary = "table and plots of metrics against edit count from runs' metrics JSONL";
  c.add_options = [](po::options_description& d) {
    po::options_description r("Report");
    r.add_options()
        ("runs", po::value<std::vector<std::string>>()->multitoken()->required(), "metrics JSONL files, one per run")
        ("label", po::value<std::vector<std::string>>()->multitoken(),
         "a label per run, in --runs order (default: the file stem, or the folder of a metrics.jsonl)")
        ("out", po::value<std::string>()->required(), "output folder (report.md, <metric>.dat, <metric>.png)")
        ("metrics", po::value<std::vector<std::string>>()->multitoken(),
         "metrics to report, flattened names such as eval.efficacy (default: all)")
        ("no-plots", on_off(), "write the table and data files only")
        ("gnuplot", po::value<std::string>()->default_value("gnuplot"), "gnuplot program");
    d.add(r).add(output_options());
  };
  c.run = [](const po::variables_map& vm, sharding::CommRuntime& rt) {
    // Not distributed: under mpirun, rank 0 writes the report.
    if (rt.world()->rank() != 0) return 0;
    const auto files = vm["runs"].as<std::vector<std::string>>();
    std::vector<std::string> labels;
    if (vm.count("label")) labels = vm["label"].as<std::vector<std::string>>();
    if (!labels.empty() && labels.size() != files.size()) {
      throw InputError("--label", "", std::to_string(labels.size()) + " labels for " + std::to_string(files.size()) +
                                          " runs");
    }
    std::vector<eval::MetricsRun> runs;
    for (size_t i = 0; i < files.size(); ++i) runs.push_back(eval::read_metrics_jsonl(files[i], labels.empty() ? "" : labels[i]));
    eval::ReportOptions opts;
    opts.out_dir = vm["out"].as<std::string>();
    if (vm.count("metrics")) opts.metrics = vm["metrics"].as<std::vector<std::string>>();
    opts.plots = !is_on(vm, "no-plots");
    opts.gnuplot = vm["gnuplot"].as<std::string>();
    const eval::ReportResult res = eval::write_report(runs, opts);
    if (is_on(vm, "json")) {
      nlohmann::json j;
      j["command"] = "report";
      j["table"] = res.table_path;
      j["data"] = res.data_paths;
      j["plots"] = res.plot_paths;
      if (!res.plot_note.empty()) j["plot_note"] = res.plot_note;
      std::cout << j.dump() << std::endl;
    } else {
      std::cout << eval::metrics_table(runs, opts.metrics.empty() ? eval::report_metric_names(runs) : opts.metrics)
                << "\nwrote " << res.table_path << "\n";
      for (const std::string& p : res.plot_paths) std::cout << "wrote " << p << "\n";
      if (!res.plot_note.empty()) std::cout << "note: " << res.plot_note << "\n";
    }
    return 0;
  };
  return c;
}

REVIVE_REGISTER_COMMAND(report_command);

}  // namespace revive::cli
