#pragma once
// NSE's clustering of a batch's requests (nse_editor.h; the authors' code,
// nse/nse_main.py): each request's neurons are selected from its own keys at the
// first edited layer (select_neurons), requests are related by the Jaccard overlap
// of their selections, and spectral clustering of that affinity splits the batch
// into groups that BatchEditor edits one after another. Requests that use the same
// neurons are edited together; those that do not stop competing for one solve.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <vector>

namespace revive::edit {

struct RequestClustering {
  int64_t clusters = 1;           // 1: the batch is one group (published NSE: 3)
  double neuron_threshold = 0.8;  // selection of each request's neurons (NSE's)
};

// [n, n] double: |S_i & S_j| / |S_i | S_j| of the neuron selections of the key
// columns (keys [d_in, n], any device); zero diagonal, as the published affinity.
// On the host: the clustering is n x n bookkeeping.
at::Tensor neuron_overlap(const at::Tensor& keys, double neuron_threshold);

// Spectral clustering of a symmetric non-negative affinity [n, n] into at most
// `clusters` groups (Ng-Jordan-Weiss with the normalised Laplacian, as
// scikit-learn's SpectralClustering with a precomputed affinity): the top
// eigenvectors of D^-1/2 A D^-1/2, rows scaled by D^-1/2, then k-means
// (k-means++ seeding from a fixed seed, best of `restarts`). Deterministic.
// Returns a label in [0, clusters) per row.
std::vector<int64_t> spectral_cluster_labels(const at::Tensor& affinity, int64_t clusters, int64_t restarts = 10);

// 0, 1, ..., n - 1: the whole batch as one group.
std::vector<int64_t> single_group(int64_t n);

// The groups of request indices to edit, each ascending, ordered by their first
// member (the published loop's order). Fewer than `clusters` when some are empty;
// one group when clusters <= 1 or the batch has a single request.
std::vector<std::vector<int64_t>> cluster_requests(const at::Tensor& keys, const RequestClustering& clustering);

}  // namespace revive::edit
