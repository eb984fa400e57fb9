#pragma once
// Target values v* (MEMIT's compute_z, Meng et al. 2023, section 3.1 / rome
// compute_v): for each request, a vector delta added to the output of block
// `layer` at the subject's last token, optimised so the model predicts
// target_new after the prompt in every context template, while
//   loss_i = NLL_i                       mean token NLL of target_new, averaged over templates
//          + kl_factor * KL_i            KL(p_delta || p_0) of the next-token distribution
//                                        at the subject of an essence prompt ("{} is a")
//          + weight_decay * ||delta_i|| / ||z0_i||^2
// with Adam (lr), ||delta_i|| clamped to clamp_norm_factor * ||z0_i|| after each
// step, and early stop once loss_i < early_stop_loss. v*_i = z0_i + delta_i, where
// z0_i is the block output at the subject of the first template.
//
// Requests whose fact token sees the same tokens in every row (same subject and
// text before it, e.g. "Tom had a pet" and "Tom's favorite color was") have one
// key and one z0. MEMIT's separate targets there conflict - the least-squares
// update can only average them (measured on stories260K: 30-45% of the targets
// reached) - so such requests share one delta, optimised on the mean of their
// losses. Distinct subjects are unaffected.
//
// Batched (DESIGN.md section 4): the deltas of all groups are rows of one
// [groups, hidden] parameter and every forward/backward pass runs all requests'
// sequences. Each group's loss depends on its own delta only, so the summed loss
// gives every row exactly its own gradient, and Adam is element-wise: the result
// equals separate optimisations. A group that stops early is frozen (its row
// restored after each later step), as if its own loop had ended, and its
// sequences leave the later passes, so a batch costs the sum of its requests'
// steps rather than its slowest request's steps for every request.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>
#include <vector>

#include "lib/data/edit_request.h"
#include "lib/edit/run/context_templates.h"
#include "lib/edit/run/edit_prompts.h"
#include "lib/model/model_fwd.h"

namespace revive::edit {

struct ValueOptions {
  double lr = 0.5;
  int64_t steps = 25;
  double weight_decay = 0.5;
  double clamp_norm_factor = 0.75;
  double kl_factor = 0.0625;
  std::string kl_prompt = "{} is a";  // essence prompt; "" disables the KL term
  double early_stop_loss = 5e-2;
  FactToken fact_token = FactToken::kSubjectLast;  // also where the batch edit reads keys
  // Writable v* (REVIVE's extension, issue 22): when defined (hidden x k,
  // orthonormal columns: the protected output directions U_k of the last edited
  // layer), every delta is projected off them after each step, so v* asks only
  // for a change the REVIVE-filtered update can write. The filter deletes the
  // protected part of the residual, so a target that needs it cannot be reached
  // and the rest of the edit is optimised for the wrong target.
  at::Tensor protected_output;
};

struct ValueResult {
  at::Tensor targets;  // v* [hidden, n], f32 (f64 for f64 models)
  at::Tensor initial;  // z0 [hidden, n]
  std::vector<double> final_loss;    // per request, at its last evaluated step
  std::vector<double> target_prob;   // per request: exp(-mean NLL) at that step
  std::vector<int64_t> steps;        // per request: Adam updates applied to its delta
};

// Group index of each request (0, 1, ... in order of first appearance): equal
// for requests that share a delta (see above).
std::vector<int64_t> value_groups(const model::Tokenizer& tokenizer, const std::vector<data::EditRequest>& requests,
                                  const ContextTemplates& templates, const ValueOptions& options);

ValueResult compute_values(model::Transformer& model, const model::Tokenizer& tokenizer,
                           const std::vector<data::EditRequest>& requests, int64_t layer,
                           const ContextTemplates& templates, const ValueOptions& options);

}  // namespace revive::edit
