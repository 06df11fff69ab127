// Embedding lookup and its gradient. Forward copies rows in parallel; backward scatter-adds
// dout rows into dweight. Two ids may name the same row, so threads split the embedding
// dimension (columns) rather than the ids: each column range has one writer, no atomics, and the
// sum order per element is the id order, independent of the thread count.
#include <algorithm>
#include <cstring>

#include "kernels.h"

namespace llmkit {
namespace LLMKIT_NS {

void embedding(const float* weight, const int32_t* ids, float* out, int64_t count, int64_t dim) {
  int64_t min_rows = std::max<int64_t>(1, 16384 / std::max<int64_t>(1, dim));
  parallel_range(count, min_rows, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; i++) {
      std::memcpy(out + i * dim, weight + static_cast<int64_t>(ids[i]) * dim, dim * sizeof(float));
    }
  });
}

void embedding_backward(const float* dout, const int32_t* ids, float* dweight, int64_t count,
                        int64_t dim) {
  // Column chunks are whole vectors; tiny problems stay on one thread.
  int64_t min_columns = count * dim < 32768 ? dim : kLanes * 4;
  parallel_range(dim, min_columns, [&](int64_t begin, int64_t end) {
    for (int64_t i = 0; i < count; i++) {
      const float* src = dout + i * dim;
      float* dst = dweight + static_cast<int64_t>(ids[i]) * dim;
      int64_t j = begin;
      for (; j + kLanes <= end; j += kLanes) vstore(dst + j, vload(dst + j) + vload(src + j));
      for (; j < end; j++) dst[j] += src[j];
    }
  });
}

}  // namespace LLMKIT_NS
}  // namespace llmkit
