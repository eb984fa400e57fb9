#pragma once
// How a pattern's matches cut a piece (HF SplitDelimiterBehavior), shared by
// the Split, Whitespace, Digits, Punctuation and Metaspace pre-tokenizers.
// "the-final--countdown" split on "-":
//   Removed            the | final | countdown
//   Isolated           the | - | final | - | - | countdown
//   MergedWithPrevious the- | final- | - | countdown
//   MergedWithNext     the | -final | - | -countdown
//   Contiguous         the | - | final | -- | countdown
#include <cstddef>
#include <string>
#include <utility>
#include <vector>

namespace revive::model::tokenizer {

class JsonNode;

enum class SplitBehavior { kRemoved, kIsolated, kMergedWithPrevious, kMergedWithNext, kContiguous };

SplitBehavior parse_split_behavior(const JsonNode& node);

// Cuts `text` at the match spans (sorted, non-overlapping); with `invert` the
// spans between matches act as the delimiters instead. Empty pieces are dropped.
std::vector<std::string> split_pieces(const std::string& text,
                                      const std::vector<std::pair<size_t, size_t>>& matches,
                                      SplitBehavior behavior, bool invert);

}  // namespace revive::model::tokenizer
