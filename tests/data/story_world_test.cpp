// The generated story-world facts (lib/data/story_world.h): fixed by the seed,
// distinct (name, relation) pairs, invented names, relations drawn evenly, and
// clear errors for seed 0 and for more facts than the names hold.
#include "lib/data/story_world.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <set>
#include <utility>

#include "sharding/errors.h"

namespace revive::data {
namespace {

TEST(StoryWorldFacts, AreFixedBySeedAndDifferAcrossSeeds) {
  const auto a = story_world_facts(3, 200), b = story_world_facts(3, 200), c = story_world_facts(4, 200);
  ASSERT_EQ(a.size(), 200u);
  int same = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].subject, b[i].subject);
    EXPECT_EQ(a[i].relation, b[i].relation);
    same += a[i].subject == c[i].subject ? 1 : 0;
  }
  EXPECT_LT(same, 10) << "another seed should give other names";
  // A longer stream starts with the shorter one: a run can be extended.
  const auto longer = story_world_facts(3, 400);
  for (size_t i = 0; i < a.size(); ++i) EXPECT_EQ(longer[i].subject, a[i].subject);
}

TEST(StoryWorldFacts, PairsAreDistinctNamesInventedAndRelationsEven) {
  const auto facts = story_world_facts(11, 5000);
  std::set<std::pair<std::string, size_t>> pairs;
  std::vector<int> per_relation(story_relations().size(), 0);
  for (const StoryFact& f : facts) {
    EXPECT_TRUE(pairs.insert({f.subject, f.relation}).second) << f.subject << " twice for one relation";
    ASSERT_LT(f.relation, story_relations().size());
    ++per_relation[f.relation];
    ASSERT_GE(f.subject.size(), 4u);
    EXPECT_TRUE(std::isupper(static_cast<unsigned char>(f.subject[0]))) << f.subject;
    for (size_t i = 1; i < f.subject.size(); ++i)
      EXPECT_TRUE(std::islower(static_cast<unsigned char>(f.subject[i])));
  }
  for (int n : per_relation) EXPECT_NEAR(n, 1000, 120) << "relations should be drawn evenly";
}

TEST(StoryWorldFacts, RelationsKeepTheFixedSetsPromptsAndObjectsFirst) {
  // The fixed 50 are the generated relations' first objects, so both measure one world.
  const auto fixed = story_world_requests();
  for (const EditRequest& q : fixed) {
    bool found = false;
    for (const StoryRelation& r : story_relations()) {
      if (r.prompt != q.prompt_template) continue;
      found = true;
      EXPECT_EQ(r.objects.front(), q.target_true);
      EXPECT_NE(std::find(r.objects.begin(), r.objects.end(), q.target_new), r.objects.end()) << q.target_new;
    }
    EXPECT_TRUE(found) << q.prompt_template;
  }
}

TEST(StoryWorldFacts, RejectSeedZeroAndCountsBeyondTheNames) {
  EXPECT_THROW(story_world_facts(0, 10), Error);
  EXPECT_THROW(story_world_facts(1, 100000000), Error);
  EXPECT_TRUE(story_world_facts(1, 0).empty());
}

}  // namespace
}  // namespace revive::data
