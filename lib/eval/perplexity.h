#pragma once
// Perplexity of a text corpus: every document is encoded with BOS (the
// tokenizer's post-processor, as the model saw text in training) and cut into
// windows of at most max_length tokens; every token after a window's first is
// predicted from the window's earlier tokens. Then
//
//   mean_nll   = total NLL / total predicted tokens   (nats)
//   perplexity = exp(mean_nll)
//
// Windowing: `truncate` keeps only each document's first window (the
// stories260K reference protocol: first 256 tokens); otherwise consecutive
// windows overlap by one token (stride max_length - 1), so every token of a
// document except BOS is predicted exactly once, with its context restarting
// at each window. The per-token NLL is model::next_token_nll's, through
// model::score_continuations.
#include <cstdint>
#include <string>
#include <vector>

#include "lib/data/text_corpus.h"
#include "lib/eval/metric_list.h"
#include "lib/model/log_probs.h"
#include "lib/model/model_fwd.h"
#include "sharding/comm/communicator_fwd.h"

namespace revive::eval {

struct PerplexityOptions {
  int64_t max_length = 0;  // tokens per window incl. BOS; 0: the model's max_position_embeddings
  bool truncate = false;   // score only each document's first window
  int64_t batch_size = 8;  // windows per forward pass
};

struct PerplexityResult {
  double total_nll = 0;  // nats
  int64_t num_tokens = 0;     // predicted tokens
  int64_t num_documents = 0;
  int64_t num_windows = 0;

  double mean_nll() const { return num_tokens > 0 ? total_nll / static_cast<double>(num_tokens) : 0.0; }
  double perplexity() const;
  MetricList metrics() const;  // ppl, mean_nll, num_tokens, num_documents
};

// The windows of one document's token ids (see above) as continuations: prompt
// = the window's first token, target = the rest. Windows of one token predict
// nothing and are left out. max_length must be >= 2.
std::vector<model::Continuation> perplexity_windows(const std::vector<int64_t>& ids, int64_t max_length,
                                                    bool truncate);

// Documents given in memory; rank r of dp takes documents r, r + dp, ...
PerplexityResult evaluate_perplexity(model::Transformer& model, const model::Tokenizer& tokenizer,
                                     const std::vector<std::string>& documents, const PerplexityOptions& options = {},
                                     sharding::Communicator* dp = nullptr);

// Documents streamed from a corpus file (text_corpus.h), strided over dp ranks.
PerplexityResult evaluate_perplexity_file(model::Transformer& model, const model::Tokenizer& tokenizer,
                                          const std::string& file, const data::CorpusOptions& corpus = {},
                                          const PerplexityOptions& options = {},
                                          sharding::Communicator* dp = nullptr);

}  // namespace revive::eval
