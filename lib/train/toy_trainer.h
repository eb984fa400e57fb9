#pragma once
// Teaches a small Llama the toy fact world (DESIGN.md section 6): next-token
// loss over the world's training text with torch::optim::AdamW (linear warmup,
// cosine decay), deterministic (torch::manual_seed for the weights, our own
// splitmix64 shuffle for the data order), until the model recalls at least
// `target_recall` of the fact prompts (fact_recall.h) or max_steps.
//
// Recall is cheap to watch: every training sentence ends with its object, so
// the training forward already says whether the object was top-1; the full
// (batched, no-grad) recall measurement runs only when that running estimate,
// over the latest visit of every sentence, comes within 0.05 of the target.
//
// The defaults (with ToyModelOptions') teach 500 subjects x 4 relations (8000
// sentences) to >= 95% recall in about 11 epochs; a small model with a high,
// decaying learning rate memorises faster than a larger one on two cores.
#include <cstdint>
#include <iosfwd>
#include <memory>

#include "lib/data/toy_world.h"
#include "lib/model/model_fwd.h"
#include "lib/train/fact_recall.h"
#include "lib/train/toy_model_config.h"
#include "lib/train/trainable_llama.h"

namespace revive::train {

struct ToyTrainOptions {
  uint64_t seed = 1;  // weights and data order
  int64_t max_steps = 2000;
  int64_t batch_size = 64;      // sentences per step (right-padded)
  double learning_rate = 1e-2;  // peak
  double min_lr_ratio = 0.1;    // cosine decays to learning_rate * this at max_steps
  int64_t warmup_steps = 50;
  double weight_decay = 0.0;  // AdamW, on matrices only (not norms)
  double beta1 = 0.9, beta2 = 0.98;
  double grad_clip = 1.0;       // global norm; 0: off
  double target_recall = 0.95;  // stop once recall() reaches this
  bool append_eos = true;       // train on "<sentence> [EOS]"
  int64_t eval_batch_size = 512;
  int64_t log_every = 100;  // progress line every this many steps (0: none)
};

// Throws revive::Error naming the option when it is out of range.
void validate(const ToyTrainOptions& options);

struct ToyTrainStats {
  int64_t steps = 0;
  double final_loss = 0;   // mean token loss over the last logging window
  double object_loss = 0;  // mean loss on the object tokens over that window
  RecallReport recall;     // last full measurement
  bool reached_target = false;
  double seconds = 0;
  int64_t num_parameters = 0;
  int64_t training_sentences = 0;
};

struct ToyTrainResult {
  std::unique_ptr<TrainableLlama> model;
  ToyTrainStats stats;
};

// Trains a fresh model on `world`, tokenised by `tokenizer` (the world's
// WordLevel tokenizer.json: every word known, [BOS] [EOS] [PAD] present).
// `tp` must be a single-rank group outliving the result. Progress lines go to
// `progress` when given.
ToyTrainResult train_toy_model(const data::ToyWorld& world, const model::Tokenizer& tokenizer,
                               const ToyModelOptions& model_options, const ToyTrainOptions& options,
                               sharding::Communicator& tp, std::ostream* progress = nullptr);

}  // namespace revive::train
