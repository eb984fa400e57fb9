#pragma once
// GPT-2's byte-to-unicode table: every byte maps to a printable character
// (printable Latin-1 bytes to themselves, the rest to U+0100 onwards), so a
// byte-level BPE vocabulary is plain text and any byte string is encodable.
#include <string>

namespace revive::model::tokenizer {

// Each byte of `bytes` replaced by its mapped character (UTF-8 encoded).
std::string byte_level_encode(const std::string& bytes);
// Inverse of byte_level_encode; false when `text` holds a character outside
// the table (then *bytes is unspecified).
bool byte_level_decode(const std::string& text, std::string* bytes);

}  // namespace revive::model::tokenizer
