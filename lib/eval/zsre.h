#pragma once
// zsRE metrics as MEMIT's code computes them (kmeng01/memit,
// experiments/py/eval_utils_zsre.py and experiments/summarize.py): token-level
// top-1 accuracy, teacher forced - the fraction of a target's tokens that are
// the model's argmax given the prompt and the gold prefix - per request, then
// the mean over requests:
//
//   edit_accuracy      prompt()                -> target_new
//   rephrase_accuracy  paraphrase_prompts[0]   -> target_new
//   locality_accuracy  neighborhood_prompts    -> neighborhood_answer()
//                      (all of a request's neighbourhood tokens pooled)
#include <cstdint>
#include <vector>

#include "lib/data/edit_request.h"
#include "lib/eval/metric_list.h"
#include "lib/model/model_fwd.h"
#include "sharding/comm/communicator_fwd.h"

namespace revive::eval {

struct ZsreOptions {
  int64_t batch_size = 16;
};

struct ZsreScores {
  double edit_accuracy = 0;
  double rephrase_accuracy = 0;  // valid when has_rephrase
  double locality_accuracy = 0;  // valid when has_locality
  bool has_rephrase = false, has_locality = false;
};

struct ZsreResult {
  std::vector<ZsreScores> requests;  // every request, in input order, on every rank
  double edit_accuracy = 0, rephrase_accuracy = 0, locality_accuracy = 0;
  int64_t num_rephrase = 0, num_locality = 0;

  MetricList metrics() const;
};

ZsreResult evaluate_zsre(model::Transformer& model, const model::Tokenizer& tokenizer,
                         const std::vector<data::EditRequest>& requests, const ZsreOptions& options = {},
                         sharding::Communicator* dp = nullptr);

}  // namespace revive::eval
