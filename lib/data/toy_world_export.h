#pragma once
// Writes a toy world to a folder, every file atomically:
//   requests.json          the counterfactual edit requests, CounterFact ROME schema
//   train.txt              the training text, one sentence per line (facts, and
//                          general sentences when the world has them)
//   held_out.txt           held-out general sentences, one per line (only when the
//                          world has them): perplexity text that states no fact
//   vocab.txt              the words of the world, one per line (no special tokens)
//   tokenizer.json         WordLevel tokenizer over [UNK] [BOS] [EOS] [PAD] + vocab
//   tokenizer_config.json  its special tokens for HF
//   world.json             options, subjects, relations (phrasings, objects) and every
//                          fact as [subject, relation, object] indices, for recall checks
#include <string>

#include "lib/data/toy_world.h"

namespace revive::data {

struct ToyWorldFiles {
  std::string requests, train_text, vocab, tokenizer, tokenizer_config, world;
  std::string held_out;  // "" when the world has no held-out text
};

// Creates `dir` if needed. Returns the paths written.
ToyWorldFiles write_toy_world(const ToyWorld& world, const std::string& dir);

}  // namespace revive::data
