// bench_rsvd: time and accuracy of REVIVE's two SVD engines on matrices with an
// LLM-like (slowly decaying) spectrum, sharded by columns like a row-parallel
// down_proj, against LibTorch's full SVD and the machine's matmul rate.
//
//   bench_rsvd [--sizes 4096x14336,8192x28672] [--k-frac 0.05] [--tau 0.5]
//              [--power-iters 4] [--oversample -1] [--threads N]
//              [--full-svd auto|on|off] [--layout row|column] [--seed S]
//              [--device cpu|cuda] [--compare on|off]
//   mpirun -np 2 -x OMP_NUM_THREADS=1 bench_rsvd --threads 1 ...   (np 2 vs np 1)
//
// Prints one JSON document on rank 0. Accuracy of the randomized engine is
// judged against the exact Gram-eigen result: energy captured relative to the
// optimal top-k energy, and energy-weighted similarity to the exact top-k
// subspace. The Gram-eigen engine runs with both eigen-solves where the top-k
// one is built (LibTorch's full eigh vs LAPACK's dsytrd+dstemr+dormtr on the
// host, cuSOLVER's syevdx on CUDA); the randomized engine with its power steps
// where auto puts them (A or the Gram) and, for comparison, the other place.
// The GEMM phases (sketch product A*X with l columns, Gram A*A^T) are timed on
// their own and reported as GFLOP/s against a square f32 matmul.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <nlohmann/json.hpp>
#include <torch/cuda.h>

#include <chrono>
#include <cmath>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "lib/spectral/engine_cost.h"
#include "lib/spectral/sharded_matrix.h"
#include "lib/spectral/sketch_matrix.h"
#include "lib/spectral/truncated_svd.h"
#include "revive/config.h"
#include "sharding/comm/comm_runtime.h"
#include "sharding/comm/local_communicator.h"
#include "sharding/sharded_tensor.h"

namespace {

using revive::sharding::Communicator;
using revive::sharding::Layout;
using revive::sharding::ShardedTensor;
using revive::sharding::ShardSpec;
namespace sp = revive::spectral;

struct Config {
  std::vector<std::pair<int64_t, int64_t>> sizes{{4096, 14336}, {8192, 28672}};
  double k_frac = 0.05;
  double tau = 0.5;
  int power_iters = 4;
  int64_t oversample = -1;
  int threads = 0;
  std::string full_svd = "auto";  // auto: only when the matrix has <= 4096 rows and np == 1
  bool compare = true;  // off: only the engines as auto runs them (np scaling runs)
  Layout layout = Layout::kRow;
  uint64_t seed = 1234;
  at::Device device = at::kCPU;
};

Config parse(int argc, char** argv) {
  Config c;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error("missing value for " + a);
      return argv[++i];
    };
    if (a == "--sizes") {
      c.sizes.clear();
      std::stringstream ss(value());
      std::string item;
      while (std::getline(ss, item, ',')) {
        const auto x = item.find('x');
        if (x == std::string::npos) throw std::runtime_error("--sizes wants ROWSxCOLS[,ROWSxCOLS]");
        c.sizes.emplace_back(std::stoll(item.substr(0, x)), std::stoll(item.substr(x + 1)));
      }
    } else if (a == "--k-frac") {
      c.k_frac = std::stod(value());
    } else if (a == "--tau") {
      c.tau = std::stod(value());
    } else if (a == "--power-iters") {
      c.power_iters = std::stoi(value());
    } else if (a == "--oversample") {
      c.oversample = std::stoll(value());
    } else if (a == "--threads") {
      c.threads = std::stoi(value());
    } else if (a == "--compare") {
      const std::string v = value();
      if (v != "on" && v != "off") throw std::runtime_error("--compare is on or off");
      c.compare = v == "on";
    } else if (a == "--full-svd") {
      c.full_svd = value();
    } else if (a == "--layout") {
      const std::string l = value();
      if (l != "row" && l != "column") throw std::runtime_error("--layout is row or column");
      c.layout = l == "row" ? Layout::kRow : Layout::kColumn;
    } else if (a == "--seed") {
      c.seed = std::stoull(value());
    } else if (a == "--device") {
      const std::string d = value();
      if (d != "cpu" && d != "cuda") throw std::runtime_error("--device is cpu or cuda");
      c.device = d == "cpu" ? at::Device(at::kCPU) : at::Device(at::kCUDA);
    } else {
      throw std::runtime_error("unknown option " + a + " (see the comment at the top of bench/rsvd.cpp)");
    }
  }
  return c;
}

