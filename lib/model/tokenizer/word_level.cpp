#include "lib/model/tokenizer/word_level.h"

#include "lib/model/tokenizer/json_node.h"
#include "sharding/errors.h"

namespace revive::model::tokenizer {

WordLevelModel::WordLevelModel(const JsonNode& node)
    : vocab_(Vocab::from_json(node.require("vocab"))),
      unk_token_(node.str_or("unk_token", "<unk>")) {
  unk_id_ = vocab_.id(unk_token_);
}

void WordLevelModel::tokenize(const std::string& piece, std::vector<int64_t>& out) const {
  if (piece.empty()) return;
  if (auto id = vocab_.id(piece)) {
    out.push_back(*id);
  } else if (unk_id_) {
    out.push_back(*unk_id_);
  } else {
    throw Error("tokenizer: WordLevel piece '" + piece + "' is unknown and unk_token '" +
                unk_token_ + "' is not in the vocabulary");
  }
}

}  // namespace revive::model::tokenizer
