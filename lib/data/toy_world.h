#pragma once
// The toy fact world (DESIGN.md section 6): a deterministic synthetic knowledge base
// small enough to teach a tiny model on two CPU cores, used by the demo and tests.
//
// - Subjects: invented pronounceable names ("Belamo", "Tirun"), unique, never equal
//   to another word of the world.
// - Relations: picked from a fixed catalogue (lives_in, works_as, favourite_colour,
//   pet, instrument, food, sport, language), each with an object vocabulary and
//   several phrasings. A phrasing is a template with one "{}" for the subject; the
//   object is the next word ("{} lives in" -> "Paris").
// - Facts: every subject has one object per relation. Objects are dealt from a
//   shuffled deck with every object repeated equally, so each object is held by
//   about num_subjects / objects subjects (neighbours exist for specificity tests).
// - Requests: one counterfactual edit per fact, in a shuffled order: prompt in a
//   randomly chosen phrasing, target_true the fact's object, target_new a different
//   object of the same relation, paraphrase prompts = the other phrasings,
//   neighbourhood prompts = other subjects holding the same object for the same
//   relation (their answer is target_true), attribute prompts = subjects holding
//   target_new, generation prompts = the subject in the other relations' first
//   phrasing. case_id = position in the list.
// - Training text: every fact in every phrasing, one sentence per line, and the
//   general sentences (options.general_sentences), shuffled together.
// - Held-out general text: options.held_out_sentences grammar sentences that are
//   not in the training text.
// Every word is separated by single spaces and carries no punctuation, so a
// WordLevel tokenizer with a whitespace pre-tokenizer maps text to whole words.
//
// Determinism: the output depends only on the options (own splitmix64 generator
// and Fisher-Yates shuffle; no std:: distributions, whose results vary by library).
#include <cstdint>
#include <string>
#include <vector>

#include "lib/data/edit_request.h"

namespace revive::data {

struct ToyWorldOptions {
  uint64_t seed = 1;
  int num_subjects = 200;
  int num_relations = 4;           // 1 .. toy_relation_catalogue_size()
  int objects_per_relation = 0;    // 2 .. a relation's vocabulary; 0: the whole vocabulary
  int phrasings_per_relation = 4;  // 1 .. 5 (every catalogue relation has 5)
  int neighbors_per_request = 5;   // neighbourhood (and attribute) prompts per request
  // General text (toy_grammar.h): sentences of a small grammar mixed into the
  // training text, and held-out sentences of it, never trained on, for
  // perplexity that no edit can make right or wrong. 0: a world of facts only.
  int general_sentences = 0;
  int held_out_sentences = 0;
};

struct ToyRelation {
  std::string id;                       // "lives_in"
  std::vector<std::string> phrasings;   // templates, "{}" = subject, object follows
  std::vector<std::string> objects;
};

struct ToyFact {
  int subject = 0;
  int relation = 0;
  int object = 0;  // index into relations()[relation].objects
};

// The fixed catalogue the relations are taken from, in order (toy_relation_catalogue.cpp).
std::vector<ToyRelation> toy_relation_catalogue();
int toy_relation_catalogue_size();

class ToyWorld {
 public:
  // Throws revive::Error for options out of range.
  static ToyWorld generate(const ToyWorldOptions& options = {});

  const ToyWorldOptions& options() const { return options_; }
  const std::vector<std::string>& subjects() const { return subjects_; }
  const std::vector<ToyRelation>& relations() const { return relations_; }
  // Object index of (subject, relation).
  int object_of(int subject, int relation) const;
  // Every fact, subject-major.
  std::vector<ToyFact> facts() const;
  // "<phrasing with subject> <object>".
  std::string fact_sentence(int subject, int relation, int phrasing) const;

  const std::vector<EditRequest>& requests() const { return requests_; }
  const std::vector<std::string>& training_lines() const { return training_lines_; }
  const std::vector<std::string>& held_out_lines() const { return held_out_lines_; }
  // Sorted unique words of the training text, every request and every object.
  std::vector<std::string> vocabulary() const;

 private:
  ToyWorldOptions options_;
  std::vector<std::string> subjects_;
  std::vector<ToyRelation> relations_;
  std::vector<int> objects_;  // [subject * num_relations + relation]
  std::vector<EditRequest> requests_;
  std::vector<std::string> training_lines_;
  std::vector<std::string> held_out_lines_;
};

}  // namespace revive::data
