#include "lib/model/tokenizer/vocab.h"

#include "lib/model/tokenizer/json_node.h"

namespace revive::model::tokenizer {

Vocab Vocab::from_json(const JsonNode& node) {
  Vocab v;
  for (const auto& [token, value] : node.items()) {
    int64_t id = value.integer();
    if (id < 0 || id > kMaxTokenId) value.fail("token id " + std::to_string(id) + " out of range");
    v.to_id_[token] = id;
    // Two tokens sharing an id: decode uses the first, as a map keyed by id would.
    v.to_token_.emplace(id, token);
    if (id > v.max_id_) v.max_id_ = id;
  }
  return v;
}

std::optional<int64_t> Vocab::id(const std::string& token) const {
  auto it = to_id_.find(token);
  if (it == to_id_.end()) return std::nullopt;
  return it->second;
}

const std::string* Vocab::token(int64_t id) const {
  auto it = to_token_.find(id);
  return it == to_token_.end() ? nullptr : &it->second;
}

}  // namespace revive::model::tokenizer
