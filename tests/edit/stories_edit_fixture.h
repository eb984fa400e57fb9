#pragma once
// stories260K set up for editing tests: model, tokenizer, statistics options on
// the TinyStories head. Tests using it skip when the fixtures are absent.
#include <memory>
#include <string>

#include "lib/edit/layer_statistics.h"
#include "lib/model/model_loader.h"
#include "lib/model/tokenizer.h"
#include "lib/model/transformer.h"
#include "tests/support/fixtures.h"

namespace revive::edit::testing {

inline StatisticsOptions stories_statistics(const std::string& corpus, int64_t documents = 120) {
  StatisticsOptions s;
  s.corpus = corpus;
  s.corpus_options.split = data::DocumentSplit::kSeparator;
  s.corpus_options.separator = "<|endoftext|>";
  s.corpus_options.max_documents = static_cast<size_t>(documents);
  s.max_length = 128;
  s.batch_size = 16;
  return s;
}

}  // namespace revive::edit::testing
