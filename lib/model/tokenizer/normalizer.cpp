#include "lib/model/tokenizer/normalizer.h"

#include <vector>

#include "lib/model/tokenizer/json_node.h"
#include "lib/model/tokenizer/regex.h"
#include "sharding/errors.h"

namespace revive::model::tokenizer {

namespace {

class SequenceNormalizer final : public Normalizer {
 public:
  explicit SequenceNormalizer(const JsonNode& node) {
    JsonNode list = node.require("normalizers");
    for (size_t i = 0; i < list.size(); ++i) parts_.push_back(make_normalizer(list.index(i)));
  }
  std::string normalize(const std::string& text) const override {
    std::string out = text;
    for (const auto& p : parts_) out = p->normalize(out);
    return out;
  }

 private:
  std::vector<std::unique_ptr<Normalizer>> parts_;
};

// SentencePiece's dummy prefix: "▁" before a non-empty text.
class PrependNormalizer final : public Normalizer {
 public:
  explicit PrependNormalizer(const JsonNode& node) : prefix_(node.require("prepend").str()) {}
  std::string normalize(const std::string& text) const override {
    return text.empty() ? text : prefix_ + text;
  }

 private:
  std::string prefix_;
};

// A {"String": s} or {"Regex": r} pattern object as HF writes it.
Regex normalizer_pattern_regex(const JsonNode& pattern) {
  if (pattern.has("String")) return Regex::literal(pattern.at("String").str(), pattern.at("String"));
  if (pattern.has("Regex")) return Regex(pattern.at("Regex").str(), pattern.at("Regex"));
  pattern.fail("expected {\"String\": ...} or {\"Regex\": ...}");
}

class ReplaceNormalizer final : public Normalizer {
 public:
  explicit ReplaceNormalizer(const JsonNode& node)
      : pattern_(normalizer_pattern_regex(node.require("pattern"))),
        content_(node.require("content").str()) {}
  std::string normalize(const std::string& text) const override {
    std::string out;
    size_t last = 0;
    for (const auto& [b, e] : pattern_.find_all(text)) {
      out.append(text, last, b - last);
      out += content_;
      last = e;
    }
    out.append(text, last, std::string::npos);
    return out;
  }

 private:
  Regex pattern_;
  std::string content_;
};

class StripNormalizer final : public Normalizer {
 public:
  explicit StripNormalizer(const JsonNode& node)
      : left_(node.bool_or("strip_left", true)),
        right_(node.bool_or("strip_right", true)),
        space_("\\s+", node) {}
  std::string normalize(const std::string& text) const override {
    size_t begin = 0, end = text.size();
    for (const auto& [b, e] : space_.find_all(text)) {
      if (left_ && b == 0) begin = e;
      if (right_ && e == text.size()) end = b;
    }
    return begin >= end ? std::string() : text.substr(begin, end - begin);
  }

 private:
  bool left_, right_;
  Regex space_;
};

// NFC without composition tables: text that NFC leaves unchanged passes
// through. Characters that NFC may change (combining marks, conjoining Hangul
// jamo, and the blocks holding NFC_Quick_Check=No singletons) are refused with
// an error rather than tokenized wrongly. A conservative superset: it may
// refuse text that full NFC would leave alone, but never returns wrong text.
class NfcNormalizer final : public Normalizer {
 public:
  explicit NfcNormalizer(const JsonNode& node)
      : may_change_(
            "[\\p{M}\\x{1100}-\\x{11FF}\\x{0340}-\\x{0344}\\x{0374}\\x{037E}\\x{0387}"
            "\\x{0958}-\\x{0B5D}\\x{0F43}-\\x{0FB9}\\x{1F71}-\\x{1FFD}\\x{2000}\\x{2001}"
            "\\x{2126}\\x{212A}\\x{212B}\\x{2329}\\x{232A}\\x{2ADC}\\x{F900}-\\x{FB4E}"
            "\\x{1D15E}-\\x{1D1C0}\\x{2F800}-\\x{2FA1D}]",
            node) {}
  std::string normalize(const std::string& text) const override {
    if (!may_change_.find_all(text).empty()) {
      throw Error(
          "tokenizer: NFC normalizer: input holds characters that NFC may recompose "
          "(combining marks, jamo or compatibility forms); full NFC is not implemented");
    }
    return text;
  }

 private:
  Regex may_change_;
};

}  // namespace

std::unique_ptr<Normalizer> make_normalizer(const JsonNode& node) {
  const std::string type = node.type();
  if (type == "Sequence") return std::make_unique<SequenceNormalizer>(node);
  if (type == "Prepend") return std::make_unique<PrependNormalizer>(node);
  if (type == "Replace") return std::make_unique<ReplaceNormalizer>(node);
  if (type == "Strip") return std::make_unique<StripNormalizer>(node);
  if (type == "NFC") return std::make_unique<NfcNormalizer>(node);
  node.at("type").fail("unsupported normalizer type '" + type + "'");
}

}  // namespace revive::model::tokenizer
