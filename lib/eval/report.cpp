#include "lib/eval/report.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <set>
#include <sstream>

#include "lib/data/atomic_file.h"
#include "sharding/errors.h"

namespace revive::eval {

namespace fs = std::filesystem;

namespace {

void report_flatten(const nlohmann::json& j, const std::string& prefix, std::map<std::string, double>& out) {
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string key = prefix.empty() ? it.key() : prefix + "." + it.key();
    const nlohmann::json& v = it.value();
    if (v.is_object()) {
      report_flatten(v, key, out);
    } else if (v.is_boolean()) {
      out[key] = v.get<bool>() ? 1.0 : 0.0;
    } else if (v.is_number()) {
      out[key] = v.get<double>();
    }
  }
}

// A metric name as a file name: anything but [A-Za-z0-9._-] becomes '_'.
std::string report_file_stem(const std::string& metric) {
  std::string s = metric;
  for (char& c : s) {
    const bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
    if (!ok) c = '_';
  }
  return s;
}

std::string report_number(double v) {
  std::ostringstream os;
  os << std::setprecision(6) << v;
  return os.str();
}

// A gnuplot single-quoted string ('' is a quote inside it).
std::string report_gp_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "''";
    else if (c != '\n' && c != '\r') out += c;
  }
  return out + "'";
}

// A POSIX shell single-quoted word.
std::string report_sh_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// The last value of `metric` for each edit count of a run.
std::map<int64_t, double> report_series(const MetricsRun& run, const std::string& metric) {
  std::map<int64_t, double> s;
  for (const MetricsRow& row : run.rows) {
    auto it = row.values.find(metric);
    if (it != row.values.end()) s[row.edits] = it->second;
  }
  return s;
}

}  // namespace

std::map<std::string, double> flatten_numbers(const nlohmann::json& object) {
  std::map<std::string, double> out;
  if (object.is_object()) report_flatten(object, "", out);
  return out;
}

std::string default_run_label(const std::string& file) {
  const fs::path p = fs::path(file).lexically_normal();
  if (p.stem() == "metrics") {
    const fs::path folder = fs::absolute(p).parent_path();
    if (!folder.filename().empty()) return folder.filename().string();
  }
  return p.stem().string();
}

MetricsRun read_metrics_jsonl(const std::string& file, const std::string& label) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError(file, "", "cannot open metrics file");
  MetricsRun run;
  run.label = label.empty() ? default_run_label(file) : label;
  std::set<std::string> seen;
  std::string text;
  size_t line = 0;
  while (std::getline(in, text)) {
    ++line;
    if (std::all_of(text.begin(), text.end(), [](char c) { return std::isspace(static_cast<unsigned char>(c)); })) {
      continue;
    }
    const std::string where = "line " + std::to_string(line);
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
      throw InputError(file, where, std::string("not valid JSON: ") + e.what());
    }
    if (!j.is_object()) throw InputError(file, where, "a metrics record must be a JSON object");
    if (!j.contains("edits") || !j["edits"].is_number_integer()) {
      throw InputError(file, where + ": edits", "missing or not an integer");
    }
    MetricsRow row;
    row.edits = j["edits"].get<int64_t>();
    j.erase("edits");
    // Keys in file order for the default metric list (nlohmann sorts object keys,
    // so "first appearance" is by line, then alphabetical within a line).
    row.values = flatten_numbers(j);
    for (const auto& kv : row.values) {
      if (seen.insert(kv.first).second) run.keys.push_back(kv.first);
    }
    run.rows.push_back(std::move(row));
  }
  return run;
}

std::vector<std::string> report_metric_names(const std::vector<MetricsRun>& runs) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const MetricsRun& run : runs) {
    for (const std::string& k : run.keys) {
      if (seen.insert(k).second) out.push_back(k);
    }
  }
  return out;
}

std::string metrics_table(const std::vector<MetricsRun>& runs, const std::vector<std::string>& metrics) {
  std::ostringstream os;
  os << "# Metrics against edit count\n\nRuns: ";
  for (size_t r = 0; r < runs.size(); ++r) os << (r ? ", " : "") << runs[r].label;
  os << "\n";
  for (const std::string& metric : metrics) {
    std::vector<std::map<int64_t, double>> series;
    std::set<int64_t> edits;
    for (const MetricsRun& run : runs) {
      series.push_back(report_series(run, metric));
      for (const auto& kv : series.back()) edits.insert(kv.first);
    }
    os << "\n## " << metric << "\n\n| edits |";
    for (const MetricsRun& run : runs) os << " " << run.label << " |";
    os << "\n|---:|";
    for (size_t r = 0; r < runs.size(); ++r) os << "---:|";
    os << "\n";
    for (int64_t e : edits) {
      os << "| " << e << " |";
      for (const auto& s : series) {
        auto it = s.find(e);
        os << " " << (it == s.end() ? std::string("-") : report_number(it->second)) << " |";
      }
      os << "\n";
    }
  }
  return os.str();
}

