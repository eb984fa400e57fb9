#pragma once
// Generated story-world requests (issue 22): the facts of data::story_world_facts
// with objects chosen on the unedited model, so that each edit changes what the
// model says. target_true is the candidate the model scores best after the
// filled prompt (lowest mean token NLL: efficacy is 0 before any edit);
// target_new is drawn by the seed among the candidates whose first token differs
// from target_true's (an edit read at the prompt's last token that raises a
// shared first token raises the true object too).
#include <cstddef>
#include <cstdint>
#include <vector>

#include "lib/data/edit_request.h"
#include "lib/model/model_fwd.h"

namespace revive::edit {

// `count` requests of seed `seed` (>= 1), case_id 0..count-1, relation_id the
// relation's id. Collective over the model's tp group. Throws revive::Error
// when a relation has no candidate apart from target_true's first token.
std::vector<data::EditRequest> story_world_stream(model::Transformer& model,
                                                  const model::Tokenizer& tokenizer, uint64_t seed,
                                                  size_t count);

}  // namespace revive::edit
