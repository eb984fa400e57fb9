#pragma once
// Fields of the data files' own JSON records (read with tests/support/
// fixture_files.h): the reader tests check each request against its record
// instead of copying records into the tests.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "lib/data/read_options.h"

namespace revive::data::testing {

// {record[key]} for a string field, {} when the record has none.
inline std::vector<std::string> one_string_or_none(const nlohmann::json& record, const std::string& key) {
  return record.contains(key) ? std::vector<std::string>{record.at(key).get<std::string>()}
                              : std::vector<std::string>{};
}

// A reader's result against the file's records (`raw`, a JSON list): one
// request per record, none skipped, and expect(request, record, index) for each.
// Stops at the first record with a failure (one broken mapping, not thousands).
template <typename Expect>
void expect_every_record(const ReadResult& read, const nlohmann::json& raw, Expect expect) {
  ASSERT_FALSE(raw.empty());
  ASSERT_EQ(read.requests.size(), raw.size());
  EXPECT_TRUE(read.skipped.empty());
  for (size_t i = 0; i < raw.size(); ++i) {
    SCOPED_TRACE("record " + std::to_string(i));
    expect(read.requests[i], raw[i], i);
    if (::testing::Test::HasFailure()) return;
  }
}

}  // namespace revive::data::testing
