#pragma once
// Tokenizers read from HF tokenizer.json (CONTRACT - implementation in progress;
// the owner may extend but not break it): BPE with byte fallback and the
// SentencePiece-style normalizer (Llama-2), byte-level BPE with regex
// pre-tokenisation (GPT-2, Llama-3/Qwen2 via PCRE2), WordLevel; added/special
// tokens; post-processor BOS; decode. An unknown model type or malformed field
// is a revive::InputError naming the file and field.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace revive::model {

class Tokenizer {
 public:
  // `path`: a tokenizer.json file or a folder containing one.
  static Tokenizer from_file(const std::string& path);
  ~Tokenizer();
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;

  // add_special: apply the post-processor (e.g. prepend BOS) as HF does by default.
  std::vector<int64_t> encode(const std::string& text, bool add_special = true) const;
  std::string decode(const std::vector<int64_t>& ids, bool skip_special = true) const;
  // Piece of one token as text (for debugging and continuation alignment).
  std::string id_to_token(int64_t id) const;
  std::optional<int64_t> token_to_id(const std::string& token) const;

  int64_t vocab_size() const;
  std::optional<int64_t> bos_id() const;
  std::optional<int64_t> eos_id() const;
  std::optional<int64_t> pad_id() const;

  struct Impl;

 private:
  explicit Tokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace revive::model
