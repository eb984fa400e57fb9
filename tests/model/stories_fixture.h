#pragma once
// The stories260K acceptance protocol that ../shared/data/stories260K-hf/README.md
// describes, over the TinyStories head in text_corpora: documents split on the
// separator and stripped, the tokenizer's BOS first, 50 documents of at most 256
// tokens each.
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "lib/model/tokenizer.h"

namespace revive::model::testing {

inline std::string read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::string strip(const std::string& s) {
  const char* ws = " \t\n\r\f\v";
  const size_t b = s.find_first_not_of(ws);
  if (b == std::string::npos) return {};
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

inline std::vector<std::string> first_stories(const std::string& corpus_path, size_t n) {
  const std::string text = read_text(corpus_path);
  const std::string sep = "<|endoftext|>";
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

inline std::vector<std::vector<int64_t>> story_tokens(const Tokenizer& tok, const std::string& corpus_path,
                                                      size_t n = 50, size_t max_tokens = 256) {
  std::vector<std::vector<int64_t>> out;
  for (const std::string& s : first_stories(corpus_path, n)) {
    std::vector<int64_t> ids = tok.encode(s, /*add_special=*/true);
    if (ids.size() > max_tokens) ids.resize(max_tokens);
    out.push_back(std::move(ids));
  }
  return out;
}

inline nlohmann::json read_json(const std::string& path) { return nlohmann::json::parse(read_text(path)); }

}  // namespace revive::model::testing
