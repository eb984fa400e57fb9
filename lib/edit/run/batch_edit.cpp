#include "lib/edit/run/batch_edit.h"

#include <ATen/ATen.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <functional>
#include <map>
#include <numeric>
#include <optional>

#include "lib/edit/editors/distributed_solve.h"
#include "lib/edit/run/edit_keys.h"
#include "lib/edit/run/target_scores.h"
#include "lib/edit/weight_update.h"
#include "lib/model/transformer.h"
#include "sharding/comm/communicator.h"
#include "sharding/comm/staged_collectives.h"
#include "sharding/comm/watchdog.h"
#include "sharding/errors.h"
#include "sharding/sharded_tensor.h"

namespace revive::edit {
namespace {

// "request 3 of the batch ("Tom had a pet" -> "cat", case_id 7)", for errors.
std::string request_label(const std::vector<data::EditRequest>& batch, size_t i) {
  const std::string id = batch[i].case_id ? ", case_id " + std::to_string(*batch[i].case_id) : "";
  return "request " + std::to_string(i) + " of the batch (\"" + batch[i].prompt() + "\" -> \"" + batch[i].target_new +
         "\"" + id + ")";
}

double batch_seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// The requests of `batch` at `members`, in that order.
std::vector<data::EditRequest> batch_subset(const std::vector<data::EditRequest>& batch,
                                            const std::vector<int64_t>& members) {
  std::vector<data::EditRequest> out;
  out.reserve(members.size());
  for (int64_t j : members) out.push_back(batch[static_cast<size_t>(j)]);
  return out;
}

// The columns of t ([d, n], one per request) at `members`, in that order: the
// counterpart of batch_subset for per-request tensors.
at::Tensor columns_at(const at::Tensor& t, const std::vector<int64_t>& members) {
  return t.index_select(1, at::tensor(members, at::kLong).to(t.device()));
}

// This dp rank's contiguous share of n requests (the substrate's balanced split).
sharding::Range batch_share(int64_t n, sharding::Communicator* dp) {
  if (dp == nullptr || dp->size() == 1) return {0, n};
  return sharding::shard_range(n, dp->rank(), dp->size());
}

// v* for the whole batch: each dp rank optimises its share, results gathered in
// request order. Requests that share a delta (value_groups) are optimised
// together, so the shares are cut at group boundaries of the batch ordered by
// group: the result is the same for every dp size.
ValueResult batch_values(model::Transformer& model, const model::Tokenizer& tok,
                         const std::vector<data::EditRequest>& batch, int64_t layer, const EditPlan& plan,
                         sharding::Communicator* dp) {
  if (dp == nullptr || dp->size() == 1) return compute_values(model, tok, batch, layer, plan.templates, plan.values);
  const int64_t n = static_cast<int64_t>(batch.size());
  const std::vector<int64_t> group = value_groups(tok, batch, plan.templates, plan.values);
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), int64_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return group[static_cast<size_t>(a)] < group[static_cast<size_t>(b)]; });
  // First position >= x that starts a group.
  auto group_start = [&](int64_t x) {
    while (x > 0 && x < n && group[static_cast<size_t>(order[static_cast<size_t>(x)])] ==
                                 group[static_cast<size_t>(order[static_cast<size_t>(x - 1)])]) {
      ++x;
    }
    return x;
  };
  const auto [share_begin, share_count] = batch_share(n, dp);
  const int64_t begin = group_start(share_begin);
  const int64_t count = group_start(share_begin + share_count) - begin;
  const int64_t hidden = model.config().hidden_size;
  const at::TensorOptions acc = at::TensorOptions().dtype(compute_dtype(model.dtype())).device(model.device());
  ValueResult mine;
  if (count > 0) {
    const std::vector<int64_t> members(order.begin() + begin, order.begin() + begin + count);
    mine = compute_values(model, tok, batch_subset(batch, members), layer, plan.templates, plan.values);
  } else {
    mine.targets = at::zeros({hidden, 0}, acc);
    mine.initial = at::zeros({hidden, 0}, acc);
  }
  sharding::AllGatherOptions cols;
  cols.dim = 1;
  at::Tensor stats = at::zeros({3, count}, at::kDouble);
  for (int64_t i = 0; i < count; ++i) {
    stats[0][i] = mine.final_loss[static_cast<size_t>(i)];
    stats[1][i] = mine.target_prob[static_cast<size_t>(i)];
    stats[2][i] = static_cast<double>(mine.steps[static_cast<size_t>(i)]);
  }
  // Gathered in group order; column j belongs to request order[j].
  const at::Tensor targets = sharding::all_gather_staged(*dp, mine.targets, cols);
  const at::Tensor initial = sharding::all_gather_staged(*dp, mine.initial, cols);
  const at::Tensor gathered = sharding::all_gather_staged(*dp, stats, cols);
  const at::Tensor back = at::empty({n}, at::kLong);
  for (int64_t j = 0; j < n; ++j) back[order[static_cast<size_t>(j)]] = j;
  ValueResult all;
  all.targets = targets.index_select(1, back.to(targets.device()));
  all.initial = initial.index_select(1, back.to(initial.device()));
  const at::Tensor in_order = gathered.index_select(1, back);
  for (int64_t i = 0; i < n; ++i) {
    all.final_loss.push_back(in_order[0][i].item<double>());
    all.target_prob.push_back(in_order[1][i].item<double>());
    all.steps.push_back(static_cast<int64_t>(in_order[2][i].item<double>()));
  }
  return all;
}

