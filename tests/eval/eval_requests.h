#pragma once
// Small edit requests over the bigram model's words (tests/eval/bigram_model.h).
#include <vector>

#include "lib/data/edit_request.h"

namespace revive::eval::testing {

inline std::vector<data::EditRequest> bigram_requests() {
  std::vector<data::EditRequest> out;
  data::EditRequest a;
  a.prompt_template = "{} lives in";
  a.subject = "alice";
  a.target_new = "new york";  // two tokens
  a.target_true = "paris";
  a.paraphrase_prompts = {"alice is in", "the city alice lives in"};
  a.neighborhood_prompts = {"bob lives in", "carol is a"};
  a.generation_prompts = {"alice is", "alice works as"};
  out.push_back(a);

  data::EditRequest b;
  b.prompt_template = "{} works as";
  b.subject = "bob";
  b.target_new = "chef";
  b.target_true = "doctor";
  b.paraphrase_prompts = {"bob is a"};
  b.neighborhood_prompts = {"dave works as"};
  out.push_back(b);

  data::EditRequest c;  // zsRE-like: no true answer, its own neighbourhood answer
  c.prompt_template = "the city {} is";
  c.subject = "carol";
  c.target_new = "london";
  c.paraphrase_prompts = {"carol lives in"};
  c.neighborhood_prompts = {"dave lives in", "alice works as a"};
  c.neighborhood_target = "rome";
  c.generation_prompts = {"carol"};
  out.push_back(c);

  data::EditRequest d;
  d.prompt_template = "{} is a";
  d.subject = "dave";
  d.target_new = "pilot";
  d.target_true = "doctor and chef";
  out.push_back(d);
  return out;
}

}  // namespace revive::eval::testing
