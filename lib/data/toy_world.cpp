#include "lib/data/toy_world.h"

#include <algorithm>
#include <cctype>
#include <iterator>
#include <set>
#include <sstream>
#include <unordered_set>

#include "lib/data/splitmix_rng.h"
#include "lib/data/toy_grammar.h"
#include "sharding/errors.h"

namespace revive::data {

namespace {

using Rng = SplitMixRng;

// Independent streams per purpose, so changing one part (say, the number of
// neighbours) does not reshuffle the others.
enum Stream : uint64_t { kNameStream = 1, kObjectStream, kFactStream, kRequestStream, kTrainingStream };
Rng stream(uint64_t seed, Stream s) { return Rng(seed * 0x2545F4914F6CDD1Dull + s); }

std::vector<std::string> split_words(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// Consonant-vowel syllables with an occasional closing consonant: "Belamo", "Tirun".
std::string invent_name(Rng& rng) {
  static const char* kOnsets[] = {"b", "d", "f", "g", "k", "l", "m", "n", "p", "r",
                                  "s", "t", "v", "z", "br", "tr", "st", "dr"};
  static const char* kVowels[] = {"a", "e", "i", "o", "u", "ai", "ou"};
  static const char* kCodas[] = {"n", "l", "r", "s", "m"};
  const std::size_t syllables = 2 + rng.below(2);
  std::string name;
  for (std::size_t i = 0; i < syllables; ++i) {
    name += kOnsets[rng.below(std::size(kOnsets))];
    name += kVowels[rng.below(std::size(kVowels))];
  }
  if (rng.below(3) == 0) name += kCodas[rng.below(std::size(kCodas))];
  name[0] = static_cast<char>(name[0] - 'a' + 'A');
  return name;
}

void check_options(const ToyWorldOptions& o) {
  REVIVE_CHECK(o.num_subjects >= 2, "toy world: num_subjects must be at least 2");
  REVIVE_CHECK(o.num_relations >= 1 && o.num_relations <= toy_relation_catalogue_size(),
               "toy world: num_relations must be in 1.." +
                   std::to_string(toy_relation_catalogue_size()));
  REVIVE_CHECK(o.objects_per_relation == 0 || o.objects_per_relation >= 2,
               "toy world: objects_per_relation must be 0 (all) or at least 2");
  REVIVE_CHECK(o.phrasings_per_relation >= 1, "toy world: phrasings_per_relation must be >= 1");
  REVIVE_CHECK(o.neighbors_per_request >= 0, "toy world: neighbors_per_request must be >= 0");
  REVIVE_CHECK(o.general_sentences >= 0 && o.held_out_sentences >= 0,
               "toy world: general and held-out sentence counts must be >= 0");
}

}  // namespace

ToyWorld ToyWorld::generate(const ToyWorldOptions& options) {
  check_options(options);
  ToyWorld w;
  w.options_ = options;
  const int n_rel = options.num_relations;
  const std::size_t n_subj = static_cast<std::size_t>(options.num_subjects);

  // Relations: the first num_relations of the catalogue, trimmed to size. Which
  // objects stay is drawn from the seed.
  std::vector<ToyRelation> catalogue = toy_relation_catalogue();
  Rng obj_rng = stream(options.seed, kObjectStream);
  for (int r = 0; r < n_rel; ++r) {
    ToyRelation rel = catalogue[static_cast<std::size_t>(r)];
    REVIVE_CHECK(options.phrasings_per_relation <= static_cast<int>(rel.phrasings.size()),
                 "toy world: relation " + rel.id + " has only " +
                     std::to_string(rel.phrasings.size()) + " phrasings");
    rel.phrasings.resize(static_cast<std::size_t>(options.phrasings_per_relation));
    if (options.objects_per_relation != 0) {
      REVIVE_CHECK(options.objects_per_relation <= static_cast<int>(rel.objects.size()),
                   "toy world: relation " + rel.id + " has only " +
                       std::to_string(rel.objects.size()) + " objects");
      obj_rng.shuffle(rel.objects);
      rel.objects.resize(static_cast<std::size_t>(options.objects_per_relation));
    }
    w.relations_.push_back(std::move(rel));
  }

  // Subjects: unique invented names that are no other word of the world, compared
  // case-insensitively so "Rome" and "rome" cannot both occur.
  auto lower = [](std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
  };
  std::unordered_set<std::string> taken;
  for (const ToyRelation& rel : catalogue) {
    for (const auto& o : rel.objects) taken.insert(lower(o));
    for (const auto& p : rel.phrasings) {
      for (const auto& word : split_words(p)) taken.insert(lower(word));
    }
  }
  Rng name_rng = stream(options.seed, kNameStream);
  const std::size_t max_attempts = 1000 + 100 * n_subj;
  for (std::size_t attempts = 0; w.subjects_.size() < n_subj; ++attempts) {
    REVIVE_CHECK(attempts < max_attempts, "toy world: cannot invent enough distinct names");
    std::string name = invent_name(name_rng);
    if (taken.insert(lower(name)).second) w.subjects_.push_back(std::move(name));
  }

  // Facts: per relation, deal a shuffled deck holding each object equally often.
  Rng fact_rng = stream(options.seed, kFactStream);
  w.objects_.assign(n_subj * static_cast<std::size_t>(n_rel), 0);
  for (int r = 0; r < n_rel; ++r) {
    const std::size_t n_obj = w.relations_[static_cast<std::size_t>(r)].objects.size();
    std::vector<int> deck(n_subj);
    for (std::size_t s = 0; s < n_subj; ++s) deck[s] = static_cast<int>(s % n_obj);
    fact_rng.shuffle(deck);
    for (std::size_t s = 0; s < n_subj; ++s) {
      w.objects_[s * static_cast<std::size_t>(n_rel) + static_cast<std::size_t>(r)] = deck[s];
    }
  }

  // Holders of each (relation, object), in subject order.
  std::vector<std::vector<std::vector<int>>> holders(static_cast<std::size_t>(n_rel));
  for (int r = 0; r < n_rel; ++r) {
    holders[static_cast<std::size_t>(r)].resize(w.relations_[static_cast<std::size_t>(r)].objects.size());
    for (std::size_t s = 0; s < n_subj; ++s) {
      holders[static_cast<std::size_t>(r)][static_cast<std::size_t>(w.object_of(static_cast<int>(s), r))]
          .push_back(static_cast<int>(s));
    }
  }

  // Requests: one per fact, shuffled.
  Rng req_rng = stream(options.seed, kRequestStream);
  std::vector<ToyFact> order = w.facts();
  req_rng.shuffle(order);
  const std::size_t n_neighbors = static_cast<std::size_t>(options.neighbors_per_request);
  // Up to n_neighbors holders of (r, object) other than `skip`, drawn at random.
  auto pick_holders = [&](int r, int object, int skip) {
    std::vector<int> cand;
    for (int s : holders[static_cast<std::size_t>(r)][static_cast<std::size_t>(object)]) {
      if (s != skip) cand.push_back(s);
    }
    req_rng.shuffle(cand);
    if (cand.size() > n_neighbors) cand.resize(n_neighbors);
    return cand;
  };
  for (std::size_t i = 0; i < order.size(); ++i) {
    const ToyFact& f = order[i];
    const ToyRelation& rel = w.relations_[static_cast<std::size_t>(f.relation)];
    const std::size_t n_phr = rel.phrasings.size();
    const std::string& subject = w.subjects_[static_cast<std::size_t>(f.subject)];
    EditRequest q;
    q.case_id = static_cast<int64_t>(i);
    q.relation_id = rel.id;
    q.subject = subject;
    const std::size_t phr = req_rng.below(n_phr);
    q.prompt_template = rel.phrasings[phr];
    q.target_true = rel.objects[static_cast<std::size_t>(f.object)];
    // A different object: shift by 1 .. n_obj-1.
    const std::size_t n_obj = rel.objects.size();
    const int new_object =
        static_cast<int>((static_cast<std::size_t>(f.object) + 1 + req_rng.below(n_obj - 1)) % n_obj);
    q.target_new = rel.objects[static_cast<std::size_t>(new_object)];
    for (std::size_t k = 1; k < n_phr; ++k) {
      q.paraphrase_prompts.push_back(render_prompt(rel.phrasings[(phr + k) % n_phr], subject));
    }
    const std::vector<int> neighbors = pick_holders(f.relation, f.object, f.subject);
    for (std::size_t j = 0; j < neighbors.size(); ++j) {
      q.neighborhood_prompts.push_back(render_prompt(
          rel.phrasings[(phr + j) % n_phr], w.subjects_[static_cast<std::size_t>(neighbors[j])]));
    }
    const std::vector<int> attribute = pick_holders(f.relation, new_object, f.subject);
    for (std::size_t j = 0; j < attribute.size(); ++j) {
      q.attribute_prompts.push_back(render_prompt(
          rel.phrasings[(phr + j) % n_phr], w.subjects_[static_cast<std::size_t>(attribute[j])]));
    }
    for (int r = 0; r < n_rel; ++r) {
      if (r == f.relation) continue;
      q.generation_prompts.push_back(
          render_prompt(w.relations_[static_cast<std::size_t>(r)].phrasings[0], subject));
    }
    w.requests_.push_back(std::move(q));
  }

  // Training text: every fact in every phrasing.
  for (const ToyFact& f : w.facts()) {
    const std::size_t n_phr = w.relations_[static_cast<std::size_t>(f.relation)].phrasings.size();
    for (std::size_t p = 0; p < n_phr; ++p) {
      w.training_lines_.push_back(w.fact_sentence(f.subject, f.relation, static_cast<int>(p)));
    }
  }
  const std::vector<std::string> general =
      toy_grammar_sentences(options.seed, static_cast<std::size_t>(options.general_sentences));
  w.training_lines_.insert(w.training_lines_.end(), general.begin(), general.end());
  Rng train_rng = stream(options.seed, kTrainingStream);
  train_rng.shuffle(w.training_lines_);
  w.held_out_lines_ = toy_grammar_held_out(options.seed, static_cast<std::size_t>(options.held_out_sentences), general);
  return w;
}

int ToyWorld::object_of(int subject, int relation) const {
  REVIVE_CHECK(subject >= 0 && subject < options_.num_subjects && relation >= 0 &&
                   relation < options_.num_relations,
               "toy world: subject or relation index out of range");
  return objects_[static_cast<std::size_t>(subject) * static_cast<std::size_t>(options_.num_relations) +
                  static_cast<std::size_t>(relation)];
}

std::vector<ToyFact> ToyWorld::facts() const {
  std::vector<ToyFact> out;
  out.reserve(objects_.size());
  for (int s = 0; s < options_.num_subjects; ++s) {
    for (int r = 0; r < options_.num_relations; ++r) out.push_back({s, r, object_of(s, r)});
  }
  return out;
}

std::string ToyWorld::fact_sentence(int subject, int relation, int phrasing) const {
  const ToyRelation& rel = relations_.at(static_cast<std::size_t>(relation));
  return render_prompt(rel.phrasings.at(static_cast<std::size_t>(phrasing)),
                       subjects_.at(static_cast<std::size_t>(subject))) +
         " " + rel.objects[static_cast<std::size_t>(object_of(subject, relation))];
}

std::vector<std::string> ToyWorld::vocabulary() const {
  std::set<std::string> words;
  auto add = [&](const std::string& text) {
    for (auto& w : split_words(text)) words.insert(std::move(w));
  };
  for (const auto& line : training_lines_) add(line);
  for (const auto& line : held_out_lines_) add(line);
  for (const auto& rel : relations_) {
    for (const auto& o : rel.objects) add(o);
    for (const auto& p : rel.phrasings) add(render_prompt(p, ""));
  }
  for (const auto& s : subjects_) add(s);
  for (const EditRequest& q : requests_) {
    add(q.prompt());
    add(q.target_new);
    add(q.target_true);
    for (const auto* list : {&q.paraphrase_prompts, &q.neighborhood_prompts, &q.attribute_prompts,
                             &q.generation_prompts}) {
      for (const auto& p : *list) add(p);
    }
  }
  return {words.begin(), words.end()};
}

}  // namespace revive::data
