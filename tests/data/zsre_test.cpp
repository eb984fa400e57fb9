#include "lib/data/zsre.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "sharding/errors.h"
#include "tests/data/raw_json.h"
#include "tests/data/write_text.h"
#include "tests/support/fixture_files.h"
#include "tests/support/fixtures.h"
#include "tests/support/input_error.h"

namespace revive::data {
namespace {

using revive::data::testing::expect_every_record;
using revive::data::testing::one_string_or_none;
using revive::testing::read_json;
using revive::data::testing::write_text;

// A request read from a zsRE record against the record: `src` is the filled
// prompt, the target `alt` (or the first answer), the true answer the first
// answer; case_id the record's index.
void expect_zsre_record(const EditRequest& q, const nlohmann::json& record, size_t index, ZsreTarget target) {
  const std::vector<std::string> answers = record.at("answers").get<std::vector<std::string>>();
  ASSERT_FALSE(answers.empty());
  EXPECT_EQ(q.case_id, static_cast<int64_t>(index));
  EXPECT_EQ(q.subject, record.at("subject").get<std::string>());
  EXPECT_EQ(q.prompt(), record.at("src").get<std::string>());
  EXPECT_EQ(q.prompt(), render_prompt(q.prompt_template, q.subject));
  if (target == ZsreTarget::kAlt) {
    EXPECT_EQ(q.target_new, record.at("alt").get<std::string>());
    EXPECT_EQ(q.target_true, answers[0]);
  } else {
    EXPECT_EQ(q.target_new, answers[0]);
    EXPECT_EQ(q.target_true, "");
  }
  EXPECT_EQ(q.paraphrase_prompts, one_string_or_none(record, "rephrase"));
  EXPECT_EQ(q.neighborhood_prompts, one_string_or_none(record, "loc"));
  if (record.contains("loc_ans")) {
    EXPECT_EQ(q.neighborhood_answer(), record.at("loc_ans").get<std::string>());
  }
}

// The indices of records whose `alt` is empty.
std::vector<size_t> empty_alt_records(const nlohmann::json& raw) {
  std::vector<size_t> out;
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i].at("alt").get<std::string>().empty()) out.push_back(i);
  }
  return out;
}

// Every record against the file's own JSON (nothing of the data is copied here).
TEST(Zsre, ReadsTheEvalFile) {
  REVIVE_REQUIRE_DATA(file, "zsre/zsre_mend_eval_portability_gpt4.json");
  const ReadResult r = read_zsre(file);
  expect_every_record(r, read_json(file), [](const EditRequest& q, const nlohmann::json& record, size_t i) {
    expect_zsre_record(q, record, i, ZsreTarget::kAlt);
  });
  ASSERT_FALSE(r.requests.empty());
  // The eval file carries a paraphrase and a locality question for each record.
  EXPECT_FALSE(r.requests.front().paraphrase_prompts.empty());
  EXPECT_FALSE(r.requests.front().neighborhood_prompts.empty());
}

// The train file holds records with an empty `alt`.
TEST(Zsre, EmptyAltIsRejectedOrSkipped) {
  REVIVE_REQUIRE_DATA(file, "zsre/zsre_mend_train-1k.json");
  const nlohmann::json raw = read_json(file);
  const std::vector<size_t> empty = empty_alt_records(raw);
  ASSERT_FALSE(empty.empty());
  ASSERT_GT(empty.front(), 0u);
  revive::testing::expect_input_error([&] { read_zsre(file); }, file, "[" + std::to_string(empty.front()) + "].alt");
  ZsreOptions opts;
  opts.read.on_error = OnError::kSkip;
  const ReadResult r = read_zsre(file, opts);
  EXPECT_EQ(r.requests.size(), raw.size() - empty.size());
  ASSERT_EQ(r.skipped.size(), empty.size());
  for (size_t k = 0; k < empty.size(); ++k) {
    EXPECT_EQ(r.skipped[k].index, empty[k]);
    EXPECT_EQ(r.skipped[k].field, "alt");
  }
  expect_zsre_record(r.requests[0], raw[0], 0, ZsreTarget::kAlt);
  // case_id stays the record index: the request after the first skipped record
  // is the record after it.
  const size_t first = empty.front();
  EXPECT_EQ(r.requests[first].case_id, static_cast<int64_t>(first + 1));
}

TEST(Zsre, FirstAnswerTargetAsInRomeAndMemit) {
  REVIVE_REQUIRE_DATA(file, "zsre/zsre_mend_train-1k.json");
  ZsreOptions opts;
  opts.target = ZsreTarget::kFirstAnswer;
  const ReadResult r = read_zsre(file, opts);
  const nlohmann::json raw = read_json(file);
  ASSERT_FALSE(empty_alt_records(raw).empty());  // an empty alt does not matter here
  expect_every_record(r, raw, [](const EditRequest& q, const nlohmann::json& record, size_t i) {
    expect_zsre_record(q, record, i, ZsreTarget::kFirstAnswer);
  });
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
      {R"({"subject": "S", "src": "What is S?", "alt": "\u3000", "answers": ["a"]})", "alt"},
      {R"({"subject": "S", "src": "What is S?", "alt": "b", "answers": ["a"], "rephrase": "\u00a0\u2003"})",
       "rephrase"},
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

// A duplicate key is the record's error naming its path, not a silent "last
// one wins": rejected, or with --on-error skip that record alone is left out.
TEST(Zsre, DuplicateKeyNamesItsPath) {
  const std::string dir = revive::testing::temp_dir("zsre-dup");
  const std::string file = write_text(dir, "dup.json", R"([{"subject": "S", "src": "What is S?", "alt": "b",
      "answers": ["a"]}, {"subject": "S", "src": "What is S?", "alt": "b", "alt": "c", "answers": ["a"]}])");
  revive::testing::expect_input_error([&] { read_zsre(file); }, file, "[1].alt", "duplicate key");
  ZsreOptions opts;
  opts.read.on_error = OnError::kSkip;
  const ReadResult r = read_zsre(file, opts);
  ASSERT_EQ(r.requests.size(), 1u);
  ASSERT_EQ(r.skipped.size(), 1u);
  EXPECT_EQ(r.skipped[0].index, 1u);
  EXPECT_EQ(r.skipped[0].field, "alt");
}

}  // namespace
}  // namespace revive::data
