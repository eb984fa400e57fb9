#pragma once
// File names of a HF checkpoint folder, shared by the reader and the writer.
#include <string>

namespace revive::sharding {

constexpr const char* kSingleFileName = "model.safetensors";
constexpr const char* kIndexFileName = "model.safetensors.index.json";

// "model-00002-of-00005.safetensors" for i = 1, n = 5 (i counts from 0).
std::string shard_file_name(int i, int n);

}  // namespace revive::sharding
