#include "lib/eval/target_accuracy.h"

#include <ATen/ATen.h>
#include <torch/torch.h>

#include <algorithm>

#include "lib/model/transformer.h"
#include "sharding/errors.h"

namespace revive::eval {

std::vector<TargetHits> target_argmax_hits(model::Transformer& model, const std::vector<model::Continuation>& items,
                                           int64_t batch_size) {
  REVIVE_CHECK(batch_size > 0, "target_argmax_hits: batch_size must be positive");
  at::NoGradGuard no_grad;
  std::vector<TargetHits> out;
  out.reserve(items.size());
  for (size_t begin = 0; begin < items.size(); begin += static_cast<size_t>(batch_size)) {
    const size_t end = std::min(items.size(), begin + static_cast<size_t>(batch_size));
    const std::vector<model::Continuation> chunk(items.begin() + static_cast<std::ptrdiff_t>(begin),
                                                 items.begin() + static_cast<std::ptrdiff_t>(end));
    const model::ContinuationBatch cb = model::make_continuation_batch(chunk);
    model::ForwardOptions fwd;
    fwd.attention_mask = cb.batch.mask;
    const at::Tensor logits = model.forward(cb.batch.ids, fwd);
    const int64_t T = cb.batch.ids.size(1);
    // Entry t predicts token t + 1.
    const at::Tensor pred = logits.narrow(1, 0, T - 1).argmax(-1).cpu();
    const at::Tensor next = cb.batch.ids.narrow(1, 1, T - 1).cpu();
    const at::Tensor hit = (pred == next).logical_and(cb.target_mask.cpu());
    const at::Tensor correct = hit.sum(1).to(at::kLong);
    for (size_t i = 0; i < chunk.size(); ++i) {
      TargetHits h;
      h.correct = correct[static_cast<int64_t>(i)].item<int64_t>();
      h.num_tokens = static_cast<int64_t>(chunk[i].target.size());
      out.push_back(h);
    }
  }
  return out;
}

}  // namespace revive::eval
