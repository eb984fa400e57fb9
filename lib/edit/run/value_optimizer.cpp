#include "lib/edit/run/value_optimizer.h"

#include <ATen/ATen.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <map>

#include "lib/edit/run/edit_prompts.h"
#include "lib/edit/editors/editor.h"
#include "lib/model/batching.h"
#include "lib/model/hooks.h"
#include "lib/model/prompt_tokens.h"
#include "lib/model/tokenizer.h"
#include "lib/model/transformer.h"
#include "sharding/errors.h"

namespace revive::edit {
namespace {

// One sequence of the value batch.
struct ValueRow {
  std::vector<int64_t> ids;          // prompt ++ target[:-1] (rewriting) or prompt (KL)
  int64_t subject_pos = 0;
  int64_t request = 0;
  std::vector<int64_t> target;       // rewriting rows: target tokens
  int64_t target_start = 0;          // index in ids of the token predicting target[0]
};

}  // namespace

std::vector<int64_t> value_groups(const model::Tokenizer& tokenizer, const std::vector<data::EditRequest>& requests,
                                  const ContextTemplates& templates, const ValueOptions& options) {
  const bool use_kl = !options.kl_prompt.empty() && options.kl_factor != 0.0;
  std::map<std::vector<int64_t>, int64_t> seen;
  std::vector<int64_t> group;
  group.reserve(requests.size());
  for (const data::EditRequest& r : requests) {
    // Every token the fact token sees, in each row of the request's loss.
    std::vector<int64_t> key;
    auto add = [&](const SubjectPrompt& p) {
      key.insert(key.end(), p.ids.begin(), p.ids.begin() + p.subject_pos + 1);
      key.push_back(-1);
    };
    for (const auto& contexts : templates) {
      for (const std::string& context : contexts) {
        add(encode_subject_prompt(tokenizer, context, r.prompt_template, r.subject, options.fact_token));
      }
    }
    if (use_kl) add(encode_subject_prompt(tokenizer, "{}", options.kl_prompt, r.subject, options.fact_token));
    group.push_back(seen.emplace(std::move(key), static_cast<int64_t>(seen.size())).first->second);
  }
  return group;
}

ValueResult compute_values(model::Transformer& model, const model::Tokenizer& tokenizer,
                           const std::vector<data::EditRequest>& requests, int64_t layer,
                           const ContextTemplates& templates, const ValueOptions& options) {
  const int64_t n = static_cast<int64_t>(requests.size());
  REVIVE_CHECK(n > 0, "compute_values: no requests");
  REVIVE_CHECK(options.steps >= 1, "compute_values: steps must be at least 1");
  REVIVE_CHECK(layer >= 0 && layer < model.num_layers(), "compute_values: layer out of range");
  const c10::Device device = model.device();
  const at::ScalarType acc = compute_dtype(model.dtype());

  // Rows: every (request, template) rewriting prompt, then one KL row per request.
  std::vector<ValueRow> rows;
  std::vector<int64_t> first_row(static_cast<size_t>(n));
  std::vector<int64_t> num_rewrite(static_cast<size_t>(n), 0);
  for (int64_t i = 0; i < n; ++i) {
    const data::EditRequest& r = requests[static_cast<size_t>(i)];
    first_row[static_cast<size_t>(i)] = static_cast<int64_t>(rows.size());
    for (const auto& group : templates) {
      for (const std::string& context : group) {
        const SubjectPrompt p =
            encode_subject_prompt(tokenizer, context, r.prompt_template, r.subject, options.fact_token);
        const model::Continuation c = model::tokenize_continuation(tokenizer, p.text, r.target_new);
        ValueRow row;
        row.ids = p.ids;
        row.ids.insert(row.ids.end(), c.target.begin(), c.target.end() - 1);
        row.subject_pos = p.subject_pos;
        row.request = i;
        row.target = c.target;
        row.target_start = static_cast<int64_t>(p.ids.size()) - 1;
        rows.push_back(std::move(row));
        ++num_rewrite[static_cast<size_t>(i)];
      }
    }
  }
  const int64_t num_rewrite_rows = static_cast<int64_t>(rows.size());
  const bool use_kl = !options.kl_prompt.empty() && options.kl_factor != 0.0;
  if (use_kl) {
    for (int64_t i = 0; i < n; ++i) {
      const data::EditRequest& r = requests[static_cast<size_t>(i)];
      const SubjectPrompt p = encode_subject_prompt(tokenizer, "{}", options.kl_prompt, r.subject, options.fact_token);
      ValueRow row;
      row.ids = p.ids;
      row.subject_pos = p.subject_pos;
      row.request = i;
      rows.push_back(std::move(row));
    }
  }

  const std::vector<int64_t> group = value_groups(tokenizer, requests, templates, options);
  std::vector<int64_t> group_first;  // first request of each group
  for (int64_t i = 0; i < n; ++i) {
    if (group[static_cast<size_t>(i)] == static_cast<int64_t>(group_first.size())) group_first.push_back(i);
  }
  const int64_t num_groups = static_cast<int64_t>(group_first.size());

  std::vector<std::vector<int64_t>> seqs;
  for (const ValueRow& row : rows) seqs.push_back(row.ids);
  const model::PaddedBatch batch = model::pad_right(seqs, 0);
  // On the model's device once: every step's pass reads the mask again.
  const at::Tensor ids = batch.ids.to(device);
  const at::Tensor mask = batch.mask.to(device);
  const int64_t T = ids.size(1);

  // The loss reads the logits only at the positions predicting a target token
  // (rewriting rows) and at each KL row's fact token, so the head runs there
  // alone: the [rows, T, vocab] logits of every position were v*'s largest
  // allocation by far. Each target position weighs 1/(target length *
  // request's templates), so a request's NLL is the mean over its tokens, then
  // over its templates.
  struct TargetToken {
    int64_t row, flat, token, request;
    double weight;
  };
  std::vector<TargetToken> targets;
  for (int64_t k = 0; k < num_rewrite_rows; ++k) {
    const ValueRow& row = rows[static_cast<size_t>(k)];
    const double w = 1.0 / (static_cast<double>(row.target.size()) *
                            static_cast<double>(num_rewrite[static_cast<size_t>(row.request)]));
    for (size_t j = 0; j < row.target.size(); ++j) {
      targets.push_back({k, row.target_start + static_cast<int64_t>(j), row.target[j], row.request, w});
    }
  }
  const at::Tensor request_group = at::tensor(group, at::kLong).to(device);
  const at::Tensor group_size =
      at::zeros({num_groups}, at::TensorOptions().dtype(acc)).index_add_(0, request_group.cpu(), at::ones({n}, acc)).to(device);

  std::vector<model::TokenPos> init_at;
  for (int64_t i = 0; i < n; ++i) init_at.push_back({first_row[static_cast<size_t>(i)],
                                                      rows[static_cast<size_t>(first_row[static_cast<size_t>(i)])].subject_pos});

  const int64_t hidden = model.config().hidden_size;
  at::Tensor delta =
      at::zeros({num_groups, hidden}, at::TensorOptions().dtype(acc).device(device)).set_requires_grad(true);
  torch::optim::Adam opt(std::vector<at::Tensor>{delta}, torch::optim::AdamOptions(options.lr));
  at::Tensor protected_u;
  if (options.protected_output.defined()) {
    REVIVE_CHECK(options.protected_output.dim() == 2 && options.protected_output.size(0) == hidden,
                 "compute_values: protected output directions must be hidden x k");
    protected_u = options.protected_output.to(device, acc);
  }

  at::Tensor z0, kl_init, max_norm;
  std::vector<bool> active(static_cast<size_t>(num_groups), true);
  ValueResult result;
  result.final_loss.assign(static_cast<size_t>(n), 0.0);
  result.target_prob.assign(static_cast<size_t>(n), 0.0);
  result.steps.assign(static_cast<size_t>(n), 0);

  // Blocks 0..layer do not see the delta (it is added to block `layer`'s output),
  // so they run once; each step runs only the blocks after it.
  model::ForwardOptions fwd;
  fwd.attention_mask = mask;
  at::Tensor stream;
  {
    at::NoGradGuard no_grad;
    model::Hooks capture;
    const size_t init_idx = capture.capture_block_output(layer, init_at);
    model::ForwardOptions prefix = fwd;
    prefix.hooks = &capture;
    stream = model.stream_after(ids, layer, prefix);
    z0 = capture.block_output(init_idx).to(acc);
  }
  max_norm = z0.index_select(0, at::tensor(group_first, at::kLong).to(device)).norm(2, {1}) * options.clamp_norm_factor;

  // The rows still optimised: a group that stopped early leaves the passes, so a
  // batch costs the sum of its requests' steps, not its slowest request's steps
  // times all of them. Rebuilt whenever a group stops; rows are independent
  // sequences, so the remaining rows' results do not change.
  struct WorkingRows {
    at::Tensor stream, head_at, tgt_ids, tgt_req, tgt_w, kl_req;
    std::vector<model::TokenPos> delta_at;
    at::Tensor delta_group;  // group of each working row
    model::ForwardOptions fwd;
    int64_t num_targets = 0;
  };
  auto working_rows = [&](const std::vector<bool>& live) {
    WorkingRows w;
    std::vector<int64_t> keep, new_index(rows.size(), -1), row_group, head_index, tgt_token, tgt_request, kl_request;
    std::vector<double> tgt_weight;
    for (size_t k = 0; k < rows.size(); ++k) {
      const int64_t g = group[static_cast<size_t>(rows[k].request)];
      if (!live[static_cast<size_t>(g)]) continue;
      new_index[k] = static_cast<int64_t>(keep.size());
      w.delta_at.push_back({new_index[k], rows[k].subject_pos});
      keep.push_back(static_cast<int64_t>(k));
      row_group.push_back(g);
    }
    for (const TargetToken& t : targets) {
      if (new_index[static_cast<size_t>(t.row)] < 0) continue;
      head_index.push_back(new_index[static_cast<size_t>(t.row)] * T + t.flat);
      tgt_token.push_back(t.token);
      tgt_request.push_back(t.request);
      tgt_weight.push_back(t.weight);
    }
    w.num_targets = static_cast<int64_t>(head_index.size());
    for (size_t k = static_cast<size_t>(num_rewrite_rows); k < rows.size(); ++k) {
      if (new_index[k] < 0) continue;
      head_index.push_back(new_index[k] * T + rows[k].subject_pos);
      kl_request.push_back(rows[k].request);
    }
    const at::Tensor keep_at = at::tensor(keep, at::kLong).to(device);
    w.stream = stream.index_select(0, keep_at);
    w.fwd = fwd;
    w.fwd.attention_mask = mask.index_select(0, keep_at);
    w.head_at = at::tensor(head_index, at::kLong).to(device);
    w.tgt_ids = at::tensor(tgt_token, at::kLong).to(device);
    w.tgt_req = at::tensor(tgt_request, at::kLong).to(device);
    w.tgt_w = at::tensor(tgt_weight, at::kDouble).to(acc).to(device);
    w.kl_req = at::tensor(kl_request, at::kLong).to(device);
    w.delta_group = at::tensor(row_group, at::kLong).to(device);
    return w;
  };
  WorkingRows work = working_rows(active);

  for (int64_t step = 0; step < options.steps; ++step) {
    model::Hooks hooks;
    hooks.add_to_block_output(layer, work.delta_at, delta.index_select(0, work.delta_group));
    const at::Tensor h = hooks.apply_block_deltas(layer, work.stream);
    const at::Tensor hid = model.hidden_after(layer, h, work.fwd);
    const at::Tensor read = hid.reshape({-1, hid.size(2)}).index_select(0, work.head_at);
    const at::Tensor logp = at::log_softmax(model.logits(read).to(acc), -1);

    // NLL per request: its target positions' token NLL, weighted (see
    // TargetToken); 0 for a stopped request, whose loss is no longer read.
    const at::Tensor tok_nll =
        -logp.narrow(0, 0, work.num_targets).gather(1, work.tgt_ids.unsqueeze(1)).squeeze(1);
    const at::Tensor nll = at::zeros({n}, tok_nll.options()).index_add(0, work.tgt_req, tok_nll * work.tgt_w);

    at::Tensor kl = at::zeros({n}, nll.options());
    if (use_kl) {
      const at::Tensor kl_logp = logp.narrow(0, work.num_targets, work.kl_req.size(0));
      // Step 0 runs every request, in order: its distributions are the reference.
      if (!kl_init.defined()) kl_init = kl_logp.detach().clone();
      const at::Tensor ref = kl_init.index_select(0, work.kl_req);
      kl = kl.index_add(0, work.kl_req, options.kl_factor * (kl_logp.exp() * (kl_logp - ref)).sum(1));
    }
    const at::Tensor request_delta = delta.index_select(0, request_group);
    const at::Tensor wd = options.weight_decay * request_delta.norm(2, {1}) / z0.norm(2, {1}).pow(2);
    const at::Tensor loss = nll + kl + wd;
    // A group's loss is the mean of its requests' (a singleton's is its own).
    const at::Tensor group_loss = at::zeros({num_groups}, loss.options()).index_add(0, request_group, loss) / group_size;

    const at::Tensor loss_cpu = loss.detach().to(at::kDouble).cpu();
    const at::Tensor group_loss_cpu = group_loss.detach().to(at::kDouble).cpu();
    const at::Tensor nll_cpu = nll.detach().to(at::kDouble).cpu();
    for (int64_t i = 0; i < n; ++i) {
      if (!active[static_cast<size_t>(group[static_cast<size_t>(i)])]) continue;
      result.final_loss[static_cast<size_t>(i)] = loss_cpu[i].item<double>();
      result.target_prob[static_cast<size_t>(i)] = std::exp(-nll_cpu[i].item<double>());
      result.steps[static_cast<size_t>(i)] = step;
    }
    at::Tensor active_mask = at::zeros({num_groups}, loss.options());
    bool any_active = false, any_stopped = false;
    for (int64_t g = 0; g < num_groups; ++g) {
      if (!active[static_cast<size_t>(g)]) continue;
      if (group_loss_cpu[g].item<double>() < options.early_stop_loss) {
        active[static_cast<size_t>(g)] = false;
        any_stopped = true;
      } else {
        active_mask[g] = 1.0;
        any_active = true;
      }
    }
    // MEMIT evaluates the loss once more at the last step without updating.
    if (!any_active || step == options.steps - 1) break;

    const at::Tensor frozen = delta.detach().clone();
    opt.zero_grad();
    (group_loss * active_mask).sum().backward();
    opt.step();
    {
      at::NoGradGuard no_grad;
      const at::Tensor keep = active_mask.to(delta.scalar_type()).unsqueeze(1);
      delta.copy_(delta * keep + frozen * (1 - keep));
      if (protected_u.defined()) delta.sub_(delta.mm(protected_u).mm(protected_u.t()));
      at::Tensor norms = delta.norm(2, {1});
      if (!at::isfinite(norms).all().item<bool>()) {
        // A huge step (a large learning rate) overflows a float norm to inf, which
        // would clamp the delta to 0: take the norm over the row's largest entry.
        const at::Tensor peak = delta.abs().amax({1}).clamp_min(1e-30);
        norms = (delta / peak.unsqueeze(1)).norm(2, {1}) * peak;
        if (!at::isfinite(norms).all().item<bool>()) {
          throw Error("v* optimisation diverged at step " + std::to_string(step) +
                      " (the delta is not finite); lower the learning rate (now " + std::to_string(options.lr) + ")");
        }
      }
      const at::Tensor scale = at::where(norms > max_norm, max_norm / norms.clamp_min(1e-30), at::ones_like(norms));
      delta.mul_(scale.unsqueeze(1));
    }
    if (any_stopped) work = working_rows(active);
  }
  for (int64_t i = 0; i < n; ++i) {
    if (active[static_cast<size_t>(group[static_cast<size_t>(i)])]) result.steps[static_cast<size_t>(i)] = options.steps - 1;
  }
  result.initial = z0.t().contiguous();
  result.targets = (z0 + delta.detach().index_select(0, request_group)).t().contiguous();
  return result;
}

}  // namespace revive::edit
