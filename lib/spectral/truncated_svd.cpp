#include "lib/spectral/truncated_svd.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "lib/spectral/engine_cost.h"
#include "lib/spectral/svd_engines.h"
#include "sharding/errors.h"

namespace revive::spectral {
namespace {

// Energy mode on the randomized engine: the threshold needs the spectrum, so
// grow k (doubling) until the captured energy reaches it; k is then read off
// the randomized estimates (an upper bound of the exact k, exact when the
// sketch has converged).
SvdFactors randomized_energy(const ShardedMatrix& a, const SvdOptions& opts, double frobenius_sq) {
  const int64_t full_rank = std::min(a.rows, a.cols);
  RsvdOptions r = opts.rsvd;
  r.rank = std::min<int64_t>(full_rank, std::max<int64_t>({opts.rsvd.rank, 8, full_rank / 32}));
  for (;;) {
    SvdFactors f = randomized_svd(a, r);
    const double captured = f.s.square().sum().item<double>();
    if (captured >= opts.energy * frobenius_sq || r.rank == full_rank) {
      const int64_t k = energy_rank(f.s, frobenius_sq, opts.energy);
      f.u = f.u.narrow(1, 0, k).contiguous();
      f.v = f.v.narrow(1, 0, k).contiguous();
      f.s = f.s.narrow(0, 0, k).contiguous();
      return f;
    }
    r.rank = std::min(full_rank, 2 * r.rank);
  }
}

// Both engines square the matrix (the Gram, or Y^T Y of the sketch in
// CholeskyQR), so its norm must stay far inside the compute dtype's range: an
// edited weight blown up to ~1e30 is finite in f32 but its Gram is not. The
// power of two that brings ||A||_F near 1 when it lies outside [2^-e, 2^e]
// (e = a quarter of the dtype's exponent range, leaving room for the squares
// and the sums over n), or 0 when A is fine as it is. Scaling by a power of
// two is exact, so the factors are those of A itself.
int scale_exponent(const ShardedMatrix& a, double frobenius_sq) {
  if (!std::isfinite(frobenius_sq)) {
    throw Error("truncated_svd: the " + std::to_string(a.rows) + " x " + std::to_string(a.cols) +
                " matrix has non-finite entries (||A||_F^2 = " + std::to_string(frobenius_sq) + ")");
  }
  if (frobenius_sq == 0) return 0;
  const int safe = a.local.scalar_type() == at::kDouble ? 250 : 30;
  int e = 0;
  std::frexp(std::sqrt(frobenius_sq), &e);
  return (e > safe || e < -safe) ? e : 0;
}

// t * 2^e, exactly: in steps of at most 2^64, each a normal number in f32.
at::Tensor times_pow2(at::Tensor t, int e) {
  while (e != 0) {
    const int step = std::max(-64, std::min(64, e));
    t = t * std::ldexp(1.0, step);
    e -= step;
  }
  return t;
}

}  // namespace

SvdResult truncated_svd(const ShardedMatrix& a, const SvdOptions& opts) {
  REVIVE_CHECK(opts.energy >= 0 && opts.energy <= 1, "truncated_svd: energy must lie in [0, 1]");
  REVIVE_CHECK(opts.energy > 0 || opts.rsvd.rank >= 1, "truncated_svd: give a rank or an energy threshold");
  SvdResult out;
  out.frobenius_sq = a.frobenius_sq();
  out.engine = choose_engine(a.rows, a.cols, opts);
  const int e = scale_exponent(a, out.frobenius_sq);
  ShardedMatrix scaled = a;
  double frobenius_sq = out.frobenius_sq;
  if (e != 0) {
    scaled.local = times_pow2(a.local, -e);
    frobenius_sq = std::ldexp(frobenius_sq, -2 * e);
  }
  SvdFactors f;
  if (out.engine == SvdEngine::kGramEigen) {
    f = gram_eigen_svd(scaled, opts.rsvd.rank, opts.energy, frobenius_sq, opts.gram_solver, &out.gram_solver);
  } else if (opts.energy > 0) {
    f = randomized_energy(scaled, opts, frobenius_sq);
  } else {
    f = randomized_svd(scaled, opts.rsvd);
  }
  if (e != 0) f.s = times_pow2(f.s, e);
  // The replicated factor was computed by every rank from reduced data; make it
  // bitwise identical before the signs are chosen from it.
  if (a.split == Split::kRows) replicate_from_root(a.group, f.v);
  if (a.split == Split::kCols) replicate_from_root(a.group, f.u);
  canonicalize_signs(a, f.u, f.v);
  out.u = f.u;
  out.s = f.s;
  out.v = f.v;
  out.k = f.s.numel();
  return out;
}

SvdResult truncated_svd(const at::Tensor& a, const SvdOptions& opts) {
  return truncated_svd(ShardedMatrix::whole(a), opts);
}

sharding::ShardSpec factor_spec(const ShardedMatrix& a, bool row_side, int64_t k,
                                const sharding::Communicator& group) {
  const int rank = group.rank();
  const int size = group.size();
  const int64_t rows = row_side ? a.rows : a.cols;
  const bool split = row_side ? a.split == Split::kRows : a.split == Split::kCols;
  if (!split) return sharding::ShardSpec::make(sharding::Layout::kReplicated, {rows, k}, rank, size);
  sharding::ShardSpec spec = sharding::ShardSpec::make(sharding::Layout::kColumn, {rows, k}, rank, size);
  spec.offset = a.offset;  // follow the weight's split, even when it is not the balanced one
  spec.length = a.length;
  return spec;
}

ShardedSvdResult truncated_svd(const sharding::ShardedTensor& a, const SvdOptions& opts) {
  const ShardedMatrix m = ShardedMatrix::from(a);
  SvdResult r = truncated_svd(m, opts);
  ShardedSvdResult out{sharding::ShardedTensor(r.u, factor_spec(m, true, r.k, a.reduce_group()), a.reduce_group()), r.s,
                       sharding::ShardedTensor(r.v, factor_spec(m, false, r.k, a.reduce_group()), a.reduce_group()), r.k,
                       r.frobenius_sq, r.engine, r.gram_solver};
  return out;
}

}  // namespace revive::spectral
