#pragma once
// Story-world edit requests for stories260K (issue 5's acceptance): facts in the
// model's own TinyStories world with short targets it already uses. 10 names x 5
// relations = 50 requests; target_new is another word of the same relation,
// chosen deterministically per name.
#include <string>
#include <vector>

#include "lib/data/edit_request.h"

namespace revive::edit::testing {

inline std::vector<data::EditRequest> story_world_requests() {
  const std::vector<std::string> names = {"Tom", "Lily", "Ben", "Sue", "Max", "Anna", "Tim", "Mia", "Sam", "Lucy"};
  struct Relation {
    std::string prompt;
    std::vector<std::string> objects;  // objects[0] is target_true
  };
  const std::vector<Relation> relations = {
      {"{} had a pet", {"dog", "cat", "bird", "fish"}},
      {"{}'s favorite color was", {"red", "blue", "green", "yellow"}},
      {"{} liked to play with a", {"ball", "doll", "car", "kite"}},
      {"{} wanted to eat a", {"cake", "apple", "cookie", "banana"}},
      {"{} saw a big", {"tree", "bear", "truck", "boat"}},
  };
  std::vector<data::EditRequest> out;
  for (size_t r = 0; r < relations.size(); ++r) {
    for (size_t n = 0; n < names.size(); ++n) {
      data::EditRequest q;
      q.prompt_template = relations[r].prompt;
      q.subject = names[n];
      q.target_true = relations[r].objects[0];
      q.target_new = relations[r].objects[1 + (n + r) % (relations[r].objects.size() - 1)];
      q.case_id = static_cast<int64_t>(out.size());
      out.push_back(q);
    }
  }
  // Interleave relations so every batch of 10 mixes them.
  std::vector<data::EditRequest> mixed;
  for (size_t n = 0; n < names.size(); ++n) {
    for (size_t r = 0; r < relations.size(); ++r) mixed.push_back(out[r * names.size() + n]);
  }
  return mixed;
}

}  // namespace revive::edit::testing
