#include "sharding/checkpoint/safetensors_dtype.h"

#include <array>
#include <utility>

#include "sharding/errors.h"

namespace revive::sharding {
namespace {
// The codes of the safetensors specification that LibTorch represents exactly.
constexpr std::array<std::pair<const char*, at::ScalarType>, 10> kCodes{{
    {"BOOL", at::kBool},
    {"U8", at::kByte},
    {"I8", at::kChar},
    {"I16", at::kShort},
    {"I32", at::kInt},
    {"I64", at::kLong},
    {"F16", at::kHalf},
    {"BF16", at::kBFloat16},
    {"F32", at::kFloat},
    {"F64", at::kDouble},
}};
}  // namespace

std::optional<at::ScalarType> scalar_type_from_safetensors(const std::string& code) {
  for (const auto& [name, type] : kCodes) {
    if (code == name) return type;
  }
  return std::nullopt;
}

std::string safetensors_dtype_code(at::ScalarType type) {
  for (const auto& [name, t] : kCodes) {
    if (t == type) return name;
  }
  throw Error(std::string("safetensors: no dtype code for ") + c10::toString(type));
}

}  // namespace revive::sharding
