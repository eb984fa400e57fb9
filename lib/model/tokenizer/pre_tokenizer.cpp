#include "lib/model/tokenizer/pre_tokenizer.h"

#include "lib/model/tokenizer/byte_level.h"
#include "lib/model/tokenizer/json_node.h"
#include "lib/model/tokenizer/regex.h"
#include "lib/model/tokenizer/split_behavior.h"

namespace revive::model::tokenizer {

const char* const kGpt2SplitPattern =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

namespace {

// Splits each piece at a regex's matches with one behavior.
class RegexSplit {
 public:
  RegexSplit(Regex regex, SplitBehavior behavior, bool invert)
      : regex_(std::move(regex)), behavior_(behavior), invert_(invert) {}
  void apply(std::vector<std::string>& pieces) const {
    std::vector<std::string> out;
    for (const std::string& piece : pieces) {
      for (std::string& p : split_pieces(piece, regex_.find_all(piece), behavior_, invert_)) {
        out.push_back(std::move(p));
      }
    }
    pieces.swap(out);
  }

 private:
  Regex regex_;
  SplitBehavior behavior_;
  bool invert_;
};

class SequencePreTokenizer final : public PreTokenizer {
 public:
  explicit SequencePreTokenizer(const JsonNode& node) {
    JsonNode list = node.require("pretokenizers");
    for (size_t i = 0; i < list.size(); ++i) parts_.push_back(make_pre_tokenizer(list.index(i)));
  }
  void pre_tokenize(std::vector<std::string>& pieces, bool at_text_start) const override {
    for (const auto& p : parts_) p->pre_tokenize(pieces, at_text_start);
  }

 private:
  std::vector<std::unique_ptr<PreTokenizer>> parts_;
};

Regex pre_tokenizer_pattern_regex(const JsonNode& pattern) {
  if (pattern.has("String")) return Regex::literal(pattern.at("String").str(), pattern.at("String"));
  if (pattern.has("Regex")) return Regex(pattern.at("Regex").str(), pattern.at("Regex"));
  pattern.fail("expected {\"String\": ...} or {\"Regex\": ...}");
}

class SplitPreTokenizer final : public PreTokenizer {
 public:
  explicit SplitPreTokenizer(const JsonNode& node)
      : split_(pre_tokenizer_pattern_regex(node.require("pattern")),
               parse_split_behavior(node.require("behavior")), node.bool_or("invert", false)) {}
  void pre_tokenize(std::vector<std::string>& pieces, bool) const override {
    split_.apply(pieces);
  }

 private:
  RegexSplit split_;
};

// Optionally splits with the GPT-2 pattern, then maps every byte to its
// printable stand-in so the BPE model sees the byte-level alphabet.
class ByteLevelPreTokenizer final : public PreTokenizer {
 public:
  explicit ByteLevelPreTokenizer(const JsonNode& node)
      : add_prefix_space_(node.bool_or("add_prefix_space", true)) {
    node.bool_or("trim_offsets", true);  // offsets are not tracked; type-checked only
    if (node.bool_or("use_regex", true)) {
      split_ = std::make_unique<RegexSplit>(Regex(kGpt2SplitPattern, node),
                                            SplitBehavior::kIsolated, false);
    }
  }
  void pre_tokenize(std::vector<std::string>& pieces, bool) const override {
    if (add_prefix_space_) {
      for (std::string& p : pieces) {
        if (p.empty() || p[0] != ' ') p.insert(0, " ");
      }
    }
    if (split_) split_->apply(pieces);
    for (std::string& p : pieces) p = byte_level_encode(p);
  }

