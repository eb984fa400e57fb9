#pragma once
// General-ability tasks supplied by the user as JSONL, one multiple-choice item
// per line:
//   {"prompt": "The capital of France is", "choices": ["Paris", "Rome"], "label": 0}
// The model picks the choice with the lowest token-averaged NLL after the prompt
// (model::tokenize_continuation; ties: the first such choice). Reported:
// accuracy and macro F1 over the label classes (choice positions) that occur as
// gold or predicted labels, as sklearn's f1_score(average="macro") does.
#include <cstdint>
#include <string>
#include <vector>

#include "lib/eval/metric_list.h"
#include "lib/model/model_fwd.h"
#include "sharding/comm/communicator_fwd.h"

namespace revive::eval {

struct ChoiceTask {
  std::string prompt;
  std::vector<std::string> choices;  // at least two, none blank
  int64_t label = 0;                 // index into choices
};

// Reads a JSONL file (blank lines are skipped). A bad record is a
// revive::InputError naming the file, the 1-based line and the field
// ("line 3: choices[1]").
std::vector<ChoiceTask> read_choice_tasks(const std::string& file);

struct ChoiceOptions {
  int64_t batch_size = 16;
};

struct ChoiceResult {
  std::vector<int64_t> predictions;           // every task, in input order, on every rank
  std::vector<std::vector<int64_t>> confusion;  // [gold][predicted], K x K, K = most choices of a task
  int64_t num_tasks = 0, num_correct = 0;
  double accuracy = 0, macro_f1 = 0;

  MetricList metrics() const;  // accuracy, macro_f1, num_tasks
};

// Macro F1 of a confusion matrix ([gold][predicted]): the mean over classes
// with any gold or predicted item of 2 tp / (2 tp + fp + fn); 0 when empty.
double macro_f1_score(const std::vector<std::vector<int64_t>>& confusion);

ChoiceResult evaluate_choices(model::Transformer& model, const model::Tokenizer& tokenizer,
                              const std::vector<ChoiceTask>& tasks, const ChoiceOptions& options = {},
                              sharding::Communicator* dp = nullptr);

}  // namespace revive::eval
