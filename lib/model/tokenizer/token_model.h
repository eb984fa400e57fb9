#pragma once
// The "model" of tokenizer.json: turns one pre-tokenized piece into ids.
// Implementations: BpeModel (bpe_model.h), WordLevelModel (word_level.h);
// make_token_model dispatches on "type".
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "lib/model/tokenizer/vocab.h"

namespace revive::model::tokenizer {

class JsonNode;

class TokenModel {
 public:
  virtual ~TokenModel() = default;
  // Appends the ids of `piece` to `out`.
  virtual void tokenize(const std::string& piece, std::vector<int64_t>& out) const = 0;
  virtual const Vocab& vocab() const = 0;
};

// `node` is the "model" object.
std::unique_ptr<TokenModel> make_token_model(const JsonNode& node);

}  // namespace revive::model::tokenizer
