#pragma once
// Writes small fixture files for the data tests.
#include <fstream>
#include <string>

#include "tests/support/fixtures.h"

namespace revive::data::testing {

inline std::string write_text(const std::string& dir, const std::string& name,
                              const std::string& text) {
  const std::string path = dir + "/" + name;
  std::ofstream out(path, std::ios::binary);
  out << text;
  return path;
}

}  // namespace revive::data::testing
