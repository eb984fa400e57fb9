#include "lib/data/request_files.h"

#include <gtest/gtest.h>

#include "lib/data/request_jsonl.h"
#include "sharding/errors.h"
#include "tests/data/write_text.h"
#include "tests/support/fixtures.h"

namespace revive::data {
namespace {

using revive::data::testing::write_text;

TEST(RequestFiles, FormatNamesRoundTrip) {
  for (RequestFormat f : {RequestFormat::kAuto, RequestFormat::kCounterFactRome,
                          RequestFormat::kCounterFactEasyEdit, RequestFormat::kZsre,
                          RequestFormat::kJsonl}) {
    EXPECT_EQ(parse_request_format(to_string(f)), f);
  }
  EXPECT_THROW(parse_request_format("csv"), InputError);
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

  const std::string odd = write_text(dir, "odd.json", R"([{"question": "x"}])");
  try {
    detect_request_format(odd);
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(e.file(), odd);
    EXPECT_EQ(e.field(), "[0]");
  }
  RequestFileOptions easy;
  easy.format = RequestFormat::kCounterFactEasyEdit;
  EXPECT_THROW(read_requests(odd, easy), InputError);  // explicit format: prompt missing
}

}  // namespace
}  // namespace revive::data
