#include "lib/eval/choice_tasks.h"

#include <ATen/ATen.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <fstream>

#include "lib/data/edit_request.h"
#include "lib/eval/dp_split.h"
#include "lib/model/log_probs.h"
#include "lib/model/prompt_tokens.h"
#include "lib/model/tokenizer.h"
#include "lib/model/transformer.h"
#include "sharding/errors.h"

namespace revive::eval {

namespace {

[[noreturn]] void choice_fail(const std::string& file, size_t line, const std::string& field, const std::string& what) {
  throw InputError(file, "line " + std::to_string(line) + (field.empty() ? "" : ": " + field), what);
}

ChoiceTask choice_parse(const std::string& file, size_t line, const std::string& text) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    choice_fail(file, line, "", std::string("not valid JSON: ") + e.what());
  }
  if (!j.is_object()) choice_fail(file, line, "", "a record must be a JSON object");
  ChoiceTask t;
  if (!j.contains("prompt") || !j["prompt"].is_string()) choice_fail(file, line, "prompt", "missing or not a string");
  t.prompt = j["prompt"].get<std::string>();
  if (data::is_blank(t.prompt)) choice_fail(file, line, "prompt", "is blank");
  if (!j.contains("choices") || !j["choices"].is_array()) choice_fail(file, line, "choices", "missing or not a list");
  const nlohmann::json& ch = j["choices"];
  if (ch.size() < 2) choice_fail(file, line, "choices", "needs at least two choices");
  for (size_t i = 0; i < ch.size(); ++i) {
    const std::string field = "choices[" + std::to_string(i) + "]";
    if (!ch[i].is_string()) choice_fail(file, line, field, "not a string");
    t.choices.push_back(ch[i].get<std::string>());
    if (data::is_blank(t.choices.back())) choice_fail(file, line, field, "is blank");
  }
  if (!j.contains("label") || !j["label"].is_number_integer()) choice_fail(file, line, "label", "missing or not an integer");
  t.label = j["label"].get<int64_t>();
  if (t.label < 0 || t.label >= static_cast<int64_t>(t.choices.size())) {
    choice_fail(file, line, "label", std::to_string(t.label) + " is not an index into the " +
                                         std::to_string(t.choices.size()) + " choices");
  }
  return t;
}

}  // namespace

std::vector<ChoiceTask> read_choice_tasks(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError(file, "", "cannot open file");
  std::vector<ChoiceTask> out;
  std::string text;
  size_t line = 0;
  while (std::getline(in, text)) {
    ++line;
    if (data::is_blank(text)) continue;
    out.push_back(choice_parse(file, line, text));
  }
  return out;
}

double macro_f1_score(const std::vector<std::vector<int64_t>>& confusion) {
  const size_t k = confusion.size();
  double sum = 0;
  int64_t classes = 0;
  for (size_t c = 0; c < k; ++c) {
    REVIVE_CHECK(confusion[c].size() == k, "macro_f1: the confusion matrix must be square");
    int64_t gold = 0, predicted = 0;
    for (size_t o = 0; o < k; ++o) {
      gold += confusion[c][o];
      predicted += confusion[o][c];
    }
    if (gold == 0 && predicted == 0) continue;
    const int64_t tp = confusion[c][c];
    const int64_t fp = predicted - tp, fn = gold - tp;
    sum += 2.0 * static_cast<double>(tp) / static_cast<double>(2 * tp + fp + fn);
    ++classes;
  }
  return classes > 0 ? sum / static_cast<double>(classes) : 0.0;
}

MetricList ChoiceResult::metrics() const {
  return {{"accuracy", accuracy}, {"macro_f1", macro_f1}, {"num_tasks", static_cast<double>(num_tasks)}};
}

ChoiceResult evaluate_choices(model::Transformer& model, const model::Tokenizer& tokenizer,
                              const std::vector<ChoiceTask>& tasks, const ChoiceOptions& options,
                              sharding::Communicator* dp) {
  const DpSplit split(dp);
  const std::vector<size_t> mine = split.mine(tasks.size());
  std::vector<model::Continuation> items;
  std::vector<size_t> first;  // index of each owned task's first choice in items
  for (size_t i : mine) {
    first.push_back(items.size());
    for (const std::string& c : tasks[i].choices) items.push_back(model::tokenize_continuation(tokenizer, tasks[i].prompt, c));
  }
  const std::vector<model::ContinuationScore> scores = model::score_continuations(model, items, options.batch_size);

  // Predictions as +1-shifted ids (0: not mine), summed over ranks.
  at::Tensor pred = at::zeros({static_cast<int64_t>(tasks.size())}, at::kLong);
  int64_t* pred_ptr = pred.data_ptr<int64_t>();
  for (size_t k = 0; k < mine.size(); ++k) {
    const ChoiceTask& t = tasks[mine[k]];
    size_t best = 0;
    for (size_t c = 1; c < t.choices.size(); ++c) {
      if (scores[first[k] + c].mean_nll < scores[first[k] + best].mean_nll) best = c;
    }
    pred_ptr[mine[k]] = static_cast<int64_t>(best) + 1;
  }
  split.sum(pred);

  ChoiceResult r;
  size_t k_classes = 0;
  for (const ChoiceTask& t : tasks) k_classes = std::max(k_classes, t.choices.size());
  r.confusion.assign(k_classes, std::vector<int64_t>(k_classes, 0));
  r.num_tasks = static_cast<int64_t>(tasks.size());
  for (size_t i = 0; i < tasks.size(); ++i) {
    const int64_t p = pred_ptr[i] - 1;
    REVIVE_CHECK(p >= 0, "choice task evaluated by no rank");
    r.predictions.push_back(p);
    r.confusion[static_cast<size_t>(tasks[i].label)][static_cast<size_t>(p)] += 1;
    if (p == tasks[i].label) ++r.num_correct;
  }
  if (r.num_tasks > 0) r.accuracy = static_cast<double>(r.num_correct) / static_cast<double>(r.num_tasks);
  r.macro_f1 = macro_f1_score(r.confusion);
  return r;
}

}  // namespace revive::eval
