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
#include <vector>

#include "lib/data/edit_request.h"

namespace revive::data {

// The 50 requests in their fixed order (batches of 10 hold two of each relation).
std::vector<EditRequest> story_world_requests();

}  // namespace revive::data
