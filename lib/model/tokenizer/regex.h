#pragma once
// PCRE2 pattern used by the Split / ByteLevel / Whitespace pre-tokenizers and
// the Replace normalizer. Compiled with UTF + UCP so \p{L}, \s, \w and (?i)
// follow Unicode as HF's Oniguruma patterns do, and with MATCH_INVALID_UTF so
// arbitrary bytes can be searched (invalid bytes simply never match).
#include <cstddef>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace revive::model::tokenizer {

class JsonNode;

class Regex {
 public:
  // A bad pattern is an InputError naming `where` (the JSON field it came from).
  Regex(const std::string& pattern, const JsonNode& where);
  // A literal string (HF's {"String": ...} patterns).
  static Regex literal(const std::string& text, const JsonNode& where);
  ~Regex();
  Regex(Regex&&) noexcept;
  Regex& operator=(Regex&&) noexcept;

  // Non-overlapping, non-empty matches as [begin, end) byte spans, left to right.
  std::vector<std::pair<size_t, size_t>> find_all(const std::string& text) const;

 private:
  struct Code;
  Regex() = default;
  std::unique_ptr<Code> code_;
};

}  // namespace revive::model::tokenizer
