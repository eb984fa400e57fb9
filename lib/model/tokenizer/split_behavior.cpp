#include "lib/model/tokenizer/split_behavior.h"

#include "lib/model/tokenizer/json_node.h"

namespace revive::model::tokenizer {

SplitBehavior parse_split_behavior(const JsonNode& node) {
  const std::string name = node.str();
  if (name == "Removed") return SplitBehavior::kRemoved;
  if (name == "Isolated") return SplitBehavior::kIsolated;
  if (name == "MergedWithPrevious") return SplitBehavior::kMergedWithPrevious;
  if (name == "MergedWithNext") return SplitBehavior::kMergedWithNext;
  if (name == "Contiguous") return SplitBehavior::kContiguous;
  node.fail("unknown split behavior '" + name + "'");
}

std::vector<std::string> split_pieces(const std::string& text,
                                      const std::vector<std::pair<size_t, size_t>>& matches,
                                      SplitBehavior behavior, bool invert) {
  // Segments covering the whole text, each flagged as delimiter or not.
  struct Segment {
    size_t begin, end;
    bool delimiter;
  };
  std::vector<Segment> segments;
  size_t last = 0;
  for (const auto& [b, e] : matches) {
    if (b > last) segments.push_back({last, b, invert});
    segments.push_back({b, e, !invert});
    last = e;
  }
  if (last < text.size()) segments.push_back({last, text.size(), invert});

  std::vector<std::string> pieces;
  bool can_absorb = false;  // the last piece may still grow (behavior dependent)
  for (const Segment& s : segments) {
    std::string part = text.substr(s.begin, s.end - s.begin);
    switch (behavior) {
      case SplitBehavior::kRemoved:
        if (!s.delimiter) pieces.push_back(part);
        break;
      case SplitBehavior::kIsolated:
        pieces.push_back(part);
        break;
      case SplitBehavior::kMergedWithPrevious:
        if (s.delimiter && can_absorb) {
          pieces.back() += part;
        } else {
          pieces.push_back(part);
        }
        can_absorb = !s.delimiter;
        break;
      case SplitBehavior::kMergedWithNext:
        if (!s.delimiter && can_absorb) {
          pieces.back() += part;
        } else {
          pieces.push_back(part);
        }
        can_absorb = s.delimiter;
        break;
      case SplitBehavior::kContiguous:
        if (s.delimiter && can_absorb) {
          pieces.back() += part;
        } else {
          pieces.push_back(part);
        }
        can_absorb = s.delimiter;
        break;
    }
  }
  return pieces;
}

}  // namespace revive::model::tokenizer
