#include "lib/edit/editors/distributed_solve.h"

#include <ATen/ATen.h>

#include "sharding/comm/staged_collectives.h"
#include "sharding/errors.h"

namespace revive::edit {

int operator_owner(int64_t layer_index, int tp_size) {
  if (tp_size < 1 || layer_index < 0) {
    throw Error("operator_owner: layer " + std::to_string(layer_index) + " over tp size " + std::to_string(tp_size));
  }
  return static_cast<int>(layer_index % tp_size);
}

WeightUpdate distributed_update(FactoredEditor& editor, int64_t layer_index, const LayerEdit& edit,
                                const sharding::ShardedTensor& weight) {
  sharding::Communicator& tp = weight.reduce_group();
  const int owner = operator_owner(layer_index, tp.size());
  const auto dtype = compute_dtype(edit.keys.scalar_type());
  at::Tensor x;
  std::string failure;
  if (tp.rank() == owner) {
    try {
      x = editor.solve_keys(edit.layer, edit.keys).to(dtype).contiguous();
    } catch (const std::exception& e) {
      failure = e.what();
    }
  }
  // Status first, so a failed solve becomes an error on every rank, not a hang.
  at::Tensor status = at::full({1}, failure.empty() ? 1 : 0, at::kLong);
  sharding::BroadcastOptions bo;
  bo.root = owner;
  sharding::broadcast_staged(tp, status, bo);
  if (status.item<int64_t>() == 0) {
    throw Error(editor.name() + ": the solve of layer '" + edit.layer + "' failed on its owner, tp rank " +
                std::to_string(owner) + (failure.empty() ? std::string() : ": " + failure));
  }
  // X on the keys' device on every rank, like the owner's (editors return it there).
  if (tp.rank() != owner) x = at::empty({edit.keys.size(0), edit.keys.size(1)}, edit.keys.options().dtype(dtype));
  sharding::broadcast_staged(tp, x, bo);
  check_layer_edit(editor.name(), edit, x.size(0));
  const WeightUpdate full = WeightUpdate::factored(edit.layer, edit.residual.to(dtype), x);
  return full.local_shard(weight.spec());
}

void distributed_record_keys(Editor& editor, int64_t layer_index, const std::string& layer, const at::Tensor& keys,
                             sharding::Communicator& tp) {
  if (tp.rank() == operator_owner(layer_index, tp.size())) editor.record_keys(layer, keys);
}

}  // namespace revive::edit
