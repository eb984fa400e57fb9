#pragma once
// The story-world acceptance's setup on stories260K (issue 5), shared by the
// tests (Editors/StoryWorldAcceptance and the runner's mechanics tests) and
// bench_story_world, so the bench measures exactly what the test asserts.
#include <cstdint>
#include <string>

#include "lib/edit/run/batch_edit.h"
#include "lib/edit/run/layer_statistics.h"
#include "lib/edit/presets.h"

namespace revive::edit {

// Layer statistics over the first `documents` documents of a TinyStories dump
// (split on "<|endoftext|>", CorpusOptions' default), 128 tokens each.
StatisticsOptions story_world_statistics(const std::string& corpus, int64_t documents);

// The preset's layers and v* options at `mlp.down_proj`, with the prompt alone
// and two short story openings as context templates.
EditPlan story_world_plan(const EditPreset& preset);

}  // namespace revive::edit
