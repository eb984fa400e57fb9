#include "lib/data/toy_world.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "lib/data/counterfact_rome.h"
#include "lib/data/toy_world_export.h"
#include "lib/data/wordlevel_tokenizer.h"
#include "sharding/errors.h"
#include "tests/support/fixture_files.h"
#include "tests/support/fixtures.h"

namespace revive::data {
namespace {

std::vector<std::string> words(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

using revive::testing::read_text;

TEST(ToyWorld, DefaultSizes) {
  const ToyWorld w = ToyWorld::generate();
  EXPECT_EQ(w.subjects().size(), 200u);
  EXPECT_EQ(w.relations().size(), 4u);
  EXPECT_EQ(w.facts().size(), 800u);
  EXPECT_EQ(w.requests().size(), 800u);
  EXPECT_EQ(w.training_lines().size(), 800u * 4u);  // 4 phrasings each
  EXPECT_EQ(std::set<std::string>(w.subjects().begin(), w.subjects().end()).size(), 200u);
}

TEST(ToyWorld, SameSeedSameWorldOtherSeedOtherWorld) {
  ToyWorldOptions o;
  o.num_subjects = 60;
  o.num_relations = 3;
  const ToyWorld a = ToyWorld::generate(o);
  const ToyWorld b = ToyWorld::generate(o);
  EXPECT_EQ(a.subjects(), b.subjects());
  EXPECT_EQ(a.requests(), b.requests());
  EXPECT_EQ(a.training_lines(), b.training_lines());
  EXPECT_EQ(a.vocabulary(), b.vocabulary());
  o.seed = 2;
  const ToyWorld c = ToyWorld::generate(o);
  EXPECT_NE(a.subjects(), c.subjects());
  EXPECT_NE(a.requests(), c.requests());
  EXPECT_NE(a.training_lines(), c.training_lines());

  // Byte-identical exports for the same seed.
  const std::string d1 = revive::testing::temp_dir("toy-a"), d2 = revive::testing::temp_dir("toy-b");
  const ToyWorldFiles f1 = write_toy_world(a, d1), f2 = write_toy_world(b, d2);
  for (auto member : {&ToyWorldFiles::requests, &ToyWorldFiles::train_text, &ToyWorldFiles::vocab,
                      &ToyWorldFiles::tokenizer, &ToyWorldFiles::world}) {
    EXPECT_EQ(read_text(f1.*member), read_text(f2.*member)) << f1.*member;
    EXPECT_FALSE(read_text(f1.*member).empty());
  }
}

TEST(ToyWorld, RequestsAreWellFormedCounterfactuals) {
  const ToyWorld w = ToyWorld::generate();
  std::map<std::string, int> relation_index;
  for (std::size_t r = 0; r < w.relations().size(); ++r) relation_index[w.relations()[r].id] = static_cast<int>(r);
  std::map<std::string, int> subject_index;
  for (std::size_t s = 0; s < w.subjects().size(); ++s) subject_index[w.subjects()[s]] = static_cast<int>(s);

  std::set<std::pair<int, int>> facts_seen;
  for (std::size_t i = 0; i < w.requests().size(); ++i) {
    const EditRequest& q = w.requests()[i];
    ASSERT_FALSE(validate(q).has_value()) << i;
    EXPECT_EQ(q.case_id, static_cast<int64_t>(i));
    const int s = subject_index.at(q.subject);
    const int r = relation_index.at(q.relation_id);
    const ToyRelation& rel = w.relations()[static_cast<std::size_t>(r)];
    EXPECT_TRUE(facts_seen.insert({s, r}).second) << "fact edited twice";
    // Subject in the prompt, prompt in the relation's phrasings.
    EXPECT_NE(q.prompt().find(q.subject), std::string::npos);
    EXPECT_NE(std::find(rel.phrasings.begin(), rel.phrasings.end(), q.prompt_template), rel.phrasings.end());
    // True target is the fact; new target differs and is of the same relation.
    EXPECT_EQ(q.target_true, rel.objects[static_cast<std::size_t>(w.object_of(s, r))]);
    EXPECT_NE(q.target_new, q.target_true);
    EXPECT_NE(std::find(rel.objects.begin(), rel.objects.end(), q.target_new), rel.objects.end());
    // Paraphrases: the other phrasings with the same subject.
    EXPECT_EQ(q.paraphrase_prompts.size(), rel.phrasings.size() - 1);
    std::set<std::string> all_prompts = {q.prompt()};
    for (const auto& p : q.paraphrase_prompts) all_prompts.insert(p);
    for (const auto& ph : rel.phrasings) EXPECT_EQ(all_prompts.count(render_prompt(ph, q.subject)), 1u);
    // Neighbours: another subject with the same relation and object.
    EXPECT_EQ(q.neighborhood_prompts.size(), 5u);
    for (const auto& p : q.neighborhood_prompts) {
      EXPECT_EQ(p.find(q.subject), std::string::npos) << p;
      bool matched = false;
      for (const auto& ph : rel.phrasings) {
        for (std::size_t n = 0; n < w.subjects().size(); ++n) {
          if (static_cast<int>(n) == s || render_prompt(ph, w.subjects()[n]) != p) continue;
          matched = true;
          EXPECT_EQ(w.object_of(static_cast<int>(n), r), w.object_of(s, r)) << p;
        }
      }
      EXPECT_TRUE(matched) << p;
    }
    EXPECT_EQ(q.neighborhood_answer(), q.target_true);
    EXPECT_EQ(q.generation_prompts.size(), w.relations().size() - 1);
  }
  EXPECT_EQ(facts_seen.size(), w.facts().size());
}

TEST(ToyWorld, TrainingTextStatesEveryFactInEveryPhrasing) {
  ToyWorldOptions o;
  o.num_subjects = 30;
  o.num_relations = 2;
  o.phrasings_per_relation = 3;
  const ToyWorld w = ToyWorld::generate(o);
  const std::set<std::string> lines(w.training_lines().begin(), w.training_lines().end());
  EXPECT_EQ(lines.size(), 30u * 2u * 3u);
  for (const ToyFact& f : w.facts()) {
    for (int p = 0; p < 3; ++p) {
      const std::string line = render_prompt(w.relations()[static_cast<std::size_t>(f.relation)].phrasings[static_cast<std::size_t>(p)],
                                             w.subjects()[static_cast<std::size_t>(f.subject)]) +
                               " " + w.relations()[static_cast<std::size_t>(f.relation)].objects[static_cast<std::size_t>(f.object)];
      EXPECT_EQ(lines.count(line), 1u) << line;
    }
  }
}

TEST(ToyWorld, SizesAreConfigurableAndChecked) {
  ToyWorldOptions o;
  o.num_subjects = 500;
  o.num_relations = toy_relation_catalogue_size();
  o.objects_per_relation = 6;
  const ToyWorld w = ToyWorld::generate(o);
  EXPECT_EQ(w.requests().size(), 500u * static_cast<std::size_t>(toy_relation_catalogue_size()));
  for (const auto& rel : w.relations()) EXPECT_EQ(rel.objects.size(), 6u);
  // Objects are dealt evenly: each held by 500/6 rounded down or up subjects.
  for (int r = 0; r < o.num_relations; ++r) {
    std::map<int, int> holders;
    for (int s = 0; s < o.num_subjects; ++s) ++holders[w.object_of(s, r)];
    for (const auto& [obj, n] : holders) EXPECT_TRUE(n == 83 || n == 84) << n;
  }
  ToyWorldOptions bad;
  bad.num_relations = toy_relation_catalogue_size() + 1;
  EXPECT_THROW(ToyWorld::generate(bad), Error);
  bad = {};
  bad.phrasings_per_relation = 6;
  EXPECT_THROW(ToyWorld::generate(bad), Error);
  bad = {};
  bad.objects_per_relation = 1;
  EXPECT_THROW(ToyWorld::generate(bad), Error);
}

// tokenizer.json is a WordLevel model with the four special tokens and a
// WhitespaceSplit pre-tokenizer whose vocabulary holds every word of the world.
TEST(ToyWorld, ExportedTokenizerCoversEveryWord) {
  const ToyWorld w = ToyWorld::generate();
  const std::string dir = revive::testing::temp_dir("toy-export");
  const ToyWorldFiles files = write_toy_world(w, dir);
  const auto tok = nlohmann::json::parse(read_text(files.tokenizer));
  EXPECT_EQ(tok.at("model").at("type"), "WordLevel");
  EXPECT_EQ(tok.at("model").at("unk_token"), "[UNK]");
  EXPECT_EQ(tok.at("pre_tokenizer").at("type"), "WhitespaceSplit");
  const auto& vocab = tok.at("model").at("vocab");
  EXPECT_EQ(vocab.at("[UNK]"), 0);
  EXPECT_EQ(vocab.at("[BOS]"), 1);
  EXPECT_EQ(vocab.at("[EOS]"), 2);
  EXPECT_EQ(vocab.at("[PAD]"), 3);
  ASSERT_EQ(tok.at("added_tokens").size(), 4u);
  for (const auto& t : tok.at("added_tokens")) EXPECT_TRUE(t.at("special").get<bool>());
  EXPECT_EQ(tok.at("post_processor").at("special_tokens").at("[BOS]").at("ids")[0], 1);

  // Ids are dense and unique.
  std::set<int64_t> ids;
  for (const auto& item : vocab.items()) ids.insert(item.value().get<int64_t>());
  EXPECT_EQ(ids.size(), vocab.size());
  EXPECT_EQ(*ids.rbegin(), static_cast<int64_t>(vocab.size()) - 1);

  auto covered = [&](const std::string& text) {
    for (const auto& word : words(text)) EXPECT_TRUE(vocab.contains(word)) << word << " in " << text;
  };
  std::istringstream train(read_text(files.train_text));
  std::size_t n_lines = 0;
  for (std::string line; std::getline(train, line); ++n_lines) {
    covered(line);
    // Single spaces only, so whitespace splitting loses nothing.
    EXPECT_EQ(line.find("  "), std::string::npos);
  }
  EXPECT_EQ(n_lines, w.training_lines().size());
  const ReadResult requests = read_counterfact_rome(files.requests);
  ASSERT_EQ(requests.requests, w.requests());
  for (const EditRequest& q : requests.requests) {
    covered(q.prompt());
    covered(q.target_new);
    covered(q.target_true);
    for (const auto& p : q.paraphrase_prompts) covered(p);
    for (const auto& p : q.neighborhood_prompts) covered(p);
    for (const auto& p : q.attribute_prompts) covered(p);
    for (const auto& p : q.generation_prompts) covered(p);
  }
  EXPECT_EQ(words(read_text(files.vocab)), w.vocabulary());
  EXPECT_EQ(vocab.size(), w.vocabulary().size() + 4);

  const auto world = nlohmann::json::parse(read_text(files.world));
  EXPECT_EQ(world.at("facts").size(), w.facts().size());
  EXPECT_EQ(world.at("subjects").size(), 200u);
  const auto cfg = nlohmann::json::parse(read_text(files.tokenizer_config));
  EXPECT_EQ(cfg.at("bos_token"), "[BOS]");
}

TEST(WordLevelTokenizer, RejectsBadWords) {
  EXPECT_THROW(wordlevel_tokenizer_json({"a b"}), Error);
  EXPECT_THROW(wordlevel_tokenizer_json({""}), Error);
  EXPECT_THROW(wordlevel_tokenizer_json({"a", "a"}), Error);
  EXPECT_THROW(wordlevel_tokenizer_json({"[BOS]"}), Error);
  const auto tok = nlohmann::json::parse(wordlevel_tokenizer_json({"b", "a"}));
  EXPECT_EQ(tok.at("model").at("vocab").at("b"), 4);
  EXPECT_EQ(tok.at("model").at("vocab").at("a"), 5);
}

}  // namespace
}  // namespace revive::data
