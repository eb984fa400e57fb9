#pragma once
#include <cstdint>

namespace revive::edit {

// NSE's iterative editing (nse_editor.h, part (d)), as the published loop: before
// each pass, the distance ||v* - z|| of every request's output at the last edited
// layer is measured; the requests with alpha < distance < upper_bound are edited
// again (over all layers), the others count as done (or given up). At most
// max_iterations - 1 passes: the last measurement only decides.
struct IterativeEditing {
  bool enabled = false;           // off: one pass with every request (MEMIT)
  int64_t max_iterations = 8;     // published (GPT-J, GPT2-XL; 3 for Llama-3-8B)
  double alpha = 15.0;            // in the hidden state's units (published GPT-J)
  double upper_bound = 100.0;
};

}  // namespace revive::edit
