// CounterFact readers (ROME and EasyEdit schemas) on the real files and on
// hand-made malformed records.
#include <gtest/gtest.h>

#include <set>

#include "lib/data/counterfact_easyedit.h"
#include "lib/data/counterfact_rome.h"
#include "sharding/errors.h"
#include "tests/data/write_text.h"
#include "tests/support/fixtures.h"

namespace revive::data {
namespace {

using revive::data::testing::write_text;

// Runs `read` with kReject and expects an InputError naming file, record and field.
template <typename Read>
void expect_rejected(Read read, const std::string& file, std::size_t index, const std::string& field) {
  try {
    read(ReadOptions{});
    FAIL() << "expected an InputError for [" << index << "]." << field;
  } catch (const InputError& e) {
    EXPECT_EQ(e.file(), file);
    EXPECT_EQ(e.field(), "[" + std::to_string(index) + "]." + field) << e.what();
    EXPECT_NE(std::string(e.what()).find(file), std::string::npos);
  }
}

TEST(CounterFactRome, ReadsTheRealSamples) {
  REVIVE_REQUIRE_DATA(dir, "counterfact_rome_samples");
  const ReadResult most = read_counterfact_rome(dir + "/most_orthogonal.json");
  const ReadResult least = read_counterfact_rome(dir + "/least_orthogonal.json");
  EXPECT_EQ(most.requests.size(), 10u);
  EXPECT_EQ(least.requests.size(), 10u);
  EXPECT_TRUE(most.skipped.empty());

  const EditRequest& r = most.requests.front();
  EXPECT_EQ(r.case_id, 4088);
  EXPECT_EQ(r.prompt_template, "{}, a citizen of");
  EXPECT_EQ(r.subject, "Ferdinand de Saussure");
  EXPECT_EQ(r.prompt(), "Ferdinand de Saussure, a citizen of");
  EXPECT_EQ(r.target_new, "Belgium");
  EXPECT_EQ(r.target_true, "Switzerland");
  EXPECT_EQ(r.relation_id, "P27");
  ASSERT_EQ(r.paraphrase_prompts.size(), 2u);
  EXPECT_EQ(r.paraphrase_prompts[0],
            "The latter underwent treatments in health centers. Ferdinand de Saussure, who is a "
            "citizen of");
  ASSERT_EQ(r.neighborhood_prompts.size(), 10u);
  EXPECT_EQ(r.neighborhood_prompts[0], "Ludwig Hohl, who holds a citizenship from");
  EXPECT_EQ(r.attribute_prompts.size(), 10u);
  EXPECT_EQ(r.attribute_prompts[0], "Hercule Poirot, who is a citizen of");
  EXPECT_EQ(r.generation_prompts.size(), 10u);
  EXPECT_EQ(r.neighborhood_answer(), "Switzerland");

  EXPECT_EQ(least.requests.back().case_id, 14209);
  EXPECT_EQ(least.requests.back().subject, "Orest Subtelny");
  EXPECT_EQ(least.requests.back().target_new, "Spain");
}

TEST(CounterFactEasyEdit, ReadsAll21919Cases) {
  REVIVE_REQUIRE_DATA(dir, "counterfact_easyedit");
  const ReadResult train = read_counterfact_easyedit(dir + "/counterfact-train.json");
  const ReadResult val = read_counterfact_easyedit(dir + "/counterfact-val.json");
  const ReadResult edit = read_counterfact_easyedit(dir + "/counterfact-edit.json");
  EXPECT_EQ(train.requests.size(), 10000u);
  EXPECT_EQ(val.requests.size(), 1919u);
  EXPECT_EQ(edit.requests.size(), 10000u);
  // Disjoint case ids covering 0..21918 (README).
  std::set<int64_t> ids;
  for (const auto* part : {&train, &val, &edit}) {
    for (const EditRequest& r : part->requests) {
      ASSERT_TRUE(r.case_id.has_value());
      ids.insert(*r.case_id);
      ASSERT_EQ(r.prompt(), render_prompt(r.prompt_template, r.subject));
    }
  }
  EXPECT_EQ(ids.size(), 21919u);
  EXPECT_EQ(*ids.begin(), 0);
  EXPECT_EQ(*ids.rbegin(), 21918);

  const EditRequest& r = edit.requests.front();
  EXPECT_EQ(r.case_id, 0);
  EXPECT_EQ(r.prompt_template, "The mother tongue of {} is");
  EXPECT_EQ(r.prompt(), "The mother tongue of Danielle Darrieux is");
  EXPECT_EQ(r.subject, "Danielle Darrieux");
  EXPECT_EQ(r.target_new, "English");
  EXPECT_EQ(r.target_true, "French");
  EXPECT_EQ(r.paraphrase_prompts,
            std::vector<std::string>{"Where Danielle Darrieux is from, people speak the language of"});
  EXPECT_EQ(r.neighborhood_prompts,
            std::vector<std::string>{"Michel Rocard is a native speaker of"});
  EXPECT_EQ(r.neighborhood_answer(), "French");

  const EditRequest& t = train.requests.front();
  EXPECT_EQ(t.case_id, 2);
  EXPECT_EQ(t.prompt_template, "{}, the");
  EXPECT_EQ(t.target_new, "piano");
  EXPECT_EQ(t.target_true, "guitar");
}

TEST(CounterFactEasyEdit, LimitStopsEarly) {
  REVIVE_REQUIRE_DATA(dir, "counterfact_easyedit");
  ReadOptions opts;
  opts.limit = 5;
  const ReadResult r = read_counterfact_easyedit(dir + "/counterfact-val.json", opts);
  ASSERT_EQ(r.requests.size(), 5u);
  EXPECT_EQ(r.requests[0].case_id, 10);
}

// One valid record, then one broken record per case; kReject names each, kSkip
// keeps the valid one and lists them all.
TEST(CounterFactRome, MalformedRecords) {
  const std::string dir = revive::testing::temp_dir("cf-rome");
  const std::string ok =
      R"({"case_id": 1, "requested_rewrite": {"prompt": "{} plays the", "subject": "A",
          "target_new": {"str": "piano"}, "target_true": {"str": "guitar"}}})";
  struct Case {
    std::string record, field;
  };
  const std::vector<Case> cases = {
      {R"(["not an object"])", "<record>"},
      {R"({"case_id": 2})", "requested_rewrite"},
      {R"({"requested_rewrite": {"prompt": "plays the", "subject": "A",
          "target_new": {"str": "x"}, "target_true": {"str": "y"}}})",
       "requested_rewrite.prompt"},
      {R"({"requested_rewrite": {"prompt": "{} plays the", "subject": "",
          "target_new": {"str": "x"}, "target_true": {"str": "y"}}})",
       "requested_rewrite.subject"},
      {R"({"requested_rewrite": {"prompt": "{} plays the", "subject": "A",
          "target_new": {"str": ""}, "target_true": {"str": "y"}}})",
       "requested_rewrite.target_new.str"},
      {R"({"requested_rewrite": {"prompt": "{} plays the", "subject": "A",
          "target_new": "x", "target_true": {"str": "y"}}})",
       "requested_rewrite.target_new"},
      {R"({"requested_rewrite": {"prompt": "{} plays the", "subject": "A",
          "target_new": {"str": "x"}}})",
       "requested_rewrite.target_true"},
      {R"({"requested_rewrite": {"prompt": "{} plays the", "subject": 5,
          "target_new": {"str": "x"}, "target_true": {"str": "y"}}})",
       "requested_rewrite.subject"},
      {R"({"case_id": "7", "requested_rewrite": {"prompt": "{} plays the", "subject": "A",
          "target_new": {"str": "x"}, "target_true": {"str": "y"}}})",
       "case_id"},
      {R"({"case_id": 1, "requested_rewrite": {"prompt": "{} plays the", "subject": "B",
          "target_new": {"str": "x"}, "target_true": {"str": "y"}}})",
       "case_id"},
      {R"({"requested_rewrite": {"prompt": "{} plays the", "subject": "A",
          "target_new": {"str": "x"}, "target_true": {"str": "y"}},
          "neighborhood_prompts": ["fine", 3]})",
       "neighborhood_prompts[1]"},
      {R"({"requested_rewrite": {"prompt": "{} plays the", "subject": "A",
          "target_new": {"str": "x"}, "target_true": {"str": "y"}},
          "paraphrase_prompts": "one string"})",
       "paraphrase_prompts"},
      {R"({"requested_rewrite": {"prompt": "{} plays the", "subject": "A",
          "target_new": {"str": "x"}, "target_true": {"str": "y"}},
          "generation_prompts": ["", "x"]})",
       "generation_prompts[0]"},
  };
  std::string all = "[" + ok;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const std::string file = write_text(dir, "case" + std::to_string(i) + ".json",
                                        "[" + ok + ",\n" + cases[i].record + "]");
    expect_rejected([&](const ReadOptions& o) { return read_counterfact_rome(file, o); }, file, 1,
                    cases[i].field);
    all += ",\n" + cases[i].record;
  }
  const std::string file = write_text(dir, "all.json", all + "]");
  ReadOptions skip;
  skip.on_error = OnError::kSkip;
  const ReadResult r = read_counterfact_rome(file, skip);
  ASSERT_EQ(r.requests.size(), 1u);
  EXPECT_EQ(r.requests[0].subject, "A");
  ASSERT_EQ(r.skipped.size(), cases.size());
  for (std::size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(r.skipped[i].index, i + 1);
    EXPECT_EQ(r.skipped[i].field, cases[i].field);
    EXPECT_EQ(r.skipped[i].file, file);
    EXPECT_NE(r.skipped[i].to_string().find("record " + std::to_string(i + 1)), std::string::npos);
  }
}

