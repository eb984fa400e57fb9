#pragma once
// Recall of the toy world's facts: for every fact and every phrasing of its
// relation, is the object the model's top-1 next token after
// "<phrasing with the subject>"? Tokenised with model::tokenize_continuation
// (prompt + " " + object), the convention editing and evaluation use; an object
// of several tokens counts when every one of them is top-1 given the previous.
#include <cstdint>
#include <vector>

#include "lib/data/toy_world.h"
#include "lib/model/log_probs.h"
#include "lib/model/model_fwd.h"

namespace revive::train {

struct FactProbe {
  int fact = 0;  // index into ToyWorld::facts()
  int phrasing = 0;
  model::Continuation tokens;  // prompt (with BOS) and object tokens
};

// One probe per (fact, phrasing), fact-major.
std::vector<FactProbe> make_fact_probes(const data::ToyWorld& world, const model::Tokenizer& tokenizer);

struct RecallReport {
  int64_t probes = 0, probes_recalled = 0;
  int64_t facts = 0, facts_recalled = 0;  // a fact counts when recalled in every phrasing
  double recall() const { return probes == 0 ? 0.0 : static_cast<double>(probes_recalled) / probes; }
  double fact_recall() const { return facts == 0 ? 0.0 : static_cast<double>(facts_recalled) / facts; }
};

// Runs the probes through `model` without gradients, batch_size per forward.
RecallReport measure_fact_recall(model::Transformer& model, const std::vector<FactProbe>& probes,
                                 int64_t batch_size = 512);

}  // namespace revive::train
