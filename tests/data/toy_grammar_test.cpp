// The toy world's general text (lib/data/toy_grammar.h): deterministic, its
// number agreement holds, held-out sentences are never training sentences, and
// no grammar word is a word of the fact catalogue but function words.
#include "lib/data/toy_grammar.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <sstream>

#include "lib/data/toy_world.h"

namespace revive::data {
namespace {

std::vector<std::string> words_of(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

TEST(ToyGrammar, IsDeterministicAndVaried) {
  const auto a = toy_grammar_sentences(7, 2000), b = toy_grammar_sentences(7, 2000);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, toy_grammar_sentences(8, 2000));
  const std::set<std::string> distinct(a.begin(), a.end());
  EXPECT_GT(distinct.size(), 1500u) << "sentences should rarely repeat";
}

TEST(ToyGrammar, CountWordsTakePluralVerbsAndEveryTakesSingular) {
  // "two foxes run", never "two foxes runs"; "every fox runs", never "every fox run".
  const std::set<std::string> singular_verbs = {"runs", "sleeps", "sings", "waits", "hides", "rests"};
  const std::set<std::string> plural_verbs = {"run", "sleep", "sing", "wait", "hide", "rest"};
  int checked = 0;
  for (const std::string& s : toy_grammar_sentences(3, 3000)) {
    const auto w = words_of(s);
    for (size_t i = 0; i + 2 < w.size(); ++i) {
      const bool count = w[i] == "two" || w[i] == "three" || w[i] == "many" || w[i] == "some";
      if (!count && w[i] != "every") continue;
      // The verb follows the noun, or adjective + noun, or "in the <place>".
      for (size_t j = i + 2; j < std::min(w.size(), i + 6); ++j) {
        if (count)
          EXPECT_EQ(singular_verbs.count(w[j]), 0u) << s;
        else
          EXPECT_EQ(plural_verbs.count(w[j]), 0u) << s;
      }
      ++checked;
    }
  }
  EXPECT_GT(checked, 500);
}

TEST(ToyGrammar, HeldOutSentencesAreNotTrainingSentences) {
  const auto train = toy_grammar_sentences(5, 4000);
  const auto held = toy_grammar_held_out(5, 300, train);
  ASSERT_EQ(held.size(), 300u);
  const std::set<std::string> seen(train.begin(), train.end());
  for (const auto& s : held) EXPECT_EQ(seen.count(s), 0u) << s;
}

TEST(ToyGrammar, SharesNoContentWordWithTheFactCatalogue) {
  std::set<std::string> catalogue;
  auto lower = [](std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  };
  for (const ToyRelation& r : toy_relation_catalogue()) {
    for (const auto& o : r.objects) catalogue.insert(lower(o));
  }
  for (const std::string& s : toy_grammar_sentences(9, 3000)) {
    for (const std::string& w : words_of(s)) EXPECT_EQ(catalogue.count(lower(w)), 0u) << w << " in: " << s;
  }
}

TEST(ToyWorld, GeneralTextJoinsTheTrainingTextAndHeldOutStaysOut) {
  ToyWorldOptions o;
  o.num_subjects = 20;
  o.general_sentences = 200;
  o.held_out_sentences = 50;
  const ToyWorld w = ToyWorld::generate(o);
  const ToyWorld facts_only = ToyWorld::generate(ToyWorldOptions{o.seed, 20, o.num_relations, 0, 4, 5, 0, 0});
  EXPECT_EQ(w.training_lines().size(), facts_only.training_lines().size() + 200);
  EXPECT_EQ(w.requests().size(), facts_only.requests().size());
  ASSERT_EQ(w.held_out_lines().size(), 50u);
  const std::set<std::string> train(w.training_lines().begin(), w.training_lines().end());
  for (const auto& s : w.held_out_lines()) EXPECT_EQ(train.count(s), 0u);
  const auto vocab = w.vocabulary();
  for (const auto& s : w.held_out_lines()) {
    for (const auto& word : words_of(s))
      EXPECT_TRUE(std::binary_search(vocab.begin(), vocab.end(), word)) << word;
  }
}

}  // namespace
}  // namespace revive::data