TEST(CounterFactEasyEdit, MalformedRecords) {
  const std::string dir = revive::testing::temp_dir("cf-easyedit");
  const std::string ok =
      R"({"case_id": 0, "prompt": "The mother tongue of X is", "subject": "X",
          "target_new": "English", "ground_truth": "French"})";
  struct Case {
    std::string record, field;
  };
  const std::vector<Case> cases = {
      {R"({"case_id": 1, "prompt": "The mother tongue of Y is", "subject": "X",
          "target_new": "English", "ground_truth": "French"})",
       "prompt"},
      {R"({"case_id": 2, "prompt": "The mother tongue of X is", "subject": "X",
          "target_new": "", "ground_truth": "French"})",
       "target_new"},
      {R"({"case_id": 3, "prompt": "The mother tongue of X is", "subject": "X",
          "target_new": "English"})",
       "ground_truth"},
      {R"({"case_id": 4, "prompt": "The mother tongue of X is", "subject": "",
          "target_new": "English", "ground_truth": "French"})",
       "subject"},
      {R"({"case_id": 5, "prompt": "{} The mother tongue of X is", "subject": "X",
          "target_new": "English", "ground_truth": "French"})",
       "prompt"},
      {R"({"case_id": 6, "prompt": "The mother tongue of X is", "subject": "X",
          "target_new": "English", "ground_truth": "French", "rephrase_prompt": ""})",
       "rephrase_prompt"},
      {R"({"case_id": 7, "prompt": "The mother tongue of X is", "subject": "X",
          "target_new": "English", "ground_truth": "French", "locality_prompt": 1})",
       "locality_prompt"},
      {R"(17)", "<record>"},
  };
  std::string all = "[" + ok;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const std::string file = write_text(dir, "case" + std::to_string(i) + ".json",
                                        "[" + ok + ",\n" + cases[i].record + "]");
    expect_rejected([&](const ReadOptions& o) { return read_counterfact_easyedit(file, o); }, file,
                    1, cases[i].field);
    all += ",\n" + cases[i].record;
  }
  const std::string file = write_text(dir, "all.json", all + "]");
  ReadOptions skip;
  skip.on_error = OnError::kSkip;
  const ReadResult r = read_counterfact_easyedit(file, skip);
  ASSERT_EQ(r.requests.size(), 1u);
  EXPECT_EQ(r.requests[0].prompt_template, "The mother tongue of {} is");
  ASSERT_EQ(r.skipped.size(), cases.size());
  for (std::size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(r.skipped[i].index, i + 1);
    EXPECT_EQ(r.skipped[i].field, cases[i].field);
  }
}

