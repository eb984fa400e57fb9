#include "lib/edit/editors/request_clustering.h"

#include <ATen/ATen.h>

#include <cmath>
#include <limits>
#include <numeric>
#include <random>

#include "lib/edit/editors/nse_editor.h"
#include "sharding/errors.h"

namespace revive::edit {

at::Tensor neuron_overlap(const at::Tensor& keys_anywhere, double neuron_threshold) {
  REVIVE_CHECK(keys_anywhere.dim() == 2, "neuron_overlap: keys must be [d_in, n]");
  const at::Tensor keys = keys_anywhere.cpu();  // n x n bookkeeping: the clustering runs on the host
  const int64_t d_in = keys.size(0), n = keys.size(1);
  REVIVE_CHECK(d_in < (int64_t{1} << 24), "neuron_overlap: d_in too large for exact f32 counts");
  // 0/1 membership in f32: the counts (<= d_in < 2^24) are exact, at half the
  // memory of f64 (n x d_in is 1.3 GB in f64 for 10,000 requests on GPT-J).
  at::Tensor member = at::zeros({n, d_in}, at::kFloat);
  for (int64_t j = 0; j < n; ++j) {
    const at::Tensor s = select_neurons(keys.select(1, j).unsqueeze(1), neuron_threshold);
    member[j].index_fill_(0, s, 1.0);
  }
  const at::Tensor inter = at::matmul(member, member.t()).to(at::kDouble);
  const at::Tensor size = inter.diagonal();
  const at::Tensor uni = size.unsqueeze(1) + size.unsqueeze(0) - inter;
  at::Tensor overlap = at::where(uni > 0, inter / uni.clamp_min(1.0), at::zeros_like(inter));
  overlap.fill_diagonal_(0.0);
  return overlap;
}

namespace {

// Squared distance of point i (row of `x`, width k) to centre c.
double clustering_dist2(const std::vector<double>& x, int64_t i, const std::vector<double>& centres, int64_t c,
                        int64_t k) {
  double d = 0;
  for (int64_t t = 0; t < k; ++t) {
    const double e = x[static_cast<size_t>(i * k + t)] - centres[static_cast<size_t>(c * k + t)];
    d += e * e;
  }
  return d;
}

struct KMeansResult {
  std::vector<int64_t> labels;
  double inertia = std::numeric_limits<double>::infinity();
};

// Lloyd's k-means of n points (rows of x, width k) into `clusters`, k-means++
// seeding from `seed`.
KMeansResult clustering_kmeans(const std::vector<double>& x, int64_t n, int64_t k, int64_t clusters, uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::vector<double> centres(static_cast<size_t>(clusters * k));
  auto set_centre = [&](int64_t c, int64_t i) {
    for (int64_t t = 0; t < k; ++t) centres[static_cast<size_t>(c * k + t)] = x[static_cast<size_t>(i * k + t)];
  };
  set_centre(0, static_cast<int64_t>(std::uniform_int_distribution<int64_t>(0, n - 1)(gen)));
  std::vector<double> near(static_cast<size_t>(n));
  for (int64_t c = 1; c < clusters; ++c) {
    double total = 0;
    for (int64_t i = 0; i < n; ++i) {
      double best = std::numeric_limits<double>::infinity();
      for (int64_t b = 0; b < c; ++b) best = std::min(best, clustering_dist2(x, i, centres, b, k));
      near[static_cast<size_t>(i)] = best;
      total += best;
    }
    int64_t pick = 0;
    if (total > 0) {
      double r = std::uniform_real_distribution<double>(0.0, total)(gen);
      for (pick = 0; pick < n - 1; ++pick) {
        r -= near[static_cast<size_t>(pick)];
        if (r < 0) break;
      }
    } else {
      pick = std::uniform_int_distribution<int64_t>(0, n - 1)(gen);
    }
    set_centre(c, pick);
  }

  KMeansResult res;
  res.labels.assign(static_cast<size_t>(n), -1);
  for (int iter = 0; iter < 300; ++iter) {
    bool changed = false;
    res.inertia = 0;
    for (int64_t i = 0; i < n; ++i) {
      int64_t best_c = 0;
      double best = std::numeric_limits<double>::infinity();
      for (int64_t c = 0; c < clusters; ++c) {
        const double d = clustering_dist2(x, i, centres, c, k);
        if (d < best) {  // ties go to the lower label
          best = d;
          best_c = c;
        }
      }
      res.inertia += best;
      if (res.labels[static_cast<size_t>(i)] != best_c) changed = true;
      res.labels[static_cast<size_t>(i)] = best_c;
    }
    if (!changed) break;
    // New centres; an empty cluster keeps its old one.
    std::vector<double> sum(centres.size(), 0.0);
    std::vector<int64_t> count(static_cast<size_t>(clusters), 0);
    for (int64_t i = 0; i < n; ++i) {
      const int64_t c = res.labels[static_cast<size_t>(i)];
      ++count[static_cast<size_t>(c)];
      for (int64_t t = 0; t < k; ++t) sum[static_cast<size_t>(c * k + t)] += x[static_cast<size_t>(i * k + t)];
    }
    for (int64_t c = 0; c < clusters; ++c) {
      if (count[static_cast<size_t>(c)] == 0) continue;
      for (int64_t t = 0; t < k; ++t) {
        centres[static_cast<size_t>(c * k + t)] =
            sum[static_cast<size_t>(c * k + t)] / static_cast<double>(count[static_cast<size_t>(c)]);
      }
    }
  }
  return res;
}

}  // namespace

std::vector<int64_t> spectral_cluster_labels(const at::Tensor& affinity, int64_t clusters, int64_t restarts) {
  REVIVE_CHECK(affinity.dim() == 2 && affinity.size(0) == affinity.size(1),
               "spectral clustering: the affinity must be square");
  const int64_t n = affinity.size(0);
  std::vector<int64_t> labels(static_cast<size_t>(n), 0);
  if (clusters <= 1 || n <= 1) return labels;
  if (n <= clusters) {
    for (int64_t i = 0; i < n; ++i) labels[static_cast<size_t>(i)] = i;
    return labels;
  }
  at::Tensor a = affinity.to(at::kDouble);
  REVIVE_CHECK(at::isfinite(a).all().item<bool>() && (a >= 0).all().item<bool>(),
               "spectral clustering: the affinity must be finite and non-negative");
  a = (a + a.t()) * 0.5;
  const at::Tensor deg = a.sum(1);
  const at::Tensor s = at::where(deg > 0, deg.sqrt(), at::ones_like(deg));  // isolated rows: no scaling
  const at::Tensor normalised = a / at::outer(s, s);
  at::Tensor evals, evecs;
  std::tie(evals, evecs) = at::linalg_eigh(normalised);
  // The `clusters` largest eigenvalues of D^-1/2 A D^-1/2 (smallest of the
  // normalised Laplacian), rows scaled by D^-1/2; each vector's sign fixed so its
  // largest entry is positive (the eigen-solver's sign is arbitrary).
  at::Tensor emb = evecs.narrow(1, n - clusters, clusters) / s.unsqueeze(1);
  const at::Tensor top = emb.abs().argmax(0);
  for (int64_t c = 0; c < clusters; ++c) {
    if (emb[top[c].item<int64_t>()][c].item<double>() < 0) emb.select(1, c).neg_();
  }
  emb = emb.contiguous();
  const std::vector<double> x(emb.data_ptr<double>(), emb.data_ptr<double>() + n * clusters);

  KMeansResult best;
  for (int64_t r = 0; r < std::max<int64_t>(1, restarts); ++r) {
    KMeansResult cur = clustering_kmeans(x, n, clusters, clusters, static_cast<uint64_t>(r));
    if (cur.inertia < best.inertia * (1.0 - 1e-12)) best = std::move(cur);
  }
  // Canonical labels: numbered by first appearance.
  std::vector<int64_t> rename(static_cast<size_t>(clusters), -1);
  int64_t next = 0;
  for (int64_t i = 0; i < n; ++i) {
    int64_t& r = rename[static_cast<size_t>(best.labels[static_cast<size_t>(i)])];
    if (r < 0) r = next++;
    labels[static_cast<size_t>(i)] = r;
  }
  return labels;
}

std::vector<int64_t> single_group(int64_t n) {
  std::vector<int64_t> all(static_cast<size_t>(n));
  std::iota(all.begin(), all.end(), int64_t{0});
  return all;
}

std::vector<std::vector<int64_t>> cluster_requests(const at::Tensor& keys, const RequestClustering& clustering) {
  REVIVE_CHECK(keys.dim() == 2, "cluster_requests: keys must be [d_in, n]");
  const int64_t n = keys.size(1);
  if (clustering.clusters <= 1 || n <= 1) return {single_group(n)};
  const std::vector<int64_t> labels =
      spectral_cluster_labels(neuron_overlap(keys, clustering.neuron_threshold), clustering.clusters);
  std::vector<std::vector<int64_t>> groups;
  for (int64_t i = 0; i < n; ++i) {
    const auto l = static_cast<size_t>(labels[static_cast<size_t>(i)]);
    if (l >= groups.size()) groups.resize(l + 1);
    groups[l].push_back(i);
  }
  return groups;
}

}  // namespace revive::edit
