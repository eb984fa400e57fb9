#pragma once
// Story-world edit requests for stories260K (issue 5's acceptance): facts in the
// model's own TinyStories world with short targets it already uses. 50 names,
// each with one of 5 relations (pet, colour, toy, food, place; cycled, so every
// batch of 10 holds two of each); target_new cycles over three alternatives.
// How the objects were chosen, all measured on the unedited model:
//  - target_true is the object the model itself ranks first among the
//    relation's candidates (lowest mean NLL over 8 names), so nothing is
//    edited before the edit (efficacy 0.00);
//  - no target_new shares its first token with target_true: the edit acts at
//    the prompt's last token (the stories260k preset), and raising a shared
//    first token raises the true object too (tree/truck, cake/cookie);
//  - every prompt ends in a token of its own: "play with a" and "eat a" gave
//    keys with cosine 0.92, so their edits overwrote each other.
// Keys of one relation stay alike across names (cosine 0.997 at the last
// token), so the requests of a relation compete for one key: that is this
// model's limit, and why per-batch efficacy is not 100%. Colour carries the
// least of the name (the keys' spread about the relation's mean is 0.032 of its
// norm at layer 1, 0.051-0.081 for the others); prompts with more spread did
// not edit better over 8 request orders (README). bench_story_world runs the
// acceptance over shuffled orders.
//
// Generated streams (issue 22): the fixed 50 above are one request set that the
// presets were tuned on, so figures from them say little about other requests.
// story_world_facts() draws invented names x the same five relations by a seed,
// as many as asked (thousands), so runs reach the horizons where sequential
// editing collapses; the objects are chosen on the model (edit/run/
// story_world_stream.h). Seed 0 stands for the fixed 50 (story_world_requests).
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "lib/data/edit_request.h"

namespace revive::data {

// The 50 requests in their fixed order (batches of 10 hold two of each relation).
std::vector<EditRequest> story_world_requests();

// A relation of the generated streams: its prompt (one "{}") and candidate
// objects, words TinyStories uses after that prompt.
struct StoryRelation {
  std::string id;  // "pet", "color", ... (EditRequest::relation_id)
  std::string prompt;
  std::vector<std::string> objects;
};

// The five relations of the fixed set, each with more candidate objects.
const std::vector<StoryRelation>& story_relations();

// One generated fact before its objects are chosen: an invented name and a
// relation (an index into story_relations()).
struct StoryFact {
  std::string subject;
  size_t relation = 0;
};

// `count` distinct (name, relation) pairs drawn by `seed` (SplitMixRng: the
// same on every platform); names are two or three invented syllables
// ("Bimo", "Talura"), the relation uniform. Throws revive::Error for seed 0
// (the fixed set) or a count beyond what the name space holds.
std::vector<StoryFact> story_world_facts(uint64_t seed, size_t count);

}  // namespace revive::data
