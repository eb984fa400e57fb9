#pragma once
// Editors by name ("memit", "alphaedit", ...) with a preset's settings: the one
// list the `revive edit` command and bench_edit share.
#include <memory>
#include <string>
#include <vector>

#include "lib/edit/editors/editor.h"

namespace revive::edit {

struct EditPreset;

// Every editor name make_editor() accepts, in a fixed order.
const std::vector<std::string>& editor_names();
// A new editor with `preset`'s options (no statistics set yet). Throws
// revive::InputError naming `field` (e.g. "--editor") for an unknown name.
std::unique_ptr<Editor> make_editor(const std::string& name, const EditPreset& preset,
                                    const std::string& field = "editor");

}  // namespace revive::edit
