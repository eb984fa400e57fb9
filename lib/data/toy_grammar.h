#pragma once
// General text for the toy world (DESIGN.md section 6, issue 22): sentences of a
// small grammar about creatures, things and places, so that a toy model trained
// on the world also learns an ability that is not a fact - number agreement
// across an adjective ("the sleepy foxes rest" / "the sleepy fox rests"),
// determiners that fix the number ("two", "every"), which verbs take which
// nouns - and perplexity on held-out sentences measures it. REVIVE's premise is
// that such abilities live in the dominant singular directions of the edited
// weights; a world of facts alone has nothing there to protect.
//
// The words are the grammar's own (no subject, relation phrasing or object of
// the fact catalogue but function words such as "the" and "a"), so no general
// sentence states or contradicts a fact, and an edit cannot make one true or
// false. There are ~10^5 distinct sentences, so held-out sentences are mostly
// combinations the model never saw: they measure the grammar, not memory.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace revive::data {

// `count` sentences drawn from the grammar with `seed` (deterministic; words
// separated by single spaces, no punctuation).
std::vector<std::string> toy_grammar_sentences(uint64_t seed, std::size_t count);

// `count` sentences drawn with `seed` that are not in `exclude` (held-out text).
std::vector<std::string> toy_grammar_held_out(uint64_t seed, std::size_t count,
                                              const std::vector<std::string>& exclude);

}  // namespace revive::data
