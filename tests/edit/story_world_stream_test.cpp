// Generated story-world requests on stories260K (lib/edit/run/story_world_stream.h;
// skipped without the fixture): the facts are the seed's, target_true is the
// candidate the unedited model scores best (so nothing is edited before the
// edit), target_new another candidate with another first token, all fixed by
// the seed.
#include "lib/edit/run/story_world_stream.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "lib/data/story_world.h"
#include "lib/edit/run/target_scores.h"
#include "lib/model/model_loader.h"
#include "lib/model/prompt_tokens.h"
#include "lib/model/tokenizer.h"
#include "lib/model/transformer.h"
#include "sharding/comm/local_communicator.h"
#include "tests/support/fixtures.h"

namespace revive::edit {
namespace {

TEST(StoryWorldStream, ObjectsAreTheModelsOwnAndFixedBySeed) {
  REVIVE_REQUIRE_DATA(dir, "stories260K-hf");
  sharding::LocalCommunicator tp("tp");
  const model::Tokenizer tok = model::Tokenizer::from_file(dir);
  const auto model = model::load_model(dir, tp);
  const auto requests = story_world_stream(*model, tok, 42, 30);
  ASSERT_EQ(requests.size(), 30u);
  EXPECT_EQ(requests, story_world_stream(*model, tok, 42, 30));
  const auto facts = data::story_world_facts(42, 30);
  for (size_t i = 0; i < requests.size(); ++i) {
    const data::EditRequest& q = requests[i];
    const data::StoryRelation& rel = data::story_relations()[facts[i].relation];
    EXPECT_EQ(q.subject, facts[i].subject);
    EXPECT_EQ(q.prompt_template, rel.prompt);
    EXPECT_EQ(q.relation_id, rel.id);
    EXPECT_EQ(q.case_id, static_cast<int64_t>(i));
    EXPECT_NE(model::tokenize_continuation(tok, q.prompt(), q.target_new).target.front(),
              model::tokenize_continuation(tok, q.prompt(), q.target_true).target.front())
        << q.prompt() << ": " << q.target_new << " / " << q.target_true;
    // target_true scores best among the relation's candidates, scored one by one.
    std::vector<data::EditRequest> each;
    for (const std::string& object : rel.objects) {
      data::EditRequest c = q;
      c.target_new = object;
      c.target_true.clear();
      each.push_back(c);
    }
    const TargetScores s = score_targets(*model, tok, each);
    const size_t truth = static_cast<size_t>(
        std::find(rel.objects.begin(), rel.objects.end(), q.target_true) - rel.objects.begin());
    ASSERT_LT(truth, rel.objects.size());
    for (size_t j = 0; j < rel.objects.size(); ++j) {
      // Scored in other batches here (other padding): equal up to rounding.
      EXPECT_LE(s.nll_new[truth], s.nll_new[j] + 1e-6) << q.prompt() << ": " << rel.objects[j];
    }
  }
  EXPECT_EQ(efficacy(score_targets(*model, tok, requests)), 0.0) << "nothing is edited before the edit";
  EXPECT_NE(requests, story_world_stream(*model, tok, 43, 30));
}

}  // namespace
}  // namespace revive::edit
