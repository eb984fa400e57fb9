// CounterFact readers (ROME and EasyEdit schemas) on the real files and on
// hand-made malformed records.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/data/counterfact_easyedit.h"
#include "lib/data/counterfact_rome.h"
#include "sharding/errors.h"
#include "tests/data/raw_json.h"
#include "tests/data/write_text.h"
#include "tests/support/fixture_files.h"
#include "tests/support/input_error.h"
#include "tests/support/fixtures.h"

namespace revive::data {
namespace {

using revive::data::testing::expect_every_record;
using revive::data::testing::one_string_or_none;
using revive::testing::read_json;
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

std::vector<std::string> strings_or_none(const nlohmann::json& record, const std::string& key) {
  return record.contains(key) ? record.at(key).get<std::vector<std::string>>() : std::vector<std::string>{};
}

// A request read from the ROME schema against its record, field by field.
void expect_rome_record(const EditRequest& r, const nlohmann::json& record) {
  const nlohmann::json& rw = record.at("requested_rewrite");
  EXPECT_EQ(r.case_id, record.at("case_id").get<int64_t>());
  EXPECT_EQ(r.prompt_template, rw.at("prompt").get<std::string>());
  EXPECT_EQ(r.subject, rw.at("subject").get<std::string>());
  EXPECT_EQ(r.prompt(), render_prompt(r.prompt_template, r.subject));
  EXPECT_EQ(r.target_new, rw.at("target_new").at("str").get<std::string>());
  EXPECT_EQ(r.target_true, rw.at("target_true").at("str").get<std::string>());
  EXPECT_EQ(r.relation_id, rw.value("relation_id", std::string()));
  EXPECT_EQ(r.paraphrase_prompts, strings_or_none(record, "paraphrase_prompts"));
  EXPECT_EQ(r.neighborhood_prompts, strings_or_none(record, "neighborhood_prompts"));
  EXPECT_EQ(r.attribute_prompts, strings_or_none(record, "attribute_prompts"));
  EXPECT_EQ(r.generation_prompts, strings_or_none(record, "generation_prompts"));
  EXPECT_EQ(r.neighborhood_answer(), r.target_true);  // the files have no neighborhood_target
}

// A request read from the flat EasyEdit schema against its record: the filled
// prompt becomes a template at the subject's last occurrence.
void expect_easyedit_record(const EditRequest& r, const nlohmann::json& record) {
  const std::string prompt = record.at("prompt").get<std::string>();
  const std::string subject = record.at("subject").get<std::string>();
  std::string expected_template = prompt;
  expected_template.replace(prompt.rfind(subject), subject.size(), "{}");
  EXPECT_EQ(r.case_id, record.at("case_id").get<int64_t>());
  EXPECT_EQ(r.subject, subject);
  EXPECT_EQ(r.prompt_template, expected_template);
  EXPECT_EQ(r.prompt(), prompt);
  EXPECT_EQ(r.target_new, record.at("target_new").get<std::string>());
  EXPECT_EQ(r.target_true, record.at("ground_truth").get<std::string>());
  EXPECT_EQ(r.paraphrase_prompts, one_string_or_none(record, "rephrase_prompt"));
  EXPECT_EQ(r.neighborhood_prompts, one_string_or_none(record, "locality_prompt"));
  EXPECT_EQ(r.neighborhood_answer(), record.contains("locality_ground_truth")
                                         ? record.at("locality_ground_truth").get<std::string>()
                                         : r.target_true);
}

// Every record of the real files against the file's own JSON (nothing of the
// data is copied into the test).
TEST(CounterFactRome, ReadsTheRealSamples) {
  REVIVE_REQUIRE_DATA(dir, "counterfact_rome_samples");
  for (const char* name : {"most_orthogonal.json", "least_orthogonal.json"}) {
    SCOPED_TRACE(name);
    const std::string file = dir + "/" + name;
    const ReadResult read = read_counterfact_rome(file);
    expect_every_record(read, read_json(file), [](const EditRequest& r, const nlohmann::json& record, size_t) {
      expect_rome_record(r, record);
      // The samples carry every prompt family.
      EXPECT_FALSE(r.paraphrase_prompts.empty());
      EXPECT_FALSE(r.neighborhood_prompts.empty());
      EXPECT_FALSE(r.attribute_prompts.empty());
      EXPECT_FALSE(r.generation_prompts.empty());
    });
  }
}

TEST(CounterFactEasyEdit, ReadsEveryCaseOfTheThreeFiles) {
  REVIVE_REQUIRE_DATA(dir, "counterfact_easyedit");
  // Disjoint case ids covering one contiguous range (README).
  std::set<int64_t> ids;
  size_t total = 0;
  for (const char* name : {"counterfact-train.json", "counterfact-val.json", "counterfact-edit.json"}) {
    SCOPED_TRACE(name);
    const std::string file = dir + "/" + name;
    const ReadResult read = read_counterfact_easyedit(file);
    const nlohmann::json raw = read_json(file);
    expect_every_record(read, raw, [&](const EditRequest& r, const nlohmann::json& record, size_t) {
      expect_easyedit_record(r, record);
      ids.insert(*r.case_id);
    });
    if (HasFailure()) return;
    total += raw.size();
  }
  EXPECT_EQ(ids.size(), total);
  EXPECT_EQ(*ids.begin(), 0);
  EXPECT_EQ(*ids.rbegin(), static_cast<int64_t>(total) - 1);
}

TEST(CounterFactEasyEdit, LimitStopsEarly) {
  REVIVE_REQUIRE_DATA(dir, "counterfact_easyedit");
  ReadOptions opts;
  opts.limit = 5;
  const ReadResult r = read_counterfact_easyedit(dir + "/counterfact-val.json", opts);
  ASSERT_EQ(r.requests.size(), 5u);
  const nlohmann::json raw = read_json(dir + "/counterfact-val.json");
  for (size_t i = 0; i < 5; ++i) expect_easyedit_record(r.requests[i], raw[i]);
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
      R"({"case_id": 0, "prompt": "The home language of X is", "subject": "X",
          "target_new": "English", "ground_truth": "French"})";
  struct Case {
    std::string record, field;
  };
  const std::vector<Case> cases = {
      {R"({"case_id": 1, "prompt": "The home language of Y is", "subject": "X",
          "target_new": "English", "ground_truth": "French"})",
       "prompt"},
      {R"({"case_id": 2, "prompt": "The home language of X is", "subject": "X",
          "target_new": "", "ground_truth": "French"})",
       "target_new"},
      {R"({"case_id": 3, "prompt": "The home language of X is", "subject": "X",
          "target_new": "English"})",
       "ground_truth"},
      {R"({"case_id": 4, "prompt": "The home language of X is", "subject": "",
          "target_new": "English", "ground_truth": "French"})",
       "subject"},
      {R"({"case_id": 5, "prompt": "{} The home language of X is", "subject": "X",
          "target_new": "English", "ground_truth": "French"})",
       "prompt"},
      {R"({"case_id": 6, "prompt": "The home language of X is", "subject": "X",
          "target_new": "English", "ground_truth": "French", "rephrase_prompt": ""})",
       "rephrase_prompt"},
      {R"({"case_id": 7, "prompt": "The home language of X is", "subject": "X",
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
  EXPECT_EQ(r.requests[0].prompt_template, "The home language of {} is");
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

// Whole-file problems name the file even in skip mode: a number too large for a
// double (nlohmann's out_of_range, not a parse_error), a folder. A duplicate key
// inside a record is that record's problem: rejected with its path, or skipped.
TEST(CounterFactReaders, OverflowDuplicateKeysAndFoldersNameTheFile) {
  const std::string dir = revive::testing::temp_dir("cf-strict");
  ReadOptions skip;
  skip.on_error = OnError::kSkip;
  const auto expect_file_error = [&](const std::string& file, const std::string& field, const std::string& what) {
    revive::testing::expect_input_error([&] { read_counterfact_rome(file, skip); }, file, field, what);
  };
  const std::string rewrite =
      R"("requested_rewrite": {"prompt": "{} plays the", "subject": "A",
          "target_new": {"str": "piano"}, "target_true": {"str": "guitar"}})";
  expect_file_error(write_text(dir, "float.json", "[{\"case_id\": 1e400, " + rewrite + "}]"), "", "number overflow");
  expect_file_error(write_text(dir, "int.json", "[{\"case_id\": 1" + std::string(400, '0') + ", " + rewrite + "}]"),
                    "", "number overflow");
  expect_file_error(dir, "", "is a directory");

  const std::string dup = write_text(dir, "dup.json", "[{" + rewrite + R"(}, {"requested_rewrite": {"prompt": "{} is",
      "subject": "A", "subject": "B", "target_new": {"str": "x"}, "target_true": {"str": "y"}}}, {"case_id": 9, )" +
                                                           rewrite + "}]");
  revive::testing::expect_input_error([&] { read_counterfact_rome(dup); }, dup, "[1].requested_rewrite.subject",
                                      "duplicate key");
  const ReadResult r = read_counterfact_rome(dup, skip);
  ASSERT_EQ(r.requests.size(), 2u);
  EXPECT_EQ(r.requests[1].case_id, 9);
  ASSERT_EQ(r.skipped.size(), 1u);
  EXPECT_EQ(r.skipped[0].index, 1u);
  EXPECT_EQ(r.skipped[0].field, "requested_rewrite.subject");
  EXPECT_NE(r.skipped[0].what.find("duplicate key \"subject\""), std::string::npos) << r.skipped[0].what;
}

