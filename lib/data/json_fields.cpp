#include "lib/data/json_fields.h"

#include <limits>

#include "sharding/checkpoint/file_tree.h"
#include "sharding/checkpoint/strict_json.h"
#include "sharding/errors.h"

namespace revive::data {

using nlohmann::json;

std::string join_path(const std::string& path, const std::string& key) {
  return path.empty() ? key : path + "." + key;
}

void require_object(const json& value, const std::string& path) {
  if (!value.is_object()) {
    throw RecordError{path.empty() ? "<record>" : path,
                      std::string("expected an object, found ") + value.type_name()};
  }
}

const json& require_field(const json& object, const std::string& key, const std::string& path) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) {
    throw RecordError{join_path(path, key), "missing"};
  }
  return *it;
}

std::string string_field(const json& object, const std::string& key, const std::string& path) {
  const json& v = require_field(object, key, path);
  if (!v.is_string()) {
    throw RecordError{join_path(path, key), std::string("expected a string, found ") + v.type_name()};
  }
  return v.get<std::string>();
}

std::optional<std::string> optional_string_field(const json& object, const std::string& key,
                                                 const std::string& path) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return std::nullopt;
  return string_field(object, key, path);
}

std::vector<std::string> string_list_field(const json& object, const std::string& key,
                                           bool optional, const std::string& path) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) {
    if (optional) return {};
    throw RecordError{join_path(path, key), "missing"};
  }
  if (!it->is_array()) {
    throw RecordError{join_path(path, key),
                      std::string("expected a list of strings, found ") + it->type_name()};
  }
  std::vector<std::string> out;
  out.reserve(it->size());
  for (std::size_t i = 0; i < it->size(); ++i) {
    const json& item = (*it)[i];
    if (!item.is_string()) {
      throw RecordError{join_path(path, key) + "[" + std::to_string(i) + "]",
                        std::string("expected a string, found ") + item.type_name()};
    }
    out.push_back(item.get<std::string>());
  }
  return out;
}

std::optional<int64_t> optional_int_field(const json& object, const std::string& key,
                                          const std::string& path) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return std::nullopt;
  if (!it->is_number_integer()) {
    throw RecordError{join_path(path, key),
                      std::string("expected an integer, found ") + it->type_name()};
  }
  // nlohmann stores a non-negative integer as uint64; get<int64_t> would wrap it.
  if (it->is_number_unsigned() &&
      it->get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
    throw RecordError{join_path(path, key), std::to_string(it->get<uint64_t>()) +
                                                " does not fit in a 64-bit signed integer"};
  }
  return it->get<int64_t>();
}

json load_json_file(const std::string& file) {
  sharding::StrictJson parsed = sharding::parse_json_strict(sharding::read_text_file(file));
  if (!parsed.ok()) throw InputError(file, parsed.error_path, parsed.error);
  return std::move(parsed.value);
}

const json& require_record_list(const json& doc, const std::string& file) {
  if (!doc.is_array()) {
    throw InputError(file, "", std::string("expected a JSON list of records, found ") +
                                   doc.type_name());
  }
  return doc;
}

RecordList to_record_list(sharding::StrictJson parsed, const std::string& file) {
  if (!parsed.ok()) throw InputError(file, parsed.error_path, parsed.error);
  require_record_list(parsed.value, file);
  RecordList out;
  out.file = file;
  out.records = std::move(parsed.value);
  for (auto& [index, problem] : parsed.element_problems) {
    out.problems.emplace(index, RecordError{std::move(problem.path), std::move(problem.what)});
  }
  return out;
}

RecordList load_record_list(const std::string& file) {
  return to_record_list(sharding::parse_json_strict(sharding::read_text_file(file), 0, /*isolate_list_elements=*/true),
                        file);
}

}  // namespace revive::data
