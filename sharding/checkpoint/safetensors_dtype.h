#pragma once
// safetensors dtype codes ("F32", "BF16", ...) and their LibTorch scalar types.
// Only codes with an exact LibTorch equivalent are known; any other code in a
// file header is rejected (the element size would be guesswork).
#include <c10/core/ScalarType.h>

#include <optional>
#include <string>

namespace revive::sharding {

// The scalar type of a safetensors dtype code, or nullopt for an unknown code.
std::optional<at::ScalarType> scalar_type_from_safetensors(const std::string& code);
// The safetensors code of a scalar type; throws revive::Error when it has none.
std::string safetensors_dtype_code(at::ScalarType type);

}  // namespace revive::sharding
