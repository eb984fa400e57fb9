#include "lib/model/log_probs.h"

#include <ATen/ATen.h>
#include <torch/torch.h>

#include <algorithm>

#include "lib/model/transformer.h"
#include "sharding/errors.h"

namespace revive::model {

at::Tensor next_token_nll(const at::Tensor& logits, const at::Tensor& ids) {
  const int64_t T = ids.size(1);
  REVIVE_CHECK(logits.size(1) == T && T >= 1, "next_token_nll: logits and ids disagree in length");
  const at::ScalarType acc = logits.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
  const at::Tensor logp = at::log_softmax(logits.narrow(1, 0, T - 1).to(acc), -1);
  const at::Tensor next = ids.narrow(1, 1, T - 1).to(logp.device(), at::kLong).unsqueeze(-1);
  return -logp.gather(-1, next).squeeze(-1);
}

ContinuationBatch make_continuation_batch(const std::vector<Continuation>& items) {
  std::vector<std::vector<int64_t>> seqs;
  seqs.reserve(items.size());
  for (const Continuation& c : items) {
    REVIVE_CHECK(!c.prompt.empty(), "continuation with an empty prompt");
    std::vector<int64_t> s = c.prompt;
    s.insert(s.end(), c.target.begin(), c.target.end());
    seqs.push_back(std::move(s));
  }
  ContinuationBatch out;
  out.batch = pad_right(seqs, 0);
  const int64_t B = out.batch.ids.size(0), T = out.batch.ids.size(1);
  out.target_mask = at::zeros({B, std::max<int64_t>(T - 1, 0)}, at::kBool);
  auto m = out.target_mask.accessor<bool, 2>();
  for (int64_t b = 0; b < B; ++b) {
    const Continuation& c = items[static_cast<size_t>(b)];
    // Target token j sits at index |prompt| + j, predicted by entry |prompt| + j - 1.
    for (size_t j = 0; j < c.target.size(); ++j) m[b][static_cast<int64_t>(c.prompt.size() + j) - 1] = true;
  }
  return out;
}

at::Tensor continuation_nll(Transformer& model, const ContinuationBatch& cb, Hooks* hooks) {
  ForwardOptions fwd;
  fwd.attention_mask = cb.batch.mask;
  fwd.hooks = hooks;
  const at::Tensor logits = model.forward(cb.batch.ids, fwd);
  const at::Tensor nll = next_token_nll(logits, cb.batch.ids);
  return (nll * cb.target_mask.to(nll.device()).to(nll.scalar_type())).sum(1);
}

std::vector<ContinuationScore> score_continuations(Transformer& model, const std::vector<Continuation>& items,
                                                   int64_t batch_size) {
  REVIVE_CHECK(batch_size > 0, "score_continuations: batch_size must be positive");
  at::NoGradGuard no_grad;
  std::vector<ContinuationScore> out;
  out.reserve(items.size());
  for (size_t begin = 0; begin < items.size(); begin += static_cast<size_t>(batch_size)) {
    const size_t end = std::min(items.size(), begin + static_cast<size_t>(batch_size));
    const std::vector<Continuation> chunk(items.begin() + static_cast<std::ptrdiff_t>(begin),
                                          items.begin() + static_cast<std::ptrdiff_t>(end));
    const at::Tensor sums = continuation_nll(model, make_continuation_batch(chunk)).to(at::kDouble).cpu();
    for (size_t i = 0; i < chunk.size(); ++i) {
      ContinuationScore s;
      s.sum_nll = sums[static_cast<int64_t>(i)].item<double>();
      s.num_tokens = static_cast<int64_t>(chunk[i].target.size());
      s.mean_nll = s.num_tokens > 0 ? s.sum_nll / static_cast<double>(s.num_tokens) : 0.0;
      out.push_back(s);
    }
  }
  return out;
}

}  // namespace revive::model
