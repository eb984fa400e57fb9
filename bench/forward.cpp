// bench_forward: tokens/s of the transformer forward pass (no gradients) at
// tp = number of ranks, on stories260K (when ../shared/data is present) and on
// a random Llama-shaped model (8 layers, hidden 1024, intermediate 2816,
// 16 heads / 4 kv heads, vocab 32000). Prints one JSON object on rank 0.
//   bench_forward [--batch B] [--tokens T] [--iters N] [--data DIR (default $REVIVE_TEST_DATA)]
//                 [--device cpu|cuda (one process)]
//   mpirun -np 2 bench_forward        (tp = 2)
#include <ATen/ATen.h>
#include <torch/torch.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "bench/bench_data.h"
#include "lib/model/model_loader.h"
#include "lib/model/transformer.h"
#include "lib/model/weight_source.h"
#include "sharding/comm/comm_runtime.h"
#include "sharding/layout/param_layout.h"

namespace {

using revive::sharding::Communicator;
using revive::sharding::ShardedTensor;

// Random weights made on demand, each rank generating the full tensor from a
// seed derived from its name and keeping only its shard.
class RandomWeightSource final : public revive::model::WeightSource {
 public:
  RandomWeightSource(const revive::sharding::ModelDims& dims, c10::Device device)
      : dims_(dims), device_(device) {}
  bool contains(const std::string& name) const override {
    return revive::sharding::find_param_layout(name, dims_).has_value();
  }
  std::vector<ShardedTensor> load_parts(const std::string& name, Communicator& tp) override {
    const revive::sharding::ParamLayout p = revive::sharding::param_layout(name, dims_);
    const std::vector<int64_t> shape = p.part_shape();
    auto gen = at::make_generator<at::CPUGeneratorImpl>(std::hash<std::string>{}(name));
    const bool is_norm = shape.size() == 1;
    const at::Tensor full = is_norm ? at::ones(shape, at::kFloat)
                                    : at::randn(shape, gen, at::TensorOptions().dtype(at::kFloat)) *
                                          (1.0 / std::sqrt(static_cast<double>(shape.back())));
    revive::sharding::ShardSpec spec = p.shard_spec(name, tp.rank(), tp.size());
    at::Tensor local = spec.dim < 0 ? full : full.narrow(spec.dim, spec.offset, spec.length).contiguous();
    return {ShardedTensor(local.to(device_), spec, tp)};
  }

 private:
  revive::sharding::ModelDims dims_;
  c10::Device device_;
};

struct Result {
  double tokens_per_s = 0, ms_per_forward = 0;
};

Result time_forward(revive::model::Transformer& m, Communicator& world, int64_t batch, int64_t tokens, int iters) {
  at::NoGradGuard no_grad;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(1);
  const at::Tensor ids = at::randint(m.config().vocab_size, {batch, tokens}, gen, at::kLong).to(m.device());
  // Reading a value back waits for the device, so the clock sees finished work.
  m.forward(ids).sum().item<double>();  // warm-up
  world.barrier();
  const auto t0 = std::chrono::steady_clock::now();
  at::Tensor out;
  for (int i = 0; i < iters; ++i) out = m.forward(ids);
  out.sum().item<double>();
  world.barrier();
  const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return {static_cast<double>(batch * tokens * iters) / s, 1e3 * s / iters};
}

std::string json_entry(const std::string& name, const Result& r, int64_t batch, int64_t tokens) {
  std::ostringstream o;
  o << "\"" << name << "\": {\"batch\": " << batch << ", \"tokens\": " << tokens
    << ", \"tokens_per_s\": " << r.tokens_per_s << ", \"ms_per_forward\": " << r.ms_per_forward << "}";
  return o.str();
}

}  // namespace

int main(int argc, char** argv) {
  revive::sharding::CommRuntime runtime(revive::sharding::Backend::kAuto, &argc, &argv);
  auto world = runtime.world();
  int64_t batch = 4, tokens = 128;
  int iters = 5;
  std::string device_name = "cpu";
  // Fixtures: --data, else $REVIVE_TEST_DATA, else ../shared/data from the working directory.
  std::string data = revive::bench::data_dir();
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string a = argv[i];
    if (a == "--batch") batch = std::atoll(argv[i + 1]);
    else if (a == "--tokens") tokens = std::atoll(argv[i + 1]);
    else if (a == "--iters") iters = std::atoi(argv[i + 1]);
    else if (a == "--data") data = argv[i + 1];
    else if (a == "--device") device_name = argv[i + 1];
  }
  if (device_name != "cpu" && device_name != "cuda") throw std::runtime_error("--device is cpu or cuda");
  if (device_name == "cuda" && (!at::hasCUDA() || world->size() != 1)) {
    throw std::runtime_error("--device cuda needs a CUDA-enabled LibTorch with a GPU, and one process");
  }
  const c10::Device device = device_name == "cuda" ? c10::Device(c10::kCUDA, 0) : c10::Device(c10::kCPU);
  std::vector<std::string> entries;
  const std::string stories = data + "/stories260K-hf";
  if (std::filesystem::exists(stories + "/config.json")) {
    revive::model::LoadOptions load;
    load.device = device;
    auto m = revive::model::load_model(stories, *world, load);
    entries.push_back(json_entry("stories260K", time_forward(*m, *world, batch, tokens, iters * 4), batch, tokens));
  } else {
    entries.push_back("\"stories260K\": {\"skipped\": \"" + stories + " not found\"}");
  }
  revive::model::ModelConfig c;
  c.model_type = "llama";
  c.vocab_size = 32000;
  c.hidden_size = 1024;
  c.intermediate_size = 2816;
  c.num_layers = 8;
  c.num_heads = 16;
  c.num_kv_heads = 4;
  c.head_dim = 64;
  c.max_position_embeddings = 4096;
  c.rms_norm_eps = 1e-5;
  c.hidden_act = "silu";
  RandomWeightSource src(revive::model::model_dims(c), device);
  revive::model::Transformer big(c, src, *world);
  entries.push_back(json_entry("llama_8x1024x2816", time_forward(big, *world, batch, tokens, iters), batch, tokens));

  if (world->rank() == 0) {
    std::cout << "{\"bench\": \"forward\", \"tp\": " << world->size()
              << ", \"threads_per_rank\": " << at::get_num_threads() << ", \"device\": \"" << device_name
              << "\", \"dtype\": \"f32\"";
    for (const auto& e : entries) std::cout << ", " << e;
    std::cout << "}" << std::endl;
  }
  return 0;
}
