#pragma once
// Story-world edit requests for stories260K (issue 5's acceptance): facts in the
// model's own TinyStories world with short targets it already uses. 50 names,
// each with one of 5 relations (pet, colour, toy, food, place; cycled, so every
// batch of 10 holds two of each); target_new cycles over three alternatives.
// How the objects were chosen, all measured on the unedited model:
//  - target_true is the object the model itself ranks first among the
//    relation's candidates (lowest mean NLL over 8 names), so nothing is
//    edited before the edit (efficacy 0.00);
//  - no target_new shares its first token with target_true: the edit acts at
//    the prompt's last token (the stories260k preset), and raising a shared
//    first token raises the true object too (tree/truck, cake/cookie);
//  - every prompt ends in a token of its own: "play with a" and "eat a" gave
//    keys with cosine 0.92, so their edits overwrote each other.
// Keys of one relation stay alike across names (cosine 0.997 at the last
// token), so the requests of a relation compete for one key: that is this
// model's limit, and why per-batch efficacy is not 100%.
#include <string>
#include <vector>

#include "lib/data/edit_request.h"

namespace revive::edit::testing {

inline std::vector<data::EditRequest> story_world_requests() {
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
  std::vector<data::EditRequest> out;
  for (size_t i = 0; i < names.size(); ++i) {
    const Relation& rel = relations[i % relations.size()];
    data::EditRequest q;
    q.prompt_template = rel.prompt;
    q.subject = names[i];
    q.target_true = rel.objects[0];
    q.target_new = rel.objects[1 + (i / relations.size() + i % relations.size()) % (rel.objects.size() - 1)];
    q.case_id = static_cast<int64_t>(i);
    out.push_back(q);
  }
  return out;
}

}  // namespace revive::edit::testing
