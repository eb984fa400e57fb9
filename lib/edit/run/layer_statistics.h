#pragma once
// Layer statistics C = E[k k^T] of the input k of each edited module over a text
// corpus (MEMIT's layer_stats "mom2"): every real token of every document
// (truncated to max_length tokens) contributes its key. DESIGN.md section 3:
//  * split across dp ranks (strided documents), the f64 sums and token counts
//    all-reduced over dp, so every rank ends with the same C;
//  * cached on disk, one safetensors file per module, keyed by the model's
//    fingerprint, the module, the corpus (name, size, sampled content), the
//    document split, sample count and max length; a later run with the same key
//    loads it instead of recomputing;
//  * resumable: every checkpoint_every documents each dp rank writes its partial
//    sums atomically; an interrupted run continues from them (same dp size).
// Under tp the split input of a row-parallel module is gathered, so C is whole
// on every rank (the operator owner, distributed_solve.h, uses it).
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "lib/data/text_corpus.h"
#include "lib/model/model_fwd.h"
#include "sharding/comm/communicator_fwd.h"

namespace revive::edit {

struct StatisticsOptions {
  std::string corpus;                  // text file
  data::CorpusOptions corpus_options;  // document split; max_documents = samples (0: all)
  int64_t max_length = 256;            // tokens per document, BOS included (at most the model's positions)
  int64_t batch_size = 16;             // documents per forward pass
  std::string cache_dir;               // "": no cache, no resume
  std::string model_fingerprint;       // identifies the weights (part of the cache key)
  int64_t checkpoint_every = 512;      // documents per rank between partial saves
  // Called on dp rank 0 after each batch: documents done on this rank, tokens so far.
  std::function<void(int64_t documents, int64_t tokens)> progress;
};

struct LayerStatistics {
  at::Tensor second_moment;  // d_in x d_in, f32: sum k k^T / tokens
  int64_t tokens = 0;
  int64_t documents = 0;
  bool from_cache = false;
  std::string cache_file;    // "" without a cache
};

// modules: full HF names ("model.layers.3.mlp.down_proj"). Collective over dp
// (and over the model's tp group through the forward passes).
std::map<std::string, LayerStatistics> compute_layer_statistics(model::Transformer& model,
                                                                const model::Tokenizer& tokenizer,
                                                                const std::vector<std::string>& modules,
                                                                const StatisticsOptions& options,
                                                                sharding::Communicator& dp);

}  // namespace revive::edit
