// parse_json_strict: duplicate keys named by their JSON path, nlohmann's errors
// (overflowing numbers included) returned instead of thrown, the depth bound;
// and the safetensors header parser built on it.
#include "sharding/checkpoint/strict_json.h"

#include <gtest/gtest.h>

#include <string>

#include "sharding/checkpoint/safetensors_header.h"
#include "sharding/errors.h"
#include "tests/sharding/checkpoint/raw_safetensors.h"

namespace revive::sharding {
namespace {

TEST(StrictJson, ParsesAValidDocument) {
  const StrictJson r = parse_json_strict(R"([{"a": 1, "b": [true, null]}, {"a": 2}])");
  ASSERT_TRUE(r.ok()) << r.error;
  EXPECT_EQ(r.value, nlohmann::json::parse(R"([{"a": 1, "b": [true, null]}, {"a": 2}])"));
  EXPECT_TRUE(r.error_path.empty());
}

TEST(StrictJson, DuplicateKeyIsNamedByItsPath) {
  struct Case {
    std::string text, path;
  };
  const Case cases[] = {
      {R"({"a": 1, "a": 2})", "a"},
      {R"([{"s": 1}, {"s": 1}, {"r": {"subject": "x", "subject": "y"}}])", "[2].r.subject"},
      {R"({"x": [[1], [2, {"k": 1, "k": 1}]]})", "x[1][1].k"},
      {R"({"a": {"b": 1}, "c": {"b": 1, "d": {}, "d": 2}})", "c.d"},
  };
  for (const Case& c : cases) {
    const StrictJson r = parse_json_strict(c.text);
    EXPECT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.error_path, c.path) << c.text;
    EXPECT_NE(r.error.find("duplicate key"), std::string::npos) << r.error;
    EXPECT_TRUE(r.value.is_null());
  }
}

// A reader of a list of records asks for a duplicate inside an element to mark
// that element only; the first duplicate of each element is kept, with its
// path inside the element. Outside a top-level list it still fails the text.
TEST(StrictJson, DuplicatesCanBeIsolatedToTheirListElement) {
  const StrictJson r = parse_json_strict(
      R"([{"s": 1, "s": 2}, {"ok": 1}, {"r": {"p": [{"k": 1, "k": 2}]}, "r": 3, "t": 1, "t": 2}])", 0, true);
  ASSERT_TRUE(r.ok()) << r.error;
  ASSERT_EQ(r.value.size(), 3u);
  ASSERT_EQ(r.element_problems.size(), 2u);
  EXPECT_EQ(r.element_problems.at(0).path, "s");
  EXPECT_NE(r.element_problems.at(0).what.find("duplicate key \"s\""), std::string::npos);
  EXPECT_EQ(r.element_problems.at(2).path, "r.p[0].k");
  const StrictJson object = parse_json_strict(R"({"a": [{"k": 1, "k": 2}]})", 0, true);
  EXPECT_FALSE(object.ok());
  EXPECT_EQ(object.error_path, "a[0].k");
  const StrictJson top = parse_json_strict(R"({"a": 1, "a": 2})", 0, true);
  EXPECT_FALSE(top.ok());
}

TEST(StrictJson, NlohmannErrorsAreReturnedWithTheirMessage) {
  const std::string huge = "[" + std::string(1, '1') + std::string(400, '0') + "]";
  for (const std::string& text : {std::string("[1e400]"), huge, std::string(R"({"case_id": -1e999})")}) {
    StrictJson r;
    ASSERT_NO_THROW(r = parse_json_strict(text)) << text;
    EXPECT_FALSE(r.ok());
    EXPECT_NE(r.error.find("number overflow"), std::string::npos) << r.error;
    EXPECT_TRUE(r.error_path.empty());
  }
  const StrictJson syntax = parse_json_strict(R"([{"a": 1},)");
  EXPECT_FALSE(syntax.ok());
  EXPECT_NE(syntax.error.find("not valid JSON: [json.exception.parse_error"), std::string::npos) << syntax.error;
  EXPECT_FALSE(parse_json_strict("").ok());
  EXPECT_FALSE(parse_json_strict("{} {}").ok());
}

TEST(StrictJson, TheFirstProblemIsReported) {
  const StrictJson r = parse_json_strict(R"({"a": 1, "a": 2, )");
  EXPECT_EQ(r.error_path, "a");
  EXPECT_NE(r.error.find("duplicate key"), std::string::npos) << r.error;
}

TEST(StrictJson, DepthIsBoundedOnlyWhenAsked) {
  EXPECT_TRUE(parse_json_strict("[[[1]]]", 3).ok());
  const StrictJson deep = parse_json_strict(R"({"a": [[1]]})", 2);
  EXPECT_FALSE(deep.ok());
  EXPECT_EQ(deep.error_path, "a[0]");
  EXPECT_NE(deep.error.find("nested deeper than 2"), std::string::npos) << deep.error;
  const std::string very_deep = std::string(10000, '[') + std::string(10000, ']');
  EXPECT_TRUE(parse_json_strict(very_deep).ok());
  EXPECT_FALSE(parse_json_strict(very_deep, 16).ok());
}

// The safetensors header reports a strict-parse problem at its path, or at "header".
TEST(StrictJson, SafetensorsHeaderUsesIt) {
  const auto field_of = [](const std::string& header) {
    const std::string bytes = revive::testing::raw_safetensors(header, std::string(8, '\0'));
    try {
      parse_safetensors_header(reinterpret_cast<const uint8_t*>(bytes.data()), static_cast<int64_t>(bytes.size()),
                               "t.safetensors");
    } catch (const InputError& e) {
      EXPECT_EQ(e.file(), "t.safetensors");
      return e.field();
    }
    return std::string("(accepted)");
  };
  EXPECT_EQ(field_of(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})"), "(accepted)");
  EXPECT_EQ(field_of(R"({"a":{"dtype":"F32","dtype":"F16","shape":[2],"data_offsets":[0,8]}})"), "a.dtype");
  EXPECT_EQ(field_of(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8e400]}})"), "header");
  EXPECT_EQ(field_of(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8])"), "header");
}

}  // namespace
}  // namespace revive::sharding
