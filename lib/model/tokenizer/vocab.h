#pragma once
// Token <-> id tables of a model vocabulary. Ids are checked to be in
// [0, kMaxTokenId] so later arithmetic and table sizes stay bounded.
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

namespace revive::model::tokenizer {

class JsonNode;

constexpr int64_t kMaxTokenId = (int64_t{1} << 31) - 1;

class Vocab {
 public:
  // `node`: a {"token": id, ...} object.
  static Vocab from_json(const JsonNode& node);

  std::optional<int64_t> id(const std::string& token) const;
  const std::string* token(int64_t id) const;  // nullptr when unknown
  int64_t max_id() const { return max_id_; }   // -1 when empty
  size_t size() const { return to_id_.size(); }

 private:
  std::unordered_map<std::string, int64_t> to_id_;
  std::unordered_map<int64_t, std::string> to_token_;
  int64_t max_id_ = -1;
};

}  // namespace revive::model::tokenizer
