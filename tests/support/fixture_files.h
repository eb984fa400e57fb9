#pragma once
// Reading fixture files directly, independently of the library's readers, so a
// test can derive what a reader must return from the file itself.
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace revive::testing {

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline nlohmann::json read_json(const std::string& path) { return nlohmann::json::parse(read_text(path)); }

inline std::string strip(const std::string& s) {
  const char* ws = " \t\n\r\f\v";
  const size_t b = s.find_first_not_of(ws);
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

// The first `n` pieces of `text` between occurrences of `sep`, each stripped
// (empty pieces kept).
inline std::vector<std::string> split_stripped(const std::string& text, const std::string& sep,
                                               size_t n = static_cast<size_t>(-1)) {
  std::vector<std::string> out;
  size_t begin = 0;
  while (out.size() < n) {
    const size_t end = text.find(sep, begin);
    out.push_back(strip(text.substr(begin, end == std::string::npos ? std::string::npos : end - begin)));
    if (end == std::string::npos) break;
    begin = end + sep.size();
  }
  return out;
}

}  // namespace revive::testing