TEST(CounterFactReaders, WholeFileErrorsAlwaysThrow) {
  const std::string dir = revive::testing::temp_dir("cf-file");
  ReadOptions skip;
  skip.on_error = OnError::kSkip;
  EXPECT_THROW(read_counterfact_rome(dir + "/missing.json", skip), InputError);
  const std::string bad = write_text(dir, "bad.json", "[{\"case_id\": 1,");
  EXPECT_THROW(read_counterfact_rome(bad, skip), InputError);
  const std::string obj = write_text(dir, "obj.json", "{\"case_id\": 1}");
  EXPECT_THROW(read_counterfact_easyedit(obj, skip), InputError);
}

TEST(CounterFactRome, WriteThenReadRoundTrips) {
  REVIVE_REQUIRE_DATA(dir, "counterfact_rome_samples");
  const ReadResult most = read_counterfact_rome(dir + "/most_orthogonal.json");
  std::vector<EditRequest> requests = most.requests;
  requests[1].neighborhood_target = "somewhere else";
  const std::string out = revive::testing::temp_dir("cf-write") + "/out.json";
  write_counterfact_rome(out, requests);
  const ReadResult back = read_counterfact_rome(out);
  EXPECT_EQ(back.requests, requests);
}

}  // namespace
}  // namespace revive::data
