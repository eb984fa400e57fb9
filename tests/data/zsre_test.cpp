#include "lib/data/zsre.h"

#include <gtest/gtest.h>

#include "sharding/errors.h"
#include "tests/data/write_text.h"
#include "tests/support/fixtures.h"

namespace revive::data {
namespace {

using revive::data::testing::write_text;

TEST(Zsre, ReadsTheEvalFile) {
  REVIVE_REQUIRE_DATA(file, "zsre/zsre_mend_eval_portability_gpt4.json");
  const ReadResult r = read_zsre(file);
  ASSERT_EQ(r.requests.size(), 1037u);
  EXPECT_TRUE(r.skipped.empty());
  const EditRequest& q = r.requests.front();
  EXPECT_EQ(q.case_id, 0);
  EXPECT_EQ(q.subject, "IAAF Combined Events Challenge");
  EXPECT_EQ(q.prompt_template, "When was the inception of {}?");
  EXPECT_EQ(q.prompt(), "When was the inception of IAAF Combined Events Challenge?");
  EXPECT_EQ(q.target_new, "2006");
  EXPECT_EQ(q.target_true, "1998");
  EXPECT_EQ(q.paraphrase_prompts,
            std::vector<std::string>{"When was the IAAF Combined Events Challenge launched?"});
  EXPECT_EQ(q.neighborhood_prompts,
            std::vector<std::string>{"nq question: what is the name of the last episode of spongebob"});
  EXPECT_EQ(q.neighborhood_answer(), "The String");
  EXPECT_EQ(r.requests.back().case_id, 1036);
}

// The train file holds two records with an empty `alt` (indices 534 and 723).
TEST(Zsre, EmptyAltIsRejectedOrSkipped) {
  REVIVE_REQUIRE_DATA(file, "zsre/zsre_mend_train-1k.json");
  try {
    read_zsre(file);
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(e.file(), file);
    EXPECT_EQ(e.field(), "[534].alt");
  }
  ZsreOptions opts;
  opts.read.on_error = OnError::kSkip;
  const ReadResult r = read_zsre(file, opts);
  EXPECT_EQ(r.requests.size(), 998u);
  ASSERT_EQ(r.skipped.size(), 2u);
  EXPECT_EQ(r.skipped[0].index, 534u);
  EXPECT_EQ(r.skipped[1].index, 723u);
  EXPECT_EQ(r.skipped[0].field, "alt");
  EXPECT_EQ(r.requests[0].subject, "UniFirst");
  EXPECT_EQ(r.requests[0].target_new, "unmanned aircraft");
  EXPECT_EQ(r.requests[0].target_true, "uniform");
  // case_id stays the record index: the record after the first skipped one is 535.
  EXPECT_EQ(r.requests[534].case_id, 535);
}

TEST(Zsre, FirstAnswerTargetAsInRomeAndMemit) {
  REVIVE_REQUIRE_DATA(file, "zsre/zsre_mend_train-1k.json");
  ZsreOptions opts;
  opts.target = ZsreTarget::kFirstAnswer;
  const ReadResult r = read_zsre(file, opts);
  ASSERT_EQ(r.requests.size(), 1000u);
  EXPECT_EQ(r.requests[0].target_new, "uniform");
  EXPECT_EQ(r.requests[0].target_true, "");
  EXPECT_EQ(r.requests[534].target_new, "female");
}

TEST(Zsre, MalformedRecords) {
  const std::string dir = revive::testing::temp_dir("zsre");
  const std::string ok =
      R"({"subject": "S", "src": "What is S?", "alt": "b", "answers": ["a"], "rephrase": "S is?",
          "loc": "nq question: q", "loc_ans": "z"})";
  struct Case {
    std::string record, field;
  };
  const std::vector<Case> cases = {
      {R"({"subject": "T", "src": "What is S?", "alt": "b", "answers": ["a"]})", "src"},
      {R"({"subject": "S", "src": "What is S?", "alt": "b", "answers": []})", "answers"},
      {R"({"subject": "S", "src": "What is S?", "alt": "b", "answers": "a"})", "answers"},
      {R"({"subject": "S", "src": "What is S?", "answers": ["a"]})", "alt"},
      {R"({"subject": "S", "src": "What is S?", "alt": " ", "answers": ["a"]})", "alt"},
      {R"({"src": "What is S?", "alt": "b", "answers": ["a"]})", "subject"},
      {R"({"subject": "S", "src": "What is S?", "alt": "b", "answers": ["a"], "loc": ""})", "loc"},
  };
  std::string all = "[" + ok;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const std::string file = write_text(dir, "case" + std::to_string(i) + ".json",
                                        "[" + ok + ",\n" + cases[i].record + "]");
    try {
      read_zsre(file);
      ADD_FAILURE() << "case " << i << " accepted";
    } catch (const InputError& e) {
      EXPECT_EQ(e.field(), "[1]." + cases[i].field) << e.what();
    }
    all += ",\n" + cases[i].record;
  }
  ZsreOptions opts;
  opts.read.on_error = OnError::kSkip;
  const ReadResult r = read_zsre(write_text(dir, "all.json", all + "]"), opts);
  ASSERT_EQ(r.requests.size(), 1u);
  ASSERT_EQ(r.skipped.size(), cases.size());
  for (std::size_t i = 0; i < cases.size(); ++i) EXPECT_EQ(r.skipped[i].field, cases[i].field);
}

}  // namespace
}  // namespace revive::data
