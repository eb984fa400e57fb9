#pragma once
// The update-filter family by name (DESIGN.md section 8, issue 22): the one list
// `revive edit` and the benches build their filters from.
//   revive         the paper's two-sided filter (I - U U^T) dW (I - V V^T)
//   revive-output  output side only, (I - U U^T) dW
//   revive-input   input side only, dW (I - V V^T)
//   revive-block   the protected block only, dW - U U^T dW V V^T
//   sphere         SPHERE's soft input-side projector from the current weight
//   constrained    REVIVE's extension: the editor's own least squares solved
//                  inside the unprotected subspace (constrained_solve_editor.h),
//                  then the two-sided filter as a guarantee
//   rect           RECT's mask (keep the largest relative changes)
// The revive* and constrained filters need each layer's protected basis.
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "lib/edit/editors/editor.h"
#include "lib/edit/filters/sphere_filter.h"
#include "lib/edit/filters/update_filter.h"

namespace revive::spectral {
class ProtectedBasis;
class ReviveFilter;
}  // namespace revive::spectral

namespace revive::edit {

const std::vector<std::string>& filter_names();

struct FilterChoice {
  std::vector<std::string> names;  // in the order applied; empty or {"none"}: no filter
  double rect_keep_fraction = 0.4;  // as EditPreset::rect_keep_fraction
  SphereOptions sphere;
};

// Throws InputError naming `field` for a name not in filter_names(), or for
// "constrained" together with another revive* filter (it already includes one).
void check_filter_choice(const FilterChoice& choice, const std::string& field);
bool needs_protected_basis(const FilterChoice& choice);
bool wants_constrained_solve(const FilterChoice& choice);
// Whether the written update has no component on the protected output
// directions U_k (revive, revive-output, constrained): then only a v* whose delta
// avoids them can be reached (ValueOptions::protected_output).
bool removes_protected_outputs(const FilterChoice& choice);
// "revive+rect", "none": the run's label.
std::string describe(const FilterChoice& choice);

// Builds each layer's pipeline; owns the REVIVE filter objects the pipelines
// refer to, so it must outlive them (and the bases must outlive it).
class FilterFamily {
 public:
  explicit FilterFamily(FilterChoice choice);
  ~FilterFamily();  // out of line: ReviveFilter is incomplete here
  FilterFamily(const FilterFamily&) = delete;
  FilterFamily& operator=(const FilterFamily&) = delete;
  // `basis` may be null when no chosen filter needs one (else an Error names the layer).
  FilterPipeline pipeline(const std::string& layer, const spectral::ProtectedBasis* basis);
  const FilterChoice& choice() const { return choice_; }

 private:
  FilterChoice choice_;
  std::vector<std::unique_ptr<spectral::ReviveFilter>> revive_;
};

// Throws InputError naming `field` when the choice asks for the constrained
// solve and `editor`'s update is not a factored least-squares solve (RECT,
// PRUNE): callers check before the statistics pass, not after it.
void check_constrainable(const Editor& editor, const FilterChoice& choice, const std::string& field);

// `editor` wrapped in the constrained solve when the choice asks for it (the
// whole V_k of each layer's basis is gathered: collective over each basis' tp
// group, in the map's order); otherwise `editor` unchanged. Throws InputError
// naming `field` when the editor's update is not factored (RECT, PRUNE).
std::unique_ptr<Editor> constrain_if_chosen(
    std::unique_ptr<Editor> editor, const FilterChoice& choice,
    const std::map<std::string, const spectral::ProtectedBasis*>& bases, const std::string& field);

}  // namespace revive::edit
