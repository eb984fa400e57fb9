#pragma once
// UTF-8 helpers that never fail: a byte that does not start a well-formed
// sequence counts as a one-byte "character", so arbitrary byte strings can be
// walked (and byte-level tokenizers round-trip them exactly).
#include <cstddef>
#include <string>
#include <vector>

namespace revive::sharding {

// Length in bytes of the character starting at `pos` (1 for an invalid byte).
size_t utf8_char_len(const std::string& s, size_t pos);
// Decodes the character at `pos`; false (and *len = 1) for an invalid byte.
bool utf8_decode(const std::string& s, size_t pos, char32_t* cp, size_t* len);
std::string utf8_encode(char32_t cp);
// The characters of `s` as separate strings.
std::vector<std::string> utf8_chars(const std::string& s);
bool utf8_valid(const std::string& s);
// Invalid bytes replaced by U+FFFD, one per byte.
std::string utf8_lossy(const std::string& s);

}  // namespace revive::sharding
