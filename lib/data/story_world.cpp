#include "lib/data/story_world.h"

#include <iterator>
#include <set>
#include <string>
#include <utility>

#include "lib/data/splitmix_rng.h"
#include "sharding/errors.h"

namespace revive::data {

std::vector<EditRequest> story_world_requests() {
  const std::vector<std::string> names = {
      "Tom",   "Lily", "Ben",   "Sue",  "Max",  "Anna",  "Tim",   "Mia",  "Sam",   "Lucy",
      "Jack",  "Sara", "Bob",   "Amy",  "Joe",  "Kate",  "Jake",  "Emma", "Billy", "Molly",
      "Timmy", "Jane", "Mike",  "Zoe",  "Leo",  "Ellie", "Kim",   "Dan",  "Jill",  "Pam",
      "Ted",   "Rose", "Fred",  "Lisa", "Jen",  "Bella", "Mark",  "Ann",  "Peter", "Sally",
      "Daisy", "Nick", "Jenny", "Bill", "Tina", "Jim",   "Kitty", "Spot", "Mom",   "Dad"};
  // The fixed set uses each relation's first 4 objects; objects[0] is target_true.
  constexpr size_t kFixedObjects = 4;
  const std::vector<StoryRelation>& relations = story_relations();
  std::vector<EditRequest> out;
  for (size_t i = 0; i < names.size(); ++i) {
    const StoryRelation& rel = relations[i % relations.size()];
    EditRequest q;
    q.prompt_template = rel.prompt;
    q.subject = names[i];
    q.target_true = rel.objects[0];
    q.target_new = rel.objects[1 + (i / relations.size() + i % relations.size()) % (kFixedObjects - 1)];
    q.case_id = static_cast<int64_t>(i);
    out.push_back(q);
  }
  return out;
}

const std::vector<StoryRelation>& story_relations() {
  // The fixed set's prompts (each ends in a token of its own, see the header)
  // and its 4 objects first (story_world_requests reads them from here); the
  // rest are common TinyStories words after the prompt.
  static const std::vector<StoryRelation> relations = {
      {"pet", "{} had a pet", {"dog", "cat", "bird", "fish", "bunny", "frog", "duck"}},
      {"color", "{}'s favorite color was", {"blue", "green", "red", "yellow", "pink", "purple"}},
      {"toy", "{} had a toy", {"car", "truck", "boat", "robot", "ball", "doll", "kite"}},
      {"food", "{} liked to eat", {"candy", "pizza", "sandwich", "banana", "apple", "cookie"}},
      {"place", "{} went to the", {"park", "store", "beach", "garden", "zoo", "forest"}},
  };
  return relations;
}

namespace {

constexpr const char* kNameOnsets[] = {"B", "D", "F", "G", "H", "J", "K", "L", "M",
                                       "N", "P", "R", "S", "T", "V", "W", "Z"};
constexpr const char* kNameVowels[] = {"a", "e", "i", "o", "u"};
constexpr const char* kNameSyllables[] = {"bo", "li", "na", "mo", "ra", "do", "ki", "lu",
                                          "pa", "ne", "ro", "mi", "ta", "su", "ve", "zo"};
constexpr size_t kOnsets = std::size(kNameOnsets), kVowels = std::size(kNameVowels),
                 kSyllables = std::size(kNameSyllables);
// Two- and three-syllable names.
constexpr size_t kNameSpace = kOnsets * kVowels * kSyllables * (1 + kSyllables);

std::string invented_name(SplitMixRng& rng) {
  std::string name = std::string(kNameOnsets[rng.below(kOnsets)]) + kNameVowels[rng.below(kVowels)];
  const size_t more = 1 + rng.below(2);
  for (size_t i = 0; i < more; ++i) name += kNameSyllables[rng.below(kSyllables)];
  return name;
}

}  // namespace

std::vector<StoryFact> story_world_facts(uint64_t seed, size_t count) {
  if (seed == 0)
    throw Error("story world: seed 0 is the fixed 50 requests (story_world_requests), not a stream");
  const size_t relations = story_relations().size();
  // Rejection slows as the pairs fill up; half the space keeps it quick.
  if (count > kNameSpace * relations / 2) {
    throw Error("story world: " + std::to_string(count) + " facts asked, the invented names hold at most " +
                std::to_string(kNameSpace * relations / 2));
  }
  SplitMixRng rng(seed);
  std::set<std::pair<std::string, size_t>> seen;
  std::vector<StoryFact> out;
  out.reserve(count);
  while (out.size() < count) {
    StoryFact f;
    f.subject = invented_name(rng);
    f.relation = rng.below(relations);
    if (seen.insert({f.subject, f.relation}).second) out.push_back(std::move(f));
  }
  return out;
}

}  // namespace revive::data
