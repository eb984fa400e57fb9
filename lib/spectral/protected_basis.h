#pragma once
// ProtectedBasis: the top-k singular directions of an *original* weight W0 that
// the REVIVE filter keeps every update away from (DESIGN.md sections 1 and 3).
//
// Laid out to match the weight's shards:
//   kColumn weight (rows split):  U_k split by rows like W, V_k replicated;
//   kRow weight (columns split):  U_k replicated, V_k split by rows like W's columns;
//   kReplicated weight:           both whole.
// The basis reports the group its partial products reduce over (reduce_group()).
//
// Saved as one safetensors file holding the whole factors (tensors "u", "v",
// "s"; metadata: source tensor, k, tau, engine, shape, checksum of W0), written
// atomically by rank 0, so it reloads under any tensor-parallel size. Loading
// checks the file against the weight it is meant for and refuses a mismatch.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>

#include "lib/spectral/svd_options.h"
#include "sharding/sharded_tensor.h"

namespace revive::spectral {

class ProtectedBasis {
 public:
  // SVD of the original weight (collective over w.reduce_group()). Energy mode
  // (opts.energy = tau) or fixed k (opts.rsvd.rank).
  static ProtectedBasis compute(const sharding::ShardedTensor& w, const std::string& source,
                                const SvdOptions& opts);

  // Collective: gathers the split factor; rank 0 writes `path` atomically; all
  // ranks return once the file is in place.
  void save(const std::string& path) const;
  // Collective: every rank reads its slice of the factors. Throws InputError
  // naming the file and field when the file is malformed or was made for another
  // tensor (name, shape or checksum of `w` differ).
  static ProtectedBasis load(const std::string& path, const sharding::ShardedTensor& w,
                             const std::string& source);

  const sharding::ShardedTensor& u() const { return u_; }  // m x k
  const sharding::ShardedTensor& v() const { return v_; }  // n x k
  const at::Tensor& s() const { return s_; }               // k, f64
  int64_t k() const { return k_; }
  double tau() const { return tau_; }                       // 0 in fixed-k mode
  // The engine that computed it (kAuto: not recorded, a cache file of an older
  // build). Drift metrics use it, so an unedited weight measures as unrotated
  // where the estimate is repeatable at rank k: Gram-eigen (energy mode's
  // default) or fixed-k randomized; a randomized energy-mode basis was sketched
  // wider, so its drift at edit 0 is ~0.999, not 1.
  SvdEngine engine() const { return engine_; }
  double frobenius_sq() const { return frobenius_sq_; }     // ||W0||_F^2
  const std::string& source() const { return source_; }
  uint64_t checksum() const { return checksum_; }
  sharding::Layout weight_layout() const { return weight_spec_.layout; }
  const sharding::ShardSpec& weight_spec() const { return weight_spec_; }
  sharding::Communicator& reduce_group() const { return u_.reduce_group(); }

 private:
  sharding::ShardedTensor u_, v_;
  at::Tensor s_;
  int64_t k_ = 0;
  double tau_ = 0.0;
  SvdEngine engine_ = SvdEngine::kAuto;
  double frobenius_sq_ = 0.0;
  std::string source_;
  uint64_t checksum_ = 0;
  sharding::ShardSpec weight_spec_;
};

}  // namespace revive::spectral
