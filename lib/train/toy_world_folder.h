#pragma once
// Reading back a toy world folder written by data::write_toy_world: the world is
// regenerated from world.json's options (the generator is deterministic) and
// checked against the folder's subjects and train.txt, so a folder written by a
// different generator version is reported instead of silently mismatched.
#include <string>

#include "lib/data/toy_world.h"

namespace revive::train {

// Throws revive::InputError naming the file and field on a missing or
// malformed file, or when the folder does not match its own options.
data::ToyWorld read_toy_world_folder(const std::string& dir);

}  // namespace revive::train
