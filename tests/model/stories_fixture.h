#pragma once
// The stories260K acceptance protocol that ../shared/data/stories260K-hf/README.md
// describes, over the TinyStories head in text_corpora: documents split on the
// separator and stripped, the tokenizer's BOS first, 50 documents of at most 256
// tokens each.
#include <string>
#include <vector>

#include "lib/model/tokenizer.h"
#include "tests/support/fixture_files.h"

namespace revive::model::testing {

inline std::vector<std::string> first_stories(const std::string& corpus_path, size_t n) {
  return ::revive::testing::split_stripped(::revive::testing::read_text(corpus_path), "<|endoftext|>", n);
}

inline std::vector<std::vector<int64_t>> story_tokens(const Tokenizer& tok, const std::string& corpus_path,
                                                      size_t n = 50, size_t max_tokens = 256) {
  std::vector<std::vector<int64_t>> out;
  for (const std::string& s : first_stories(corpus_path, n)) {
    std::vector<int64_t> ids = tok.encode(s, /*add_special=*/true);
    if (ids.size() > max_tokens) ids.resize(max_tokens);
    out.push_back(std::move(ids));
  }
  return out;
}

using ::revive::testing::read_json;

}  // namespace revive::model::testing