// Puts the given weights into the model's edited layers for its lifetime and the
// current ones back afterwards, also when an exception leaves the scope.
class SwappedWeights {
 public:
  SwappedWeights(model::Transformer& model, const std::map<std::string, at::Tensor>& weights) : model_(model) {
    at::NoGradGuard no_grad;
    for (const auto& [name, w] : weights) {
      at::Tensor local = model_.linear_weight(name).local();
      saved_[name] = local.clone();
      local.copy_(w);
    }
  }
  ~SwappedWeights() {
    at::NoGradGuard no_grad;
    for (const auto& [name, w] : saved_) model_.linear_weight(name).local().copy_(w);
  }
  SwappedWeights(const SwappedWeights&) = delete;
  SwappedWeights& operator=(const SwappedWeights&) = delete;

 private:
  model::Transformer& model_;
  std::map<std::string, at::Tensor> saved_;
};

// Columns [d, n] computed by `part(begin, count)` on each dp rank's share of the
// n requests and all-gathered in request order (keys and block outputs: each
// column depends on its own request only).
at::Tensor batch_columns(int64_t n, int64_t d, const at::TensorOptions& options, sharding::Communicator* dp,
                         const std::function<at::Tensor(int64_t, int64_t)>& part) {
  if (dp == nullptr || dp->size() == 1) return part(0, n);
  const auto [begin, count] = batch_share(n, dp);
  const at::Tensor mine = count > 0 ? part(begin, count) : at::zeros({d, 0}, options);
  sharding::AllGatherOptions cols;
  cols.dim = 1;
  return sharding::all_gather_staged(*dp, mine, cols);
}

}  // namespace

std::vector<std::pair<std::string, double>> named_diagnostics(const LayerEditReport& lr) {
  std::vector<std::pair<std::string, double>> out;
  for (const auto& [key, v] : {std::pair<const char*, double>{"achieved", lr.achieved},
                               {"achieved_filtered", lr.achieved_filtered},
                               {"disturbance", lr.disturbance},
                               {"disturbance_filtered", lr.disturbance_filtered},
                               {"residual_unprotected", lr.residual_unprotected}}) {
    if (std::isfinite(v)) out.emplace_back(key, v);
  }
  return out;
}

double update_frobenius(const WeightUpdate& update, sharding::Communicator* group) {
  double sq = 0;
  if (update.is_factored()) {
    const at::Tensor r = update.r().to(at::kDouble), x = update.x().to(at::kDouble);
    sq = (r.t().mm(r) * x.t().mm(x)).sum().item<double>();
  } else if (update.defined()) {
    sq = update.dense_delta().to(at::kDouble).pow(2).sum().item<double>();
  }
  if (group != nullptr && group->size() > 1) {
    at::Tensor t = at::tensor({sq}, at::kDouble);
    sharding::all_reduce_staged(*group, t);
    sq = t.item<double>();
  }
  return std::sqrt(std::max(sq, 0.0));
}

