// The relations the toy world draws from. Phrasings end where the object goes and
// contain no punctuation; objects are single words. Phrasings of different
// relations never coincide, so a prompt determines its relation.
#include "lib/data/toy_world.h"

namespace revive::data {

std::vector<ToyRelation> toy_relation_catalogue() {
  return {
      {"lives_in",
       {"{} lives in", "The home of {} is", "{} has a house in", "The city where {} lives is",
        "{} is a resident of"},
       {"Paris", "Lima", "Oslo", "Cairo", "Tokyo", "Rome", "Dublin", "Vienna", "Madrid", "Berlin",
        "Lisbon", "Prague"}},
      {"works_as",
       {"{} works as a", "The job of {} is", "By profession {} is a", "{} earns a living as a",
        "Every day {} goes to work as a"},
       {"doctor", "teacher", "baker", "pilot", "farmer", "lawyer", "painter", "nurse", "chef",
        "sailor", "writer", "dentist"}},
      {"favourite_colour",
       {"The favourite colour of {} is", "{} likes the colour", "{} loves the colour",
        "The colour that {} prefers is", "{} always wears the colour"},
       {"red", "blue", "green", "yellow", "purple", "orange", "black", "white", "pink", "brown",
        "grey", "silver"}},
      {"pet",
       {"{} has a pet", "The pet of {} is a", "{} takes care of a pet", "At home {} keeps a pet",
        "Every morning {} feeds a pet"},
       {"dog", "cat", "rabbit", "parrot", "hamster", "turtle", "goldfish", "horse", "snake",
        "mouse", "lizard", "ferret"}},
      {"instrument",
       {"{} plays the", "The instrument of {} is the", "{} is a musician who plays the",
        "{} practises on the", "In the band {} plays the"},
       {"piano", "guitar", "violin", "drums", "flute", "cello", "trumpet", "harp", "banjo",
        "clarinet", "saxophone", "organ"}},
      {"food",
       {"The favourite food of {} is", "{} likes to eat", "For dinner {} eats", "{} often cooks",
        "The dish that {} enjoys most is"},
       {"pasta", "rice", "soup", "pizza", "bread", "cheese", "salad", "curry", "noodles", "fish",
        "beans", "pancakes"}},
      {"sport",
       {"The sport of {} is", "{} is good at", "On weekends {} trains for", "{} competes in",
        "The sport that {} loves is"},
       {"tennis", "football", "golf", "hockey", "rugby", "cricket", "boxing", "rowing", "skiing",
        "cycling", "swimming", "chess"}},
      {"language",
       {"{} speaks", "The language of {} is", "The mother tongue of {} is", "{} grew up speaking",
        "{} writes letters in"},
       {"French", "Spanish", "German", "Italian", "Dutch", "Polish", "Greek", "Swedish", "Turkish",
        "Arabic", "Hindi", "Korean"}},
  };
}

int toy_relation_catalogue_size() { return static_cast<int>(toy_relation_catalogue().size()); }

}  // namespace revive::data
