#include "lib/model/hooks.h"

#include <ATen/ATen.h>

#include <algorithm>

#include "sharding/errors.h"

namespace revive::model {
namespace {

// (rows, positions) index tensors for `at`, checked against h [B, T, ...].
std::pair<at::Tensor, at::Tensor> index_of(const std::vector<TokenPos>& at, const at::Tensor& h,
                                           const char* what) {
  std::vector<int64_t> rows, pos;
  rows.reserve(at.size());
  pos.reserve(at.size());
  for (const TokenPos& p : at) {
    if (p.row < 0 || p.row >= h.size(0) || p.pos < 0 || p.pos >= h.size(1)) {
      throw Error(std::string(what) + ": position (row " + std::to_string(p.row) + ", token " +
                  std::to_string(p.pos) + ") outside the batch [" + std::to_string(h.size(0)) + ", " +
                  std::to_string(h.size(1)) + "]");
    }
    rows.push_back(p.row);
    pos.push_back(p.pos);
  }
  const auto opts = at::TensorOptions().dtype(at::kLong).device(h.device());
  return {at::tensor(rows, opts), at::tensor(pos, opts)};
}

}  // namespace

at::Tensor CapturedInput::full() const {
  if (!split || tp == nullptr || tp->size() == 1) return local;
  sharding::AllGatherOptions o;
  o.dim = 1;
  return tp->all_gather(local.contiguous(), o);
}

size_t Hooks::capture_input(int64_t layer, std::string module, std::vector<TokenPos> at) {
  CapturedInput c;
  c.layer = layer;
  c.module = std::move(module);
  c.at = std::move(at);
  captures_.push_back(std::move(c));
  return captures_.size() - 1;
}

void Hooks::add_to_block_output(int64_t layer, std::vector<TokenPos> at, at::Tensor delta) {
  REVIVE_CHECK(delta.dim() == 1 || (delta.dim() == 2 && delta.size(0) == static_cast<int64_t>(at.size())),
               "add_to_block_output: delta must be [hidden] or [positions, hidden]");
  deltas_.push_back({layer, std::move(at), std::move(delta)});
}

size_t Hooks::capture_block_output(int64_t layer, std::vector<TokenPos> at) {
  outputs_.push_back({layer, std::move(at), at::Tensor()});
  return outputs_.size() - 1;
}

const at::Tensor& Hooks::block_output(size_t index) const {
  REVIVE_CHECK(index < outputs_.size(), "Hooks::block_output: no such capture");
  REVIVE_CHECK(outputs_[index].value.defined(), "Hooks::block_output: no forward pass has run since registration");
  return outputs_[index].value;
}

const CapturedInput& Hooks::captured(size_t index) const {
  REVIVE_CHECK(index < captures_.size(), "Hooks::captured: no such capture");
  REVIVE_CHECK(captures_[index].local.defined(), "Hooks::captured: no forward pass has run since registration");
  return captures_[index];
}

void Hooks::clear() {
  captures_.clear();
  deltas_.clear();
  outputs_.clear();
}

bool Hooks::wants_input(int64_t layer, const std::string& module) const {
  return std::any_of(captures_.begin(), captures_.end(),
                     [&](const CapturedInput& c) { return c.layer == layer && c.module == module; });
}

void Hooks::record_input(int64_t layer, const std::string& module, const at::Tensor& x, bool split,
                         sharding::Communicator& tp) {
  for (CapturedInput& c : captures_) {
    if (c.layer != layer || c.module != module) continue;
    const auto [rows, pos] = index_of(c.at, x, "capture_input");
    c.local = x.index({rows, pos});
    c.split = split;
    c.tp = &tp;
  }
}

at::Tensor Hooks::apply_block_deltas(int64_t layer, const at::Tensor& h) {
  for (OutputCapture& o : outputs_) {
    if (o.layer != layer) continue;
    const auto [rows, pos] = index_of(o.at, h, "capture_block_output");
    o.value = h.index({rows, pos});
  }
  at::Tensor out = h;
  for (const Delta& d : deltas_) {
    if (d.layer != layer) continue;
    const auto [rows, pos] = index_of(d.at, h, "add_to_block_output");
    const at::Tensor values = d.delta.dim() == 1 ? d.delta.expand({rows.size(0), h.size(2)}) : d.delta;
    // Out of place, accumulating: differentiable in both h and the delta.
    c10::List<c10::optional<at::Tensor>> index;
    index.push_back(rows);
    index.push_back(pos);
    out = at::index_put(out, index, values.to(h.scalar_type()), /*accumulate=*/true);
  }
  return out;
}

void Hooks::validate(int64_t num_layers, const std::vector<std::string>& modules) const {
  for (const CapturedInput& c : captures_) {
    if (c.layer < 0 || c.layer >= num_layers) {
      throw Error("capture_input: layer " + std::to_string(c.layer) + " outside [0, " + std::to_string(num_layers) +
                  ")");
    }
    if (std::find(modules.begin(), modules.end(), c.module) == modules.end()) {
      std::string known;
      for (const std::string& m : modules) known += (known.empty() ? "" : ", ") + m;
      throw Error("capture_input: unknown module '" + c.module + "' (known: " + known + ")");
    }
  }
  for (const OutputCapture& o : outputs_) {
    if (o.layer < 0 || o.layer >= num_layers) {
      throw Error("capture_block_output: layer " + std::to_string(o.layer) + " outside [0, " +
                  std::to_string(num_layers) + ")");
    }
  }
  for (const Delta& d : deltas_) {
    if (d.layer < 0 || d.layer >= num_layers) {
      throw Error("add_to_block_output: layer " + std::to_string(d.layer) + " outside [0, " +
                  std::to_string(num_layers) + ")");
    }
  }
}

}  // namespace revive::model
