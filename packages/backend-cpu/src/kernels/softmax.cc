// Row-wise softmax and log-softmax, forward and backward. Each row is three vector passes: max,
// sum of exp(x - max) (storing the exponentials), scale; rows are split across threads.
#include <cmath>
#include <limits>

#include "kernels.h"

namespace llmkit {
namespace LLMKIT_NS {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

float row_max(const float* x, int64_t n) {
  Vec m = vset(kNegInf);
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) m = vmax(m, vload(x + i));
  if (i < n) m = vmax(m, vload_partial(x + i, n - i, kNegInf));
  return vmaxall(m);
}

void softmax_row(const float* x, float* y, int64_t n, bool log) {
  float m = row_max(x, n);
  if (m == kNegInf || std::isnan(m)) {
    // Every entry is -inf (a fully masked row): PyTorch returns NaN there.
    for (int64_t i = 0; i < n; i++) y[i] = std::numeric_limits<float>::quiet_NaN();
    return;
  }
  Vec vm = vset(m);
  Vec total = vset(0);
  int64_t i = 0;
  if (log) {
    for (; i + kLanes <= n; i += kLanes) total = total + vexp(vload(x + i) - vm);
    if (i < n) total = total + vexp(vload_partial(x + i, n - i, kNegInf) - vm);
    Vec shift = vset(m + std::log(vsum(total)));
    for (i = 0; i + kLanes <= n; i += kLanes) vstore(y + i, vload(x + i) - shift);
    if (i < n) vstore_partial(y + i, vload_partial(x + i, n - i, 0) - shift, n - i);
    return;
  }
  for (; i + kLanes <= n; i += kLanes) {
    Vec e = vexp(vload(x + i) - vm);
    vstore(y + i, e);
    total = total + e;
  }
  if (i < n) {
    Vec e = vexp(vload_partial(x + i, n - i, kNegInf) - vm);
    vstore_partial(y + i, e, n - i);
    total = total + e;
  }
  Vec inverse = vset(1.0f / vsum(total));
  for (i = 0; i + kLanes <= n; i += kLanes) vstore(y + i, vload(y + i) * inverse);
  if (i < n) vstore_partial(y + i, vload_partial(y + i, n - i, 0) * inverse, n - i);
}

float sum(const float* a, int64_t n) {
  Vec total = vset(0);
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) total = total + vload(a + i);
  float s = vsum(total);
  for (; i < n; i++) s += a[i];
  return s;
}

// Rows per thread chunk so that a chunk holds at least ~16k elements.
int64_t min_rows(int64_t cols) { return std::max<int64_t>(1, 16384 / std::max<int64_t>(1, cols)); }

}  // namespace

void softmax(const float* x, float* y, int64_t rows, int64_t cols, bool log) {
  if (cols == 0) return;
  parallel_range(rows, min_rows(cols), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; r++) softmax_row(x + r * cols, y + r * cols, cols, log);
  });
}

void softmax_backward(const float* y, const float* dy, float* dx, int64_t rows, int64_t cols,
                      bool log) {
  if (cols == 0) return;
  parallel_range(rows, min_rows(cols), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; r++) {
      const float* yr = y + r * cols;
      const float* dyr = dy + r * cols;
      float* dxr = dx + r * cols;
      int64_t i = 0;
      if (log) {
        // y = log p: dx = dy - p * sum(dy)
        float total = sum(dyr, cols);
        Vec s = vset(total);
        for (; i + kLanes <= cols; i += kLanes) {
          vstore(dxr + i, vload(dyr + i) - vexp(vload(yr + i)) * s);
        }
        if (i < cols) {
          Vec e = vexp(vload_partial(yr + i, cols - i, 0));
          vstore_partial(dxr + i, vload_partial(dyr + i, cols - i, 0) - e * s, cols - i);
        }
      } else {
        // y = p: dx = p * (dy - sum(dy * p))
        float total = vdot(dyr, yr, cols);
        Vec s = vset(total);
        for (; i + kLanes <= cols; i += kLanes) {
          vstore(dxr + i, vload(yr + i) * (vload(dyr + i) - s));
        }
        for (; i < cols; i++) dxr[i] = yr[i] * (dyr[i] - total);
      }
    }
  });
}

}  // namespace LLMKIT_NS
}  // namespace llmkit
