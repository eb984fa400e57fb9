#pragma once
// ShardedMatrix: the one view both SVD engines, the filter and the metrics work
// on - a matrix A (rows x cols) as one rank holds it: whole, or a contiguous
// block of rows, or of columns, of a group.
//
// Every tall matrix an algorithm builds is distributed like one *side* of A:
// an m x l matrix like A's rows (split when A's rows are split), an n x l matrix
// like A's columns. apply()/apply_t() map between the sides and hide where the
// all-reduce goes:
//   rows split:  A X   is local (X replicated),   A^T Y sums over the group;
//   cols split:  A X   sums over the group,       A^T Y is local (Y replicated).
#include <ATen/core/Tensor.h>

#include "sharding/comm/communicator.h"
#include "sharding/sharded_tensor.h"

namespace revive::spectral {

enum class Split { kNone, kRows, kCols };

struct ShardedMatrix {
  at::Tensor local;        // this rank's block, in the compute dtype
  Split split = Split::kNone;
  int64_t rows = 0;        // global shape
  int64_t cols = 0;
  int64_t offset = 0;      // first global index of the split dimension held here
  int64_t length = 0;      // extent of the split dimension held here
  sharding::Communicator* group = nullptr;  // set when split != kNone

  // A whole matrix on one process.
  static ShardedMatrix whole(const at::Tensor& a);
  // A 2-D ShardedTensor: kColumn/kVocab split rows, kRow splits columns,
  // kReplicated is whole. Converts to the compute dtype.
  static ShardedMatrix from(const sharding::ShardedTensor& a);

  // The group that sums partial products over the row (resp. column) side, or
  // nullptr when that side is not split.
  sharding::Communicator* row_group() const { return split == Split::kRows ? group : nullptr; }
  sharding::Communicator* col_group() const { return split == Split::kCols ? group : nullptr; }
  // [begin, size) of the rows of an m x l (resp. n x l) tall matrix held here.
  int64_t row_begin() const { return split == Split::kRows ? offset : 0; }
  int64_t row_count() const { return split == Split::kRows ? length : rows; }
  int64_t col_begin() const { return split == Split::kCols ? offset : 0; }
  int64_t col_count() const { return split == Split::kCols ? length : cols; }

  at::Tensor apply(const at::Tensor& x) const;    // A X   : col side -> row side
  at::Tensor apply_t(const at::Tensor& y) const;  // A^T Y : row side -> col side
  // ||A||_F^2 in f64, summed over the group when split.
  double frobenius_sq() const;
  // The whole matrix on every rank (all-gather when split).
  at::Tensor gather_full() const;
};

// The dtype the algorithms compute in: f32/f64 kept, half types promoted to f32.
at::ScalarType compute_dtype(at::ScalarType t);

// In-place sum over `group` (no-op for nullptr).
void sum_over(sharding::Communicator* group, at::Tensor& t);

}  // namespace revive::spectral
