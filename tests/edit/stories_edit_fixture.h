#pragma once
// stories260K set up for editing tests: model, tokenizer, and the story world's
// statistics options on the TinyStories head (lib/edit/run/story_world_setup.h).
// Tests using it skip when the fixtures are absent.
#include <memory>
#include <string>

#include "lib/edit/run/story_world_setup.h"
#include "lib/model/model_loader.h"
#include "lib/model/tokenizer.h"
#include "lib/model/transformer.h"
#include "tests/support/fixtures.h"
