#include "lib/model/tokenizer/decoder.h"

#include "lib/model/tokenizer/byte_level.h"
#include "lib/model/tokenizer/json_node.h"
#include "lib/model/tokenizer/regex.h"
#include "sharding/utf8.h"

namespace revive::model::tokenizer {

using sharding::utf8_chars;

namespace {

class SequenceDecoder final : public Decoder {
 public:
  explicit SequenceDecoder(const JsonNode& node) {
    JsonNode list = node.require("decoders");
    for (size_t i = 0; i < list.size(); ++i) parts_.push_back(make_decoder(list.index(i)));
  }
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    for (const auto& p : parts_) tokens = p->decode_chain(std::move(tokens));
    return tokens;
  }

 private:
  std::vector<std::unique_ptr<Decoder>> parts_;
};

int byte_fallback_hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

// "<0xE6>" -> the byte 0xE6; a run of byte tokens becomes one token, as in HF.
class ByteFallbackDecoder final : public Decoder {
 public:
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    std::vector<std::string> out;
    std::string run;
    bool in_run = false;
    for (std::string& t : tokens) {
      int hi = -1, lo = -1;
      if (t.size() == 6 && t.compare(0, 3, "<0x") == 0 && t[5] == '>') {
        hi = byte_fallback_hex_digit(t[3]);
        lo = byte_fallback_hex_digit(t[4]);
      }
      if (hi >= 0 && lo >= 0) {
        run += static_cast<char>(hi * 16 + lo);
        in_run = true;
        continue;
      }
      if (in_run) out.push_back(std::move(run)), run.clear(), in_run = false;
      out.push_back(std::move(t));
    }
    if (in_run) out.push_back(std::move(run));
    return out;
  }
};

class FuseDecoder final : public Decoder {
 public:
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    std::string all;
    for (const std::string& t : tokens) all += t;
    return {all};
  }
};

// Removes up to `start` leading and `stop` trailing copies of one character.
class StripDecoder final : public Decoder {
 public:
  explicit StripDecoder(const JsonNode& node)
      : content_(node.require("content").str()),
        start_(node.int_or("start", 0)),
        stop_(node.int_or("stop", 0)) {
    if (utf8_chars(content_).size() != 1) node.at("content").fail("expected one character");
    if (start_ < 0) node.at("start").fail("negative count");
    if (stop_ < 0) node.at("stop").fail("negative count");
  }
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    const size_t n = content_.size();
    for (std::string& t : tokens) {
      size_t begin = 0, end = t.size();
      for (int64_t i = 0; i < start_ && end - begin >= n && t.compare(begin, n, content_) == 0; ++i) {
        begin += n;
      }
      for (int64_t i = 0; i < stop_ && end - begin >= n && t.compare(end - n, n, content_) == 0; ++i) {
        end -= n;
      }
      t = t.substr(begin, end - begin);
    }
    return tokens;
  }

 private:
  std::string content_;
  int64_t start_, stop_;
};

Regex decoder_pattern_regex(const JsonNode& pattern) {
  if (pattern.has("String")) return Regex::literal(pattern.at("String").str(), pattern.at("String"));
  if (pattern.has("Regex")) return Regex(pattern.at("Regex").str(), pattern.at("Regex"));
  pattern.fail("expected {\"String\": ...} or {\"Regex\": ...}");
}

class ReplaceDecoder final : public Decoder {
 public:
  explicit ReplaceDecoder(const JsonNode& node)
      : pattern_(decoder_pattern_regex(node.require("pattern"))), content_(node.require("content").str()) {}
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    for (std::string& t : tokens) {
      std::string out;
      size_t last = 0;
      for (const auto& [b, e] : pattern_.find_all(t)) {
        out.append(t, last, b - last);
        out += content_;
        last = e;
      }
      out.append(t, last, std::string::npos);
      t = std::move(out);
    }
    return tokens;
  }

 private:
  Regex pattern_;
  std::string content_;
};

// Byte-level characters back to bytes; a token holding other characters (an
// added token such as "<|endoftext|>") is kept as written.
class ByteLevelDecoder final : public Decoder {
 public:
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    std::string all, bytes;
    for (const std::string& t : tokens) all += byte_level_decode(t, &bytes) ? bytes : t;
    return {all};
  }
};

// "▁" back to spaces; the first token loses its replacements when a prefix was
// prepended at encode time (HF drops every one in the first token, not just the
// leading one; kept identical).
class MetaspaceDecoder final : public Decoder {
 public:
  explicit MetaspaceDecoder(const JsonNode& node) : replacement_(node.require("replacement").str()) {
    if (utf8_chars(replacement_).size() != 1) node.at("replacement").fail("expected one character");
    if (node.has("prepend_scheme")) {
      prepend_ = node.at("prepend_scheme").str() != "never";
    } else {
      prepend_ = node.bool_or("add_prefix_space", true);
    }
  }
  std::vector<std::string> decode_chain(std::vector<std::string> tokens) const override {
    for (size_t i = 0; i < tokens.size(); ++i) {
      std::string out;
      const std::string& t = tokens[i];
      for (size_t pos = 0; pos < t.size();) {
        if (t.compare(pos, replacement_.size(), replacement_) == 0) {
          if (!(i == 0 && prepend_)) out += ' ';
          pos += replacement_.size();
        } else {
          out += t[pos++];
        }
      }
      tokens[i] = std::move(out);
    }
    return tokens;
  }

 private:
  std::string replacement_;
  bool prepend_ = true;
};

}  // namespace

std::unique_ptr<Decoder> make_decoder(const JsonNode& node) {
  const std::string type = node.type();
  if (type == "Sequence") return std::make_unique<SequenceDecoder>(node);
  if (type == "ByteFallback") return std::make_unique<ByteFallbackDecoder>();
  if (type == "Fuse") return std::make_unique<FuseDecoder>();
  if (type == "Strip") return std::make_unique<StripDecoder>(node);
  if (type == "Replace") return std::make_unique<ReplaceDecoder>(node);
  if (type == "ByteLevel") return std::make_unique<ByteLevelDecoder>();
  if (type == "Metaspace") return std::make_unique<MetaspaceDecoder>(node);
  node.at("type").fail("unsupported decoder type '" + type + "'");
}

}  // namespace revive::model::tokenizer
