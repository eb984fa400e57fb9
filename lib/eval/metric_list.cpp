#include "lib/eval/metric_list.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <sstream>

namespace revive::eval {

namespace {
// A count: the last '.'-separated part of the name starts with "num_", and the
// value is integral.
bool metric_list_is_count(const std::string& name, double v) {
  const size_t dot = name.rfind('.');
  const std::string last = dot == std::string::npos ? name : name.substr(dot + 1);
  return last.rfind("num_", 0) == 0 && std::isfinite(v) && std::floor(v) == v && std::fabs(v) < 9.0e15;
}
}  // namespace

std::string format_metric_table(const MetricList& metrics, int precision) {
  size_t width = 0;
  for (const auto& m : metrics) width = std::max(width, m.first.size());
  std::ostringstream os;
  for (const auto& m : metrics) {
    os << std::left << std::setw(static_cast<int>(width) + 2) << m.first;
    if (metric_list_is_count(m.first, m.second)) {
      os << static_cast<int64_t>(m.second);
    } else {
      os << std::fixed << std::setprecision(precision) << m.second;
    }
    os << "\n";
  }
  return os.str();
}

nlohmann::json metrics_json(const MetricList& metrics) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& m : metrics) {
    if (metric_list_is_count(m.first, m.second)) {
      j[m.first] = static_cast<int64_t>(m.second);
    } else {
      j[m.first] = m.second;
    }
  }
  return j;
}

}  // namespace revive::eval
