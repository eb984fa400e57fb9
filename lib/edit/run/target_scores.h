#pragma once
// How the model scores each request's target_new against its target_true after
// the prompt: the efficacy measure of a batch (MEMIT's rewrite "efficacy
// success"), and, on the model a batch edit leaves, the check that its outputs
// there are finite. One scoring serves both, so a batch is scored once.
#include <optional>
#include <vector>

#include "lib/data/edit_request.h"
#include "lib/model/model_fwd.h"

namespace revive::edit {

struct TargetScores {
  std::vector<double> nll_new;                // mean token NLL of target_new, per request
  std::vector<std::optional<double>> nll_true;  // of target_true; none where it is blank
};

// Collective over the model's tp group (every rank scores every request).
TargetScores score_targets(model::Transformer& model, const model::Tokenizer& tokenizer,
                           const std::vector<data::EditRequest>& requests);

// Fraction of requests whose target_new has a lower mean NLL than target_true;
// without target_true, whose target_new NLL is below ln 2 (p > 0.5 for a single
// token). 0 for no requests.
double efficacy(const TargetScores& scores);

}  // namespace revive::edit
