#include "lib/data/request_files.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <iterator>

#include "lib/data/request_jsonl.h"
#include "sharding/errors.h"
#include "tests/data/write_text.h"
#include "tests/support/fixtures.h"
#include "tests/support/input_error.h"

namespace revive::data {
namespace {

using revive::data::testing::write_text;

TEST(RequestFiles, FormatNamesRoundTrip) {
  for (RequestFormat f : {RequestFormat::kAuto, RequestFormat::kCounterFactRome,
                          RequestFormat::kCounterFactEasyEdit, RequestFormat::kZsre,
                          RequestFormat::kJsonl}) {
    EXPECT_EQ(parse_request_format(to_string(f)), f);
  }
  try {
    parse_request_format("csv");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(e.file(), "--request-format");
  }
}

TEST(RequestFiles, DetectsTheRealFiles) {
  REVIVE_REQUIRE_DATA(root, "counterfact_easyedit");
  const std::string data = root + "/..";
  EXPECT_EQ(detect_request_format(data + "/counterfact_easyedit/counterfact-val.json"),
            RequestFormat::kCounterFactEasyEdit);
  EXPECT_EQ(detect_request_format(data + "/counterfact_rome_samples/most_orthogonal.json"),
            RequestFormat::kCounterFactRome);
  EXPECT_EQ(detect_request_format(data + "/zsre/zsre_mend_eval_portability_gpt4.json"),
            RequestFormat::kZsre);
  RequestFileOptions opts;
  opts.read.limit = 3;
  const ReadResult r = read_requests(data + "/zsre/zsre_mend_eval_portability_gpt4.json", opts);
  ASSERT_EQ(r.requests.size(), 3u);
  EXPECT_EQ(r.requests[0].target_new, "2006");
}

TEST(RequestFiles, DetectsJsonlAndRejectsUnknownShapes) {
  const std::string dir = revive::testing::temp_dir("detect");
  EditRequest q;
  q.prompt_template = "{} is";
  q.subject = "A";
  q.target_new = "x";
  write_requests_jsonl(dir + "/r.jsonl", {q});
  EXPECT_EQ(detect_request_format(dir + "/r.jsonl"), RequestFormat::kJsonl);
  EXPECT_EQ(read_requests(dir + "/r.jsonl").requests.at(0), q);

  const std::string odd = write_text(dir, "odd.json", R"([{"question": "x"}, 3])");
  try {
    detect_request_format(odd);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(e.file(), odd);
    EXPECT_EQ(e.field(), "");
    // What each format needs, and how to say which one it is.
    for (const char* part : {"requested_rewrite", "ground_truth", "\"src\" and \"alt\"", "--request-format"}) {
      EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << e.what();
    }
  }
  RequestFileOptions easy;
  easy.format = RequestFormat::kCounterFactEasyEdit;
  EXPECT_THROW(read_requests(odd, easy), InputError);  // explicit format: prompt missing
}

ReadOptions skip_bad_records() {
  ReadOptions o;
  o.on_error = OnError::kSkip;
  return o;
}

// The first record that tells decides: a broken first record is the reader's
// to report, or to skip.
TEST(RequestFiles, DetectsPastABrokenFirstRecord) {
  const std::string dir = revive::testing::temp_dir("detect-first");
  struct Case {
    std::string first, good;
    RequestFormat format;
  };
  const Case cases[] = {
      {R"({"case_id": 0})",
       R"({"case_id": 1, "requested_rewrite": {"prompt": "{} plays the", "subject": "A",
           "target_new": {"str": "piano"}, "target_true": {"str": "guitar"}}})",
       RequestFormat::kCounterFactRome},
      {R"({"subject": "S", "src": "What is S?", "answers": ["a"]})",
       R"({"subject": "S", "src": "What is S?", "alt": "b", "answers": ["a"]})", RequestFormat::kZsre},
      {R"(17)",
       R"({"case_id": 1, "prompt": "The home language of X is", "subject": "X", "target_new": "English",
           "ground_truth": "French"})",
       RequestFormat::kCounterFactEasyEdit},
  };
  for (std::size_t i = 0; i < std::size(cases); ++i) {
    const std::string file =
        write_text(dir, "c" + std::to_string(i) + ".json", "[" + cases[i].first + ",\n" + cases[i].good + "]");
    EXPECT_EQ(detect_request_format(file), cases[i].format) << file;
    RequestFileOptions opts;
    opts.read = skip_bad_records();
    const ReadResult r = read_requests(file, opts);
    EXPECT_EQ(r.requests.size(), 1u) << file;
    ASSERT_EQ(r.skipped.size(), 1u) << file;
    EXPECT_EQ(r.skipped[0].index, 0u);
  }
}

// EasyEdit records may carry zsRE's src and alt keys; their prompt and
// ground_truth say which schema they follow.
TEST(RequestFiles, EasyEditWithSrcAndAltIsEasyEdit) {
  const std::string file = write_text(revive::testing::temp_dir("detect-ee"), "ee.json",
                                      R"([{"case_id": 0, "prompt": "The home language of X is", "subject": "X",
                                           "target_new": "English", "ground_truth": "French",
                                           "src": "What is X?", "alt": "English"}])");
  EXPECT_EQ(detect_request_format(file), RequestFormat::kCounterFactEasyEdit);
  EXPECT_EQ(read_requests(file).requests.at(0).target_true, "French");
}

