#include <gtest/gtest.h>

#include "lib/model/prompt_tokens.h"
#include "lib/model/tokenizer.h"
#include "tests/support/fixtures.h"

namespace revive::model {
namespace {

TEST(PromptTokens, TargetIsTheJoinedSuffixOnStories260K) {
  REVIVE_REQUIRE_DATA(path, "stories260K-hf/tokenizer.json");
  const Tokenizer tok = Tokenizer::from_file(path);
  const Continuation c = tokenize_continuation(tok, "Tom had a pet", "cat");
  EXPECT_EQ(c.prompt, tok.encode("Tom had a pet"));
  const std::vector<int64_t> joined = tok.encode("Tom had a pet cat");
  ASSERT_EQ(c.prompt.size() + c.target.size(), joined.size());
  EXPECT_TRUE(std::equal(c.target.begin(), c.target.end(), joined.begin() + static_cast<long>(c.prompt.size())));
  EXPECT_EQ(tok.decode(c.target), "cat");
}

// A target or prompt that carries its own space gets no second one: " cat" and
// "cat" are the same continuation, as is "Tom had a pet " + "cat".
TEST(PromptTokens, ASpaceInTheDataIsNotDoubled) {
  REVIVE_REQUIRE_DATA(path, "stories260K-hf/tokenizer.json");
  const Tokenizer tok = Tokenizer::from_file(path);
  const Continuation plain = tokenize_continuation(tok, "Tom had a pet", "cat");
  for (const auto& [prompt, target] : {std::pair<std::string, std::string>{"Tom had a pet", " cat"},
                                       {"Tom had a pet ", "cat"}}) {
    const Continuation c = tokenize_continuation(tok, prompt, target);
    EXPECT_EQ(c.target, plain.target) << "'" << prompt << "' + '" << target << "'";
  }
  EXPECT_NE(tok.encode("Tom had a pet  cat"), tok.encode("Tom had a pet cat")) << "a doubled space is another text";
}

TEST(PromptTokens, SubjectLastTokenIsInsideThePrompt) {
  REVIVE_REQUIRE_DATA(path, "stories260K-hf/tokenizer.json");
  const Tokenizer tok = Tokenizer::from_file(path);
  const std::string prompt = "Once upon a time Lily had a dog";
  const size_t at = prompt.find("Lily");
  const int64_t last = subject_last_token(tok, prompt, at, 4);
  const std::vector<int64_t> ids = tok.encode(prompt);
  ASSERT_LT(last, static_cast<int64_t>(ids.size()));
  EXPECT_NE(tok.decode({ids[static_cast<size_t>(last)]}).find("ly"), std::string::npos);
  EXPECT_EQ(last, static_cast<int64_t>(tok.encode("Once upon a time Lily").size()) - 1);
  EXPECT_THROW(subject_last_token(tok, prompt, prompt.size(), 1), Error);
}

}  // namespace
}  // namespace revive::model
