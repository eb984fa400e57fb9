#include "lib/model/tokenizer/byte_level.h"

#include <array>
#include <unordered_map>

#include "sharding/utf8.h"

namespace revive::model::tokenizer {

using sharding::utf8_encode;
using sharding::utf8_decode;

namespace {

struct ByteLevelTable {
  std::array<std::string, 256> to_char;
  std::unordered_map<char32_t, unsigned char> to_byte;

  ByteLevelTable() {
    const auto printable = [](int b) {
      return (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
    };
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      char32_t cp = printable(b) ? static_cast<char32_t>(b) : next++;
      to_char[b] = utf8_encode(cp);
      to_byte[cp] = static_cast<unsigned char>(b);
    }
  }
};

const ByteLevelTable& byte_table() {
  static const ByteLevelTable t;
  return t;
}

}  // namespace

std::string byte_level_encode(const std::string& bytes) {
  const ByteLevelTable& t = byte_table();
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char b : bytes) out += t.to_char[b];
  return out;
}

bool byte_level_decode(const std::string& text, std::string* bytes) {
  const ByteLevelTable& t = byte_table();
  bytes->clear();
  char32_t cp;
  size_t len;
  for (size_t pos = 0; pos < text.size(); pos += len) {
    if (!utf8_decode(text, pos, &cp, &len)) return false;
    auto it = t.to_byte.find(cp);
    if (it == t.to_byte.end()) return false;
    bytes->push_back(static_cast<char>(it->second));
  }
  return true;
}

}  // namespace revive::model::tokenizer
