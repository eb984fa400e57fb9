#include "lib/edit/filters/filter_family.h"

#include <ATen/ATen.h>

#include <algorithm>

#include "lib/edit/editors/constrained_solve_editor.h"
#include "lib/edit/filters/revive_update_filter.h"
#include "lib/spectral/protected_basis.h"
#include "lib/spectral/revive_filter.h"
#include "sharding/errors.h"

namespace revive::edit {
namespace {

bool family_has(const FilterChoice& c, const std::string& name) {
  return std::find(c.names.begin(), c.names.end(), name) != c.names.end();
}

bool is_revive_side(const std::string& name) { return name.rfind("revive", 0) == 0; }

spectral::ProtectedSides family_sides(const std::string& name) {
  if (name == "revive-output") return spectral::ProtectedSides::kOutput;
  if (name == "revive-input") return spectral::ProtectedSides::kInput;
  if (name == "revive-block") return spectral::ProtectedSides::kBlock;
  return spectral::ProtectedSides::kBoth;  // revive, constrained
}

}  // namespace

const std::vector<std::string>& filter_names() {
  static const std::vector<std::string> names = {"revive", "revive-output", "revive-input", "revive-block",
                                                 "sphere", "constrained",   "rect"};
  return names;
}

void check_filter_choice(const FilterChoice& choice, const std::string& field) {
  std::string known;
  for (const std::string& n : filter_names()) known += (known.empty() ? "" : ", ") + n;
  for (const std::string& n : choice.names) {
    if (n == "none" && choice.names.size() == 1) continue;
    if (std::find(filter_names().begin(), filter_names().end(), n) == filter_names().end()) {
      throw InputError(field, "", "'" + n + "' is not one of " + known + ", none");
    }
  }
  if (family_has(choice, "constrained")) {
    for (const std::string& n : choice.names) {
      if (is_revive_side(n)) {
        throw InputError(field, "",
                         "'constrained' already filters with REVIVE's two-sided filter; drop '" + n + "'");
      }
    }
  }
  if (!(choice.rect_keep_fraction > 0.0 && choice.rect_keep_fraction <= 1.0)) {
    throw InputError(field, "", "RECT's keep fraction must be in (0, 1]");
  }
  (void)SphereFilter(choice.sphere);  // range checks of eta and alpha
}

bool needs_protected_basis(const FilterChoice& choice) {
  return std::any_of(choice.names.begin(), choice.names.end(),
                     [](const std::string& n) { return is_revive_side(n) || n == "constrained"; });
}

bool wants_constrained_solve(const FilterChoice& choice) { return family_has(choice, "constrained"); }

bool removes_protected_outputs(const FilterChoice& choice) {
  return family_has(choice, "revive") || family_has(choice, "revive-output") ||
         family_has(choice, "constrained");
}

std::string describe(const FilterChoice& choice) {
  std::string s;
  for (const std::string& n : choice.names) {
    if (n != "none") s += (s.empty() ? "" : "+") + n;
  }
  return s.empty() ? "none" : s;
}

FilterFamily::FilterFamily(FilterChoice choice) : choice_(std::move(choice)) {}

FilterFamily::~FilterFamily() = default;

FilterPipeline FilterFamily::pipeline(const std::string& layer, const spectral::ProtectedBasis* basis) {
  FilterPipeline fp;
  for (const std::string& n : choice_.names) {
    if (n == "none") continue;
    if (is_revive_side(n) || n == "constrained") {
      if (basis == nullptr)
        throw Error("filter '" + n + "' of layer '" + layer + "' needs its protected basis");
      revive_.push_back(std::make_unique<spectral::ReviveFilter>(*basis, family_sides(n)));
      fp.add(std::make_shared<ReviveUpdateFilter>(*revive_.back()));
    } else if (n == "sphere") {
      fp.add(std::make_shared<SphereFilter>(choice_.sphere));
    } else {
      fp.add(std::make_shared<RectMaskFilter>(choice_.rect_keep_fraction));
    }
  }
  return fp;
}

void check_constrainable(const Editor& editor, const FilterChoice& choice, const std::string& field) {
  if (wants_constrained_solve(choice) && dynamic_cast<const FactoredEditor*>(&editor) == nullptr) {
    throw InputError(field, "",
                     "'constrained' solves the editor's least squares in the unprotected subspace; " +
                         editor.name() + "'s update is not a least-squares solve (use revive instead)");
  }
}

std::unique_ptr<Editor> constrain_if_chosen(
    std::unique_ptr<Editor> editor, const FilterChoice& choice,
    const std::map<std::string, const spectral::ProtectedBasis*>& bases, const std::string& field) {
  if (!wants_constrained_solve(choice)) return editor;
  check_constrainable(*editor, choice, field);
  auto* factored = static_cast<FactoredEditor*>(editor.get());
  std::map<std::string, at::Tensor> v;
  for (const auto& [layer, basis] : bases) v[layer] = basis->v().full();
  editor.release();
  return std::make_unique<ConstrainedSolveEditor>(std::unique_ptr<FactoredEditor>(factored), std::move(v));
}

}  // namespace revive::edit
