#include "lib/data/toy_grammar.h"

#include <iterator>
#include <unordered_set>

#include "lib/data/splitmix_rng.h"
#include "sharding/errors.h"

namespace revive::data {
namespace {

struct Noun {
  const char* one;
  const char* many;
};
struct Verb {
  const char* one;  // agrees with a singular subject
  const char* many;
};

const Noun kCreatures[] = {{"fox", "foxes"},    {"owl", "owls"},       {"wolf", "wolves"},
                           {"bear", "bears"},   {"frog", "frogs"},     {"crow", "crows"},
                           {"otter", "otters"}, {"beetle", "beetles"}, {"badger", "badgers"},
                           {"heron", "herons"}};
const char* kThings[] = {"stone", "leaf",  "branch", "acorn", "feather",
                         "shell", "berry", "pebble", "twig",  "nut"};
const char* kPlaces[] = {"meadow", "forest", "river", "hill",  "valley",
                         "pond",   "cave",   "field", "marsh", "glade"};
const char* kCreatureAdjectives[] = {"small", "large", "young", "quiet", "quick", "lazy", "clever", "sleepy"};
const char* kThingAdjectives[] = {"round", "smooth", "heavy", "shiny", "tiny", "wet", "dusty", "bright"};
const Verb kIntransitive[] = {{"runs", "run"},   {"sleeps", "sleep"}, {"sings", "sing"},
                              {"waits", "wait"}, {"hides", "hide"},   {"rests", "rest"}};
const Verb kTransitive[] = {
    {"finds", "find"}, {"carries", "carry"}, {"drops", "drop"}, {"gathers", "gather"}, {"watches", "watch"}};
const char* kPrepositions[] = {"near", "by", "across", "under", "beside"};
const char* kTimes[] = {"at dawn", "at night", "after the rain", "before noon"};
const char* kCounts[] = {"two", "three", "many", "some"};

template <typename T, std::size_t N>
const T& pick(SplitMixRng& rng, const T (&items)[N]) {
  return items[rng.below(N)];
}

// One sentence; the template and every word drawn from `rng`.
std::string grammar_sentence(SplitMixRng& rng) {
  const bool plural = rng.below(2) == 1;
  const Noun& creature = pick(rng, kCreatures);
  const std::string subject_noun = plural ? creature.many : creature.one;
  // A plural subject takes a count word or "the"; a singular one "the", "a" or "every".
  const std::string det = plural
                              ? (rng.below(2) == 0 ? std::string(pick(rng, kCounts)) : "the")
                              : std::string(rng.below(3) == 0 ? "every" : (rng.below(2) == 0 ? "a" : "the"));
  auto verb = [&](const Verb& v) { return std::string(plural ? v.many : v.one); };
  switch (rng.below(4)) {
    case 0: {  // [time] det adj creature verb prep the place
      std::string s = rng.below(3) == 0 ? std::string(pick(rng, kTimes)) + " " : "";
      s += det + " " + pick(rng, kCreatureAdjectives) + " " + subject_noun + " " +
           verb(pick(rng, kIntransitive));
      return s + " " + pick(rng, kPrepositions) + " the " + pick(rng, kPlaces);
    }
    case 1:  // det creature verb the adj thing
      return det + " " + subject_noun + " " + verb(pick(rng, kTransitive)) + " the " +
             pick(rng, kThingAdjectives) + " " + pick(rng, kThings);
    case 2:  // det creature in the place verb
      return det + " " + subject_noun + " in the " + pick(rng, kPlaces) + " " +
             verb(pick(rng, kIntransitive));
    default: {  // the thing prep the place is adj
      const std::string thing = pick(rng, kThings);
      return "the " + thing + " " + pick(rng, kPrepositions) + " the " + pick(rng, kPlaces) + " is " +
             pick(rng, kThingAdjectives);
    }
  }
}

}  // namespace

std::vector<std::string> toy_grammar_sentences(uint64_t seed, std::size_t count) {
  SplitMixRng rng(seed * 0x9E3779B97F4A7C15ull + 0x67A33A5ull);
  std::vector<std::string> out;
  out.reserve(count);
  for (std::size_t i = 0; i < count; ++i) out.push_back(grammar_sentence(rng));
  return out;
}

std::vector<std::string> toy_grammar_held_out(uint64_t seed, std::size_t count,
                                              const std::vector<std::string>& exclude) {
  const std::unordered_set<std::string> seen(exclude.begin(), exclude.end());
  SplitMixRng rng(seed * 0xD1B54A32D192ED03ull + 0x4E1D0ull);
  std::vector<std::string> out;
  for (std::size_t attempts = 0; out.size() < count; ++attempts) {
    REVIVE_CHECK(attempts < 100 * count + 1000, "toy grammar: too few sentences outside the training text");
    std::string s = grammar_sentence(rng);
    if (seen.count(s) == 0) out.push_back(std::move(s));
  }
  return out;
}

}  // namespace revive::data
