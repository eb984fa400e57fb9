#include "lib/edit/run/story_world_setup.h"

namespace revive::edit {

StatisticsOptions story_world_statistics(const std::string& corpus, int64_t documents) {
  StatisticsOptions s;
  s.corpus = corpus;
  s.corpus_options.split = data::DocumentSplit::kSeparator;
  s.corpus_options.separator = "<|endoftext|>";
  s.corpus_options.max_documents = static_cast<size_t>(documents);
  s.max_length = 128;
  s.batch_size = 16;
  return s;
}

EditPlan story_world_plan(const EditPreset& preset) {
  EditPlan plan;
  plan.layers.assign(preset.layers.begin(), preset.layers.end());
  plan.module = "mlp.down_proj";
  plan.templates = {{"{}"}, {"One day. {}", "Once upon a time. {}"}};
  plan.values = preset.values();
  return plan;
}

}  // namespace revive::edit
