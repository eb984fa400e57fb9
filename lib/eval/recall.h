#pragma once
// Recall of (prompt, answer) pairs: a fact is recalled when every token of its
// answer is the model's teacher-forced argmax (target_accuracy.h). The demo uses
// it for the "retained accuracy" of facts that were not edited.
#include <cstdint>
#include <string>
#include <vector>

#include "lib/data/edit_request.h"
#include "lib/eval/metric_list.h"
#include "lib/model/model_fwd.h"
#include "sharding/comm/communicator_fwd.h"

namespace revive::eval {

struct FactQuery {
  std::string prompt;  // filled in ("Belamo lives in")
  std::string answer;  // "Paris"
};

// The requests' original facts: prompt() -> target_true (requests without one are left out).
std::vector<FactQuery> true_facts(const std::vector<data::EditRequest>& requests);
// The requests' edited facts: prompt() -> target_new.
std::vector<FactQuery> new_facts(const std::vector<data::EditRequest>& requests);

struct RecallOptions {
  int64_t batch_size = 16;
};

struct RecallResult {
  int64_t num_facts = 0, num_recalled = 0;
  int64_t correct_tokens = 0, num_tokens = 0;
  double accuracy = 0;        // num_recalled / num_facts
  double token_accuracy = 0;  // correct_tokens / num_tokens

  MetricList metrics() const;
};

RecallResult evaluate_recall(model::Transformer& model, const model::Tokenizer& tokenizer,
                             const std::vector<FactQuery>& facts, const RecallOptions& options = {},
                             sharding::Communicator* dp = nullptr);

}  // namespace revive::eval
