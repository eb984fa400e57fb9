// Gram-eigen SVD: A A^T = U S^2 U^T (or A^T A = V S^2 V^T) by a replicated f64
// eigen-decomposition, the other factor by one GEMM: V = A^T U S^{-1}.
// Exact for any k; singular values carry an absolute error ~ eps s_1^2 / s_i.
// The randomized engine's Gram route (gram_subspace_svd) shares the Gram and
// the factor step, with a subspace iteration in place of the eigen-solve.
#include <ATen/ATen.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "lib/spectral/engine_cost.h"
#include "lib/spectral/sketch_matrix.h"
#include "lib/spectral/svd_engines.h"
#include "revive/config.h"
#include "sharding/comm/communicator.h"
#include "sharding/comm/staged_collectives.h"
#include "sharding/errors.h"

#if REVIVE_HAVE_CUDA
#include "lib/spectral/cuda/cusolver_tensors.h"
#endif
#if REVIVE_HAVE_LAPACK
#include "lib/spectral/lapack/lapack_eigen.h"
#endif

namespace revive::spectral {
namespace {

// 1/s where s is resolvable by the Gram route, 0 elsewhere (the matching
// factor column of a rank-deficient A is then zero instead of noise). From
// eigenvalues of A A^T, s carries an absolute error ~ sqrt(eps N) s_1 near zero.
at::Tensor safe_inverse(const at::Tensor& s, int64_t rows, int64_t cols) {
  const double top = s.numel() > 0 ? s.max().item<double>() : 0.0;
  const double cutoff =
      top * std::sqrt(static_cast<double>(std::max(rows, cols)) * std::numeric_limits<double>::epsilon());
  return at::where(s > cutoff, 1.0 / s.clamp_min(std::numeric_limits<double>::min()), at::zeros_like(s));
}

// Whether the k-largest solve runs for a Gram on `device`: cuSOLVER syevdx on
// CUDA, LAPACK's dsytrd + dstemr + dormtr on the host.
bool use_top_k(GramSolver solver, const at::Device& device, int64_t k, int64_t n, bool energy_mode) {
  const bool on_cuda = REVIVE_HAVE_CUDA && device.is_cuda();
  const bool on_host = REVIVE_HAVE_LAPACK && device.is_cpu();
  if (solver == GramSolver::kTopK) {
    REVIVE_CHECK(on_cuda || on_host,
                 std::string("gram_eigen_svd: the top-k eigen-solve needs ") +
                     (device.is_cuda() ? "REVIVE built with CUDA" : "REVIVE built with LAPACK"));
    return true;
  }
  if (solver != GramSolver::kAuto || 2 * k > n) return false;
  // On the host the eigenvalues come from the tridiagonal before any vector
  // (one reduction either way), so energy mode gains too; cuSOLVER's energy
  // mode needs a second solve for the values and loses (bench/rsvd, H100).
  return on_host || (on_cuda && !energy_mode);
}

// The eigenpairs a Gram-eigen SVD needs, descending, and its rank: all of them
// from a full eigh, or only the top k. Energy mode picks k from the eigenvalues
// (replicated from the root so every rank agrees) before the vectors.
struct GramEigen {
  at::Tensor s;     // singular values: sqrt of the eigenvalues, descending, replicated
  at::Tensor vecs;  // [n, >= k] eigenvectors, largest first
  int64_t k = 0;
};

// G @ q with G replicated on every rank of `group`: each rank multiplies its
// balanced share of G's rows and the shares are all-gathered.
at::Tensor gram_times(const at::Tensor& g, const at::Tensor& q, sharding::Communicator* group) {
  if (group == nullptr || group->size() == 1) return at::matmul(g, q);
  const sharding::Range r = sharding::shard_range(g.size(0), group->rank(), group->size());
  return group->all_gather(at::matmul(g.narrow(0, r.begin, r.size), q).contiguous());
}

// Randomized subspace iteration for the top-k eigenpairs of the PSD Gram:
// Q = orth(G^(q+1) Omega), then Rayleigh-Ritz on Q^T G Q (l x l, f64). G stays
// in A's compute dtype like the A-side sketches (f32 products run at twice the
// f64 rate; the iteration only needs the subspace).
GramEigen gram_subspace(const at::Tensor& g, sharding::Communicator* group, int64_t k, const RsvdOptions& opts) {
  const int64_t n = g.size(0);
  const int64_t l = sketch_width(n, n, opts);
  // Omega on the host from (seed, index) like the A-side sketch, so every rank and device agrees.
  at::Tensor q = gaussian_sketch_rows(opts.seed, 0, n, l).to(g.device(), g.scalar_type());
  for (int i = 0; i <= opts.power_iters; ++i) {
    q = std::get<0>(at::linalg_qr(gram_times(g, q, group)));
    replicate_from_root(group, q);
  }
  const at::Tensor t = at::matmul(q.t(), gram_times(g, q, group)).to(at::kDouble);
  auto [values, w] = at::linalg_eigh((t + t.t()) * 0.5);  // ascending
  GramEigen out;
  out.k = k;
  out.s = values.flip(0).narrow(0, 0, k).clamp_min(0).sqrt();
  out.vecs = at::matmul(q.to(at::kDouble), w.flip(1).narrow(1, 0, k));
  return out;
}

GramEigen gram_eigen(const at::Tensor& g, sharding::Communicator* group, int64_t k, double energy,
                     double frobenius_sq, bool top_k) {
  auto rank_of = [&](at::Tensor values_desc) {
    at::Tensor s = values_desc.clamp_min(0).sqrt();
    replicate_from_root(group, s);
    return energy > 0 ? energy_rank(s, frobenius_sq, energy) : k;
  };
  GramEigen out;
  if (top_k && g.is_cpu()) {
#if REVIVE_HAVE_LAPACK
    auto [values, vecs] = lapack::top_eigenpairs(g, rank_of);
    out.vecs = vecs;
    out.k = vecs.size(1);
    out.s = values.clamp_min(0).sqrt();
#endif
  } else if (top_k) {
#if REVIVE_HAVE_CUDA
    const int64_t rank = energy > 0 ? rank_of(at::linalg_eigvalsh(g).flip(0)) : k;
    auto [values, vecs] = cuda::top_eigenpairs(g, rank);
    out.vecs = vecs;
    out.k = rank;
    out.s = values.clamp_min(0).sqrt();
#endif
  } else {
    auto [values, vecs] = at::linalg_eigh(g);  // ascending
    out.vecs = vecs.flip(1);
    out.s = values.flip(0).clamp_min(0).sqrt();
    out.k = energy > 0 ? -1 : k;
  }
  (void)rank_of;  // unused when neither LAPACK nor CUDA is built in
  replicate_from_root(group, out.s);
  if (out.k < 0) out.k = energy_rank(out.s, frobenius_sq, energy);
  return out;
}

// What the Gram is decomposed by: an eigen-solve (exact, rank k or energy) or
// the randomized subspace iteration (rank k).
struct GramRequest {
  int64_t k = 0;
  double energy = 0, frobenius_sq = 0;
  GramSolver solver = GramSolver::kAuto;
  GramSolver* used = nullptr;
  const RsvdOptions* subspace = nullptr;  // set: randomized subspace iteration
};

SvdFactors gram_eigen_whole_or_split(const ShardedMatrix& a, bool over_rows, const GramRequest& req) {
  int64_t k = req.k;
  const double energy = req.energy, frobenius_sq = req.frobenius_sq;
  // The contraction runs over the other side; it sums over the group when that side is split.
  at::Tensor g = over_rows ? at::matmul(a.local, a.local.t()) : at::matmul(a.local.t(), a.local);
  sum_over(over_rows ? a.col_group() : a.row_group(), g);
  // No symmetrisation: every eigen-solve reads only the lower triangle, and the
  // subspace iteration's Q^T G Q is symmetrised at l x l (a 4096^2 transpose-add
  // cost 0.6-0.9 s, a tenth of the whole engine). Eigen-solves run in f64.
  if (req.subspace == nullptr) g = g.to(at::kDouble);
  const int64_t full_rank = std::min(a.rows, a.cols);
  REVIVE_CHECK(energy > 0 || (k >= 1 && k <= full_rank),
               "gram_eigen_svd: rank " + std::to_string(k) + " outside [1, " + std::to_string(full_rank) + "]");
  GramEigen eig;
  if (req.subspace != nullptr) {
    eig = gram_subspace(g, a.group, k, *req.subspace);
  } else {
    const bool top_k = use_top_k(req.solver, g.device(), k, g.size(0), energy > 0);
    if (req.used != nullptr) *req.used = top_k ? GramSolver::kTopK : GramSolver::kFull;
    eig = gram_eigen(g, a.group, k, energy, frobenius_sq, top_k);
  }
  k = eig.k;
  REVIVE_CHECK(k >= 1 && k <= full_rank,
               "gram_eigen_svd: rank " + std::to_string(k) + " outside [1, " + std::to_string(full_rank) + "]");
  const at::Tensor& evecs = eig.vecs;
  const at::Tensor& s_all = eig.s;
  at::Tensor e = evecs.narrow(1, 0, k).contiguous();
  replicate_from_root(a.group, e);
  SvdFactors f;
  f.s = s_all.narrow(0, 0, k).contiguous();
  const at::Tensor inv = safe_inverse(f.s, a.rows, a.cols);
  const at::ScalarType dt = a.local.scalar_type();
  if (over_rows) {
    f.u = e.to(dt);
    f.v = (a.apply_t(f.u).to(at::kDouble) * inv).to(dt);
  } else {
    f.v = e.to(dt);
    f.u = (a.apply(f.v).to(at::kDouble) * inv).to(dt);
  }
  return f;
}

// The Gram of the smaller side: a sum of local products when A is split on the
// other side; when the split side is the smaller one (unusual for Megatron
// layouts, where the split dimension is d_ff or the head dimension) its Gram is
// not, so gather A, solve whole, keep this rank's rows.
SvdFactors gram_route(const ShardedMatrix& a, const GramRequest& req) {
  const bool rows_smaller = a.rows <= a.cols;
  switch (a.split) {
    case Split::kNone:
      return gram_eigen_whole_or_split(a, rows_smaller, req);
    case Split::kCols:
      if (rows_smaller) return gram_eigen_whole_or_split(a, true, req);
      break;
    case Split::kRows:
      if (!rows_smaller) return gram_eigen_whole_or_split(a, false, req);
      break;
  }
  ShardedMatrix whole = ShardedMatrix::whole(a.gather_full());
  SvdFactors f = gram_eigen_whole_or_split(whole, rows_smaller, req);
  if (a.split == Split::kRows) f.u = f.u.narrow(0, a.offset, a.length).contiguous();
  if (a.split == Split::kCols) f.v = f.v.narrow(0, a.offset, a.length).contiguous();
  replicate_from_root(a.group, f.s);
  return f;
}

}  // namespace

SvdFactors gram_eigen_svd(const ShardedMatrix& a, int64_t k, double energy, double frobenius_sq, GramSolver solver,
                          GramSolver* used) {
  GramRequest req;
  req.k = k;
  req.energy = energy;
  req.frobenius_sq = frobenius_sq;
  req.solver = solver;
  req.used = used;
  return gram_route(a, req);
}

SvdFactors gram_subspace_svd(const ShardedMatrix& a, const RsvdOptions& opts) {
  GramRequest req;
  req.k = opts.rank;
  req.subspace = &opts;
  return gram_route(a, req);
}

int64_t energy_rank(const at::Tensor& s, double total_sq, double tau) {
  REVIVE_CHECK(tau > 0 && tau <= 1, "energy_rank: tau must lie in (0, 1]");
  const at::Tensor cum = s.to(at::kDouble).square().cumsum(0).cpu();
  const double target = tau * total_sq;
  const double* c = cum.data_ptr<double>();
  for (int64_t i = 0; i < cum.numel(); ++i) {
    if (c[i] >= target) return i + 1;
  }
  return cum.numel();
}

void replicate_from_root(sharding::Communicator* group, at::Tensor& t) {
  if (group == nullptr || group->size() == 1) return;
  sharding::broadcast_staged(*group, t);
}

}  // namespace revive::spectral
