#include "lib/edit/run/edit_keys.h"

#include <ATen/ATen.h>
#include <torch/torch.h>

#include <algorithm>

#include "lib/edit/run/edit_prompts.h"
#include "lib/edit/editors/editor.h"
#include "lib/model/batching.h"
#include "lib/model/hooks.h"
#include "lib/model/transformer.h"
#include "sharding/errors.h"

namespace revive::edit {
namespace {

// Runs `prompts` in batches and returns the captured rows [n, d] in order, where
// `reg` registers the capture for one batch and returns its reader.
template <typename Register>
at::Tensor keys_capture_rows(model::Transformer& model, const std::vector<SubjectPrompt>& prompts,
                             int64_t batch_size, Register reg) {
  REVIVE_CHECK(batch_size > 0, "batch_size must be positive");
  at::NoGradGuard no_grad;
  std::vector<at::Tensor> parts;
  for (size_t begin = 0; begin < prompts.size(); begin += static_cast<size_t>(batch_size)) {
    const size_t end = std::min(prompts.size(), begin + static_cast<size_t>(batch_size));
    std::vector<std::vector<int64_t>> seqs;
    std::vector<model::TokenPos> at;
    for (size_t i = begin; i < end; ++i) {
      seqs.push_back(prompts[i].ids);
      at.push_back({static_cast<int64_t>(i - begin), prompts[i].subject_pos});
    }
    const model::PaddedBatch batch = model::pad_right(seqs, 0);
    model::Hooks hooks;
    auto read = reg(hooks, std::move(at));
    model::ForwardOptions fwd;
    fwd.attention_mask = batch.mask;
    fwd.hooks = &hooks;
    model.hidden_states(batch.ids, fwd);
    parts.push_back(read(hooks).to(compute_dtype(model.dtype())));
  }
  return at::cat(parts, 0);
}

}  // namespace

at::Tensor compute_keys(model::Transformer& model, const model::Tokenizer& tokenizer,
                        const std::vector<data::EditRequest>& requests, int64_t layer, const std::string& module,
                        const ContextTemplates& templates, int64_t batch_size, FactToken fact_token) {
  REVIVE_CHECK(!requests.empty(), "compute_keys: no requests");
  REVIVE_CHECK(!templates.empty(), "compute_keys: no context templates");
  std::vector<SubjectPrompt> prompts;
  for (const data::EditRequest& r : requests) {
    for (const auto& group : templates) {
      for (const std::string& context : group) {
        prompts.push_back(encode_subject_prompt(tokenizer, context, r.prompt_template, r.subject, fact_token));
      }
    }
  }
  const at::Tensor rows = keys_capture_rows(model, prompts, batch_size, [&](model::Hooks& h, std::vector<model::TokenPos> at) {
    const size_t idx = h.capture_input(layer, module, std::move(at));
    return [idx](const model::Hooks& hh) { return hh.captured(idx).full(); };
  });
  // Mean within each group, then over groups (MEMIT compute_ks).
  const int64_t per_request = static_cast<int64_t>(count_templates(templates));
  const int64_t n = static_cast<int64_t>(requests.size());
  const at::Tensor r3 = rows.view({n, per_request, rows.size(1)});
  std::vector<at::Tensor> group_means;
  int64_t start = 0;
  for (const auto& group : templates) {
    const int64_t len = static_cast<int64_t>(group.size());
    group_means.push_back(r3.narrow(1, start, len).mean(1));
    start += len;
  }
  return at::stack(group_means, 0).mean(0).t().contiguous();
}

at::Tensor block_outputs_at_subject(model::Transformer& model, const model::Tokenizer& tokenizer,
                                    const std::vector<data::EditRequest>& requests, int64_t layer,
                                    int64_t batch_size, FactToken fact_token) {
  REVIVE_CHECK(!requests.empty(), "block_outputs_at_subject: no requests");
  std::vector<SubjectPrompt> prompts;
  for (const data::EditRequest& r : requests) {
    prompts.push_back(encode_subject_prompt(tokenizer, "{}", r.prompt_template, r.subject, fact_token));
  }
  const at::Tensor rows = keys_capture_rows(model, prompts, batch_size, [&](model::Hooks& h, std::vector<model::TokenPos> at) {
    const size_t idx = h.capture_block_output(layer, std::move(at));
    return [idx](const model::Hooks& hh) { return hh.block_output(idx); };
  });
  return rows.t().contiguous();
}

}  // namespace revive::edit
