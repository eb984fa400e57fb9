#include "launch/revive/common_options.h"

#include <iostream>

#include "sharding/errors.h"

namespace revive::cli {

po::options_description grid_options() {
  po::options_description d("Process grid");
  d.add_options()
      ("tp", po::value<int>()->default_value(0), "tensor-parallel size (0: REVIVE_TP, else world/dp)")
      ("dp", po::value<int>()->default_value(0), "data-parallel size (0: REVIVE_DP, else world/tp)")
      ("backend", po::value<std::string>()->default_value("auto"), "communication backend: auto, local, mpi, nccl");
  return d;
}

sharding::GridSpec grid_spec(const po::variables_map& vm) {
  return {vm["tp"].as<int>(), vm["dp"].as<int>()};
}

sharding::Backend backend(const po::variables_map& vm) {
  return sharding::parse_backend(vm["backend"].as<std::string>());
}

po::options_description device_options() {
  po::options_description d("Placement");
  d.add_options()
      ("device", po::value<std::string>()->default_value("auto"),
       "where each rank holds the model and computes: cpu, cuda (the rank's GPU on its node), or auto "
       "(cuda with the nccl backend, else cpu)");
  return d;
}

model::LoadOptions load_options(const po::variables_map& vm, const sharding::CommRuntime& rt, int tp_size) {
  std::string name = vm["device"].as<std::string>();
  const bool nccl = rt.backend() == sharding::Backend::kNccl;
  if (name == "auto") name = nccl ? "cuda" : "cpu";
  if (name != "cpu" && name != "cuda") {
    throw InputError("--device", "", "'" + name + "' is not a device (expected cpu, cuda or auto)");
  }
  if (name == "cpu" && nccl) {
    throw InputError("--device", "", "cpu under the nccl backend, which moves CUDA tensors only (use --device cuda, "
                                     "or --backend mpi)");
  }
  model::LoadOptions o;
  if (name == "cpu") return o;
  if (!nccl && tp_size > 1) {
    throw InputError("--device", "", "cuda with tp " + std::to_string(tp_size) + " needs --backend nccl (the " +
                                         std::string(sharding::to_string(rt.backend())) +
                                         " backend's tensor-parallel collectives take host tensors)");
  }
  try {
    o.device = rt.rank_device(c10::kCUDA);
  } catch (const Error& e) {
    throw InputError("--device", "", e.what());
  }
  return o;
}

po::options_description request_options() {
  po::options_description d("Request files");
  d.add_options()
      ("request-format", po::value<std::string>()->default_value("auto"),
       "format of the request files: auto (detected per file), counterfact, counterfact-easyedit, zsre, jsonl")
      ("on-error", po::value<std::string>()->default_value("reject"),
       "a malformed request record: reject (an error naming its file, index and field) or skip (each one reported)");
  return d;
}

data::RequestFileOptions request_file_options(const po::variables_map& vm) {
  data::RequestFileOptions o;
  o.format = data::parse_request_format(vm["request-format"].as<std::string>(), "--request-format");
  const std::string v = vm["on-error"].as<std::string>();
  if (v == "skip") o.read.on_error = data::OnError::kSkip;
  else if (v != "reject") throw InputError("--on-error", "", "'" + v + "' is not reject or skip");
  return o;
}

void report_skipped(const data::ReadResult& read, bool leader) {
  if (!leader) return;
  for (const data::RecordDiagnostic& d : read.skipped) std::cerr << "skipped: " << d.to_string() << "\n";
}

po::typed_value<bool>* on_off() { return po::bool_switch(); }

size_t count_option(const po::variables_map& vm, const std::string& name) {
  const int64_t n = vm[name].as<int64_t>();
  if (n < 0) throw InputError("--" + name, "", "must not be negative (got " + std::to_string(n) + ")");
  return static_cast<size_t>(n);
}

bool is_on(const po::variables_map& vm, const std::string& name) { return vm.count(name) && vm[name].as<bool>(); }

po::options_description output_options() {
  po::options_description d("Output");
  d.add_options()
      ("json", on_off(), "print one JSON object of results at the end")
      ("config", po::value<std::string>(), "read further options from this INI-style file (key = value)");
  return d;
}

}  // namespace revive::cli