BatchEditor::BatchEditor(model::Transformer& model, const model::Tokenizer& tokenizer, Editor& editor, EditPlan plan,
                         sharding::Communicator* dp)
    : model_(model), tokenizer_(tokenizer), editor_(editor), plan_(std::move(plan)), dp_(dp) {
  REVIVE_CHECK(!plan_.layers.empty(), "edit plan: no layers to edit");
  for (size_t i = 0; i < plan_.layers.size(); ++i) {
    const int64_t l = plan_.layers[i];
    if (l < 0 || l >= model_.num_layers()) {
      throw Error("edit plan: layer " + std::to_string(l) + " outside the model's 0.." +
                  std::to_string(model_.num_layers() - 1));
    }
    if (i > 0 && l <= plan_.layers[i - 1]) throw Error("edit plan: layers must be strictly ascending");
    const std::string name = model_.module_name({l, plan_.module});
    names_.push_back(name);
    const sharding::ShardedTensor& w = model_.linear_weight(name);
    originals_[name] = w.local().clone();
    if (dense_on_shards(w)) whole_originals_[name] = w.full();
  }
}

bool BatchEditor::dense_on_shards(const sharding::ShardedTensor& w) const {
  return dynamic_cast<FactoredEditor*>(&editor_) == nullptr && w.spec().dim >= 0 && w.reduce_group().size() > 1;
}

void BatchEditor::attach_weights(const std::string& name, const sharding::ShardedTensor& w, LayerEdit& edit) const {
  if (dense_on_shards(w)) {
    // Dense editors need the whole matrix (RECT ranks entries over all of it,
    // PRUNE takes the SVD of the accumulated update): every rank of the tp
    // group gathers W, computes the same update and keeps its own shard.
    edit.weight = w.full();
    edit.original_weight = whole_originals_.at(name);
  } else {
    edit.weight = w.local();  // the whole weight
    edit.original_weight = originals_.at(name);
  }
}

void BatchEditor::set_filters(const std::string& layer, FilterPipeline filters) {
  REVIVE_CHECK(originals_.count(layer) != 0, "set_filters: '" + layer + "' is not an edited layer");
  filters_[layer] = std::move(filters);
}

void BatchEditor::set_diagnostics(const std::string& layer, const at::Tensor& second_moment,
                                  const at::Tensor& protected_u) {
  REVIVE_CHECK(originals_.count(layer) != 0, "set_diagnostics: '" + layer + "' is not an edited layer");
  LayerDiagnosticInputs in;
  in.second_moment = second_moment;
  in.protected_u = protected_u;
  if (second_moment.defined()) {
    in.original_energy = weight_output_energy(originals_.at(layer), model_.linear_weight(layer), second_moment);
  }
  diagnostics_[layer] = in;
}

void BatchEditor::measure_layer(const std::string& name, const sharding::ShardedTensor& w, const at::Tensor& keys,
                                const at::Tensor& resid, const WeightUpdate& update, const WeightUpdate& safe,
                                LayerEditReport& lr) const {
  const auto t = std::chrono::steady_clock::now();
  if (lr.residual_norm > 0) {
    lr.achieved = 1.0 - update_fit_error(update, w, keys, resid) / lr.residual_norm;
    lr.achieved_filtered = &safe == &update ? lr.achieved : 1.0 - update_fit_error(safe, w, keys, resid) / lr.residual_norm;
  }
  const auto d = diagnostics_.find(name);
  if (d != diagnostics_.end()) {
    const LayerDiagnosticInputs& in = d->second;
    if (in.second_moment.defined() && in.original_energy > 0) {
      lr.disturbance = std::sqrt(std::max(update_disturbance_sq(update, w, in.second_moment), 0.0) / in.original_energy);
      lr.disturbance_filtered =
          &safe == &update ? lr.disturbance
                           : std::sqrt(std::max(update_disturbance_sq(safe, w, in.second_moment), 0.0) / in.original_energy);
    }
    if (in.protected_u.defined()) lr.residual_unprotected = unprotected_share(resid, in.protected_u);
  }
  lr.seconds_diagnostics = batch_seconds_since(t);
}

const at::Tensor& BatchEditor::original_weight(const std::string& layer) const {
  const auto it = originals_.find(layer);
  REVIVE_CHECK(it != originals_.end(), "original_weight: '" + layer + "' is not an edited layer");
  return it->second;
}

