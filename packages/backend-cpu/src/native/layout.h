// Decodes the strided layout the TypeScript side packs into a Float64Array:
//   [rank, shape[0..rank), then per operand: offset, strides[0..rank)]
// checks it, and merges dimensions that are contiguous for every operand (an [8, 64, 32]
// contiguous add becomes one run of 16384), dropping size-1 dimensions.
#pragma once

#include <cstdint>

#include "../kernels/common.h"
#include "call.h"

namespace llmkit {

// Fills `layout` and, per operand, the number of elements its buffer must hold. Returns false
// (after call.fail) on a malformed layout. total receives the element count.
inline bool decode_layout(Call& call, const double* meta, int64_t length, int operands,
                          Layout& layout, int64_t* need, int64_t* total) {
  constexpr int kMaxInputRank = 32;
  if (length < 1) return call.fail("layout is empty"), false;
  int rank = static_cast<int>(meta[0]);
  if (operands > 4) return call.fail("at most 4 operands"), false;
  if (rank < 0 || rank > kMaxInputRank || length < 1 + rank + operands * (1 + rank)) {
    return call.fail("layout of rank %d is malformed", rank), false;
  }
  int64_t shape[kMaxInputRank];
  int64_t strides[4][kMaxInputRank];
  int64_t offsets[4];
  *total = 1;
  for (int d = 0; d < rank; d++) {
    shape[d] = static_cast<int64_t>(meta[1 + d]);
    if (shape[d] < 0) return call.fail("negative dimension %lld", (long long)shape[d]), false;
    *total *= shape[d];
  }
  for (int o = 0; o < operands; o++) {
    const double* block = meta + 1 + rank + o * (1 + rank);
    offsets[o] = static_cast<int64_t>(block[0]);
    int64_t last = offsets[o];
    for (int d = 0; d < rank; d++) {
      strides[o][d] = static_cast<int64_t>(block[1 + d]);
      if (strides[o][d] < 0) return call.fail("negative stride in operand %d", o), false;
      if (shape[d] > 0) last += (shape[d] - 1) * strides[o][d];
    }
    if (offsets[o] < 0) return call.fail("negative offset in operand %d", o), false;
    need[o] = *total == 0 ? 0 : last + 1;
  }
  // Merge: keep dims of size > 1; fold d into the previous kept dim when contiguous for all.
  layout = Layout();
  layout.operands = operands;
  for (int o = 0; o < operands; o++) layout.offsets[o] = offsets[o];
  int kept = 0;
  for (int d = 0; d < rank; d++) {
    if (shape[d] == 1) continue;
    if (kept > 0) {
      bool mergeable = true;
      for (int o = 0; o < operands; o++) {
        if (layout.strides[o][kept - 1] != strides[o][d] * shape[d]) mergeable = false;
      }
      if (mergeable) {
        layout.shape[kept - 1] *= shape[d];
        for (int o = 0; o < operands; o++) layout.strides[o][kept - 1] = strides[o][d];
        continue;
      }
    }
    if (kept == kMaxRank) return call.fail("more than %d non-mergeable dimensions", kMaxRank), false;
    layout.shape[kept] = shape[d];
    for (int o = 0; o < operands; o++) layout.strides[o][kept] = strides[o][d];
    kept++;
  }
  if (kept == 0) {
    layout.shape[0] = 1;
    kept = 1;
  }
  layout.rank = kept;
  return true;
}

}  // namespace llmkit