 private:
  bool add_prefix_space_;
  std::unique_ptr<RegexSplit> split_;
};

// Spaces become the replacement character ("▁"), optionally prepended, and
// optionally the text is cut before each replacement.
class MetaspacePreTokenizer final : public PreTokenizer {
 public:
  explicit MetaspacePreTokenizer(const JsonNode& node)
      : replacement_(node.require("replacement").str()),
        split_on_replacement_(node.bool_or("split", true)),
        space_(Regex::literal(" ", node)),
        splitter_(Regex::literal(replacement_.empty() ? "\xE2\x96\x81" : replacement_,
                                 node.at("replacement")),
                  SplitBehavior::kMergedWithNext, false) {
    if (replacement_.empty()) node.at("replacement").fail("empty replacement");
    if (node.has("prepend_scheme")) {
      JsonNode scheme = node.at("prepend_scheme");
      const std::string s = scheme.str();
      if (s == "always") {
        scheme_ = Scheme::kAlways;
      } else if (s == "first") {
        scheme_ = Scheme::kFirst;
      } else if (s == "never") {
        scheme_ = Scheme::kNever;
      } else {
        scheme.fail("unknown prepend_scheme '" + s + "'");
      }
    } else {
      scheme_ = node.bool_or("add_prefix_space", true) ? Scheme::kAlways : Scheme::kNever;
    }
  }
  void pre_tokenize(std::vector<std::string>& pieces, bool at_text_start) const override {
    for (size_t i = 0; i < pieces.size(); ++i) {
      std::string& p = pieces[i];
      std::string replaced;
      size_t last = 0;
      for (const auto& [b, e] : space_.find_all(p)) {
        replaced.append(p, last, b - last);
        replaced += replacement_;
        last = e;
      }
      replaced.append(p, last, std::string::npos);
      bool prepend = scheme_ == Scheme::kAlways || (scheme_ == Scheme::kFirst && at_text_start && i == 0);
      if (prepend && replaced.compare(0, replacement_.size(), replacement_) != 0) {
        replaced.insert(0, replacement_);
      }
      p = std::move(replaced);
    }
    if (split_on_replacement_) splitter_.apply(pieces);
  }

 private:
  enum class Scheme { kAlways, kFirst, kNever };
  std::string replacement_;
  bool split_on_replacement_;
  Scheme scheme_ = Scheme::kAlways;
  Regex space_;
  RegexSplit splitter_;
};

// Pre-tokenizers that are one fixed regex split.
class FixedSplitPreTokenizer final : public PreTokenizer {
 public:
  FixedSplitPreTokenizer(const JsonNode& node, const char* pattern, SplitBehavior behavior,
                         bool invert)
      : split_(Regex(pattern, node), behavior, invert) {}
  void pre_tokenize(std::vector<std::string>& pieces, bool) const override {
    split_.apply(pieces);
  }

 private:
  RegexSplit split_;
};

// ASCII punctuation counts too (HF uses is_ascii_punctuation || is_punctuation).
const char* const kPunctuation = "[\\p{P}\\x{21}-\\x{2F}\\x{3A}-\\x{40}\\x{5B}-\\x{60}\\x{7B}-\\x{7E}]";

class BertPreTokenizer final : public PreTokenizer {
 public:
  explicit BertPreTokenizer(const JsonNode& node)
      : words_(Regex("\\s+", node), SplitBehavior::kRemoved, false),
        punct_(Regex(kPunctuation, node), SplitBehavior::kIsolated, false) {}
  void pre_tokenize(std::vector<std::string>& pieces, bool) const override {
    words_.apply(pieces);
    punct_.apply(pieces);
  }

 private:
  RegexSplit words_, punct_;
};

}  // namespace

std::unique_ptr<PreTokenizer> make_pre_tokenizer(const JsonNode& node) {
  const std::string type = node.type();
  if (type == "Sequence") return std::make_unique<SequencePreTokenizer>(node);
  if (type == "Split") return std::make_unique<SplitPreTokenizer>(node);
  if (type == "ByteLevel") return std::make_unique<ByteLevelPreTokenizer>(node);
  if (type == "Metaspace") return std::make_unique<MetaspacePreTokenizer>(node);
  if (type == "Whitespace") {
    // Keeps word runs and punctuation runs; whitespace (the unmatched rest) goes.
    return std::make_unique<FixedSplitPreTokenizer>(node, "\\w+|[^\\w\\s]+",
                                                    SplitBehavior::kRemoved, true);
  }
  if (type == "WhitespaceSplit") {
    return std::make_unique<FixedSplitPreTokenizer>(node, "\\s+", SplitBehavior::kRemoved, false);
  }
  if (type == "Digits") {
    bool individual = node.bool_or("individual_digits", false);
    return std::make_unique<FixedSplitPreTokenizer>(
        node, "\\p{N}", individual ? SplitBehavior::kIsolated : SplitBehavior::kContiguous, false);
  }
  if (type == "Punctuation") {
    SplitBehavior behavior = node.has("behavior") ? parse_split_behavior(node.at("behavior"))
                                                  : SplitBehavior::kIsolated;
    return std::make_unique<FixedSplitPreTokenizer>(node, kPunctuation, behavior, false);
  }
  if (type == "BertPreTokenizer") return std::make_unique<BertPreTokenizer>(node);
  node.at("type").fail("unsupported pre_tokenizer type '" + type + "'");
}

}  // namespace revive::model::tokenizer
