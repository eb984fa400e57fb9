#include "lib/model/tokenizer/json_node.h"

#include <cmath>
#include <limits>

#include "sharding/errors.h"

namespace revive::model::tokenizer {

namespace {
const char* json_type_name(const nlohmann::json* v) {
  return v == nullptr ? "missing" : v->type_name();
}
}  // namespace

void JsonNode::fail(const std::string& what) const {
  throw InputError(file_, path_.empty() ? "<root>" : path_, what);
}

const nlohmann::json& JsonNode::raw() const {
  if (value_ == nullptr) fail("missing field");
  return *value_;
}

std::string JsonNode::child_path(const std::string& key) const {
  return path_.empty() ? key : path_ + "." + key;
}

bool JsonNode::has(const std::string& key) const {
  return is_object() && value_->contains(key) && !(*value_)[key].is_null();
}

JsonNode JsonNode::at(const std::string& key) const {
  if (!is_object()) fail(std::string("expected an object, found ") + json_type_name(value_));
  auto it = value_->find(key);
  return JsonNode(it == value_->end() ? nullptr : &*it, file_, child_path(key));
}

JsonNode JsonNode::require(const std::string& key) const {
  JsonNode child = at(key);
  if (child.is_null()) child.fail("required field is missing or null");
  return child;
}

JsonNode JsonNode::index(size_t i) const {
  if (!is_array()) fail(std::string("expected an array, found ") + json_type_name(value_));
  if (i >= value_->size()) fail("index " + std::to_string(i) + " out of range");
  return JsonNode(&(*value_)[i], file_, path_ + "[" + std::to_string(i) + "]");
}

size_t JsonNode::size() const {
  if (!is_array() && !is_object()) {
    fail(std::string("expected an array or object, found ") + json_type_name(value_));
  }
  return value_->size();
}

std::vector<std::pair<std::string, JsonNode>> JsonNode::items() const {
  if (!is_object()) fail(std::string("expected an object, found ") + json_type_name(value_));
  std::vector<std::pair<std::string, JsonNode>> out;
  out.reserve(value_->size());
  for (auto it = value_->begin(); it != value_->end(); ++it) {
    out.emplace_back(it.key(), JsonNode(&it.value(), file_, child_path(it.key())));
  }
  return out;
}

std::string JsonNode::str() const {
  if (!is_string()) fail(std::string("expected a string, found ") + json_type_name(value_));
  return value_->get<std::string>();
}

int64_t JsonNode::integer() const {
  if (value_ != nullptr && value_->is_number_integer()) {
    if (value_->is_number_unsigned() &&
        value_->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      fail("integer out of range");
    }
    return value_->get<int64_t>();
  }
  fail(std::string("expected an integer, found ") + json_type_name(value_));
}

double JsonNode::number() const {
  if (value_ == nullptr || !value_->is_number()) {
    fail(std::string("expected a number, found ") + json_type_name(value_));
  }
  double v = value_->get<double>();
  if (!std::isfinite(v)) fail("number is not finite");
  return v;
}

bool JsonNode::boolean() const {
  if (value_ == nullptr || !value_->is_boolean()) {
    fail(std::string("expected a boolean, found ") + json_type_name(value_));
  }
  return value_->get<bool>();
}

std::string JsonNode::str_or(const std::string& key, const std::string& fallback) const {
  JsonNode child = at(key);
  return child.is_null() ? fallback : child.str();
}

bool JsonNode::bool_or(const std::string& key, bool fallback) const {
  JsonNode child = at(key);
  return child.is_null() ? fallback : child.boolean();
}

int64_t JsonNode::int_or(const std::string& key, int64_t fallback) const {
  JsonNode child = at(key);
  return child.is_null() ? fallback : child.integer();
}

}  // namespace revive::model::tokenizer
