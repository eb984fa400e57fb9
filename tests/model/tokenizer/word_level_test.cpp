// WordLevel model with the Whitespace / WhitespaceSplit pre-tokenizers.
#include <gtest/gtest.h>

#include "lib/model/tokenizer.h"
#include "sharding/errors.h"
#include "tests/model/tokenizer/tokenizer_test_files.h"

namespace revive::model {
namespace {

using testing::word_level;
using testing::write_tokenizer;
using Ids = std::vector<int64_t>;

TEST(WordLevel, WhitespacePreTokenizerAndUnknownWords) {
  const Tokenizer tok = Tokenizer::from_file(write_tokenizer("wl", word_level()));
  EXPECT_EQ(tok.encode("hello, world!"), (Ids{1, 4, 2, 3}));
  EXPECT_EQ(tok.encode("hello there"), (Ids{1, 0}));
  // \w+ keeps "don" and "t" apart from the apostrophe.
  EXPECT_EQ(tok.encode("don't"), (Ids{5, 6, 7}));
  EXPECT_EQ(tok.encode("  "), Ids{});
  // No decoder: HF joins the tokens with spaces.
  EXPECT_EQ(tok.decode({1, 4, 2, 3}), "hello , world !");
  EXPECT_EQ(tok.vocab_size(), 8);
  EXPECT_EQ(tok.token_to_id("world"), 2);
  EXPECT_EQ(tok.token_to_id("nope"), std::nullopt);
}

TEST(WordLevel, WhitespaceSplitKeepsPunctuationAttached) {
  auto doc = word_level();
  doc["pre_tokenizer"] = {{"type", "WhitespaceSplit"}};
  const Tokenizer tok = Tokenizer::from_file(write_tokenizer("wl_split", doc));
  EXPECT_EQ(tok.encode("hello, world !"), (Ids{0, 2, 3}));
}

TEST(WordLevel, MissingUnkTokenIsAnErrorOnlyWhenNeeded) {
  auto doc = word_level();
  doc["model"]["unk_token"] = "<missing>";
  const Tokenizer tok = Tokenizer::from_file(write_tokenizer("wl_nounk", doc));
  EXPECT_EQ(tok.encode("hello"), (Ids{1}));
  EXPECT_THROW(tok.encode("unknown"), ::revive::Error);
}

TEST(WordLevel, RobertaPostProcessorAddsClsAndSep) {
  auto doc = word_level();
  doc["post_processor"] = {{"type", "RobertaProcessing"}, {"sep", {"!", 3}}, {"cls", {",", 4}},
                           {"trim_offsets", true}, {"add_prefix_space", false}};
  const Tokenizer tok = Tokenizer::from_file(write_tokenizer("wl_roberta", doc));
  EXPECT_EQ(tok.encode("hello"), (Ids{4, 1, 3}));
  EXPECT_EQ(tok.encode("hello", /*add_special=*/false), (Ids{1}));
  EXPECT_EQ(tok.bos_id(), 4);
  EXPECT_EQ(tok.eos_id(), 3);
}

}  // namespace
}  // namespace revive::model
