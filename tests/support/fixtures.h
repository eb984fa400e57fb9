#pragma once
// Access to the real fixtures in ../shared/data. Tests that need one call
// REVIVE_REQUIRE_DATA and are skipped, with the path in the message, when absent.
#include <gtest/gtest.h>

#include <string>

namespace revive::testing {
// Absolute path of `relative` under the data folder (REVIVE_TEST_DATA overrides
// the configured location); empty when it does not exist.
std::string data_path(const std::string& relative);
// A fresh empty temporary directory, removed at process exit.
std::string temp_dir(const std::string& tag);
}  // namespace revive::testing

#define REVIVE_REQUIRE_DATA(var, relative)                                            \
  const std::string var = ::revive::testing::data_path(relative);                     \
  if (var.empty()) GTEST_SKIP() << "fixture " << (relative) << " not found (../shared/data)"
