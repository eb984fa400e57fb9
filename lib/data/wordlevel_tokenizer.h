#pragma once
// A Hugging Face tokenizer.json for a WordLevel model over a closed vocabulary, as
// the toy world's model uses: special tokens [UNK]=0, [BOS]=1, [EOS]=2, [PAD]=3,
// then the words in the order given; no normalizer; a WhitespaceSplit
// pre-tokenizer (so text tokenises to whole words); a TemplateProcessing
// post-processor that prepends [BOS] (as Llama's tokenizers do); no decoder
// (HF then joins tokens with single spaces, which restores the text exactly).
// tokenizer_config.json names the same special tokens for HF's AutoTokenizer.
#include <string>
#include <vector>

namespace revive::data {

inline constexpr const char* kUnkToken = "[UNK]";
inline constexpr const char* kBosToken = "[BOS]";
inline constexpr const char* kEosToken = "[EOS]";
inline constexpr const char* kPadToken = "[PAD]";

// The JSON text of tokenizer.json. Throws revive::Error when a word is empty,
// contains whitespace, repeats, or equals a special token.
std::string wordlevel_tokenizer_json(const std::vector<std::string>& words);
// The JSON text of tokenizer_config.json.
std::string wordlevel_tokenizer_config_json();

}  // namespace revive::data
