#pragma once
// A safetensors file copied with some tensors replaced, streamed: the header is
// kept (same tensor order, names, dtypes, shapes, offsets and __metadata__), the
// bytes of every tensor not replaced are copied verbatim, and each replaced
// tensor is asked for in file order and dropped once written, so memory is
// bounded by the largest replaced tensor. A replacement must have the tensor's stored dtype and shape
// (an Error naming the file and tensor otherwise). If the file records REVIVE's
// checksums (__metadata__.revive_checksums), those of the replaced tensors are
// updated (each replaced tensor is then asked for twice: once for its checksum,
// which the header needs before the data); a file without them (HF's) keeps its
// header byte for byte and asks once.
// The output is written atomically (AtomicFile).
#include <ATen/core/Tensor.h>

#include <functional>
#include <set>
#include <string>

#include "sharding/checkpoint/safetensors.h"

namespace revive::sharding {

// Called once per name in `replaced`, with that tensor's header entry; returns
// the new contents (any device, contiguous or not) in the stored dtype and shape.
using TensorReplacement = std::function<at::Tensor(const TensorInfo& info)>;

void rewrite_safetensors(const std::string& src, const std::string& dst, const std::set<std::string>& replaced,
                         const TensorReplacement& replacement);

}  // namespace revive::sharding
