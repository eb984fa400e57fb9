#include "lib/eval/metric_list.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <sstream>

namespace revive::eval {

namespace {
bool metric_list_is_count(double v) { return std::isfinite(v) && std::floor(v) == v && std::fabs(v) < 9.0e15; }
}  // namespace

std::string format_metric_table(const MetricList& metrics, int precision) {
  size_t width = 0;
  for (const auto& m : metrics) width = std::max(width, m.first.size());
  std::ostringstream os;
  for (const auto& m : metrics) {
    os << std::left << std::setw(static_cast<int>(width) + 2) << m.first;
    if (metric_list_is_count(m.second) && m.first.rfind("num_", 0) == 0) {
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
    if (m.first.rfind("num_", 0) == 0 && metric_list_is_count(m.second)) {
      j[m.first] = static_cast<int64_t>(m.second);
    } else {
      j[m.first] = m.second;
    }
  }
  return j;
}

}  // namespace revive::eval
