// Regex pre-tokenization: the Llama-3 / Qwen2 split pattern and GPT-2's on
// tricky strings (contractions, digit groups, whitespace runs, Unicode), and
// the split behaviors.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "lib/model/tokenizer/json_node.h"
#include "lib/model/tokenizer/pre_tokenizer.h"

namespace revive::model::tokenizer {
namespace {

using Pieces = std::vector<std::string>;

const char* const kLlama3Pattern =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

Pieces run_pre_tokenizer(const nlohmann::json& config, const std::string& text) {
  const JsonNode node(&config, "test.json", "pre_tokenizer");
  Pieces pieces{text};
  make_pre_tokenizer(node)->pre_tokenize(pieces, true);
  return pieces;
}

nlohmann::json split_config(const std::string& pattern, const std::string& behavior = "Isolated") {
  return {{"type", "Split"}, {"pattern", {{"Regex", pattern}}}, {"behavior", behavior}, {"invert", false}};
}

TEST(Llama3Split, ContractionsAreCaseInsensitive) {
  EXPECT_EQ(run_pre_tokenizer(split_config(kLlama3Pattern), "I'M don't THEY'LL"),
            (Pieces{"I", "'M", " don", "'t", " THEY", "'LL"}));
}

TEST(Llama3Split, DigitsInGroupsOfAtMostThree) {
  EXPECT_EQ(run_pre_tokenizer(split_config(kLlama3Pattern), "1234567"), (Pieces{"123", "456", "7"}));
  EXPECT_EQ(run_pre_tokenizer(split_config(kLlama3Pattern), "pi 3.14159 $100"),
            (Pieces{"pi", " ", "3", ".", "141", "59", " $", "100"}));
}

TEST(Llama3Split, WhitespaceRunsAndNewlines) {
  EXPECT_EQ(run_pre_tokenizer(split_config(kLlama3Pattern), "hello   world"), (Pieces{"hello", "  ", " world"}));
  EXPECT_EQ(run_pre_tokenizer(split_config(kLlama3Pattern), "a\n\nb"), (Pieces{"a", "\n\n", "b"}));
  EXPECT_EQ(run_pre_tokenizer(split_config(kLlama3Pattern), "x  \n  y"), (Pieces{"x", "  \n", " ", " y"}));
  EXPECT_EQ(run_pre_tokenizer(split_config(kLlama3Pattern), "end.\n"), (Pieces{"end", ".\n"}));
  EXPECT_EQ(run_pre_tokenizer(split_config(kLlama3Pattern), "tail  "), (Pieces{"tail", "  "}));
}

TEST(Llama3Split, UnicodeLettersAndSymbols) {
  EXPECT_EQ(run_pre_tokenizer(split_config(kLlama3Pattern), "héllo wörld 日本語 🙂🙂!"),
            (Pieces{"héllo", " wörld", " 日本語", " 🙂🙂!"}));
  EXPECT_EQ(run_pre_tokenizer(split_config(kLlama3Pattern), "(hello)"), (Pieces{"(hello", ")"}));
}

TEST(Llama3Split, LongRunsStayWithinRegexLimits) {
  // 200k-character runs: backtracking over \s+(?!\S) must not hit PCRE2's
  // JIT stack or match limits.
  const std::string spaces(200000, ' ');
  const std::string letters(200000, 'a');
  const std::string digits(200001, '7');
  EXPECT_EQ(run_pre_tokenizer(split_config(kLlama3Pattern), spaces + "x"), (Pieces{spaces.substr(1), " x"}));
  EXPECT_EQ(run_pre_tokenizer(split_config(kLlama3Pattern), letters + "\n\n"), (Pieces{letters, "\n\n"}));
  EXPECT_EQ(run_pre_tokenizer(split_config(kLlama3Pattern), digits).size(), 66667u);
  EXPECT_EQ(run_pre_tokenizer(split_config(kGpt2SplitPattern), spaces + "x"), (Pieces{spaces.substr(1), " x"}));
}

TEST(Gpt2Split, CaseSensitiveContractionsAndDigitRuns) {
  EXPECT_EQ(run_pre_tokenizer(split_config(kGpt2SplitPattern), "I'M don't"), (Pieces{"I", "'", "M", " don", "'t"}));
  EXPECT_EQ(run_pre_tokenizer(split_config(kGpt2SplitPattern), " 1234567 x"), (Pieces{" 1234567", " x"}));
  EXPECT_EQ(run_pre_tokenizer(split_config(kGpt2SplitPattern), "hello   world"), (Pieces{"hello", "  ", " world"}));
}

TEST(SplitBehaviors, MatchHfDocumentation) {
  const std::string text = "the-final--countdown";
  auto on_dash = [](const std::string& behavior) {
    return nlohmann::json{{"type", "Split"}, {"pattern", {{"String", "-"}}}, {"behavior", behavior}};
  };
  EXPECT_EQ(run_pre_tokenizer(on_dash("Removed"), text), (Pieces{"the", "final", "countdown"}));
  EXPECT_EQ(run_pre_tokenizer(on_dash("Isolated"), text), (Pieces{"the", "-", "final", "-", "-", "countdown"}));
  EXPECT_EQ(run_pre_tokenizer(on_dash("MergedWithPrevious"), text), (Pieces{"the-", "final-", "-", "countdown"}));
  EXPECT_EQ(run_pre_tokenizer(on_dash("MergedWithNext"), text), (Pieces{"the", "-final", "-", "-countdown"}));
  EXPECT_EQ(run_pre_tokenizer(on_dash("Contiguous"), text), (Pieces{"the", "-", "final", "--", "countdown"}));
  auto inverted = on_dash("Removed");
  inverted["invert"] = true;
  EXPECT_EQ(run_pre_tokenizer(inverted, text), (Pieces{"-", "-", "-"}));
}

TEST(OtherPreTokenizers, WhitespaceDigitsMetaspaceSequence) {
  EXPECT_EQ(run_pre_tokenizer({{"type", "Whitespace"}}, "Hey friend!  How are you?!?"),
            (Pieces{"Hey", "friend", "!", "How", "are", "you", "?!?"}));
  EXPECT_EQ(run_pre_tokenizer({{"type", "WhitespaceSplit"}}, " a, b\tc\n"), (Pieces{"a,", "b", "c"}));
  EXPECT_EQ(run_pre_tokenizer({{"type", "Digits"}, {"individual_digits", true}}, "a123"), (Pieces{"a", "1", "2", "3"}));
  EXPECT_EQ(run_pre_tokenizer({{"type", "Digits"}, {"individual_digits", false}}, "a123b"), (Pieces{"a", "123", "b"}));
  EXPECT_EQ(run_pre_tokenizer({{"type", "Metaspace"}, {"replacement", "▁"}, {"prepend_scheme", "first"}, {"split", true}},
                "Hey friend"),
            (Pieces{"▁Hey", "▁friend"}));
  nlohmann::json seq = {{"type", "Sequence"},
                        {"pretokenizers", {split_config(kLlama3Pattern), {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}}}}};
  EXPECT_EQ(run_pre_tokenizer(seq, "hi there\n"), (Pieces{"hi", "Ġthere", "Ċ"}));
}

}  // namespace
}  // namespace revive::model::tokenizer