at::Tensor BatchEditor::batch_keys(const std::vector<data::EditRequest>& batch, int64_t position) const {
  const int64_t layer = plan_.layers[static_cast<size_t>(position)];
  const sharding::ShardedTensor& w = model_.linear_weight(names_[static_cast<size_t>(position)]);
  const int64_t d_in = w.spec().global_shape[1];
  const at::TensorOptions options =
      at::TensorOptions().dtype(compute_dtype(model_.dtype())).device(model_.device());
  return batch_columns(static_cast<int64_t>(batch.size()), d_in, options, dp_, [&](int64_t begin, int64_t count) {
    const std::vector<data::EditRequest> part(batch.begin() + begin, batch.begin() + begin + count);
    return compute_keys(model_, tokenizer_, part, layer, plan_.module, plan_.templates, plan_.forward_batch,
                        plan_.values.fact_token);
  });
}

at::Tensor BatchEditor::batch_outputs(const std::vector<data::EditRequest>& batch, at::ScalarType dtype) const {
  return batch_columns(static_cast<int64_t>(batch.size()), model_.config().hidden_size,
                       at::TensorOptions().dtype(dtype).device(model_.device()), dp_,
                       [&](int64_t begin, int64_t count) {
                         const std::vector<data::EditRequest> part(batch.begin() + begin,
                                                                   batch.begin() + begin + count);
                         return block_outputs_at_subject(model_, tokenizer_, part, plan_.layers.back(),
                                                         plan_.forward_batch, plan_.values.fact_token);
                       });
}

void BatchEditor::edit_layers(const std::vector<data::EditRequest>& batch, const at::Tensor& zs, BatchReport& report,
                              const at::Tensor& first_keys) {
  const int64_t num_layers = static_cast<int64_t>(plan_.layers.size());
  for (int64_t i = 0; i < num_layers; ++i) {
    const int64_t l = plan_.layers[static_cast<size_t>(i)];
    const std::string& name = names_[static_cast<size_t>(i)];
    LayerEditReport lr;
    lr.layer = name;
    std::optional<sharding::watchdog::Phase> phase(std::in_place, "keys");
    auto t = std::chrono::steady_clock::now();
    const at::Tensor keys = i == 0 ? first_keys : batch_keys(batch, i);
    const at::Tensor cur = batch_outputs(batch, zs.scalar_type());
    lr.seconds_keys = batch_seconds_since(t);
    const at::Tensor resid = spread_residual(zs.to(cur.dtype()) - cur, i, num_layers);
    lr.residual_norm = resid.to(at::kDouble).norm().item<double>();

    phase.emplace("solve");
    t = std::chrono::steady_clock::now();
    sharding::ShardedTensor& w = model_.linear_weight(name);
    LayerEdit edit;
    edit.layer = name;
    edit.keys = keys;
    edit.residual = resid;
    WeightUpdate update;
    if (auto* fe = dynamic_cast<FactoredEditor*>(&editor_)) {
      // Factored editors need no weight; under tp each rank holds a shard only.
      update = distributed_update(*fe, l, edit, w);
    } else {
      attach_weights(name, w, edit);
      update = editor_.compute(edit).local_shard(w.spec());
    }
    lr.seconds_solve = batch_seconds_since(t);
    sharding::Communicator* group = &w.reduce_group();
    lr.update_norm = update_frobenius(update, group);

    phase.emplace("filter");
    t = std::chrono::steady_clock::now();
    const auto f = filters_.find(name);
    const WeightUpdate filtered = f == filters_.end() ? WeightUpdate() : f->second.apply(update, w);
    const WeightUpdate& safe = f == filters_.end() ? update : filtered;
    lr.filtered_norm = f == filters_.end() ? lr.update_norm : update_frobenius(safe, group);
    lr.seconds_filter = batch_seconds_since(t);
    measure_layer(name, w, keys, resid, update, safe, lr);

    phase.emplace("write");
    t = std::chrono::steady_clock::now();
    safe.apply_to(w.local());  // rejects NaN/Inf before touching the weight
    lr.seconds_write = batch_seconds_since(t);
    report.layers.push_back(lr);
  }
  ++report.passes;
  report.pass_requests.push_back(static_cast<int64_t>(batch.size()));
}

