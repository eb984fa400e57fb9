#include "lib/model/tokenizer/regex.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "lib/model/tokenizer/json_node.h"
#include "sharding/utf8.h"
#include "sharding/errors.h"

namespace revive::model::tokenizer {

using sharding::utf8_char_len;

struct Regex::Code {
  pcre2_code* code = nullptr;
  ~Code() { pcre2_code_free(code); }
};

namespace {
std::unique_ptr<pcre2_code, void (*)(pcre2_code*)> compile(const std::string& pattern,
                                                            bool literal,
                                                            const JsonNode& where) {
  // PCRE2_LITERAL admits UTF but not UCP (which only matters for classes).
  const uint32_t options = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | (literal ? PCRE2_LITERAL : PCRE2_UCP);
  int error = 0;
  PCRE2_SIZE offset = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                   options,
                                   &error, &offset, nullptr);
  if (code == nullptr) {
    PCRE2_UCHAR message[256];
    pcre2_get_error_message(error, message, sizeof(message));
    where.fail("invalid regular expression at offset " + std::to_string(offset) + ": " +
               reinterpret_cast<const char*>(message));
  }
  // JIT is an optimisation only; the interpreter gives the same matches.
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);
  return {code, pcre2_code_free};
}
}  // namespace

Regex::Regex(const std::string& pattern, const JsonNode& where)
    : code_(std::make_unique<Code>()) {
  code_->code = compile(pattern, false, where).release();
}

Regex Regex::literal(const std::string& text, const JsonNode& where) {
  if (text.empty()) where.fail("empty pattern");
  Regex r;
  r.code_ = std::make_unique<Code>();
  r.code_->code = compile(text, true, where).release();
  return r;
}

Regex::~Regex() = default;
Regex::Regex(Regex&&) noexcept = default;
Regex& Regex::operator=(Regex&&) noexcept = default;

std::vector<std::pair<size_t, size_t>> Regex::find_all(const std::string& text) const {
  std::vector<std::pair<size_t, size_t>> spans;
  std::unique_ptr<pcre2_match_data, void (*)(pcre2_match_data*)> data(
      pcre2_match_data_create_from_pattern(code_->code, nullptr), pcre2_match_data_free);
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text.data());
  size_t start = 0;
  while (start < text.size()) {
    int rc = pcre2_match(code_->code, subject, text.size(), start, 0, data.get(), nullptr);
    if (rc == PCRE2_ERROR_JIT_STACKLIMIT) {
      // The JIT's fixed stack can run out on long backtracking runs; the
      // interpreter keeps its frames on the heap and gives the same match.
      rc = pcre2_match(code_->code, subject, text.size(), start, PCRE2_NO_JIT, data.get(), nullptr);
    }
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc < 0) {
      // Only resource limits can get here (invalid UTF is allowed by the
      // compile options): a pathological pattern from the file.
      PCRE2_UCHAR message[256];
      pcre2_get_error_message(rc, message, sizeof(message));
      throw Error(std::string("regex match failed: ") +
                               reinterpret_cast<const char*>(message));
    }
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(data.get());
    size_t b = ov[0], e = ov[1];
    if (e > b) {
      spans.emplace_back(b, e);
      start = e;
    } else {
      // Empty match: step over one character so the search progresses.
      start = b + utf8_char_len(text, b);
    }
  }
  return spans;
}

}  // namespace revive::model::tokenizer
