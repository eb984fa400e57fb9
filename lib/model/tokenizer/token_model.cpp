#include "lib/model/tokenizer/token_model.h"

#include "lib/model/tokenizer/bpe_model.h"
#include "lib/model/tokenizer/json_node.h"
#include "lib/model/tokenizer/word_level.h"

namespace revive::model::tokenizer {

std::unique_ptr<TokenModel> make_token_model(const JsonNode& node) {
  // Old files omit "type" for BPE; HF infers it from the presence of merges.
  std::string type = node.has("type") ? node.at("type").str()
                     : node.has("merges") ? "BPE"
                                          : node.type();
  if (type == "BPE") return std::make_unique<BpeModel>(node);
  if (type == "WordLevel") return std::make_unique<WordLevelModel>(node);
  node.at("type").fail("unsupported model type '" + type + "'");
}

}  // namespace revive::model::tokenizer
