// GPT-2-style byte-level BPE on a tokenizer.json written by the test: byte
// table, merge order by rank, ignore_merges, added tokens, exact round trips.
#include <gtest/gtest.h>

#include "lib/model/tokenizer.h"
#include "lib/model/tokenizer/byte_level.h"
#include "tests/model/tokenizer/tokenizer_test_files.h"

namespace revive::model {
namespace {

using testing::gpt2_style;
using testing::write_tokenizer;
using Ids = std::vector<int64_t>;

TEST(ByteLevelTable, KnownGpt2Characters) {
  using tokenizer::byte_level_encode;
  EXPECT_EQ(byte_level_encode(" "), "Ġ");   // U+0120
  EXPECT_EQ(byte_level_encode("\n"), "Ċ");  // U+010A
  EXPECT_EQ(byte_level_encode(std::string(1, '\0')), "Ā");  // U+0100
  EXPECT_EQ(byte_level_encode("\xAD"), "Ń");  // soft hyphen -> U+0143
  EXPECT_EQ(byte_level_encode("az~!"), "az~!");
  EXPECT_EQ(byte_level_encode("\xE4"), "ä");  // printable Latin-1 maps to itself
  std::string bytes;
  for (int b = 0; b < 256; ++b) bytes += static_cast<char>(b);
  std::string back;
  ASSERT_TRUE(tokenizer::byte_level_decode(byte_level_encode(bytes), &back));
  EXPECT_EQ(back, bytes);
  EXPECT_FALSE(tokenizer::byte_level_decode("日", &back));
}

TEST(ByteLevelBpe, MergesApplyByRankNotPosition) {
  const Tokenizer tok = Tokenizer::from_file(write_tokenizer("gpt2", gpt2_style()));
  // ids: bytes are their own ids; merge k produces id 256 + k.
  EXPECT_EQ(tok.encode(" the"), (Ids{258}));
  EXPECT_EQ(tok.encode("the world"), (Ids{'t', 257, 267}));
  // "h e" (rank 1) before "r e" (rank 5) before "e r" (rank 6).
  EXPECT_EQ(tok.encode("there"), (Ids{'t', 257, 261}));
  // "Ġ 1" (rank 12) wins over "1 2" (rank 13), so "Ġ 12" never applies; the
  // GPT-2 regex keeps a digit run together.
  EXPECT_EQ(tok.encode(" 12345"), (Ids{268, '2', '3', '4', '5'}));
  // Whitespace run: "\s+(?!\S)" leaves the last space to the word.
  EXPECT_EQ(tok.encode("   x"), (Ids{271, ' ', 'x'}));
  EXPECT_EQ(tok.encode("中"), (Ids{273, 0xAD}));
  EXPECT_EQ(tok.encode(" hello"), (Ids{' ', 257, 'l', 'l', 'o'}));
  EXPECT_EQ(tok.decode({258, 267}), " the world");
  EXPECT_EQ(tok.id_to_token(258), "Ġthe");
  EXPECT_EQ(tok.vocab_size(), 276);
  EXPECT_EQ(tok.bos_id(), std::nullopt);
  EXPECT_EQ(tok.eos_id(), 275);
}

TEST(ByteLevelBpe, IgnoreMergesTakesWholeVocabularyWords) {
  auto doc = gpt2_style();
  doc["model"]["ignore_merges"] = true;
  const Tokenizer tok = Tokenizer::from_file(write_tokenizer("gpt2_ignore", doc));
  EXPECT_EQ(tok.encode(" hello"), (Ids{274}));
  EXPECT_EQ(tok.encode("hello world"), (Ids{257, 'l', 'l', 'o', 267}));
}

TEST(ByteLevelBpe, AddedTokensAreNeverSplit) {
  const Tokenizer tok = Tokenizer::from_file(write_tokenizer("gpt2_added", gpt2_style()));
  const Ids ids = tok.encode("hi<|endoftext|>there");
  EXPECT_EQ(ids, (Ids{'h', 'i', 275, 't', 257, 261}));
  EXPECT_EQ(tok.decode(ids), "hithere");
  EXPECT_EQ(tok.decode(ids, /*skip_special=*/false), "hi<|endoftext|>there");
  EXPECT_EQ(tok.token_to_id("<|endoftext|>"), 275);
}

TEST(ByteLevelBpe, AddedTokenStripFlags) {
  auto doc = gpt2_style();
  doc["model"]["vocab"]["<mask>"] = 276;
  doc["added_tokens"].push_back({{"id", 276}, {"content", "<mask>"}, {"single_word", false},
                                 {"lstrip", true}, {"rstrip", false}, {"normalized", false},
                                 {"special", true}});
  const Tokenizer tok = Tokenizer::from_file(write_tokenizer("gpt2_mask", doc));
  // lstrip swallows the space before the token; the one after stays with "b".
  EXPECT_EQ(tok.encode("a <mask> b"), (Ids{'a', 276, ' ', 'b'}));
}

TEST(ByteLevelBpe, PrefixSpaceOption) {
  auto doc = gpt2_style();
  doc["pre_tokenizer"]["add_prefix_space"] = true;
  const Tokenizer tok = Tokenizer::from_file(write_tokenizer("gpt2_prefix", doc));
  EXPECT_EQ(tok.encode("the"), (Ids{258}));
  EXPECT_EQ(tok.encode(" the"), (Ids{258}));
}

TEST(ByteLevelBpe, RoundTripsUnicodeText) {
  const Tokenizer tok = Tokenizer::from_file(write_tokenizer("gpt2_rt", gpt2_style()));
  const std::vector<std::string> texts = {
      "Hello, world! 123 4567 89.10\n\n\tTabs\r\nCRLF",
      "日本語のテキスト 中文 한국어",
      "emoji 🙂👍🏽 family 👨‍👩‍👧 flags 🇫🇷",
      "Ünïcödé ñ e\xCC\x81 a\xC2\xA0" "b",
      "  leading and trailing  ",
      "",
      "\n",
      "numbers 1 22 333 4444 55555 -1.5e10",
      "it's we're they've I'M"};
  for (const auto& text : texts) {
    const Ids ids = tok.encode(text);
    EXPECT_EQ(tok.decode(ids), text);
    for (int64_t id : ids) EXPECT_LT(id, tok.vocab_size());
  }
}

}  // namespace
}  // namespace revive::model
