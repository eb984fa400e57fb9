// Multiple-choice tasks: macro F1 on a known confusion, the JSONL reader's
// errors, and predictions on the bigram model.
#include <gtest/gtest.h>

#include <fstream>

#include "lib/eval/choice_tasks.h"
#include "sharding/errors.h"
#include "tests/eval/bigram_model.h"
#include "tests/support/fixtures.h"
#include "tests/support/input_error.h"

namespace revive::eval {
namespace {

std::string choice_test_file(const std::string& tag, const std::string& text) {
  const std::string path = ::revive::testing::temp_dir(tag) + "/tasks.jsonl";
  std::ofstream(path) << text;
  return path;
}

TEST(MacroF1, KnownConfusion) {
  // gold rows, predicted columns. Class 0: tp 3, fn 1, fp 2 -> 6/9.
  // Class 1: tp 4, fn 2, fp 1 -> 8/11. Macro: (6/9 + 8/11) / 2.
  const double expected = (6.0 / 9 + 8.0 / 11) / 2;
  EXPECT_NEAR(macro_f1_score({{3, 1}, {2, 4}}), expected, 1e-15);
  // A class that never occurs (gold or predicted) does not count.
  EXPECT_NEAR(macro_f1_score({{3, 1, 0}, {2, 4, 0}, {0, 0, 0}}), expected, 1e-15);
  // A class that is predicted but never gold counts with F1 = 0.
  EXPECT_NEAR(macro_f1_score({{1, 1}, {0, 0}}), (2.0 / 3 + 0) / 2, 1e-15);
  EXPECT_DOUBLE_EQ(macro_f1_score({}), 0.0);
  EXPECT_DOUBLE_EQ(macro_f1_score({{5, 0}, {0, 5}}), 1.0);
}

TEST(ChoiceTasks, ReadsRecordsAndSkipsBlankLines) {
  const std::string f = choice_test_file(
      "choices-ok", "{\"prompt\": \"alice lives in\", \"choices\": [\"paris\", \"rome\"], \"label\": 1}\n\n"
                    "{\"prompt\": \"bob is a\", \"choices\": [\"doctor\", \"chef\", \"pilot\"], \"label\": 0}\n");
  const auto tasks = read_choice_tasks(f);
  ASSERT_EQ(tasks.size(), 2u);
  EXPECT_EQ(tasks[0].prompt, "alice lives in");
  EXPECT_EQ(tasks[0].label, 1);
  EXPECT_EQ(tasks[1].choices.size(), 3u);
}

void choice_test_expect_error(const std::string& line3, const std::string& field) {
  const std::string ok = "{\"prompt\": \"a\", \"choices\": [\"b\", \"c\"], \"label\": 0}\n";
  const std::string f = choice_test_file("choices-bad", ok + "\n" + line3 + "\n" + ok);
  SCOPED_TRACE(line3);
  ::revive::testing::expect_input_error([&] { read_choice_tasks(f); }, f, field);
}

TEST(ChoiceTasks, BadRecordsNameFileLineAndField) {
  choice_test_expect_error("{\"prompt\": \"a\", \"choices\": [\"b\", \"c\"], \"label\": 2}", "line 3: label");
  choice_test_expect_error("{\"prompt\": \"a\", \"choices\": [\"b\", \"c\"], \"label\": \"0\"}", "line 3: label");
  choice_test_expect_error("{\"prompt\": \"a\", \"choices\": [\"b\", 7], \"label\": 0}", "line 3: choices[1]");
  choice_test_expect_error("{\"prompt\": \"a\", \"choices\": [\"b\"], \"label\": 0}", "line 3: choices");
  choice_test_expect_error("{\"choices\": [\"b\", \"c\"], \"label\": 0}", "line 3: prompt");
  choice_test_expect_error("{\"prompt\": \"a\", \"choices\": [\"b\", \" \"], \"label\": 0}", "line 3: choices[1]");
  choice_test_expect_error("[1, 2]", "line 3");
  choice_test_expect_error("{not json", "line 3");
  EXPECT_THROW(read_choice_tasks("/nonexistent/tasks.jsonl"), InputError);
}

TEST(ChoiceTasks, PicksTheLowestMeanNllChoice) {
  auto m = testing::make_bigram_model_with(9, [](testing::BigramModel& b) {
    b.table[b.id("in")][b.id("rome")] = 6;
    b.table[b.id("a")][b.id("doctor")] = 6;
    b.table[b.id("as")][b.id("new")] = 6;
    b.table[b.id("new")][b.id("york")] = 6;
  });
  const std::vector<ChoiceTask> tasks = {
      {"alice lives in", {"paris", "rome", "london"}, 1},  // right
      {"bob is a", {"chef", "doctor"}, 0},                 // wrong: predicts 1
      {"carol works as", {"pilot", "new york"}, 1},        // right (mean NLL of two tokens)
      {"dave lives in", {"rome", "paris"}, 0}};            // right
  const ChoiceResult r = evaluate_choices(*m->model, m->tokenizer, tasks, ChoiceOptions{2});
  EXPECT_EQ(r.predictions, (std::vector<int64_t>{1, 1, 1, 0}));
  EXPECT_EQ(r.num_correct, 3);
  EXPECT_DOUBLE_EQ(r.accuracy, 0.75);
  ASSERT_EQ(r.confusion.size(), 3u);
  // gold 0 -> {pred 1, pred 0}; gold 1 -> {1, 1}: class 0 tp 1 fn 1 fp 0 (2/3); class 1 tp 2 fp 1 (4/5).
  EXPECT_NEAR(r.macro_f1, (2.0 / 3 + 4.0 / 5) / 2, 1e-15);
}

}  // namespace
}  // namespace revive::eval
