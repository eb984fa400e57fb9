#pragma once
// decoder of tokenizer.json: token strings -> text. Supported: Sequence,
// ByteFallback, Fuse, Strip, Replace, ByteLevel, Metaspace.
// One deliberate difference from HF: bytes that do not form valid UTF-8
// (a partial character from a byte-level or <0xXX> token) are returned as
// those bytes, where HF (whose strings must be valid) writes U+FFFD. So
// decode(encode(x)) == x for any byte string on byte-level tokenizers, and
// decoding a generation token by token and concatenating gives the same text.
#include <memory>
#include <string>
#include <vector>

namespace revive::model::tokenizer {

class JsonNode;

class Decoder {
 public:
  virtual ~Decoder() = default;
  virtual std::vector<std::string> decode_chain(std::vector<std::string> tokens) const = 0;
};

// `node` is a non-null decoder object.
std::unique_ptr<Decoder> make_decoder(const JsonNode& node);

}  // namespace revive::model::tokenizer
