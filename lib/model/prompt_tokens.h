#pragma once
// Tokenising "prompt + target" the way editing and evaluation both need it: the
// target's tokens are what the tokenizer produces for the joined text
// `prompt + " " + target` beyond the prompt's own tokens (MEMIT's convention; no
// space is added when the target starts or the prompt ends with one), so
// SentencePiece's "▁cat", GPT-2's "Ġcat" and a WordLevel "cat" all come out as a
// model would see them in running text.
#include <cstdint>
#include <string>
#include <vector>

#include "lib/model/log_probs.h"

namespace revive::model {

class Tokenizer;

// Continuation{encode(prompt) with BOS, target tokens}. When the joined text does
// not start with the prompt's tokens (a merge across the boundary), the target is
// encoded on its own with a leading space instead. Throws revive::Error naming
// the target when it yields no tokens.
Continuation tokenize_continuation(const Tokenizer& tokenizer, const std::string& prompt,
                                   const std::string& target);

// Token index of the LAST token of `subject` inside the encoding of `prompt`
// (with BOS), where the subject starts at byte `subject_offset` of `prompt`: the
// last token of encode(prompt[0 : subject_offset + |subject|]). Throws
// revive::Error when the offsets are out of range.
int64_t subject_last_token(const Tokenizer& tokenizer, const std::string& prompt, size_t subject_offset,
                           size_t subject_size);

}  // namespace revive::model