void BatchEditor::edit_group(const std::vector<data::EditRequest>& batch, const std::vector<int64_t>& members,
                             const at::Tensor& zs, BatchReport& report, const at::Tensor& first_keys) {
  const std::vector<data::EditRequest> group = batch_subset(batch, members);
  const at::Tensor group_zs = columns_at(zs, members);
  const IterativeEditing& it = plan_.iterations;
  if (!it.enabled) {
    edit_layers(group, group_zs, report, first_keys);
    return;
  }
  REVIVE_CHECK(it.max_iterations >= 1 && it.alpha >= 0 && it.upper_bound > it.alpha,
               "edit plan: iterative editing needs max_iterations >= 1 and 0 <= alpha < upper_bound");
  int64_t converged = 0, given_up = 0;
  for (int64_t m = 0; m < it.max_iterations; ++m) {
    // Every rank measures the same (gathered) outputs, so all agree on the set.
    const at::Tensor dist = (group_zs - batch_outputs(group, zs.scalar_type())).to(at::kDouble).norm(2, {0});
    std::vector<int64_t> open;
    converged = given_up = 0;
    for (int64_t j = 0; j < dist.size(0); ++j) {
      const double d = dist[j].item<double>();
      if (d > it.alpha && d < it.upper_bound) open.push_back(j);
      else ++(d <= it.alpha ? converged : given_up);
    }
    if (open.empty() || m == it.max_iterations - 1) break;
    edit_layers(batch_subset(group, open), columns_at(group_zs, open), report, columns_at(first_keys, open));
  }
  report.converged += converged;
  report.given_up += given_up;
}

double BatchEditor::check_edited_model(const std::vector<data::EditRequest>& batch) const {
  at::NoGradGuard no_grad;
  for (const std::string& name : names_) {
    const sharding::ShardedTensor& w = model_.linear_weight(name);
    at::Tensor bad = at::tensor({static_cast<double>(count_nonfinite(w.local()))}, at::kDouble);
    sharding::Communicator& group = w.reduce_group();
    if (group.size() > 1) sharding::all_reduce_staged(group, bad);
    if (bad.item<double>() > 0) {
      throw Error("edit of layer '" + name + "' rejected: the weight plus its (finite) update has " +
                  std::to_string(static_cast<int64_t>(bad.item<double>())) +
                  " NaN/Inf entries (overflow); the weights were restored");
    }
  }
  // Finite weights can still overflow the activations downstream (a delta of
  // 1e30 x the hidden norm): score each request's targets on the edited model.
  const TargetScores scores = score_targets(model_, tokenizer_, batch);
  for (size_t i = 0; i < batch.size(); ++i) {
    if (!std::isfinite(scores.nll_new[i])) {
      throw Error("batch rejected: on the edited model the log-probability of " + request_label(batch, i) +
                  " is not finite: the update overflowed the model's activations; the weights were restored");
    }
  }
  return efficacy(scores);
}

