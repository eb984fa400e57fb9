#include "lib/edit/run/story_world_stream.h"

#include <string>

#include "lib/data/splitmix_rng.h"
#include "lib/data/story_world.h"
#include "lib/model/log_probs.h"
#include "lib/model/prompt_tokens.h"
#include "sharding/errors.h"

namespace revive::edit {

std::vector<data::EditRequest> story_world_stream(model::Transformer& model,
                                                  const model::Tokenizer& tokenizer, uint64_t seed,
                                                  size_t count) {
  const std::vector<data::StoryFact> facts = data::story_world_facts(seed, count);
  const std::vector<data::StoryRelation>& relations = data::story_relations();
  // Every candidate of every fact, scored in one pass.
  std::vector<model::Continuation> items;
  std::vector<data::EditRequest> out(facts.size());
  for (size_t i = 0; i < facts.size(); ++i) {
    const data::StoryRelation& rel = relations[facts[i].relation];
    out[i].prompt_template = rel.prompt;
    out[i].subject = facts[i].subject;
    out[i].relation_id = rel.id;
    out[i].case_id = static_cast<int64_t>(i);
    const std::string prompt = out[i].prompt();
    for (const std::string& object : rel.objects)
      items.push_back(model::tokenize_continuation(tokenizer, prompt, object));
  }
  const std::vector<model::ContinuationScore> scores = model::score_continuations(model, items, 32);
  // A stream of its own for the new objects, so the facts' draws stay as they are.
  data::SplitMixRng rng(seed ^ 0xA5A5A5A5A5A5A5A5ull);
  size_t first = 0;  // the fact's first item
  for (size_t i = 0; i < facts.size(); ++i) {
    const data::StoryRelation& rel = relations[facts[i].relation];
    size_t best = 0;
    for (size_t j = 1; j < rel.objects.size(); ++j) {
      if (scores[first + j].mean_nll < scores[first + best].mean_nll) best = j;
    }
    std::vector<size_t> candidates;
    for (size_t j = 0; j < rel.objects.size(); ++j) {
      if (items[first + j].target.front() != items[first + best].target.front()) candidates.push_back(j);
    }
    if (candidates.empty()) {
      throw Error("story world: relation '" + rel.id + "' has no object apart from '" + rel.objects[best] +
                  "' with another first token");
    }
    out[i].target_true = rel.objects[best];
    out[i].target_new = rel.objects[candidates[rng.below(candidates.size())]];
    first += rel.objects.size();
  }
  return out;
}

}  // namespace revive::edit
