#pragma once
// BPE model as HF's tokenizers library runs it: a piece starts as its
// characters (each looked up in the vocabulary; missing ones fall back to
// <0xXX> byte tokens when byte_fallback is set, else to unk, fused when
// fuse_unk), then the adjacent pair with the lowest merge rank is merged
// repeatedly, leftmost first on ties, until no ranked pair remains.
// With ignore_merges (Llama-3) a piece that is itself a vocabulary token is
// emitted whole. Merge rank (not SentencePiece's scores) decides - this is what
// HF does, and on Llama-2 style vocabularies both agree on the reference texts.
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "lib/model/tokenizer/token_model.h"

namespace revive::model::tokenizer {

class BpeModel final : public TokenModel {
 public:
  explicit BpeModel(const JsonNode& node);
  void tokenize(const std::string& piece, std::vector<int64_t>& out) const override;
  const Vocab& vocab() const override { return vocab_; }

 private:
  struct Merge {
    int64_t rank;
    int64_t new_id;
  };
  static uint64_t pair_key(int64_t a, int64_t b) {
    return (static_cast<uint64_t>(a) << 32) | static_cast<uint64_t>(b);
  }
  std::optional<Merge> find_merge(int64_t a, int64_t b) const;
  void merge_all(std::vector<int64_t>& ids) const;

  Vocab vocab_;
  std::unordered_map<uint64_t, Merge> merges_;
  std::optional<std::string> unk_token_;
  std::optional<int64_t> unk_id_;
  std::string continuing_subword_prefix_;
  std::string end_of_word_suffix_;
  bool fuse_unk_ = false;
  bool byte_fallback_ = false;
  bool ignore_merges_ = false;
  int64_t byte_ids_[256];  // <0xXX> token ids, -1 when absent
};

}  // namespace revive::model::tokenizer
