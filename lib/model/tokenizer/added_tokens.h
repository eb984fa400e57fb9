#pragma once
// added_tokens of tokenizer.json: strings matched in the text before the model
// runs, so they are never split. Non-normalized tokens are matched on the raw
// text, normalized ones on each normalized segment (HF's two passes).
// Matching is leftmost-longest; lstrip/rstrip swallow adjacent whitespace;
// single_word tokens only match between non-word characters.
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace revive::model::tokenizer {

class JsonNode;
class Normalizer;

struct AddedToken {
  int64_t id = 0;
  std::string content;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = true;
  bool special = false;
};

// A stretch of text: an added token (id set) or text for the model.
struct Segment {
  std::string text;
  std::optional<int64_t> id;
};

class AddedVocabulary {
 public:
  AddedVocabulary() = default;
  // `list`: the added_tokens array (may be null). `normalizer` (may be null)
  // gives the form normalized tokens take in normalized text.
  AddedVocabulary(const JsonNode& list, const Normalizer* normalizer);

  // Splits text on the raw-text (normalized=false) or normalized-text tokens.
  std::vector<Segment> split(const std::string& text, bool normalized_pass) const;

  std::optional<int64_t> id(const std::string& content) const;
  const AddedToken* token(int64_t id) const;
  const std::vector<AddedToken>& tokens() const { return tokens_; }

 private:
  struct Matcher {
    // Token indices by first byte of their match form, longest first.
    std::vector<std::vector<size_t>> by_first_byte = std::vector<std::vector<size_t>>(256);
    std::vector<std::string> forms;  // match form of each token index (empty: not in set)
  };
  std::vector<Segment> split_with(const std::string& text, const Matcher& m) const;

  std::vector<AddedToken> tokens_;
  std::unordered_map<std::string, int64_t> by_content_;
  std::unordered_map<int64_t, size_t> by_id_;
  Matcher raw_, normalized_;
};

}  // namespace revive::model::tokenizer
