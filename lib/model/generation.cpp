#include "lib/model/generation.h"

#include <ATen/ATen.h>
#include <torch/torch.h>

#include "lib/model/batching.h"
#include "lib/model/kv_cache.h"
#include "lib/model/transformer.h"
#include "sharding/errors.h"

namespace revive::model {
namespace {

// Next token per row from logits [B, V].
at::Tensor pick(const at::Tensor& logits, const GenerationOptions& opts, at::Generator& gen) {
  if (opts.top_k <= 1) return logits.argmax(-1);
  const int64_t k = std::min<int64_t>(opts.top_k, logits.size(-1));
  const auto [values, indices] = at::topk(logits.to(at::kDouble) / opts.temperature, k, -1);
  const at::Tensor probs = at::softmax(values, -1);
  const at::Tensor choice = at::multinomial(probs, 1, /*replacement=*/false, gen);  // [B, 1]
  return indices.gather(-1, choice).squeeze(-1);
}

}  // namespace

std::vector<std::vector<int64_t>> generate(Transformer& model, const std::vector<std::vector<int64_t>>& prompts,
                                           const GenerationOptions& opts) {
  REVIVE_CHECK(opts.temperature > 0, "generate: temperature must be positive");
  const int64_t B = static_cast<int64_t>(prompts.size());
  std::vector<std::vector<int64_t>> out(prompts.size());
  if (B == 0 || opts.max_new_tokens <= 0) return out;
  for (const auto& p : prompts) REVIVE_CHECK(!p.empty(), "generate: empty prompt");

  at::NoGradGuard no_grad;
  at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(opts.seed);
  const PaddedBatch batch = pad_right(prompts, 0);
  KvCache cache;
  ForwardOptions fwd;
  fwd.cache = &cache;
  fwd.attention_mask = batch.mask;
  at::Tensor logits = model.forward(batch.ids, fwd);  // [B, T, V]
  const at::Tensor last = (batch.lengths - 1).to(logits.device()).view({B, 1, 1}).expand({B, 1, logits.size(2)});
  at::Tensor next = pick(logits.gather(1, last).squeeze(1).cpu(), opts, gen);

  std::vector<bool> done(prompts.size(), false);
  for (int64_t step = 0;; ++step) {
    const auto next_acc = next.accessor<int64_t, 1>();
    std::vector<int64_t> alive(prompts.size(), 0);
    bool any = false;
    for (int64_t b = 0; b < B; ++b) {
      if (done[b]) continue;
      out[b].push_back(next_acc[b]);
      if ((opts.eos_id && next_acc[b] == *opts.eos_id) || static_cast<int64_t>(out[b].size()) >= opts.max_new_tokens) {
        done[b] = true;
      } else {
        alive[b] = 1;
        any = true;
      }
    }
    if (!any) break;
    // Finished rows feed a padding slot so the batch stays rectangular.
    fwd.attention_mask = at::tensor(alive, at::kLong).view({B, 1});  // forward moves both to the model
    logits = model.forward(next.view({B, 1}), fwd);
    next = pick(logits.select(1, 0).cpu(), opts, gen);
  }
  return out;
}

}  // namespace revive::model
