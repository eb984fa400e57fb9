#pragma once
// RECT (Gu et al., "Model Editing Harms General Abilities of Large Language
// Models: Regularization to the Rescue", EMNLP 2024): after the base editor
// (MEMIT by default) proposes dW, only the top keep_fraction of its entries by
// RElative Change in weighT, |dW_ij| / |W_ij|, are kept (the "principal editing
// information"); all others are set to zero. Published k = 20%. The result is
// dense (a sparse mask is not low-rank).
//
// Relative change of an entry with W_ij = 0 is +inf if dW_ij != 0 (kept first)
// and 0 if dW_ij = 0. Exactly ceil(keep_fraction * numel) entries are kept; the
// ranking is over the whole matrix, also when it is tensor-parallel sharded:
// given the shards' group, the threshold is found by a bisection that exchanges
// only counts, and each rank masks its own shard.
#include <ATen/core/Tensor.h>

#include <memory>
#include <string>

#include "lib/edit/editors/editor.h"
#include "lib/edit/editors/memit_editor.h"
#include "sharding/comm/communicator_fwd.h"

namespace revive::edit {

struct RectOptions {
  MemitOptions memit;          // base editor options when the base is MEMIT
  double keep_fraction = 0.4;  // the AlphaEdit repository's RECT (k_percent 40); the RECT authors' code keeps 0.2
};

// Boolean mask of the entries RECT keeps. dw and weight are this rank's shards
// when `group` (the ranks holding the other shards) is given; collective then.
at::Tensor rect_mask(const at::Tensor& dw, const at::Tensor& weight, double keep_fraction,
                     sharding::Communicator* group = nullptr);
// dw with every entry outside rect_mask() zeroed.
at::Tensor rect_sparsify(const at::Tensor& dw, const at::Tensor& weight, double keep_fraction,
                         sharding::Communicator* group = nullptr);

class RectEditor : public WrappingEditor {
 public:
  // base: the editor whose update is masked; null means MEMIT with opts.memit.
  explicit RectEditor(RectOptions opts = {}, std::unique_ptr<Editor> base = nullptr);

  std::string name() const override { return "RECT"; }
  // Needs edit.weight (the current W).
  WeightUpdate compute(const LayerEdit& edit) override;

  const RectOptions& options() const { return opts_; }

 private:
  RectOptions opts_;
};

}  // namespace revive::edit