// REVIVE's JSONL records gathered into one JSON list name no list format:
// target_new alone is not EasyEdit's (its records have a "prompt").
TEST(RequestFiles, AListOfJsonlRecordsIsNoListFormat) {
  const std::string file = write_text(revive::testing::temp_dir("detect-list"), "list.json",
                                      R"([{"prompt_template": "{} is", "subject": "A", "target_new": "x"}])");
  try {
    detect_request_format(file);
    ADD_FAILURE() << "a list of JSONL records was given a format";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot tell the request format"), std::string::npos) << e.what();
  }
}

// JSONL under another name: the whole text is no one JSON document (or is one
// object on one line), but its first line is a JSON object.
TEST(RequestFiles, DetectsJsonlByItsContent) {
  const std::string dir = revive::testing::temp_dir("detect-jsonl");
  const std::string a = R"({"prompt_template": "{} is", "subject": "A", "target_new": "x"})";
  const std::string b = R"({"prompt_template": "{} was", "subject": "B", "target_new": "y"})";
  const std::string two = write_text(dir, "two.json", "\n" + a + "\r\n" + b + "\n");
  EXPECT_EQ(detect_request_format(two), RequestFormat::kJsonl);
  EXPECT_EQ(read_requests(two).requests.size(), 2u);
  const std::string one = write_text(dir, "one.txt", a + "\n");
  EXPECT_EQ(detect_request_format(one), RequestFormat::kJsonl);
  // A broken later line is one bad record, skippable, not an unreadable file.
  const std::string broken = write_text(dir, "broken.json", a + "\n" + R"({"prompt_template": "{} li)" + "\n" + b);
  EXPECT_EQ(detect_request_format(broken), RequestFormat::kJsonl);
  RequestFileOptions opts;
  opts.read = skip_bad_records();
  const ReadResult r = read_requests(broken, opts);
  EXPECT_EQ(r.requests.size(), 2u);
  ASSERT_EQ(r.skipped.size(), 1u);
  EXPECT_EQ(r.skipped[0].index, 1u);
  // A pretty-printed object, or one line of another format's record, is still
  // a JSON file of the wrong shape.
  const std::string object = write_text(dir, "object.json", "{\n  \"case_id\": 1\n}\n");
  EXPECT_THROW(detect_request_format(object), InputError);
  const std::string record = write_text(dir, "record.json", R"({"prompt": "X is", "subject": "X", "target_new": "y",)"
                                                            R"( "ground_truth": "z"})" "\n");
  try {
    detect_request_format(record);
    ADD_FAILURE() << "a lone EasyEdit record was read as JSONL";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("expected a JSON list of records"), std::string::npos) << e.what();
  }
  // A broken JSON list keeps nlohmann's message.
  const std::string list = write_text(dir, "list.json", "[\n" + a + ",\n");
  try {
    detect_request_format(list);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("not valid JSON"), std::string::npos) << e.what();
  }
}

// Whole-file problems are InputErrors naming the file, however the format is found.
TEST(RequestFiles, FileErrorsNameTheFile) {
  const std::string dir = revive::testing::temp_dir("detect-errors");
  RequestFileOptions opts;
  opts.read = skip_bad_records();
  const auto expect_error = [&](const std::string& file, RequestFormat format, const std::string& field,
                                const std::string& what) {
    opts.format = format;
    revive::testing::expect_input_error([&] { read_requests(file, opts); }, file, field, what);
  };
  const std::string overflow = write_text(dir, "overflow.json", R"([{"case_id": 1e400, "requested_rewrite": {}}])");
  expect_error(overflow, RequestFormat::kAuto, "", "number overflow");
  expect_error(overflow, RequestFormat::kCounterFactRome, "", "number overflow");
  // A duplicate key is its record's problem: rejected (skip_bad_records() would skip it).
  const std::string dup = write_text(dir, "dup.json", R"([{"case_id": 1, "case_id": 2, "requested_rewrite": {}}])");
  opts.read.on_error = OnError::kReject;
  expect_error(dup, RequestFormat::kAuto, "[0].case_id", "duplicate key");
  opts.read = skip_bad_records();
  opts.format = RequestFormat::kAuto;
  RequestFormat format_read = RequestFormat::kAuto;
  const ReadResult skipped = read_requests(dup, opts, &format_read);
  EXPECT_EQ(format_read, RequestFormat::kCounterFactRome);
  EXPECT_TRUE(skipped.requests.empty());
  ASSERT_EQ(skipped.skipped.size(), 1u);
  EXPECT_EQ(skipped.skipped[0].field, "case_id");
  // A folder is refused the same way whether it is read as JSON or as JSONL.
  const std::string folder = dir + "/folder.json";
  const std::string folder_jsonl = dir + "/folder.jsonl";
  ASSERT_EQ(::mkdir(folder.c_str(), 0755), 0);
  ASSERT_EQ(::mkdir(folder_jsonl.c_str(), 0755), 0);
  expect_error(folder, RequestFormat::kAuto, "", "is a directory");
  expect_error(folder_jsonl, RequestFormat::kAuto, "", "is a directory");
  expect_error(folder, RequestFormat::kJsonl, "", "is a directory");
  expect_error(folder_jsonl, RequestFormat::kZsre, "", "is a directory");
}

}  // namespace
}  // namespace revive::data
