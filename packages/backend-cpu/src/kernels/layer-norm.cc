// LayerNorm over the last axis (Ba, Kiros & Hinton 2016), forward and backward.
// Forward per row: mean, then variance from (x - mean)^2 (two passes: stable for large means),
// rstd = 1 / sqrt(var + eps), y = (x - mean) * rstd * weight + bias.
// Backward with xhat = (x - mean) * rstd and g = dy * weight:
//   dx = rstd * (g - mean(g) - xhat * mean(g * xhat)),  dweight += sum_rows dy * xhat,
//   dbias += sum_rows dy. Threads take row ranges with private dweight/dbias partials, summed
//   at the end so the result does not depend on timing.
// RMSNorm (Zhang & Sennrich 2019; Hugging Face's LlamaRMSNorm): rstd = 1 / sqrt(mean(x^2) + eps)
// with the squares summed in float32 lanes, y = x * rstd * weight. Its backward is composed
// from ops in core-tensor.
#include <algorithm>
#include <cmath>
#include <vector>

#include "kernels.h"

namespace llmkit {
namespace LLMKIT_NS {
namespace {

int64_t min_rows(int64_t cols) { return std::max<int64_t>(1, 16384 / std::max<int64_t>(1, cols)); }

void norm_row(const float* x, const float* weight, const float* bias, float* y, float* mean_out,
              float* rstd_out, int64_t n, float eps) {
  Vec total = vset(0);
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) total = total + vload(x + i);
  float mean = vsum(total);
  for (; i < n; i++) mean += x[i];
  mean /= static_cast<float>(n);
  Vec vmean = vset(mean);
  Vec squares = vset(0);
  for (i = 0; i + kLanes <= n; i += kLanes) {
    Vec d = vload(x + i) - vmean;
    squares = vfma(d, d, squares);
  }
  float var = vsum(squares);
  for (; i < n; i++) var += (x[i] - mean) * (x[i] - mean);
  var /= static_cast<float>(n);
  float rstd = 1.0f / std::sqrt(var + eps);
  if (mean_out) *mean_out = mean;
  if (rstd_out) *rstd_out = rstd;
  Vec vr = vset(rstd);
  for (i = 0; i + kLanes <= n; i += kLanes) {
    Vec h = (vload(x + i) - vmean) * vr;
    if (weight) h = h * vload(weight + i);
    if (bias) h = h + vload(bias + i);
    vstore(y + i, h);
  }
  for (; i < n; i++) {
    float h = (x[i] - mean) * rstd;
    if (weight) h *= weight[i];
    if (bias) h += bias[i];
    y[i] = h;
  }
}

}  // namespace

void layer_norm(const float* x, const float* weight, const float* bias, float* y, float* mean,
                float* rstd, int64_t rows, int64_t cols, float eps) {
  if (cols == 0) return;
  parallel_range(rows, min_rows(cols), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; r++) {
      norm_row(x + r * cols, weight, bias, y + r * cols, mean ? mean + r : nullptr,
               rstd ? rstd + r : nullptr, cols, eps);
    }
  });
}

void rms_norm(const float* x, const float* weight, float* y, float* rstd, int64_t rows,
              int64_t cols, float eps) {
  if (cols == 0) return;
  parallel_range(rows, min_rows(cols), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; r++) {
      const float* xr = x + r * cols;
      float* yr = y + r * cols;
      Vec squares = vset(0);
      int64_t i = 0;
      for (; i + kLanes <= cols; i += kLanes) {
        Vec v = vload(xr + i);
        squares = vfma(v, v, squares);
      }
      if (i < cols) {
        Vec v = vload_partial(xr + i, cols - i, 0.0f);
        squares = vfma(v, v, squares);
      }
      const float s = 1.0f / std::sqrt(vsum(squares) / static_cast<float>(cols) + eps);
      if (rstd) rstd[r] = s;
      const Vec vs = vset(s);
      for (i = 0; i + kLanes <= cols; i += kLanes) {
        Vec h = vload(xr + i) * vs;
        if (weight) h = h * vload(weight + i);
        vstore(yr + i, h);
      }
      if (i < cols) {
        Vec h = vload_partial(xr + i, cols - i, 0.0f) * vs;
        if (weight) h = h * vload_partial(weight + i, cols - i, 0.0f);
        vstore_partial(yr + i, h, cols - i);
      }
    }
  });
}

void layer_norm_backward(const float* x, const float* weight, const float* mean,
                         const float* rstd, const float* dy, float* dx, float* dweight,
                         float* dbias, int64_t rows, int64_t cols) {
  if (cols == 0 || rows == 0) return;
  int64_t chunks = std::max<int64_t>(1, std::min<int64_t>(thread_count(), rows / min_rows(cols)));
  int64_t per = (rows + chunks - 1) / chunks;
  // Partial sums: chunk c owns partial[c * 2 * cols ...] (dweight then dbias).
  std::vector<float> partial(static_cast<size_t>(chunks * 2 * cols), 0.0f);
  parallel_for(chunks, [&](int64_t c) {
    float* pw = partial.data() + c * 2 * cols;
    float* pb = pw + cols;
    float* g = thread_scratch(2, static_cast<size_t>(cols));
    for (int64_t r = c * per; r < std::min(rows, (c + 1) * per); r++) {
      const float* xr = x + r * cols;
      const float* dyr = dy + r * cols;
      float* dxr = dx + r * cols;
      Vec vmean = vset(mean[r]);
      Vec vr = vset(rstd[r]);
      Vec sum_g = vset(0), sum_gx = vset(0);
      int64_t i = 0;
      float tail_g = 0, tail_gx = 0;
      for (; i + kLanes <= cols; i += kLanes) {
        Vec xhat = (vload(xr + i) - vmean) * vr;
        Vec d = vload(dyr + i);
        vstore(pw + i, vfma(d, xhat, vload(pw + i)));
        vstore(pb + i, vload(pb + i) + d);
        Vec gi = weight ? d * vload(weight + i) : d;
        vstore(g + i, gi);
        sum_g = sum_g + gi;
        sum_gx = vfma(gi, xhat, sum_gx);
      }
      for (; i < cols; i++) {
        float xhat = (xr[i] - mean[r]) * rstd[r];
        pw[i] += dyr[i] * xhat;
        pb[i] += dyr[i];
        g[i] = weight ? dyr[i] * weight[i] : dyr[i];
        tail_g += g[i];
        tail_gx += g[i] * xhat;
      }
      float mean_g = (vsum(sum_g) + tail_g) / static_cast<float>(cols);
      float mean_gx = (vsum(sum_gx) + tail_gx) / static_cast<float>(cols);
      Vec vmg = vset(mean_g), vmgx = vset(mean_gx);
      for (i = 0; i + kLanes <= cols; i += kLanes) {
        Vec xhat = (vload(xr + i) - vmean) * vr;
        vstore(dxr + i, vr * (vload(g + i) - vmg - xhat * vmgx));
      }
      for (; i < cols; i++) {
        float xhat = (xr[i] - mean[r]) * rstd[r];
        dxr[i] = rstd[r] * (g[i] - mean_g - xhat * mean_gx);
      }
    }
  });
  for (int64_t c = 0; c < chunks; c++) {
    const float* pw = partial.data() + c * 2 * cols;
    for (int64_t i = 0; i < cols; i++) {
      if (dweight) dweight[i] += pw[i];
      if (dbias) dbias[i] += pw[cols + i];
    }
  }
}

}  // namespace LLMKIT_NS
}  // namespace llmkit