double now_s() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

at::Device g_device = at::kCPU;

// Waits for queued GPU work, so that host clocks time it.
void sync() {
  if (g_device.is_cuda()) torch::cuda::synchronize();
}

// Wall time of f() on the slowest rank (barriers on both sides).
template <typename F>
double timed(Communicator& world, F&& f) {
  sync();
  world.barrier();
  const double t0 = now_s();
  f();
  sync();
  world.barrier();
  return now_s() - t0;
}

// Square f32 matmul rate of this rank on the bench's device (CPU: the current thread count).
double matmul_gflops(int64_t n) {
  const auto opts = at::TensorOptions().device(g_device);
  const at::Tensor a = at::randn({n, n}, opts), b = at::randn({n, n}, opts);
  at::matmul(a, b);  // warm-up
  sync();
  const double t0 = now_s();
  const int reps = 3;
  for (int i = 0; i < reps; ++i) at::matmul(a, b);
  sync();
  return reps * 2.0 * n * n * n / (now_s() - t0) / 1e9;
}

// This rank's shard of A = G1 diag(s) G2^T / sqrt(cols), G Gaussian (counter
// based, so every layout builds the same matrix) and s_i = (1 + i / (0.3 r))^-0.5:
// a noise bulk with a slowly decaying head, like trained LLM projections.
at::Tensor llm_like_shard(int64_t rows, int64_t cols, const ShardSpec& spec, uint64_t seed) {
  const int64_t r = std::min(rows, cols);
  const at::Tensor s = at::pow(1.0 + at::arange(r, at::kDouble) / (0.3 * r), -0.5).to(at::kFloat);
  const int64_t r0 = spec.dim == 0 ? spec.offset : 0, nr = spec.dim == 0 ? spec.length : rows;
  const int64_t c0 = spec.dim == 1 ? spec.offset : 0, nc = spec.dim == 1 ? spec.length : cols;
  const at::Tensor g1 = sp::gaussian_sketch_rows(seed, r0, nr, r).to(g_device, at::kFloat);
  const at::Tensor g2 = sp::gaussian_sketch_rows(seed + 1, c0, nc, r).to(g_device, at::kFloat);
  return at::matmul(g1 * s.to(g_device).unsqueeze(0), g2.t()) / static_cast<float>(std::sqrt(static_cast<double>(cols)));
}

}  // namespace

