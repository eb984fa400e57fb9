#include "lib/data/story_world.h"

#include <string>

namespace revive::data {

std::vector<EditRequest> story_world_requests() {
  const std::vector<std::string> names = {
      "Tom",   "Lily", "Ben",  "Sue",  "Max",   "Anna",  "Tim",   "Mia",  "Sam",   "Lucy",
      "Jack",  "Sara", "Bob",  "Amy",  "Joe",   "Kate",  "Jake",  "Emma", "Billy", "Molly",
      "Timmy", "Jane", "Mike", "Zoe",  "Leo",   "Ellie", "Kim",   "Dan",  "Jill",  "Pam",
      "Ted",   "Rose", "Fred", "Lisa", "Jen",   "Bella", "Mark",  "Ann",  "Peter", "Sally",
      "Daisy", "Nick", "Jenny", "Bill", "Tina", "Jim",   "Kitty", "Spot", "Mom",   "Dad"};
  struct Relation {
    std::string prompt;
    std::vector<std::string> objects;  // objects[0] is target_true
  };
  const std::vector<Relation> relations = {
      {"{} had a pet", {"dog", "cat", "bird", "fish"}},
      {"{}'s favorite color was", {"blue", "green", "red", "yellow"}},
      {"{} had a toy", {"car", "truck", "boat", "robot"}},
      {"{} liked to eat", {"candy", "pizza", "sandwich", "banana"}},
      {"{} went to the", {"park", "store", "beach", "garden"}},
  };
  std::vector<EditRequest> out;
  for (size_t i = 0; i < names.size(); ++i) {
    const Relation& rel = relations[i % relations.size()];
    EditRequest q;
    q.prompt_template = rel.prompt;
    q.subject = names[i];
    q.target_true = rel.objects[0];
    q.target_new = rel.objects[1 + (i / relations.size() + i % relations.size()) % (rel.objects.size() - 1)];
    q.case_id = static_cast<int64_t>(i);
    out.push_back(q);
  }
  return out;
}

}  // namespace revive::data
