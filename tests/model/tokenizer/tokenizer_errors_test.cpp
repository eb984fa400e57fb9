// Malformed tokenizer.json files: each is a revive::InputError naming the file
// and the JSON field.
#include <gtest/gtest.h>

#include <functional>

#include "lib/model/tokenizer.h"
#include "sharding/errors.h"
#include "tests/model/tokenizer/tokenizer_test_files.h"
#include "tests/support/input_error.h"

namespace revive::model {
namespace {

using testing::json;

// Loads `doc` after `mutate` and checks the error's file and field.
void expect_tokenizer_field_error(const std::string& tag, json doc, const std::function<void(json&)>& mutate,
                        const std::string& field, const std::string& message_part = "") {
  mutate(doc);
  const std::string path = testing::write_tokenizer(tag, doc);
  SCOPED_TRACE(tag);
  ::revive::testing::expect_input_error([&] { Tokenizer::from_file(path); }, path, field, message_part);
}

// The Llama-2 components (normalizer sequence, template, decoder chain, pair
// merges), on the stories260K fixture's pipeline.
TEST(TokenizerErrors, Llama2StyleComponents) {
  REVIVE_REQUIRE_DATA(folder, "stories260K-hf");
  expect_tokenizer_field_error("e_norm", testing::llama2_style(folder),
                     [](json& d) { d["normalizer"]["normalizers"][1]["type"] = "NFKD"; },
                     "normalizer.normalizers[1].type", "NFKD");
  expect_tokenizer_field_error("e_template", testing::llama2_style(folder),
                     [](json& d) { d["post_processor"]["single"][0]["SpecialToken"]["id"] = "<bos>"; },
                     "post_processor.single[0].SpecialToken.id", "special_tokens");
  expect_tokenizer_field_error("e_strip", testing::llama2_style(folder),
                     [](json& d) { d["decoder"]["decoders"][3]["start"] = "one"; },
                     "decoder.decoders[3].start");
  expect_tokenizer_field_error("e_merge_pair", testing::llama2_style(folder),
                     [](json& d) { d["model"]["merges"][0] = {"▁"}; }, "model.merges[0]", "two entries");
}

TEST(TokenizerErrors, UnknownComponentTypes) {
  expect_tokenizer_field_error("e_model", testing::gpt2_style(), [](json& d) { d["model"]["type"] = "Unigram"; },
                     "model.type", "Unigram");
  expect_tokenizer_field_error("e_pre", testing::gpt2_style(), [](json& d) { d["pre_tokenizer"]["type"] = "Foo"; },
                     "pre_tokenizer.type", "Foo");
  expect_tokenizer_field_error("e_dec", testing::gpt2_style(), [](json& d) { d["decoder"]["type"] = "CTC"; },
                     "decoder.type");
  expect_tokenizer_field_error("e_post", testing::gpt2_style(), [](json& d) { d["post_processor"]["type"] = "X"; },
                     "post_processor.type");
  expect_tokenizer_field_error("e_seq", testing::gpt2_style(),
                     [](json& d) {
                       d["pre_tokenizer"] = {{"type", "Sequence"},
                                             {"pretokenizers", {{{"type", "Whitespace"}}, {{"type", "Nope"}}}}};
                     },
                     "pre_tokenizer.pretokenizers[1].type");
}

TEST(TokenizerErrors, MalformedModelFields) {
  expect_tokenizer_field_error("e_nomodel", testing::gpt2_style(), [](json& d) { d.erase("model"); }, "model");
  expect_tokenizer_field_error("e_vocab", testing::word_level(), [](json& d) { d["model"]["vocab"]["hello"] = "one"; },
                     "model.vocab.hello", "integer");
  expect_tokenizer_field_error("e_negid", testing::word_level(), [](json& d) { d["model"]["vocab"]["hello"] = -4; },
                     "model.vocab.hello", "out of range");
  expect_tokenizer_field_error("e_merge_oov", testing::gpt2_style(), [](json& d) { d["model"]["merges"][0] = "Ġ 日"; },
                     "model.merges[0]", "not in model.vocab");
  expect_tokenizer_field_error("e_merge_form", testing::gpt2_style(), [](json& d) { d["model"]["merges"][2] = "abc"; },
                     "model.merges[2]", "one space");
  expect_tokenizer_field_error("e_merges_type", testing::gpt2_style(), [](json& d) { d["model"]["merges"] = 3; },
                     "model.merges");
  expect_tokenizer_field_error("e_dropout", testing::gpt2_style(), [](json& d) { d["model"]["dropout"] = 0.1; },
                     "model.dropout");
}

TEST(TokenizerErrors, MalformedPipelineFields) {
  expect_tokenizer_field_error("e_regex", testing::gpt2_style(),
                     [](json& d) {
                       d["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"Regex", "(unclosed"}}},
                                             {"behavior", "Isolated"}};
                     },
                     "pre_tokenizer.pattern.Regex", "regular expression");
  expect_tokenizer_field_error("e_behavior", testing::gpt2_style(),
                     [](json& d) {
                       d["pre_tokenizer"] = {{"type", "Split"}, {"pattern", {{"String", " "}}},
                                             {"behavior", "Sideways"}};
                     },
                     "pre_tokenizer.behavior");
  expect_tokenizer_field_error("e_added", testing::gpt2_style(), [](json& d) { d["added_tokens"][0].erase("content"); },
                     "added_tokens[0].content");
  expect_tokenizer_field_error("e_flag", testing::gpt2_style(), [](json& d) { d["model"]["byte_fallback"] = "yes"; },
                     "model.byte_fallback", "boolean");
  expect_tokenizer_field_error("e_root", json::array(), [](json&) {}, "<root>", "object");
}

TEST(TokenizerErrors, UnreadableOrBrokenFiles) {
  const std::string broken = testing::write_text("e_broken", "{\"model\": {\"type\": \"BPE\", ");
  ::revive::testing::expect_input_error([&] { Tokenizer::from_file(broken); }, broken, "<json>");
  const std::string missing = ::revive::testing::temp_dir("e_missing") + "/none.json";
  try {
    Tokenizer::from_file(missing);
    ADD_FAILURE() << "missing file loaded";
  } catch (const InputError& e) {
    EXPECT_EQ(e.file(), missing);
    EXPECT_NE(std::string(e.what()).find("cannot open"), std::string::npos);
  }
  // A folder is read as folder/tokenizer.json.
  const std::string empty_dir = ::revive::testing::temp_dir("e_dir");
  EXPECT_THROW(Tokenizer::from_file(empty_dir), InputError);
}

TEST(TokenizerErrors, MalformedTokenizerConfig) {
  const std::string path = testing::write_tokenizer("e_cfg", testing::word_level());
  const std::string config = path.substr(0, path.rfind('/')) + "/tokenizer_config.json";
  std::ofstream(config) << "{\"bos_token\": 5}";
  ::revive::testing::expect_input_error([&] { Tokenizer::from_file(path); }, config, "bos_token");
}

}  // namespace
}  // namespace revive::model
