#pragma once
// WordLevel model: each pre-tokenized piece is one vocabulary entry, or the
// unk token when it is not in the vocabulary.
#include <optional>

#include "lib/model/tokenizer/token_model.h"

namespace revive::model::tokenizer {

class WordLevelModel final : public TokenModel {
 public:
  explicit WordLevelModel(const JsonNode& node);
  void tokenize(const std::string& piece, std::vector<int64_t>& out) const override;
  const Vocab& vocab() const override { return vocab_; }

 private:
  Vocab vocab_;
  std::string unk_token_;
  std::optional<int64_t> unk_id_;
};

}  // namespace revive::model::tokenizer
