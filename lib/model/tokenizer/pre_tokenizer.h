#pragma once
// Pre-tokenizers of tokenizer.json ("pre_tokenizer" field): cut normalized
// text into pieces that the model tokenizes independently. Supported:
// Sequence, Split (String/Regex pattern, every behavior, invert), ByteLevel
// (GPT-2 regex, add_prefix_space, byte-to-unicode mapping), Metaspace,
// Whitespace, WhitespaceSplit, Digits, Punctuation, BertPreTokenizer.
#include <memory>
#include <string>
#include <vector>

namespace revive::model::tokenizer {

class JsonNode;

// GPT-2's split pattern (ByteLevel with use_regex).
extern const char* const kGpt2SplitPattern;

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  // Splits every piece further, in order. `at_text_start`: pieces[0] begins
  // the whole input (Metaspace's prepend_scheme "first" needs it).
  virtual void pre_tokenize(std::vector<std::string>& pieces, bool at_text_start) const = 0;
};

// `node` is a non-null pre-tokenizer object.
std::unique_ptr<PreTokenizer> make_pre_tokenizer(const JsonNode& node);

}  // namespace revive::model::tokenizer
