#include "sharding/layout/shard_loader.h"

#include <ATen/ATen.h>

#include "sharding/errors.h"

namespace revive::sharding {
namespace {

std::string shape_str(const std::vector<int64_t>& s) { return c10::str(at::IntArrayRef(s)); }

// The stored dim of `out` (where fused parts sit) and of a logical dim.
int64_t stored_dim(const ParamLayout& p, int64_t logical_dim) {
  return (p.transpose && p.stored_shape.size() == 2) ? 1 - logical_dim : logical_dim;
}

// Reads part `part` of a parameter restricted to [start, start+length) along
// logical dim `dim` (dim < 0: the whole part), returned in [out, in] layout.
at::Tensor read_part(const CheckpointReader& ckpt, const std::string& name, const ParamLayout& p, int64_t part,
                     int64_t dim, int64_t start, int64_t length, at::ScalarType dtype) {
  const std::vector<int64_t> pshape = p.part_shape();
  const int64_t out_dim = stored_dim(p, 0);
  const int64_t part_begin = part * pshape[0];
  at::Tensor t;
  if (dim == 0) {  // the split runs along out, where the parts are: one slice
    t = ckpt.read_slice(name, out_dim, part_begin + start, length, dtype);
  } else if (dim > 0) {
    t = ckpt.read_slice(name, stored_dim(p, dim), start, length, dtype);
    if (p.parts > 1) t = t.narrow(out_dim, part_begin, pshape[0]);
  } else {
    t = p.parts > 1 ? ckpt.read_slice(name, out_dim, part_begin, pshape[0], dtype) : ckpt.read(name, dtype);
  }
  if (p.transpose && t.dim() == 2) t = t.t();
  return t.contiguous();
}

}  // namespace

ParamLayout checked_layout(const CheckpointReader& ckpt, const std::string& name, const ModelDims& dims) {
  const TensorInfo& info = ckpt.info(name);  // InputError(folder, name) when missing
  std::string why;
  const auto layout = find_param_layout(name, dims, &why);
  if (!layout) throw InputError(ckpt.file_of(name), name, why);
  if (info.shape != layout->stored_shape) {
    throw InputError(ckpt.file_of(name), name,
                     "shape " + shape_str(info.shape) + " does not match config.json, which implies " +
                         shape_str(layout->stored_shape));
  }
  return *layout;
}

std::vector<ShardedTensor> load_shard_parts(const CheckpointReader& ckpt, const std::string& name,
                                            const ModelDims& dims, Communicator& tp, at::ScalarType dtype) {
  const ParamLayout p = checked_layout(ckpt, name, dims);
  std::vector<ShardedTensor> out;
  for (int64_t part = 0; part < p.parts; ++part) {
    ShardSpec spec = p.shard_spec(name, tp.rank(), tp.size());
    at::Tensor local = read_part(ckpt, name, p, part, spec.dim, spec.offset, spec.length, dtype);
    out.emplace_back(std::move(local), std::move(spec), tp);
  }
  return out;
}

ShardedTensor load_shard(const CheckpointReader& ckpt, const std::string& name, const ModelDims& dims,
                         Communicator& tp, at::ScalarType dtype) {
  std::vector<ShardedTensor> parts = load_shard_parts(ckpt, name, dims, tp, dtype);
  if (parts.size() != 1) {
    throw Error(name + ": fuses " + std::to_string(parts.size()) + " parameters; use load_shard_parts");
  }
  return std::move(parts.front());
}

std::vector<at::Tensor> load_full_parts(const CheckpointReader& ckpt, const std::string& name,
                                        const ModelDims& dims, at::ScalarType dtype) {
  const ParamLayout p = checked_layout(ckpt, name, dims);
  std::vector<at::Tensor> out;
  for (int64_t part = 0; part < p.parts; ++part) out.push_back(read_part(ckpt, name, p, part, -1, 0, 0, dtype));
  return out;
}

}  // namespace revive::sharding