// A case_id past INT64_MAX is refused rather than wrapped to a negative id.
TEST(CounterFactReaders, CaseIdMustFitInt64) {
  const std::string dir = revive::testing::temp_dir("cf-case-id");
  const auto rome = [](const std::string& id) {
    return R"({"case_id": )" + id + R"(, "requested_rewrite": {"prompt": "{} plays the", "subject": "A",
              "target_new": {"str": "piano"}, "target_true": {"str": "guitar"}}})";
  };
  for (const std::string id : {"18446744073709551615", "9223372036854775808"}) {
    const std::string file = write_text(dir, "rome.json", "[" + rome("1") + ",\n" + rome(id) + "]");
    expect_rejected([&](const ReadOptions& o) { return read_counterfact_rome(file, o); }, file, 1, "case_id");
    try {
      read_counterfact_rome(file);
      ADD_FAILURE() << "case_id " << id << " was accepted";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("does not fit in a 64-bit signed integer"), std::string::npos) << e.what();
    }
  }
  const std::string max = write_text(dir, "max.json", "[" + rome("9223372036854775807") + "]");
  EXPECT_EQ(read_counterfact_rome(max).requests.at(0).case_id, INT64_MAX);
  const std::string min = write_text(dir, "min.json", "[" + rome("-9223372036854775808") + "]");
  EXPECT_EQ(read_counterfact_rome(min).requests.at(0).case_id, INT64_MIN);

  const std::string easy = write_text(dir, "easy.json", R"([{"case_id": 18446744073709551615,
      "prompt": "The home language of X is", "subject": "X", "target_new": "English", "ground_truth": "French"}])");
  expect_rejected([&](const ReadOptions& o) { return read_counterfact_easyedit(easy, o); }, easy, 0, "case_id");
}

