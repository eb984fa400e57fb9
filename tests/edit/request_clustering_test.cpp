// NSE's clustering of a batch's requests: the neuron-overlap affinity against a
// direct Jaccard computation, spectral clustering against planted partitions.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <random>
#include <set>

#include "lib/edit/editors/nse_editor.h"
#include "lib/edit/editors/request_clustering.h"

namespace revive::edit {
namespace {

// True when labels a and b describe the same partition (up to renaming).
bool same_partition(const std::vector<int64_t>& a, const std::vector<int64_t>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    for (size_t j = 0; j < a.size(); ++j) {
      if ((a[i] == a[j]) != (b[i] == b[j])) return false;
    }
  }
  return true;
}

// Affinity of `truth`'s blocks: `inside` within a block, `across` between, both
// jittered by +-`noise`; zero diagonal.
at::Tensor planted_affinity(const std::vector<int64_t>& truth, double inside, double across, double noise,
                            uint64_t seed) {
  const auto n = static_cast<int64_t>(truth.size());
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<double> jitter(-noise, noise);
  at::Tensor a = at::zeros({n, n}, at::kDouble);
  for (int64_t i = 0; i < n; ++i) {
    for (int64_t j = i + 1; j < n; ++j) {
      const double v = (truth[static_cast<size_t>(i)] == truth[static_cast<size_t>(j)] ? inside : across) + jitter(gen);
      a[i][j] = v;
      a[j][i] = v;
    }
  }
  return a;
}

TEST(NeuronOverlap, IsTheJaccardIndexOfEachRequestsSelectedNeurons) {
  at::manual_seed(3);
  const int64_t d_in = 40, n = 6;
  const at::Tensor keys = at::randn({d_in, n}, at::kDouble) * at::rand({d_in, 1}, at::kDouble);
  for (double threshold : {0.5, 0.8, 1.0}) {
    const at::Tensor got = neuron_overlap(keys, threshold);
    ASSERT_EQ(got.sizes(), (at::IntArrayRef{n, n}));
    std::vector<std::set<int64_t>> sel;
    for (int64_t j = 0; j < n; ++j) {
      const at::Tensor s = select_neurons(keys.select(1, j).unsqueeze(1), threshold);
      sel.emplace_back(s.data_ptr<int64_t>(), s.data_ptr<int64_t>() + s.numel());
    }
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        double want = 0;
        if (i != j) {
          std::vector<int64_t> both, either;
          std::set_intersection(sel[i].begin(), sel[i].end(), sel[j].begin(), sel[j].end(), std::back_inserter(both));
          std::set_union(sel[i].begin(), sel[i].end(), sel[j].begin(), sel[j].end(), std::back_inserter(either));
          want = static_cast<double>(both.size()) / static_cast<double>(either.size());
        }
        EXPECT_NEAR(got[i][j].item<double>(), want, 1e-15) << "threshold " << threshold << " (" << i << "," << j << ")";
      }
    }
  }
  // Threshold 1.0 on disjoint supports: no overlap at all.
  at::Tensor disjoint = at::zeros({6, 3}, at::kDouble);
  disjoint.narrow(0, 0, 2).select(1, 0).fill_(1.0);
  disjoint.narrow(0, 2, 2).select(1, 1).fill_(-2.0);
  disjoint.narrow(0, 4, 2).select(1, 2).fill_(0.5);
  EXPECT_EQ(neuron_overlap(disjoint, 1.0).abs().max().item<double>(), 0.0);
}

