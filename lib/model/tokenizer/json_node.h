#pragma once
// A checked view into the parsed tokenizer.json. Every accessor either returns
// the value with the expected JSON type or throws revive::InputError naming the
// file and the dotted path of the field ("model.merges[3]"), so the parsers
// built on it never leak a nlohmann type error or dereference a missing key.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace revive::model::tokenizer {

class JsonNode {
 public:
  JsonNode(const nlohmann::json* value, std::string file, std::string path)
      : value_(value), file_(std::move(file)), path_(std::move(path)) {}

  // Absent keys and JSON null both read as "null".
  bool is_null() const { return value_ == nullptr || value_->is_null(); }
  bool is_string() const { return !is_null() && value_->is_string(); }
  bool is_array() const { return !is_null() && value_->is_array(); }
  bool is_object() const { return !is_null() && value_->is_object(); }
  bool has(const std::string& key) const;

  // Child of an object (fails when this is not an object; the child may be null).
  JsonNode at(const std::string& key) const;
  // Child that must be present and non-null.
  JsonNode require(const std::string& key) const;
  JsonNode index(size_t i) const;
  size_t size() const;  // array or object length; fails otherwise
  std::vector<std::pair<std::string, JsonNode>> items() const;  // object members

  std::string str() const;
  int64_t integer() const;
  double number() const;
  bool boolean() const;
  // Optional scalars: the fallback when the field is absent or null.
  std::string str_or(const std::string& key, const std::string& fallback) const;
  bool bool_or(const std::string& key, bool fallback) const;
  int64_t int_or(const std::string& key, int64_t fallback) const;

  // The "type" member of a component object, e.g. "BPE" or "Sequence".
  std::string type() const { return require("type").str(); }

  [[noreturn]] void fail(const std::string& what) const;
  const std::string& path() const { return path_; }
  const std::string& file() const { return file_; }
  const nlohmann::json& raw() const;

 private:
  std::string child_path(const std::string& key) const;
  const nlohmann::json* value_;
  std::string file_;
  std::string path_;
};

}  // namespace revive::model::tokenizer
