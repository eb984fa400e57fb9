// Editors by name: every listed name builds the editor it names, with the
// preset's options; an unknown name is an error naming the option and the
// known names.
#include "lib/edit/editors/editor_factory.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>

#include "lib/edit/editors/memit_editor.h"
#include "lib/edit/presets.h"
#include "sharding/errors.h"

namespace revive::edit {
namespace {

TEST(EditorFactory, EveryNameBuildsTheEditorItNames) {
  const EditPreset& p = find_edit_preset("stories260k");
  ASSERT_EQ(editor_names().size(), 7u);
  for (const std::string& name : editor_names()) {
    const std::unique_ptr<Editor> e = make_editor(name, p);
    ASSERT_NE(e, nullptr) << name;
    std::string lower = e->name();
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    EXPECT_EQ(lower, name);
  }
  const auto memit = make_editor("memit", p);
  EXPECT_EQ(dynamic_cast<MemitEditor&>(*memit).options().mom2_update_weight, p.mom2_update_weight);
  EXPECT_FALSE(memit->records_keys());
  EXPECT_TRUE(make_editor("memit-seq", p)->records_keys());
}

TEST(EditorFactory, UnknownNameNamesTheOptionAndTheKnownEditors) {
  try {
    make_editor("rome", find_edit_preset("stories260k"), "--editor");
    FAIL() << "an unknown editor was accepted";
  } catch (const InputError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("--editor"), std::string::npos) << msg;
    EXPECT_NE(msg.find("'rome'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("memit, memit-seq, alphaedit, emmet, nse, rect, prune"), std::string::npos) << msg;
  }
}

}  // namespace
}  // namespace revive::edit
