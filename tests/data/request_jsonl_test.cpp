#include "lib/data/request_jsonl.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "lib/data/atomic_file.h"
#include "sharding/errors.h"
#include "tests/data/write_text.h"
#include "tests/support/fixture_files.h"
#include "tests/support/fixtures.h"
#include "tests/support/input_error.h"

namespace revive::data {
namespace {

using revive::data::testing::write_text;

std::vector<EditRequest> sample_requests() {
  EditRequest a;
  a.case_id = 7;
  a.prompt_template = "{} plays the";
  a.subject = "Jane Roe";
  a.target_new = "violin";
  a.target_true = "drums";
  a.relation_id = "P1303";
  a.paraphrase_prompts = {"Jane Roe is great at", "What \"Jane\" plays:\n"};
  a.neighborhood_prompts = {"Sam Lee performs on the"};
  a.attribute_prompts = {"Tom Bell plays the"};
  a.generation_prompts = {"Jane Roe is known for", "Ünïcode {braces} ok"};
  EditRequest b;  // optional fields empty, no case id
  b.prompt_template = "When was {} founded?";
  b.subject = "Acme Mills";
  b.target_new = " 1936";
  b.neighborhood_prompts = {"nq question: who"};
  b.neighborhood_target = "Ann Smith";
  return {a, b};
}

TEST(RequestJsonl, WriteThenReadRoundTrips) {
  const std::string dir = revive::testing::temp_dir("jsonl");
  const std::string file = dir + "/requests.jsonl";
  const auto requests = sample_requests();
  write_requests_jsonl(file, requests);
  const ReadResult back = read_requests_jsonl(file);
  EXPECT_TRUE(back.skipped.empty());
  ASSERT_EQ(back.requests.size(), requests.size());
  EXPECT_EQ(back.requests[0], requests[0]);
  EXPECT_EQ(back.requests[1], requests[1]);
  EXPECT_FALSE(back.requests[1].case_id.has_value());

  // One line per request.
  std::ifstream in(file);
  std::string line;
  int lines = 0;
  while (std::getline(in, line)) ++lines;
  EXPECT_EQ(lines, 2);
}

TEST(RequestJsonl, WriterReplacesAtomicallyAndLeavesNoTemporary) {
  const std::string dir = revive::testing::temp_dir("jsonl-atomic");
  const std::string file = dir + "/requests.jsonl";
  write_text(dir, "requests.jsonl", "old contents\n");
  write_requests_jsonl(file, sample_requests());
  EXPECT_EQ(read_requests_jsonl(file).requests.size(), 2u);
  int entries = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    (void)e;
    ++entries;
  }
  EXPECT_EQ(entries, 1);
  // A folder that does not exist: an InputError naming the path, nothing written.
  EXPECT_THROW(write_requests_jsonl(dir + "/no/such/dir/x.jsonl", sample_requests()), InputError);
}

TEST(RequestJsonl, BlankLinesAndCrlfAreAccepted) {
  const std::string dir = revive::testing::temp_dir("jsonl-blank");
  const std::string file = write_text(
      dir, "r.jsonl",
      "\n{\"prompt_template\": \"{} is\", \"subject\": \"A\", \"target_new\": \"x\"}\r\n\n  \n"
      "{\"prompt_template\": \"{} was\", \"subject\": \"B\", \"target_new\": \"y\"}");
  const ReadResult r = read_requests_jsonl(file);
  ASSERT_EQ(r.requests.size(), 2u);
  EXPECT_EQ(r.requests[1].prompt(), "B was");
}

TEST(RequestJsonl, MalformedLinesNameTheLineAndField) {
  const std::string dir = revive::testing::temp_dir("jsonl-bad");
  const std::string ok = R"({"prompt_template": "{} is", "subject": "A", "target_new": "x"})";
  struct Case {
    std::string line, field;
  };
  const std::vector<Case> cases = {
      {R"({"prompt_template": "{} is", "subject": "A", "target_new": "x")", "<record>"},
      {R"([1, 2])", "<record>"},
      {R"({"prompt_template": "is", "subject": "A", "target_new": "x"})", "prompt_template"},
      {R"({"prompt_template": "{} is", "subject": "A", "target_new": ""})", "target_new"},
      {R"({"prompt_template": "{} is", "subject": "A"})", "target_new"},
      {R"({"prompt_template": "{} is", "subject": "A", "target_new": "x", "target_nwe": "y"})",
       "target_nwe"},
      {R"({"prompt_template": "{} is", "subject": "A", "target_new": "x", "case_id": 1.5})",
       "case_id"},
      {R"({"prompt_template": "{} is", "subject": "A", "target_new": "x", "paraphrase_prompts": [""]})",
       "paraphrase_prompts[0]"},
  };
  std::string all = ok + "\n";
  for (std::size_t i = 0; i < cases.size(); ++i) {
    // The broken record on line 3 (index 2), after a blank line.
    const std::string file =
        write_text(dir, "c" + std::to_string(i) + ".jsonl", ok + "\n\n" + cases[i].line + "\n");
    SCOPED_TRACE("case " + std::to_string(i));
    revive::testing::expect_input_error([&] { read_requests_jsonl(file); }, file, "[2]." + cases[i].field);
    all += cases[i].line + "\n";
  }
  ReadOptions skip;
  skip.on_error = OnError::kSkip;
  const ReadResult r = read_requests_jsonl(write_text(dir, "all.jsonl", all), skip);
  ASSERT_EQ(r.requests.size(), 1u);
  ASSERT_EQ(r.skipped.size(), cases.size());
  for (std::size_t i = 0; i < cases.size(); ++i) {
    EXPECT_EQ(r.skipped[i].index, i + 1);
    EXPECT_EQ(r.skipped[i].field, cases[i].field);
  }
}

// Problems nlohmann throws other than parse errors (a number too large for a
// double), duplicate keys, a case_id past int64 and targets of Unicode spaces
// are each one bad line: skip mode keeps the rest of the file.
TEST(RequestJsonl, EachBadLineIsOneRecordError) {
  const std::string dir = revive::testing::temp_dir("jsonl-strict");
  const std::string ok = R"({"prompt_template": "{} is", "subject": "A", "target_new": "x"})";
  const std::string digits400 = "1" + std::string(399, '0');
  struct Case {
    std::string line, field, what;
  };
  const std::vector<Case> cases = {
      {R"({"prompt_template": "{} is", "subject": "A", "target_new": "x", "case_id": 1e400})", "<record>",
       "number overflow"},
      {R"({"prompt_template": "{} is", "subject": "A", "target_new": "x", "case_id": )" + digits400 + "}",
       "<record>", "number overflow"},
      {R"({"prompt_template": "{} is", "subject": "A", "subject": "B", "target_new": "x"})", "subject",
       "duplicate key"},
      {R"({"prompt_template": "{} is", "subject": "A", "target_new": "x", "case_id": 18446744073709551615})",
       "case_id", "does not fit in a 64-bit signed integer"},
      {R"({"prompt_template": "{} is", "subject": "A", "target_new": "x", "case_id": 9223372036854775808})",
       "case_id", "does not fit in a 64-bit signed integer"},
      {R"({"prompt_template": "{} is", "subject": "A", "target_new": "\u3000"})", "target_new", "blank"},
      {R"({"prompt_template": "{} is", "subject": "\u00a0", "target_new": "x"})", "subject", "blank"},
  };
  std::string all = ok + "\n";
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const std::string file = write_text(dir, "c" + std::to_string(i) + ".jsonl", ok + "\n" + cases[i].line + "\n");
    SCOPED_TRACE("case " + std::to_string(i));
    revive::testing::expect_input_error([&] { read_requests_jsonl(file); }, file, "[1]." + cases[i].field,
                                        cases[i].what);
    all += cases[i].line + "\n";
  }
  all += R"({"prompt_template": "{} was", "subject": "B", "target_new": "y", "case_id": 9223372036854775807})";
  ReadOptions skip;
  skip.on_error = OnError::kSkip;
  const ReadResult r = read_requests_jsonl(write_text(dir, "all.jsonl", all), skip);
  ASSERT_EQ(r.requests.size(), 2u);
  EXPECT_EQ(r.requests[1].case_id, INT64_MAX);
  ASSERT_EQ(r.skipped.size(), cases.size());
  for (std::size_t i = 0; i < cases.size(); ++i) EXPECT_EQ(r.skipped[i].field, cases[i].field);
}