int main(int argc, char** argv) {
  revive::sharding::CommRuntime runtime(revive::sharding::Backend::kAuto, &argc, &argv);
  auto world = runtime.world();
  Config cfg;
  try {
    cfg = parse(argc, argv);
  } catch (const std::exception& e) {
    if (world->rank() == 0) std::cerr << "bench_rsvd: " << e.what() << "\n";
    return 2;
  }
  if (cfg.threads > 0) at::set_num_threads(cfg.threads);
  g_device = cfg.device;
  // One process on a GPU: a single-rank group over CUDA tensors (several ranks
  // on GPUs need REVIVE_COMM=nccl).
  if (g_device.is_cuda() && world->size() == 1) world = std::make_unique<revive::sharding::LocalCommunicator>("world", at::kCUDA);
  // Both eigen-solves of the Gram-eigen engine where the top-k one exists
  // (cuSOLVER on CUDA, LAPACK on the host).
  const bool both_solvers = g_device.is_cuda() ? REVIVE_HAVE_CUDA : REVIVE_HAVE_LAPACK;
  nlohmann::ordered_json out;
  out["bench"] = "rsvd";
  out["np"] = world->size();
  out["threads_per_rank"] = at::get_num_threads();
  out["layout"] = revive::sharding::to_string(cfg.layout);
  out["device"] = g_device.str();
  const double rate = matmul_gflops(g_device.is_cuda() ? 8192 : 4096);
  out["matmul_gflops_per_rank"] = rate;
  out["runs"] = nlohmann::ordered_json::array();

  for (const auto& [rows, cols] : cfg.sizes) {
    nlohmann::ordered_json run;
    run["rows"] = rows;
    run["cols"] = cols;
    const int64_t rank_full = std::min(rows, cols);
    const int64_t k = std::max<int64_t>(1, static_cast<int64_t>(std::llround(cfg.k_frac * rank_full)));
    run["k"] = k;
    const ShardSpec spec = ShardSpec::make(cfg.layout, {rows, cols}, world->rank(), world->size());
    at::Tensor local;
    run["generate_s"] = timed(*world, [&] { local = llm_like_shard(rows, cols, spec, cfg.seed); });
    const ShardedTensor w(local, spec, *world);

    sp::SvdOptions gram;
    gram.rsvd.rank = k;
    gram.engine = sp::SvdEngine::kGramEigen;
    gram.gram_solver = cfg.compare ? sp::GramSolver::kFull : sp::GramSolver::kAuto;
    sp::ShardedSvdResult exact;
    run["gram_eigen"]["time_s"] = timed(*world, [&] { exact = sp::truncated_svd(w, gram); });
    run["gram_eigen"]["solver"] = sp::to_string(exact.gram_solver);
    if (both_solvers && cfg.compare) {
      sp::SvdOptions top = gram;
      top.gram_solver = sp::GramSolver::kTopK;
      sp::ShardedSvdResult by_top;
      run["gram_eigen_top_k"]["time_s"] = timed(*world, [&] { by_top = sp::truncated_svd(w, top); });
      run["gram_eigen_top_k"]["max_rel_err_s_vs_full_eigh"] = ((by_top.s - exact.s).abs() / exact.s).max().item<double>();
    }

    sp::SvdOptions rnd;
    rnd.rsvd = {k, cfg.oversample, cfg.power_iters, cfg.seed};
    rnd.engine = sp::SvdEngine::kRandomized;
    sp::ShardedSvdResult approx;
    run["randomized"]["time_s"] = timed(*world, [&] { approx = sp::truncated_svd(w, rnd); });
    run["randomized"]["oversample"] = cfg.oversample < 0 ? std::max<int64_t>(10, k) : cfg.oversample;
    run["randomized"]["power_iters"] = cfg.power_iters;
    run["randomized"]["power_operator"] = sp::to_string(sp::choose_power_operator(rows, cols, rnd.rsvd));
    sp::SvdOptions auto_opts = rnd;
    auto_opts.engine = sp::SvdEngine::kAuto;
    run["auto_engine"] = sp::to_string(sp::choose_engine(rows, cols, auto_opts));

    // Accuracy of the randomized factors against the exact ones.
    const sp::ShardedMatrix a = sp::ShardedMatrix::from(w);
    // ||U_r^T A||_F^2: A^T U_r lives on the column side.
    at::Tensor captured = a.apply_t(approx.u.local()).to(at::kDouble).square().sum().reshape({1});
    sp::sum_over(a.col_group(), captured);
    const double optimal = exact.s.square().sum().item<double>();
    run["randomized"]["energy_captured"] = captured.item<double>() / optimal;
    at::Tensor cross = at::matmul(exact.u.local().to(at::kDouble).t(), approx.u.local().to(at::kDouble));
    sp::sum_over(a.row_group(), cross);
    const at::Tensor w2 = exact.s.square();
    run["randomized"]["energy_weighted_similarity"] =
        (w2 * cross.square().sum(1)).sum().item<double>() / w2.sum().item<double>();
    run["randomized"]["max_rel_err_s"] = ((approx.s - exact.s).abs() / exact.s).max().item<double>();
    // The other place for the power steps, for comparison.
    if (cfg.compare) {
      sp::SvdOptions other = rnd;
      const bool on_gram = sp::choose_power_operator(rows, cols, rnd.rsvd) == sp::PowerOperator::kGram;
      other.rsvd.power_operator = on_gram ? sp::PowerOperator::kMatrix : sp::PowerOperator::kGram;
      const char* name = on_gram ? "randomized_on_matrix" : "randomized_on_gram";
      sp::ShardedSvdResult alt;
      run[name]["time_s"] = timed(*world, [&] { alt = sp::truncated_svd(w, other); });
      at::Tensor alt_captured = a.apply_t(alt.u.local()).to(at::kDouble).square().sum().reshape({1});
      sp::sum_over(a.col_group(), alt_captured);
      run[name]["energy_captured"] = alt_captured.item<double>() / optimal;
    }

    if (cfg.compare) {
    sp::SvdOptions energy;
    energy.energy = cfg.tau;
    energy.gram_solver = sp::GramSolver::kFull;
    sp::ShardedSvdResult by_energy;
    run["gram_eigen_energy"]["tau"] = cfg.tau;
    run["gram_eigen_energy"]["time_s"] = timed(*world, [&] { by_energy = sp::truncated_svd(w, energy); });
    run["gram_eigen_energy"]["k"] = by_energy.k;
    run["gram_eigen_energy"]["k_frac_of_rank"] = static_cast<double>(by_energy.k) / rank_full;
    if (both_solvers) {
      sp::SvdOptions top = energy;
      top.gram_solver = sp::GramSolver::kTopK;
      sp::ShardedSvdResult by_top;
      run["gram_eigen_energy_top_k"]["time_s"] = timed(*world, [&] { by_top = sp::truncated_svd(w, top); });
      run["gram_eigen_energy_top_k"]["k"] = by_top.k;
    }
    }

    // GEMM phases, timed alone: the sketch product (l columns) and the Gram.
    const int64_t l = sp::sketch_width(rows, cols, rnd.rsvd);
    const at::Tensor x = at::randn({a.col_count(), l}, at::TensorOptions().device(g_device));
    const double t_sketch = timed(*world, [&] { a.apply(x); });
    const double sketch_flops = 2.0 * rows * cols * l / world->size();
    const double t_gram = timed(*world, [&] {
      at::Tensor g = cfg.layout == Layout::kRow ? at::matmul(a.local, a.local.t()) : at::matmul(a.local.t(), a.local);
      sp::sum_over(a.group, g);
    });
    const double gram_side = cfg.layout == Layout::kRow ? rows : cols;
    const double gram_flops = 2.0 * rows * cols * gram_side / world->size();
    run["gemm"]["sketch_gflops_per_rank"] = sketch_flops / t_sketch / 1e9;
    run["gemm"]["gram_gflops_per_rank"] = gram_flops / t_gram / 1e9;
    run["gemm"]["sketch_fraction_of_matmul"] = sketch_flops / t_sketch / 1e9 / rate;
    run["gemm"]["gram_fraction_of_matmul"] = gram_flops / t_gram / 1e9 / rate;

    const bool full = cfg.full_svd == "on" || (cfg.full_svd == "auto" && rows <= 4096 && world->size() == 1);
    if (full) {
      const at::Tensor whole = w.full();
      at::Tensor s_full;
      run["full_svd"]["time_s"] = timed(*world, [&] { s_full = std::get<1>(at::linalg_svd(whole, false)); });
      const at::Tensor top = s_full.narrow(0, 0, k).to(at::kDouble);
      run["gram_eigen"]["max_rel_err_s_vs_full"] = ((exact.s - top).abs() / top).max().item<double>();
      const double t_full = run["full_svd"]["time_s"].get<double>();
      run["randomized"]["speedup_vs_full"] = t_full / run["randomized"]["time_s"].get<double>();
      run["gram_eigen"]["speedup_vs_full"] = t_full / run["gram_eigen"]["time_s"].get<double>();
      if (run.contains("gram_eigen_energy")) {
        run["gram_eigen_energy"]["speedup_vs_full"] = t_full / run["gram_eigen_energy"]["time_s"].get<double>();
      }
      for (const char* variant : {"gram_eigen_top_k", "gram_eigen_energy_top_k", "randomized_on_matrix", "randomized_on_gram"}) {
        if (run.contains(variant)) run[variant]["speedup_vs_full"] = t_full / run[variant]["time_s"].get<double>();
      }
    } else {
      run["full_svd"] = "skipped (--full-svd on to run it)";
    }
    out["runs"].push_back(run);
    if (world->rank() == 0) std::cerr << "bench_rsvd: " << rows << "x" << cols << " done\n";
  }
  if (world->rank() == 0) std::cout << out.dump(2) << std::endl;
  return 0;
}
