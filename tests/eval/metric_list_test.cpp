// Metric lists as the CLI prints them: an aligned table and one JSON object
// with counts as integers.
#include <gtest/gtest.h>

#include "lib/eval/metric_list.h"

namespace revive::eval {
namespace {

TEST(MetricList, TableAndJson) {
  const MetricList m = {{"efficacy", 0.75}, {"num_requests", 4}, {"tasks.num_tasks", 3}, {"ppl", 3.5}};
  EXPECT_EQ(format_metric_table(m, 2),
            "efficacy         0.75\n"
            "num_requests     4\n"
            "tasks.num_tasks  3\n"
            "ppl              3.50\n");
  const nlohmann::json j = metrics_json(m);
  EXPECT_TRUE(j.at("num_requests").is_number_integer());
  EXPECT_TRUE(j.at("tasks.num_tasks").is_number_integer());
  EXPECT_TRUE(j.at("efficacy").is_number_float());
  EXPECT_DOUBLE_EQ(j.at("ppl").get<double>(), 3.5);
}

}  // namespace
}  // namespace revive::eval