bool program_available(const std::string& program) {
  if (program.empty()) return false;
  if (program.find('/') != std::string::npos) return fs::exists(program);
  const char* path = std::getenv("PATH");
  if (!path) return false;
  std::stringstream ss(path);
  std::string dir;
  while (std::getline(ss, dir, ':')) {
    if (dir.empty()) continue;
    std::error_code ec;
    const fs::path p = fs::path(dir) / program;
    if (fs::exists(p, ec) && !fs::is_directory(p, ec)) return true;
  }
  return false;
}

bool log_axis_for(const std::vector<double>& values) {
  if (values.empty()) return false;
  double lo = values.front(), hi = values.front();
  for (double v : values) {
    if (!(v > 0) || !std::isfinite(v)) return false;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  return hi >= 20.0 * lo;
}

ReportResult write_report(const std::vector<MetricsRun>& runs, const ReportOptions& options) {
  REVIVE_CHECK(!options.out_dir.empty(), "report: no output folder");
  const std::vector<std::string> present = report_metric_names(runs);
  const std::vector<std::string> metrics = options.metrics.empty() ? present : options.metrics;
  for (const std::string& m : metrics) {
    if (std::find(present.begin(), present.end(), m) == present.end()) {
      std::string list;
      for (const std::string& p : present) list += (list.empty() ? "" : ", ") + p;
      throw Error("report: metric '" + m + "' is in none of the runs (present: " + (list.empty() ? "none" : list) + ")");
    }
  }
  std::error_code ec;
  fs::create_directories(options.out_dir, ec);
  if (ec) throw InputError(options.out_dir, "", "cannot create output folder: " + ec.message());

  ReportResult result;
  result.table_path = (fs::path(options.out_dir) / "report.md").string();
  data::write_file_atomic(result.table_path, metrics_table(runs, metrics));

  // One data file per metric: a block per run (gnuplot `index`), edits and value.
  std::ostringstream script;
  script << "set terminal png size 900,560\nset datafile separator whitespace\nset key outside right top noenhanced\n"
         << "set xlabel 'edits'\nset grid\n";
  std::vector<std::pair<std::string, std::string>> pngs;  // (temporary, final)
  for (const std::string& metric : metrics) {
    const std::string stem = report_file_stem(metric);
    const std::string dat = (fs::path(options.out_dir) / (stem + ".dat")).string();
    std::ostringstream data;
    std::vector<size_t> blocks;  // runs with a value, in block order
    std::vector<double> values;  // every plotted value (for the axis)
    for (size_t r = 0; r < runs.size(); ++r) {
      const auto s = report_series(runs[r], metric);
      if (s.empty()) continue;
      if (!blocks.empty()) data << "\n\n";
      data << "# " << runs[r].label << "\n";
      for (const auto& kv : s) {
        data << kv.first << " " << report_number(kv.second) << "\n";
        values.push_back(kv.second);
      }
      blocks.push_back(r);
    }
    data::write_file_atomic(dat, data.str());
    result.data_paths.push_back(dat);
    const std::string png = (fs::path(options.out_dir) / (stem + ".png")).string();
    pngs.emplace_back(png + ".tmp", png);
    const bool log_y = log_axis_for(values);
    script << (log_y ? "set logscale y\n" : "unset logscale y\n");
    script << "set output " << report_gp_quote(png + ".tmp") << "\nset title "
           << report_gp_quote(log_y ? metric + " (log scale)" : metric) << " noenhanced\nset ylabel "
           << report_gp_quote(metric) << " noenhanced\nplot ";
    for (size_t b = 0; b < blocks.size(); ++b) {
      script << (b ? ", " : "") << report_gp_quote(dat) << " index " << b << " using 1:2 with linespoints title "
             << report_gp_quote(runs[blocks[b]].label);
    }
    script << "\nunset output\n";
  }
  if (!options.plots || metrics.empty()) return result;
  // The script is written even without gnuplot: it plots the .dat files later.
  const std::string gp = (fs::path(options.out_dir) / "plots.gp").string();
  data::write_file_atomic(gp, script.str());
  if (!program_available(options.gnuplot)) {
    result.plot_note = "no PNG plots: '" + options.gnuplot +
                       "' was not found (install gnuplot, e.g. `apt-get install gnuplot-nox` as launch/setup.sh does); "
                       "the table, the .dat files and plots.gp were written";
    return result;
  }
  const std::string log = (fs::path(options.out_dir) / "plots.log").string();
  const std::string cmd = report_sh_quote(options.gnuplot) + " " + report_sh_quote(gp) + " > " + report_sh_quote(log) + " 2>&1";
  const int rc = std::system(cmd.c_str());
  for (const auto& [tmp, png] : pngs) {
    if (rc == 0 && fs::exists(tmp, ec)) {
      fs::rename(tmp, png, ec);
      if (!ec) result.plot_paths.push_back(png);
    } else {
      fs::remove(tmp, ec);
    }
  }
  if (rc != 0 || result.plot_paths.size() != pngs.size()) {
    result.plot_note = "gnuplot failed (exit status " + std::to_string(rc) + "); see " + log;
  } else {
    fs::remove(log, ec);
  }
  return result;
}

}  // namespace revive::eval
