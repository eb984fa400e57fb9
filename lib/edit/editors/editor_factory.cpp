#include "lib/edit/editors/editor_factory.h"

#include "lib/edit/presets.h"
#include "sharding/errors.h"

namespace revive::edit {

const std::vector<std::string>& editor_names() {
  static const std::vector<std::string> names = {"memit", "memit-seq", "alphaedit", "emmet", "nse", "rect", "prune"};
  return names;
}

std::unique_ptr<Editor> make_editor(const std::string& name, const EditPreset& preset, const std::string& field) {
  if (name == "memit") return std::make_unique<MemitEditor>(preset.memit());
  if (name == "memit-seq") {
    MemitOptions o = preset.memit();
    o.key_memory = true;
    return std::make_unique<MemitEditor>(o);
  }
  if (name == "alphaedit") return std::make_unique<AlphaEditEditor>(preset.alphaedit());
  if (name == "emmet") return std::make_unique<EmmetEditor>(preset.emmet());
  if (name == "nse") return std::make_unique<NseEditor>(preset.nse());
  if (name == "rect") return std::make_unique<RectEditor>(preset.rect());
  if (name == "prune") return std::make_unique<PruneEditor>(preset.prune());
  std::string known;
  for (const std::string& n : editor_names()) known += (known.empty() ? "" : ", ") + n;
  throw InputError(field, "", "'" + name + "' is not one of " + known);
}

}  // namespace revive::edit
