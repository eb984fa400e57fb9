#pragma once
// The report of an editing run: metrics against the number of edits, read from
// the runner's metrics JSONL (one JSON object per line, each with an integer
// "edits" and numeric fields, possibly nested: {"edits": 100, "eval":
// {"efficacy": 0.9}} gives the metric "eval.efficacy"), for one or several runs
// side by side. Written as a markdown table and, when gnuplot is installed, one
// PNG plot per metric with a line per run. Every file is written atomically.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace revive::eval {

struct MetricsRow {
  int64_t edits = 0;
  std::map<std::string, double> values;  // flattened keys; "edits" not included
};

struct MetricsRun {
  std::string label;
  std::vector<MetricsRow> rows;    // in file order
  std::vector<std::string> keys;   // metric names in order of first appearance
};

// Numeric leaves of a JSON object with '.'-joined keys (booleans as 0/1;
// strings, nulls and arrays are left out).
std::map<std::string, double> flatten_numbers(const nlohmann::json& object);

// A run's name from its file: the stem ("runs/memit.jsonl" -> "memit"), or the
// folder for a run folder's own metrics.jsonl ("memit/metrics.jsonl" -> "memit").
std::string default_run_label(const std::string& file);

// Reads one run. `label` empty: default_run_label(file).
// A line that is not a JSON object or lacks an integer "edits" is a
// revive::InputError naming the file and line.
MetricsRun read_metrics_jsonl(const std::string& file, const std::string& label = "");

// The metrics present in any run, in order of first appearance.
std::vector<std::string> report_metric_names(const std::vector<MetricsRun>& runs);

// Markdown: one section per metric, a row per edit count (the union over
// runs, ascending; the last row of a run wins for a repeated count), a column
// per run; "-" where a run has no value.
std::string metrics_table(const std::vector<MetricsRun>& runs, const std::vector<std::string>& metrics);

struct ReportOptions {
  std::string out_dir;               // created when missing
  std::vector<std::string> metrics;  // empty: report_metric_names(runs)
  bool plots = true;
  std::string gnuplot = "gnuplot";   // program to run
};

// Whether a plot of these values reads better on a log axis: all positive and
// spanning a factor of 20 or more (a perplexity or norm growth that explodes
// in one run would flatten every other run's curve on a linear axis).
bool log_axis_for(const std::vector<double>& values);

struct ReportResult {
  std::string table_path;               // <out_dir>/report.md
  std::vector<std::string> data_paths;  // <out_dir>/<metric>.dat (the plotted columns)
  std::vector<std::string> plot_paths;  // <out_dir>/<metric>.png
  std::string plot_note;                // why plots are missing, if they are
};

// Writes the table, the data files and (when possible) the plots. A metric not
// present in any run is a revive::Error naming it and the metrics present.
ReportResult write_report(const std::vector<MetricsRun>& runs, const ReportOptions& options);

// True when `program` can be run (found on PATH or as a path).
bool program_available(const std::string& program);

}  // namespace revive::eval