BatchReport BatchEditor::apply(const std::vector<data::EditRequest>& batch) {
  REVIVE_CHECK(!batch.empty(), "BatchEditor::apply: empty batch");
  const auto t_start = std::chrono::steady_clock::now();
  BatchReport report;
  report.requests = static_cast<int64_t>(batch.size());
  const int64_t last = plan_.layers.back();

  auto t = std::chrono::steady_clock::now();
  std::optional<sharding::watchdog::Phase> phase(std::in_place, "v*");
  if (plan_.rewind_values) {
    const SwappedWeights rewound(model_, originals_);
    report.values = batch_values(model_, tokenizer_, batch, last, plan_, dp_);
  } else {
    report.values = batch_values(model_, tokenizer_, batch, last, plan_, dp_);
  }
  report.seconds_values = batch_seconds_since(t);
  phase.reset();
  report.value_diagnostics = value_diagnostics(report.values, plan_.values.clamp_norm_factor);
  const at::Tensor& zs = report.values.targets;
  // A v* whose own loss overflowed (its delta drives the target's probability
  // to 0 in the compute dtype) is no target to edit towards, even if finite.
  for (size_t i = 0; i < report.values.final_loss.size(); ++i) {
    if (!std::isfinite(report.values.final_loss[i])) {
      throw Error("batch rejected: the v* optimisation of " + request_label(batch, i) + " ended with a loss of " +
                  std::to_string(report.values.final_loss[i]) +
                  " (its delta overflowed the model's outputs; lower the v* learning rate or the clamp norm "
                  "factor); the weights were not touched");
    }
  }

  std::map<std::string, at::Tensor> backup;
  for (const std::string& name : names_) backup[name] = model_.linear_weight(name).local().clone();
  // The editor's key memory grows as each group is recorded: a batch that fails
  // after a group must leave it, like the weights, as it found it.
  std::map<std::string, at::Tensor> editor_backup;
  for (const auto& [key, value] : editor_.state()) editor_backup[key] = value.clone();
  try {
    // The first edited layer's keys are the input of the lowest edited module:
    // no edited weight comes before it, so edits do not change them and one
    // computation serves the clustering, every group and pass, and the key
    // memory. Gathered over dp, so every rank forms the same groups.
    t = std::chrono::steady_clock::now();
    const at::Tensor first_keys = batch_keys(batch, 0);
    report.seconds_first_keys = batch_seconds_since(t);
    std::vector<std::vector<int64_t>> groups = {single_group(report.requests)};
    if (plan_.clustering.clusters > 1 && batch.size() > 1) {
      groups = cluster_requests(first_keys, plan_.clustering);  // before any edit, as the published code
    }
    for (const std::vector<int64_t>& members : groups) {
      report.cluster_sizes.push_back(static_cast<int64_t>(members.size()));
      const at::Tensor group_first_keys = columns_at(first_keys, members);
      edit_group(batch, members, zs, report, group_first_keys);
      if (!editor_.records_keys()) continue;
      // The group's keys on the model it left, so the solves of later groups
      // (and batches) protect its edits, as NSE's loop does.
      t = std::chrono::steady_clock::now();
      const std::vector<data::EditRequest> group = batch_subset(batch, members);
      for (size_t i = 0; i < names_.size(); ++i) {
        const at::Tensor keys = i == 0 ? group_first_keys : batch_keys(group, static_cast<int64_t>(i));
        distributed_record_keys(editor_, plan_.layers[i], names_[i], keys, model_.tp());
      }
      report.seconds_record += batch_seconds_since(t);
    }
    t = std::chrono::steady_clock::now();
    report.efficacy = check_edited_model(batch);
    report.seconds_efficacy = batch_seconds_since(t);
  } catch (...) {
    at::NoGradGuard no_grad;
    for (const auto& [name, saved] : backup) model_.linear_weight(name).local().copy_(saved);
    editor_.load_state(editor_backup);
    throw;
  }
  report.seconds_total = batch_seconds_since(t_start);
  return report;
}

std::vector<LayerEditReport> BatchEditor::finish_run() {
  std::vector<LayerEditReport> reports;
  if (!editor_.finishes()) return reports;
  std::map<std::string, at::Tensor> backup;
  for (const std::string& name : names_) backup[name] = model_.linear_weight(name).local().clone();
  try {
    for (const std::string& name : names_) {
      sharding::ShardedTensor& w = model_.linear_weight(name);
      const bool split = w.spec().dim >= 0 && w.reduce_group().size() > 1;
      if (split && !dense_on_shards(w)) {
        throw Error(editor_.name() + ": a step after the last batch on a split weight needs a dense editor");
      }
      LayerEditReport lr;
      lr.layer = name;
      auto t = std::chrono::steady_clock::now();
      LayerEdit edit;
      edit.layer = name;
      attach_weights(name, w, edit);
      const WeightUpdate update = editor_.finish(edit).local_shard(w.spec());
      lr.seconds_solve = batch_seconds_since(t);
      lr.update_norm = lr.filtered_norm = update_frobenius(update, &w.reduce_group());
      // Summed over the group, so every rank of a split weight refuses alike.
      if (!std::isfinite(lr.update_norm)) {
        throw Error(editor_.name() + ": the step after the last batch of layer '" + name + "' is not finite");
      }
      t = std::chrono::steady_clock::now();
      update.apply_to(w.local());  // rejects NaN/Inf before touching the weight
      lr.seconds_write = batch_seconds_since(t);
      reports.push_back(lr);
    }
  } catch (...) {
    at::NoGradGuard no_grad;
    for (const auto& [name, saved] : backup) model_.linear_weight(name).local().copy_(saved);
    throw;
  }
  return reports;
}

}  // namespace revive::edit
