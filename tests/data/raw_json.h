#pragma once
// The data files' own JSON, read with nlohmann directly: the reader tests check
// each request against its record instead of copying records into the tests.
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace revive::data::testing {

inline nlohmann::json read_raw_json(const std::string& file) {
  std::ifstream in(file);
  return nlohmann::json::parse(in);
}

// {record[key]} for a string field, {} when the record has none.
inline std::vector<std::string> one_string_or_none(const nlohmann::json& record, const std::string& key) {
  return record.contains(key) ? std::vector<std::string>{record.at(key).get<std::string>()}
                              : std::vector<std::string>{};
}

}  // namespace revive::data::testing
