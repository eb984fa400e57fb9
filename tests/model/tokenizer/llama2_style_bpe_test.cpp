// Llama-2 style BPE (byte fallback, "▁" normalizer, BOS template, the
// SentencePiece decoder chain) on a small tokenizer.json written by the test
// around the stories260K fixture's pipeline (skipped without ../shared/data).
#include <gtest/gtest.h>

#include "lib/model/tokenizer.h"
#include "tests/model/tokenizer/tokenizer_test_files.h"

namespace revive::model {
namespace {

using testing::llama2_style;
using testing::write_tokenizer;
using Ids = std::vector<int64_t>;

// Vocabulary of llama2_style(): 3 + byte = <0xXX>; then these pieces.
enum : int64_t { kL2Sp = 259, kL2A, kL2B, kL2C, kL2H, kL2T, kL2E, kL2SpT, kL2He, kL2SpThe, kL2SpA, kL2Ab, kL2SpAb };

TEST(Llama2StyleBpe, NormalizerMergesAndBos) {
  REVIVE_REQUIRE_DATA(folder, "stories260K-hf");
  const Tokenizer tok = Tokenizer::from_file(write_tokenizer("l2", llama2_style(folder)));
  EXPECT_EQ(tok.encode("the"), (Ids{1, kL2SpThe}));
  // "▁ a" (rank 3) before "a b" (rank 4): "▁ab" is in the vocabulary but not reached.
  EXPECT_EQ(tok.encode("ab"), (Ids{1, kL2SpA, kL2B}));
  EXPECT_EQ(tok.encode("cab", false), (Ids{kL2Sp, kL2C, kL2Ab}));
  EXPECT_EQ(tok.encode("", true), (Ids{1}));
  EXPECT_EQ(tok.bos_id(), 1);
  EXPECT_EQ(tok.eos_id(), 2);
}

TEST(Llama2StyleBpe, ByteFallbackForUnknownCharacters) {
  REVIVE_REQUIRE_DATA(folder, "stories260K-hf");
  const Tokenizer tok = Tokenizer::from_file(write_tokenizer("l2_bytes", llama2_style(folder)));
  // "é" = C3 A9 and "\n" = 0A are not pieces: byte tokens, id 3 + byte.
  EXPECT_EQ(tok.encode("é\n", false), (Ids{kL2Sp, 3 + 0xC3, 3 + 0xA9, 3 + 0x0A}));
  EXPECT_EQ(tok.decode(tok.encode("the é\nab 日本 🙂")), "the é\nab 日本 🙂");
}

TEST(Llama2StyleBpe, FusedUnkWithoutByteFallback) {
  REVIVE_REQUIRE_DATA(folder, "stories260K-hf");
  auto doc = llama2_style(folder);
  doc["model"]["byte_fallback"] = false;
  const Tokenizer tok = Tokenizer::from_file(write_tokenizer("l2_unk", doc));
  // Consecutive unknown characters fuse into one <unk>.
  EXPECT_EQ(tok.encode("xyz a", false), (Ids{kL2Sp, 0, kL2SpA}));
  doc["model"]["fuse_unk"] = false;
  const Tokenizer unfused = Tokenizer::from_file(write_tokenizer("l2_unk2", doc));
  EXPECT_EQ(unfused.encode("xyz a", false), (Ids{kL2Sp, 0, 0, 0, kL2SpA}));
}

TEST(Llama2StyleBpe, SpecialTokensInTextAndDecode) {
  REVIVE_REQUIRE_DATA(folder, "stories260K-hf");
  const Tokenizer tok = Tokenizer::from_file(write_tokenizer("l2_special", llama2_style(folder)));
  // Each text segment around a special token gets its own "▁" prefix (HF's
  // legacy Llama behaviour).
  EXPECT_EQ(tok.encode("a</s>the", false), (Ids{kL2SpA, 2, kL2SpThe}));
  EXPECT_EQ(tok.decode({1, kL2SpThe, 2}), "the");
  EXPECT_EQ(tok.decode({1, kL2SpThe, 2}, /*skip_special=*/false), "<s> the</s>");
}

TEST(Llama2StyleBpe, MetaspacePreTokenizerVariant) {
  REVIVE_REQUIRE_DATA(folder, "stories260K-hf");
  // Newer Llama/Mistral files: no normalizer, a Metaspace pre-tokenizer and decoder.
  auto doc = llama2_style(folder);
  doc["normalizer"] = nullptr;
  doc["pre_tokenizer"] = {{"type", "Metaspace"}, {"replacement", "▁"}, {"prepend_scheme", "first"}, {"split", false}};
  doc["decoder"] = {{"type", "Sequence"},
                    {"decoders", {{{"type", "Metaspace"}, {"replacement", "▁"}, {"prepend_scheme", "first"}, {"split", false}},
                                  {{"type", "ByteFallback"}},
                                  {{"type", "Fuse"}}}}};
  const Tokenizer tok = Tokenizer::from_file(write_tokenizer("l2_meta", doc));
  EXPECT_EQ(tok.encode("the ab", false), (Ids{kL2SpThe, kL2SpA, kL2B}));
  // "first": only the start of the text gets the prefix, not text after </s>.
  EXPECT_EQ(tok.encode("a</s>the", false), (Ids{kL2SpA, 2, kL2T, kL2He}));
  EXPECT_EQ(tok.decode(tok.encode("the ab")), "the ab");
}

}  // namespace
}  // namespace revive::model
