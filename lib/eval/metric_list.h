#pragma once
// A flat, ordered list of named metric values: what every evaluation result
// reports (`metrics()`), printed by the CLI as a table or one JSON object and
// written by the runner into its metrics JSONL.
#include <nlohmann/json.hpp>

#include <string>
#include <utility>
#include <vector>

namespace revive::eval {

using MetricList = std::vector<std::pair<std::string, double>>;

// "name  value" lines, names left-aligned, values with `precision` decimals.
std::string format_metric_table(const MetricList& metrics, int precision = 4);
// {"name": value, ...}; counts (names whose last part starts "num_") are written as integers.
nlohmann::json metrics_json(const MetricList& metrics);

}  // namespace revive::eval
