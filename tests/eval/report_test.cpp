// The metrics report: flattening nested JSONL records, the markdown table, and
// the written files (plots when gnuplot is present, a clear note when not).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "lib/eval/report.h"
#include "sharding/errors.h"
#include "tests/support/fixtures.h"
#include "tests/support/input_error.h"

namespace revive::eval {
namespace {

std::string report_test_write(const std::string& dir, const std::string& name, const std::string& text) {
  const std::string path = dir + "/" + name;
  std::ofstream(path) << text;
  return path;
}

std::string report_test_read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST(Report, FlattensNestedNumbers) {
  const auto flat = flatten_numbers(nlohmann::json::parse(
      R"({"eval": {"efficacy": 0.5, "inner": {"x": 2}}, "ppl": 12, "ok": true, "name": "memit", "list": [1, 2], "n": null})"));
  EXPECT_EQ(flat.size(), 4u);
  EXPECT_DOUBLE_EQ(flat.at("eval.efficacy"), 0.5);
  EXPECT_DOUBLE_EQ(flat.at("eval.inner.x"), 2.0);
  EXPECT_DOUBLE_EQ(flat.at("ppl"), 12.0);
  EXPECT_DOUBLE_EQ(flat.at("ok"), 1.0);
}

// `revive edit --out memit` writes memit/metrics.jsonl: such runs are named by
// their folders, or every run of a report would be "metrics".
TEST(Report, RunsAreNamedByFileOrByTheirRunFolder) {
  EXPECT_EQ(default_run_label("runs/memit.jsonl"), "memit");
  EXPECT_EQ(default_run_label("memit-revive/metrics.jsonl"), "memit-revive");
  EXPECT_EQ(default_run_label("/tmp/a/run1/./metrics.jsonl"), "run1");
}

TEST(Report, ReadsRunsAndWritesTableAndPlots) {
  const std::string dir = ::revive::testing::temp_dir("report");
  const std::string a = report_test_write(dir, "memit.jsonl",
                                          "{\"edits\": 0, \"eval\": {\"efficacy\": 0.1}, \"ppl\": 10}\n"
                                          "\n"
                                          "{\"edits\": 100, \"eval\": {\"efficacy\": 0.9}, \"ppl\": 14.5}\n");
  const std::string b = report_test_write(dir, "revive.jsonl",
                                          "{\"edits\": 0, \"eval\": {\"efficacy\": 0.1}, \"ppl\": 10}\n"
                                          "{\"edits\": 50, \"eval\": {\"efficacy\": 0.95}}\n");
  std::vector<MetricsRun> runs = {read_metrics_jsonl(a), read_metrics_jsonl(b, "MEMIT+REVIVE")};
  EXPECT_EQ(runs[0].label, "memit");
  EXPECT_EQ(runs[1].label, "MEMIT+REVIVE");
  ASSERT_EQ(runs[0].rows.size(), 2u);
  EXPECT_EQ(runs[0].rows[1].edits, 100);
  EXPECT_EQ(report_metric_names(runs), (std::vector<std::string>{"eval.efficacy", "ppl"}));

  const std::string table = metrics_table(runs, {"ppl"});
  EXPECT_NE(table.find("## ppl"), std::string::npos) << table;
  EXPECT_NE(table.find("| edits | memit | MEMIT+REVIVE |"), std::string::npos) << table;
  EXPECT_NE(table.find("| 0 | 10 | 10 |"), std::string::npos) << table;
  EXPECT_EQ(table.find("| 50 |"), std::string::npos) << table;  // no run has ppl at 50 edits
  EXPECT_NE(table.find("| 100 | 14.5 | - |"), std::string::npos) << table;

  ReportOptions opts;
  opts.out_dir = dir + "/out";
  const ReportResult res = write_report(runs, opts);
  EXPECT_TRUE(std::filesystem::exists(res.table_path));
  const std::string written = report_test_read(res.table_path);
  EXPECT_NE(written.find("## eval.efficacy"), std::string::npos) << written;
  EXPECT_NE(written.find("| 50 | - | 0.95 |"), std::string::npos) << written;
  ASSERT_EQ(res.data_paths.size(), 2u);
  EXPECT_NE(report_test_read(res.data_paths[0]).find("50 0.95"), std::string::npos);
  if (program_available("gnuplot")) {
    EXPECT_TRUE(res.plot_note.empty()) << res.plot_note;
    ASSERT_EQ(res.plot_paths.size(), 2u);
    for (const std::string& p : res.plot_paths) EXPECT_GT(std::filesystem::file_size(p), 100u) << p;
  } else {
    EXPECT_NE(res.plot_note.find("not found"), std::string::npos);
  }
}

TEST(Report, ExplodingMetricsArePlottedOnALogAxis) {
  EXPECT_TRUE(log_axis_for({6.3, 7.1, 387.0}));
  EXPECT_FALSE(log_axis_for({6.3, 7.1, 9.0}));
  EXPECT_FALSE(log_axis_for({0.0, 0.5, 0.9}));  // efficacy: not positive everywhere
  EXPECT_FALSE(log_axis_for({}));
  const std::string dir = ::revive::testing::temp_dir("report-log");
  const std::string a = report_test_write(dir, "a.jsonl", "{\"edits\": 0, \"ppl\": 6, \"eff\": 0}\n"
                                                          "{\"edits\": 10, \"ppl\": 400, \"eff\": 0.9}\n");
  ReportOptions opts;
  opts.out_dir = dir + "/out";
  opts.metrics = {"ppl", "eff"};
  opts.gnuplot = "revive-no-such-gnuplot";  // the script is written either way
  write_report({read_metrics_jsonl(a)}, opts);
  const std::string gp = report_test_read(dir + "/out/plots.gp");
  const size_t ppl = gp.find("'ppl (log scale)'"), eff = gp.find("'eff'");
  ASSERT_NE(ppl, std::string::npos) << gp;
  ASSERT_NE(eff, std::string::npos) << gp;
  EXPECT_NE(gp.rfind("set logscale y", ppl), std::string::npos) << gp;
  EXPECT_NE(gp.rfind("unset logscale y", eff), std::string::npos) << gp;
  EXPECT_GT(gp.rfind("unset logscale y", eff), gp.rfind("set logscale y", ppl));
}

TEST(Report, MissingGnuplotIsANoteNotAFailure) {
  const std::string dir = ::revive::testing::temp_dir("report-nognuplot");
  const std::string a = report_test_write(dir, "run.jsonl", "{\"edits\": 1, \"x\": 2}\n");
  ReportOptions opts;
  opts.out_dir = dir + "/out";
  opts.gnuplot = "revive-no-such-gnuplot";
  const ReportResult res = write_report({read_metrics_jsonl(a)}, opts);
  EXPECT_TRUE(res.plot_paths.empty());
  EXPECT_NE(res.plot_note.find("revive-no-such-gnuplot"), std::string::npos) << res.plot_note;
  EXPECT_TRUE(std::filesystem::exists(res.table_path));
  opts.metrics = {"nope"};
  EXPECT_THROW(write_report({read_metrics_jsonl(a)}, opts), Error);
}

TEST(Report, BadLinesNameFileAndLine) {
  const std::string dir = ::revive::testing::temp_dir("report-bad");
  const std::string f = report_test_write(dir, "bad.jsonl", "{\"edits\": 1}\n{\"edits\": 1.5}\n");
  ::revive::testing::expect_input_error([&] { read_metrics_jsonl(f); }, f, "line 2: edits");
  EXPECT_THROW(read_metrics_jsonl(report_test_write(dir, "bad2.jsonl", "{\"x\": 1}\n")), InputError);
  EXPECT_THROW(read_metrics_jsonl(report_test_write(dir, "bad3.jsonl", "nonsense\n")), InputError);
  EXPECT_THROW(read_metrics_jsonl(dir + "/missing.jsonl"), InputError);
}

}  // namespace
}  // namespace revive::eval
