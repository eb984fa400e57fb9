#include "lib/model/prompt_tokens.h"

#include <algorithm>
#include <cctype>

#include "lib/model/tokenizer.h"
#include "sharding/errors.h"

namespace revive::model {

Continuation tokenize_continuation(const Tokenizer& tokenizer, const std::string& prompt,
                                   const std::string& target) {
  Continuation c;
  c.prompt = tokenizer.encode(prompt, /*add_special=*/true);
  REVIVE_CHECK(!c.prompt.empty(), "prompt '" + prompt + "' encodes to no tokens");
  // One space between them unless the data already has one (ROME's rule for a
  // target stored as " Paris").
  const bool spaced = (!target.empty() && std::isspace(static_cast<unsigned char>(target.front()))) ||
                      (!prompt.empty() && std::isspace(static_cast<unsigned char>(prompt.back())));
  const std::string sep = spaced ? "" : " ";
  const std::vector<int64_t> joined = tokenizer.encode(prompt + sep + target, true);
  const bool prefix_ok = joined.size() > c.prompt.size() &&
                         std::equal(c.prompt.begin(), c.prompt.end(), joined.begin());
  if (prefix_ok) {
    c.target.assign(joined.begin() + static_cast<std::ptrdiff_t>(c.prompt.size()), joined.end());
  } else {
    c.target = tokenizer.encode(spaced ? target : " " + target, /*add_special=*/false);
  }
  REVIVE_CHECK(!c.target.empty(), "target '" + target + "' encodes to no tokens after prompt '" + prompt + "'");
  return c;
}

int64_t subject_last_token(const Tokenizer& tokenizer, const std::string& prompt, size_t subject_offset,
                           size_t subject_size) {
  REVIVE_CHECK(subject_size > 0 && subject_offset + subject_size <= prompt.size(),
               "subject range [" + std::to_string(subject_offset) + ", +" + std::to_string(subject_size) +
                   ") outside prompt '" + prompt + "'");
  const std::vector<int64_t> upto = tokenizer.encode(prompt.substr(0, subject_offset + subject_size), true);
  REVIVE_CHECK(!upto.empty(), "prompt '" + prompt + "' encodes to no tokens");
  return static_cast<int64_t>(upto.size()) - 1;
}

}  // namespace revive::model
