#pragma once
// Model-side reads for an edit batch (MEMIT's compute_ks and cur_zs):
//  * keys: the input of the edited module at each request's subject last token,
//    averaged within each group of context templates and then over the groups;
//  * block outputs: the residual stream after a block at the subject's last token
//    of each request's own prompt.
// Forward passes only (no gradients), batched; every tp rank returns the same,
// full tensors (split module inputs are gathered).
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

#include "lib/data/edit_request.h"
#include "lib/edit/run/context_templates.h"
#include "lib/edit/run/edit_prompts.h"
#include "lib/model/model_fwd.h"

namespace revive::edit {

// Keys [d_in, n] (f32 or the model's f64) of `module` (block-relative HF name,
// e.g. "mlp.down_proj") in block `layer`.
at::Tensor compute_keys(model::Transformer& model, const model::Tokenizer& tokenizer,
                        const std::vector<data::EditRequest>& requests, int64_t layer, const std::string& module,
                        const ContextTemplates& templates, int64_t batch_size = 64,
                        FactToken fact_token = FactToken::kSubjectLast);

// Output of block `layer` at the subject's last token of each request's prompt,
// [hidden, n].
at::Tensor block_outputs_at_subject(model::Transformer& model, const model::Tokenizer& tokenizer,
                                    const std::vector<data::EditRequest>& requests, int64_t layer,
                                    int64_t batch_size = 64, FactToken fact_token = FactToken::kSubjectLast);

}  // namespace revive::edit
