// n-gram entropy (MEMIT's fluency) against values worked out by hand.
#include <gtest/gtest.h>

#include <cmath>

#include "lib/eval/ngram_entropy.h"
#include "sharding/errors.h"

namespace revive::eval {
namespace {

TEST(NgramEntropy, KnownTokenList) {
  // "a b a b a": bigrams ab, ba, ab, ba -> two equally likely: H2 = 1 bit.
  // Trigrams aba, bab, aba -> 2/3, 1/3: H3 = -(2/3 log2 2/3 + 1/3 log2 1/3).
  const std::vector<std::string> t = {"a", "b", "a", "b", "a"};
  const double h3 = -(2.0 / 3 * std::log2(2.0 / 3) + 1.0 / 3 * std::log2(1.0 / 3));
  EXPECT_DOUBLE_EQ(ngram_entropy_bits(t, 2), 1.0);
  EXPECT_NEAR(ngram_entropy_bits(t, 3), h3, 1e-15);
  EXPECT_NEAR(h3, 0.9182958340544896, 1e-15);
  // mean(2/3 * H2, 4/3 * H3)
  EXPECT_NEAR(weighted_ngram_entropy(t), (2.0 / 3 * 1.0 + 4.0 / 3 * h3) / 2, 1e-15);
  EXPECT_NEAR(weighted_ngram_entropy(t), 0.9455305560363264, 1e-12);
}

TEST(NgramEntropy, RepetitionScoresLowAndShortTextsZero) {
  EXPECT_DOUBLE_EQ(text_ngram_entropy("the the the the the the"), 0.0);
  EXPECT_DOUBLE_EQ(text_ngram_entropy("hello"), 0.0);
  EXPECT_DOUBLE_EQ(text_ngram_entropy(""), 0.0);
  // Four distinct bigrams (2 bits), three distinct trigrams (log2 3 bits).
  EXPECT_NEAR(text_ngram_entropy("one two three four five"), (2.0 / 3 * 2 + 4.0 / 3 * std::log2(3.0)) / 2, 1e-14);
  EXPECT_GT(text_ngram_entropy("one two three four five"), text_ngram_entropy("one two one two one"));
  EXPECT_NEAR(mean_ngram_entropy({"a b a b a", "the the the"}), 0.9455305560363264 / 2, 1e-12);
  EXPECT_DOUBLE_EQ(mean_ngram_entropy({}), 0.0);
}

TEST(NgramEntropy, WordTokensSplitPunctuationAndContractions) {
  const std::vector<std::string> expected = {"Lily", "'s", "dog", "ca", "n't", "run", ",", "fast", "."};
  EXPECT_EQ(word_tokens("Lily's dog can't run, fast."), expected);
  EXPECT_EQ(word_tokens("  a\tb\nc  "), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(word_tokens("well-known (yes)"), (std::vector<std::string>{"well-known", "(", "yes", ")"}));
}

TEST(NgramEntropy, CustomOrdersAndBadOptions) {
  NgramEntropyOptions unigram;
  unigram.ns = {1};
  unigram.weights = {1.0};
  EXPECT_DOUBLE_EQ(weighted_ngram_entropy({"x", "y", "x", "y"}, unigram), 1.0);
  NgramEntropyOptions bad;
  bad.weights = {1.0};
  EXPECT_THROW(weighted_ngram_entropy({"x"}, bad), Error);
}

}  // namespace
}  // namespace revive::eval
