#include "lib/spectral/protected_basis.h"

#include <ATen/ATen.h>

#include <cstdio>
#include <map>

#include "lib/spectral/sharded_matrix.h"
#include "lib/spectral/truncated_svd.h"
#include "lib/spectral/weight_checksum.h"
#include "sharding/checkpoint/safetensors.h"
#include "sharding/errors.h"

namespace revive::spectral {
namespace {

constexpr const char* kFormat = "revive.protected_basis.v1";

std::string number(double x) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", x);
  return buf;
}

const std::string& meta_field(const std::map<std::string, std::string>& meta, const std::string& path,
                              const std::string& key) {
  auto it = meta.find(key);
  if (it == meta.end()) throw InputError(path, "__metadata__." + key, "missing");
  return it->second;
}

template <typename T>
T parse_number(const std::string& text, const std::string& path, const std::string& key) {
  try {
    size_t used = 0;
    const double x = std::stod(text, &used);
    if (used != text.size()) throw std::invalid_argument("trailing characters");
    return static_cast<T>(x);
  } catch (const std::exception&) {
    throw InputError(path, "__metadata__." + key, "not a number: '" + text + "'");
  }
}

}  // namespace

ProtectedBasis ProtectedBasis::compute(const sharding::ShardedTensor& w, const std::string& source,
                                       const SvdOptions& opts) {
  ShardedSvdResult r = truncated_svd(w, opts);
  ProtectedBasis b;
  b.u_ = std::move(r.u);
  b.v_ = std::move(r.v);
  b.s_ = r.s;
  b.k_ = r.k;
  b.tau_ = opts.energy;
  b.engine_ = r.engine;
  b.frobenius_sq_ = r.frobenius_sq;
  b.source_ = source;
  b.checksum_ = weight_checksum(w);
  b.weight_spec_ = w.spec();
  return b;
}

void ProtectedBasis::save(const std::string& path) const {
  const at::Tensor u_full = u_.full();
  const at::Tensor v_full = v_.full();
  sharding::Communicator& group = reduce_group();
  if (group.rank() == 0) {
    const std::map<std::string, std::string> meta{
        {"revive_format", kFormat},
        {"source", source_},
        {"k", std::to_string(k_)},
        {"tau", number(tau_)},
        {"engine", to_string(engine_)},
        {"frobenius_sq", number(frobenius_sq_)},
        {"rows", std::to_string(weight_spec_.global_shape.at(0))},
        {"cols", std::to_string(weight_spec_.global_shape.at(1))},
        {"checksum", checksum_hex(checksum_)},
    };
    sharding::write_safetensors(path, {{"u", u_full}, {"v", v_full}, {"s", s_}}, meta);
  }
  group.barrier();
}

ProtectedBasis ProtectedBasis::load(const std::string& path, const sharding::ShardedTensor& w,
                                    const std::string& source) {
  const sharding::SafetensorsFile file(path);
  const auto& meta = file.metadata();
  if (meta_field(meta, path, "revive_format") != kFormat) {
    throw InputError(path, "__metadata__.revive_format", "not a REVIVE protected basis (" + std::string(kFormat) + ")");
  }
  const std::string& stored_source = meta_field(meta, path, "source");
  if (stored_source != source) {
    throw InputError(path, "__metadata__.source", "basis of '" + stored_source + "', not of '" + source + "'");
  }
  const auto& shape = w.spec().global_shape;
  if (shape.size() != 2) throw InputError(path, "", "weight '" + source + "' is not a matrix");
  const int64_t rows = parse_number<int64_t>(meta_field(meta, path, "rows"), path, "rows");
  const int64_t cols = parse_number<int64_t>(meta_field(meta, path, "cols"), path, "cols");
  if (rows != shape[0] || cols != shape[1]) {
    throw InputError(path, "__metadata__.rows", "basis of a " + std::to_string(rows) + "x" + std::to_string(cols) +
                                                    " weight, '" + source + "' is " + std::to_string(shape[0]) +
                                                    "x" + std::to_string(shape[1]));
  }
  const std::string stored_sum = meta_field(meta, path, "checksum");
  const uint64_t actual = weight_checksum(w);  // collective: every rank gets here
  if (stored_sum != checksum_hex(actual)) {
    throw InputError(path, "__metadata__.checksum",
                     "made from a different weight (stored " + stored_sum + ", '" + source + "' has " +
                         checksum_hex(actual) + "); a basis must come from the original, unedited weight");
  }
  ProtectedBasis b;
  b.k_ = parse_number<int64_t>(meta_field(meta, path, "k"), path, "k");
  b.tau_ = parse_number<double>(meta_field(meta, path, "tau"), path, "tau");
  b.frobenius_sq_ = parse_number<double>(meta_field(meta, path, "frobenius_sq"), path, "frobenius_sq");
  if (meta.count("engine")) {
    const std::string& e = meta.at("engine");
    for (SvdEngine known : {SvdEngine::kAuto, SvdEngine::kRandomized, SvdEngine::kGramEigen}) {
      if (e == to_string(known)) b.engine_ = known;
    }
    if (e != to_string(b.engine_)) throw InputError(path, "__metadata__.engine", "unknown engine '" + e + "'");
  }
  b.source_ = source;
  b.checksum_ = actual;
  b.weight_spec_ = w.spec();
  for (const auto& [name, expected] : {std::pair<std::string, int64_t>{"u", rows}, {"v", cols}}) {
    const auto& info = file.info(name);
    if (info.shape != std::vector<int64_t>{expected, b.k_}) {
      throw InputError(path, name, "shape " + c10::str(at::IntArrayRef(info.shape)) + ", expected [" +
                                       std::to_string(expected) + ", " + std::to_string(b.k_) + "]");
    }
  }
  if (file.info("s").shape != std::vector<int64_t>{b.k_}) throw InputError(path, "s", "expected k values");
  b.s_ = file.read("s", at::kDouble).to(w.local().device());
  const ShardedMatrix view = ShardedMatrix::from(w);
  sharding::Communicator& group = w.reduce_group();
  const at::ScalarType dt = file.info("u").dtype;
  auto read_factor = [&](const std::string& name, bool row_side) {
    const sharding::ShardSpec spec = factor_spec(view, row_side, b.k_, group);
    const at::Tensor local = spec.dim < 0 ? file.read(name, dt) : file.read_slice(name, 0, spec.offset, spec.length, dt);
    // Beside the weight: the filter multiplies them with updates on its device.
    return sharding::ShardedTensor(local.to(w.local().device()).contiguous(), spec, group);
  };
  b.u_ = read_factor("u", true);
  b.v_ = read_factor("v", false);
  return b;
}

}  // namespace revive::spectral
