#pragma once
// Fields of the data files' own JSON records (read with tests/support/
// fixture_files.h): the reader tests check each request against its record
// instead of copying records into the tests.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace revive::data::testing {

// {record[key]} for a string field, {} when the record has none.
inline std::vector<std::string> one_string_or_none(const nlohmann::json& record, const std::string& key) {
  return record.contains(key) ? std::vector<std::string>{record.at(key).get<std::string>()}
                              : std::vector<std::string>{};
}

}  // namespace revive::data::testing
