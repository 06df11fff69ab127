// Rotary position embeddings (Su et al., 2021) in Hugging Face LLaMA's half-split layout, one
// pass per row of x [batch, heads, positions, dim]: with i < dim/2 and j = i + dim/2,
//   forward:    out_i = x_i cos_i - x_j sin_i,  out_j = x_j cos_j + x_i sin_j
//   transpose:  out_i = x_i cos_i + x_j sin_j,  out_j = x_j cos_j - x_i sin_i  (the gradient)
// cos and sin are [table batch, positions, dim]; table_batch_stride is 0 when one table serves
// every batch row. Rows are split over threads only when there are many (prefill).
#include <algorithm>

#include "kernels.h"

namespace llmkit {
namespace LLMKIT_NS {

void rope(const float* x, const float* cos, const float* sin, float* out, int64_t batch,
          int64_t heads, int64_t positions, int64_t dim, int64_t table_batch_stride,
          bool transpose) {
  const int64_t half = dim / 2;
  const int64_t rows = batch * heads * positions;
  if (rows == 0 || half == 0) return;
  // The sine multiplying x_j in out_i and x_i in out_j, and the sign of the out_i term.
  const int64_t first_sine = transpose ? half : 0;
  const int64_t second_sine = transpose ? 0 : half;
  const float sign = transpose ? 1.0f : -1.0f;
  const Vec vsign = vset(sign), vnegated = vset(-sign);
  parallel_range(rows, std::max<int64_t>(1, 16384 / dim), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; r++) {
      const int64_t b = r / (heads * positions);
      const int64_t t = r % positions;
      const float* c = cos + b * table_batch_stride + t * dim;
      const float* s = sin + b * table_batch_stride + t * dim;
      const float* x1 = x + r * dim;
      const float* x2 = x1 + half;
      float* o1 = out + r * dim;
      float* o2 = o1 + half;
      int64_t i = 0;
      for (; i + kLanes <= half; i += kLanes) {
        const Vec a = vload(x1 + i), bv = vload(x2 + i);
        vstore(o1 + i, vfma(a, vload(c + i), vsign * bv * vload(s + first_sine + i)));
        vstore(o2 + i, vfma(bv, vload(c + half + i), vnegated * a * vload(s + second_sine + i)));
      }
      for (; i < half; i++) {
        o1[i] = x1[i] * c[i] + sign * x2[i] * s[first_sine + i];
        o2[i] = x2[i] * c[half + i] - sign * x1[i] * s[second_sine + i];
      }
    }
  });
}

}  // namespace LLMKIT_NS
}  // namespace llmkit