TEST(SpectralClustering, RecoversPlantedBlocks) {
  // Three blocks of sizes 5, 4, 3, interleaved.
  std::vector<int64_t> truth = {0, 1, 2, 0, 0, 1, 2, 0, 1, 2, 1, 0};
  for (uint64_t seed : {1u, 2u, 3u}) {
    const at::Tensor a = planted_affinity(truth, 0.7, 0.05, 0.05, seed);
    const std::vector<int64_t> labels = spectral_cluster_labels(a, 3);
    EXPECT_TRUE(same_partition(labels, truth)) << "seed " << seed;
    EXPECT_EQ(labels[0], 0);  // numbered by first appearance
    EXPECT_EQ(spectral_cluster_labels(a, 3), labels);  // deterministic
  }
  // Two blocks asked for two; unequal sizes (9 and 3).
  truth = {0, 0, 1, 0, 0, 0, 1, 0, 0, 1, 0, 0};
  EXPECT_TRUE(same_partition(spectral_cluster_labels(planted_affinity(truth, 0.6, 0.02, 0.02, 7), 2), truth));
}

TEST(SpectralClustering, EdgeCases) {
  const at::Tensor a = planted_affinity({0, 0, 1, 1}, 0.9, 0.1, 0.0, 1);
  EXPECT_EQ(spectral_cluster_labels(a, 1), (std::vector<int64_t>{0, 0, 0, 0}));
  // No more rows than clusters: each row alone.
  EXPECT_EQ(spectral_cluster_labels(a, 4), (std::vector<int64_t>{0, 1, 2, 3}));
  EXPECT_EQ(spectral_cluster_labels(a, 6), (std::vector<int64_t>{0, 1, 2, 3}));
  // An isolated row (no affinity to anyone) is no error.
  at::Tensor iso = planted_affinity({0, 0, 0, 1, 1, 1, 2}, 0.8, 0.05, 0.0, 1);
  iso[6].zero_();
  iso.select(1, 6).zero_();
  const std::vector<int64_t> labels = spectral_cluster_labels(iso, 3);
  EXPECT_TRUE(same_partition(labels, {0, 0, 0, 1, 1, 1, 2}));
  EXPECT_THROW(spectral_cluster_labels(at::zeros({3, 4}, at::kDouble), 2), std::exception);
  at::Tensor neg = a.clone();
  neg[0][1] = -0.5;
  neg[1][0] = -0.5;
  EXPECT_THROW(spectral_cluster_labels(neg, 2), std::exception);
  at::Tensor nan = a.clone();
  nan[0][1] = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(spectral_cluster_labels(nan, 2), std::exception);
}

TEST(ClusterRequests, GroupsRequestsThatUseTheSameNeurons) {
  // Requests 0, 3, 5 use neurons 0-9, requests 1, 4 neurons 10-19, request 2 and
  // 6 neurons 20-29; small noise elsewhere.
  at::manual_seed(5);
  const std::vector<int64_t> truth = {0, 1, 2, 0, 1, 0, 2};
  at::Tensor keys = at::randn({30, 7}, at::kDouble) * 0.01;
  for (int64_t j = 0; j < 7; ++j) {
    keys.narrow(0, truth[static_cast<size_t>(j)] * 10, 10).select(1, j).add_(at::rand({10}, at::kDouble) + 1.0);
  }
  RequestClustering c;
  c.clusters = 3;
  c.neuron_threshold = 0.8;
  const auto groups = cluster_requests(keys, c);
  EXPECT_EQ(groups, (std::vector<std::vector<int64_t>>{{0, 3, 5}, {1, 4}, {2, 6}}));
  c.clusters = 1;
  EXPECT_EQ(cluster_requests(keys, c), (std::vector<std::vector<int64_t>>{{0, 1, 2, 3, 4, 5, 6}}));
  c.clusters = 3;
  EXPECT_EQ(cluster_requests(keys.narrow(1, 0, 1), c), (std::vector<std::vector<int64_t>>{{0}}));
  // Requests with the same keys always share a group.
  const at::Tensor twins = at::cat({keys, keys.narrow(1, 1, 1)}, 1);
  for (const auto& g : cluster_requests(twins, c)) {
    const bool has1 = std::find(g.begin(), g.end(), 1) != g.end();
    const bool has7 = std::find(g.begin(), g.end(), 7) != g.end();
    EXPECT_EQ(has1, has7);
  }
}

}  // namespace
}  // namespace revive::edit