// A folder is refused, as read_text_file refuses it, not read as an empty file.
TEST(RequestJsonl, AFolderIsNotAFile) {
  const std::string dir = revive::testing::temp_dir("jsonl-dir");
  ReadOptions skip;
  skip.on_error = OnError::kSkip;
  try {
    read_requests_jsonl(dir, skip);
    FAIL() << "a folder was read";
  } catch (const InputError& e) {
    EXPECT_EQ(e.file(), dir);
    EXPECT_NE(std::string(e.what()).find("is a directory"), std::string::npos) << e.what();
  }
}

TEST(RequestJsonl, UnencodableStringNamesTheRequest) {
  auto requests = sample_requests();
  requests[1].subject = "bad \xff byte";
  const std::string file = revive::testing::temp_dir("jsonl-utf8") + "/r.jsonl";
  try {
    write_requests_jsonl(file, requests);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(e.field(), "[1]");
  }
  EXPECT_FALSE(std::filesystem::exists(file));
}

TEST(AtomicFile, WritesExactBytes) {
  const std::string dir = revive::testing::temp_dir("atomic");
  const std::string file = dir + "/f.bin";
  const std::string bytes("a\0b\nc", 5);
  write_file_atomic(file, bytes);
  EXPECT_EQ(revive::testing::read_text(file), bytes);
}

}  // namespace
}  // namespace revive::data
