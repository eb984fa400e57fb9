#include "lib/eval/perplexity.h"

#include <ATen/ATen.h>

#include <cmath>

#include "lib/eval/dp_split.h"
#include "lib/model/tokenizer.h"
#include "lib/model/transformer.h"
#include "sharding/errors.h"

namespace revive::eval {

namespace {

// Accumulates windows and scores them in groups of a few batches, so a corpus
// is never held in memory whole.
class PerplexityAccumulator {
 public:
  PerplexityAccumulator(model::Transformer& model, const model::Tokenizer& tokenizer, const PerplexityOptions& opts)
      : model_(model), tokenizer_(tokenizer), opts_(opts) {
    max_length_ = opts.max_length > 0 ? opts.max_length : model.config().max_position_embeddings;
    REVIVE_CHECK(max_length_ >= 2, "perplexity: max_length must be at least 2 (got " + std::to_string(max_length_) + ")");
    // Past its trained positions a model's NLL is no longer its perplexity.
    if (model.config().within_positions(max_length_) < max_length_) {
      throw Error("perplexity: max_length " + std::to_string(max_length_) + " exceeds the model's " +
                  std::to_string(model.config().max_position_embeddings) + " positions (max_position_embeddings)");
    }
    REVIVE_CHECK(opts.batch_size > 0, "perplexity: batch_size must be positive");
  }

  void add_document(const std::string& text) {
    ++documents_;
    for (model::Continuation& w : perplexity_windows(tokenizer_.encode(text, true), max_length_, opts_.truncate)) {
      pending_.push_back(std::move(w));
    }
    if (static_cast<int64_t>(pending_.size()) >= 4 * opts_.batch_size) flush();
  }

  // [total_nll, tokens, documents, windows] of this rank.
  std::vector<double> finish() {
    flush();
    return {total_nll_, static_cast<double>(tokens_), static_cast<double>(documents_), static_cast<double>(windows_)};
  }

 private:
  void flush() {
    if (pending_.empty()) return;
    for (const model::ContinuationScore& s : model::score_continuations(model_, pending_, opts_.batch_size)) {
      total_nll_ += s.sum_nll;
      tokens_ += s.num_tokens;
      ++windows_;
    }
    pending_.clear();
  }

  model::Transformer& model_;
  const model::Tokenizer& tokenizer_;
  PerplexityOptions opts_;
  int64_t max_length_ = 0;
  std::vector<model::Continuation> pending_;
  double total_nll_ = 0;
  int64_t tokens_ = 0, documents_ = 0, windows_ = 0;
};

PerplexityResult perplexity_total(const std::vector<double>& local, const DpSplit& split) {
  // Sums in f64 (token and document counts are exact in f64 far beyond any corpus).
  const std::vector<double> total = split.sum(local);
  PerplexityResult r;
  r.total_nll = total[0];
  r.num_tokens = static_cast<int64_t>(std::llround(total[1]));
  r.num_documents = static_cast<int64_t>(std::llround(total[2]));
  r.num_windows = static_cast<int64_t>(std::llround(total[3]));
  return r;
}

}  // namespace

double PerplexityResult::perplexity() const { return std::exp(mean_nll()); }

MetricList PerplexityResult::metrics() const {
  return {{"ppl", perplexity()},
          {"mean_nll", mean_nll()},
          {"num_tokens", static_cast<double>(num_tokens)},
          {"num_documents", static_cast<double>(num_documents)}};
}

std::vector<model::Continuation> perplexity_windows(const std::vector<int64_t>& ids, int64_t max_length,
                                                    bool truncate) {
  REVIVE_CHECK(max_length >= 2, "perplexity windows need max_length >= 2");
  std::vector<model::Continuation> out;
  const int64_t n = static_cast<int64_t>(ids.size());
  for (int64_t start = 0; start + 1 < n; start += max_length - 1) {
    const int64_t end = std::min(n, start + max_length);
    model::Continuation c;
    c.prompt = {ids[static_cast<size_t>(start)]};
    c.target.assign(ids.begin() + start + 1, ids.begin() + end);
    out.push_back(std::move(c));
    if (truncate) break;
  }
  return out;
}

PerplexityResult evaluate_perplexity(model::Transformer& model, const model::Tokenizer& tokenizer,
                                     const std::vector<std::string>& documents, const PerplexityOptions& options,
                                     sharding::Communicator* dp) {
  const DpSplit split(dp);
  PerplexityAccumulator acc(model, tokenizer, options);
  for (size_t i : split.mine(documents.size())) acc.add_document(documents[i]);
  return perplexity_total(acc.finish(), split);
}

PerplexityResult evaluate_perplexity_file(model::Transformer& model, const model::Tokenizer& tokenizer,
                                          const std::string& file, const data::CorpusOptions& corpus,
                                          const PerplexityOptions& options, sharding::Communicator* dp) {
  const DpSplit split(dp);
  PerplexityAccumulator acc(model, tokenizer, options);
  data::DocumentStream stream(file, corpus, data::CorpusShard{split.rank(), split.size(), data::ShardMode::kStrided});
  data::Document doc;
  while (stream.next(doc)) acc.add_document(doc.text);
  PerplexityResult r = perplexity_total(acc.finish(), split);
  // A perplexity of 1 over nothing would read as a perfect score.
  if (r.num_tokens == 0) {
    throw InputError(file, "", "no tokens to score in " + std::to_string(r.num_documents) +
                                   " documents (empty, or each one token long)");
  }
  return r;
}

}  // namespace revive::eval
