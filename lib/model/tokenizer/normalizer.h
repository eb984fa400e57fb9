#pragma once
// Normalizers of tokenizer.json ("normalizer" field): text -> text before
// pre-tokenization. Supported: Sequence, Prepend, Replace (String or Regex),
// Strip, NFC (see normalizer.cpp for its limit). Anything else is an
// InputError naming the field.
#include <memory>
#include <string>

namespace revive::model::tokenizer {

class JsonNode;

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  virtual std::string normalize(const std::string& text) const = 0;
};

// `node` is a non-null normalizer object.
std::unique_ptr<Normalizer> make_normalizer(const JsonNode& node);

}  // namespace revive::model::tokenizer
