#pragma once
// The toy model as a cached HF checkpoint folder:
//   config.json, model.safetensors       the trained Llama (float32)
//   tokenizer.json, tokenizer_config.json copied from the world folder
//   training.json                         key, options, seed, steps, final loss,
//                                         recall, seconds - written last
// The key hashes the world (options, training text, tokenizer), the model and
// training options and kToyTrainerVersion. A complete folder with the same key
// is reused at once; anything else is retrained and rewritten (training.json
// is removed first, so an interrupted run never looks complete).
#include <iosfwd>
#include <string>

#include "lib/data/toy_world.h"
#include "lib/train/toy_model_config.h"
#include "lib/train/toy_trainer.h"

namespace revive::train {

// Bump when a change to the trainer changes the model it produces.
inline constexpr const char* kToyTrainerVersion = "revive-toy-trainer-1";

// The cache key (16 hex digits) and the canonical text it hashes.
struct ToyModelKey {
  std::string key;
  std::string material;  // JSON
};
ToyModelKey toy_model_key(const data::ToyWorld& world, const std::string& tokenizer_json,
                          const ToyModelOptions& model_options, const ToyTrainOptions& train_options);

struct ToyModelBuild {
  std::string model_dir;
  std::string key;
  bool reused = false;
  ToyTrainStats stats;        // as recorded in training.json when reused
  std::string training_json;  // the text of training.json
};

// `world_dir` holds the world's files (data::write_toy_world): its
// tokenizer.json and tokenizer_config.json are used and copied.
ToyModelBuild build_toy_model(const data::ToyWorld& world, const std::string& world_dir,
                              const std::string& model_dir, const ToyModelOptions& model_options,
                              const ToyTrainOptions& train_options, std::ostream* progress = nullptr);

// The key recorded in a complete folder (all five files present, training.json
// readable), or "" when the folder is absent or incomplete.
std::string complete_toy_model_key(const std::string& model_dir);

}  // namespace revive::train
