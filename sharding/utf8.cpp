#include "sharding/utf8.h"

namespace revive::sharding {

bool utf8_decode(const std::string& s, size_t pos, char32_t* cp, size_t* len) {
  const auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  unsigned char b0 = byte(pos);
  size_t n;
  char32_t c, min;
  if (b0 < 0x80) {
    *cp = b0;
    *len = 1;
    return true;
  } else if ((b0 & 0xE0) == 0xC0) {
    n = 2, c = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    n = 3, c = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    n = 4, c = b0 & 0x07, min = 0x10000;
  } else {
    *len = 1;
    return false;
  }
  if (pos + n > s.size()) {
    *len = 1;
    return false;
  }
  for (size_t i = 1; i < n; ++i) {
    unsigned char b = byte(pos + i);
    if ((b & 0xC0) != 0x80) {
      *len = 1;
      return false;
    }
    c = (c << 6) | (b & 0x3F);
  }
  // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
  if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) {
    *len = 1;
    return false;
  }
  *cp = c;
  *len = n;
  return true;
}

size_t utf8_char_len(const std::string& s, size_t pos) {
  char32_t cp;
  size_t len;
  utf8_decode(s, pos, &cp, &len);
  return len;
}

std::string utf8_encode(char32_t cp) {
  std::string out;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return out;
}

std::vector<std::string> utf8_chars(const std::string& s) {
  std::vector<std::string> out;
  for (size_t pos = 0; pos < s.size();) {
    size_t len = utf8_char_len(s, pos);
    out.push_back(s.substr(pos, len));
    pos += len;
  }
  return out;
}

bool utf8_valid(const std::string& s) {
  char32_t cp;
  size_t len;
  for (size_t pos = 0; pos < s.size(); pos += len) {
    if (!utf8_decode(s, pos, &cp, &len)) return false;
  }
  return true;
}

std::string utf8_lossy(const std::string& s) {
  std::string out;
  char32_t cp;
  size_t len;
  for (size_t pos = 0; pos < s.size(); pos += len) {
    if (utf8_decode(s, pos, &cp, &len)) {
      out.append(s, pos, len);
    } else {
      out += "\xEF\xBF\xBD";
    }
  }
  return out;
}

}  // namespace revive::sharding