// Targets made only of Unicode spaces render as nothing and are refused.
TEST(CounterFactReaders, UnicodeSpaceTargetsAreBlank) {
  const std::string dir = revive::testing::temp_dir("cf-blank");
  const std::string rome = write_text(dir, "rome.json", R"([{"requested_rewrite": {"prompt": "{} plays the",
      "subject": "A", "target_new": {"str": "\u00a0"}, "target_true": {"str": "guitar"}}}])");
  expect_rejected([&](const ReadOptions& o) { return read_counterfact_rome(rome, o); }, rome, 0,
                  "requested_rewrite.target_new.str");
  const std::string subject = write_text(dir, "subject.json", R"([{"requested_rewrite": {"prompt": "{} plays the",
      "subject": "\u3000", "target_new": {"str": "piano"}, "target_true": {"str": "guitar"}}}])");
  expect_rejected([&](const ReadOptions& o) { return read_counterfact_rome(subject, o); }, subject, 0,
                  "requested_rewrite.subject");
  const std::string easy = write_text(dir, "easy.json", R"([{"prompt": "The home language of X is", "subject": "X",
      "target_new": "\u2003\u200b", "ground_truth": "French"}])");
  expect_rejected([&](const ReadOptions& o) { return read_counterfact_easyedit(easy, o); }, easy, 0, "target_new");
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
