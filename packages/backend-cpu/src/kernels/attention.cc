// Scaled dot-product attention, forward and backward, one query row at a time so memory is
// O(keys) per thread instead of the (queries x keys) score matrix: for long sequences nothing
// quadratic is ever stored. Per head the keys (and, for backward, the values) are transposed
// once into dim x keys panels, so a row of scores is `dim` vector FMAs over the keys with no
// horizontal sums.
//
// Forward per query row i (visible keys j < limit; causal: limit = i + tk - tq + 1):
//   s = scale * q_i K^T,  p = softmax(s),  out_i = p V,  logsumexp_i = log sum exp(s)
// Backward (as FlashAttention, Dao et al. 2022, recomputing p from the saved logsumexp):
//   D_i = dout_i . out_i,  dp = dout_i V^T,  ds = p * (dp - D_i)
//   dq_i = scale * ds K,  dk += scale * ds^T q_i,  dv += p^T dout_i
// Threads take heads (and query chunks of a head in the forward pass when heads are few).
// A row with no visible key (tq > tk with causal) gets NaN output, like PyTorch.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "kernels.h"

namespace llmkit {
namespace LLMKIT_NS {
namespace {

constexpr int64_t kKeyBlock = 32;  // scores computed 32 keys (4 vectors) at a time

int64_t padded(int64_t n) { return (n + kKeyBlock - 1) / kKeyBlock * kKeyBlock; }

// panel[d * stride + j] = x[j * dim + d] for j < count; zero for count <= j < stride.
void transpose_into(const float* x, int64_t count, int64_t dim, int64_t stride, float* panel) {
  for (int64_t d = 0; d < dim; d++) {
    float* row = panel + d * stride;
    for (int64_t j = 0; j < count; j++) row[j] = x[j * dim + d];
    for (int64_t j = count; j < stride; j++) row[j] = 0.0f;
  }
}

// s[j] = scale * sum_d q[d] * panel[d * stride + j] for j < padded(limit).
void row_scores(const float* q, const float* panel, int64_t stride, int64_t limit, int64_t dim,
                float scale, float* s) {
  for (int64_t j = 0; j < limit; j += kKeyBlock) {
    Vec a0 = vset(0), a1 = vset(0), a2 = vset(0), a3 = vset(0);
    const float* p = panel + j;
    for (int64_t d = 0; d < dim; d++, p += stride) {
      Vec qd = vset(q[d]);
      a0 = vfma(qd, vload(p), a0);
      a1 = vfma(qd, vload(p + kLanes), a1);
      a2 = vfma(qd, vload(p + 2 * kLanes), a2);
      a3 = vfma(qd, vload(p + 3 * kLanes), a3);
    }
    Vec vs = vset(scale);
    vstore(s + j, a0 * vs);
    vstore(s + j + kLanes, a1 * vs);
    vstore(s + j + 2 * kLanes, a2 * vs);
    vstore(s + j + 3 * kLanes, a3 * vs);
  }
}

// out[d] = sum_{j < count} w[j] * rows[j * dim + d]  (out has dim entries; overwritten).
void weighted_rows(const float* w, const float* rows, int64_t count, int64_t dim, float* out) {
  int64_t d = 0;
  for (; d + 2 * kLanes <= dim; d += 2 * kLanes) {
    Vec a0 = vset(0), a1 = vset(0);
    for (int64_t j = 0; j < count; j++) {
      Vec wj = vset(w[j]);
      a0 = vfma(wj, vload(rows + j * dim + d), a0);
      a1 = vfma(wj, vload(rows + j * dim + d + kLanes), a1);
    }
    vstore(out + d, a0);
    vstore(out + d + kLanes, a1);
  }
  for (; d < dim; d++) {
    float a = 0;
    for (int64_t j = 0; j < count; j++) a += w[j] * rows[j * dim + d];
    out[d] = a;
  }
}

// y[0:n] += a * x[0:n]
LLMKIT_INLINE void axpy(float a, const float* x, float* y, int64_t n) {
  Vec va = vset(a);
  int64_t d = 0;
  for (; d + kLanes <= n; d += kLanes) vstore(y + d, vfma(va, vload(x + d), vload(y + d)));
  for (; d < n; d++) y[d] += a * x[d];
}

float dot(const float* a, const float* b, int64_t n) {
  Vec total = vset(0);
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) total = vfma(vload(a + i), vload(b + i), total);
  float s = vsum(total);
  for (; i < n; i++) s += a[i] * b[i];
  return s;
}

int64_t visible_keys(int64_t i, int64_t tq, int64_t tk, bool causal) {
  return causal ? std::max<int64_t>(0, std::min(tk, i + tk - tq + 1)) : tk;
}

}  // namespace

void attention(const float* q, const float* k, const float* v, float* out, float* logsumexp,
               int64_t heads, int64_t tq, int64_t tk, int64_t dim, int64_t dim_v, float scale,
               bool causal) {
  if (heads == 0 || tq == 0) return;
  int64_t stride = padded(tk);
  int threads = thread_count();
  double work = static_cast<double>(heads) * tq * tk * dim;
  int64_t chunks = 1;
  if (work > 1e5 && heads < threads) chunks = std::min<int64_t>(tq, (threads + heads - 1) / heads);
  int64_t per = (tq + chunks - 1) / chunks;
  auto task = [&](int64_t t) {
    int64_t h = t / chunks;
    int64_t i0 = (t % chunks) * per;
    int64_t i1 = std::min(tq, i0 + per);
    const float* qh = q + h * tq * dim;
    const float* kh = k + h * tk * dim;
    const float* vh = v + h * tk * dim_v;
    float* panel = thread_scratch(2, static_cast<size_t>(dim * stride));
    float* s = thread_scratch(3, static_cast<size_t>(stride));
    transpose_into(kh, tk, dim, stride, panel);
    for (int64_t i = i0; i < i1; i++) {
      float* o = out + (h * tq + i) * dim_v;
      int64_t limit = visible_keys(i, tq, tk, causal);
      if (limit == 0) {
        for (int64_t d = 0; d < dim_v; d++) o[d] = std::numeric_limits<float>::quiet_NaN();
        if (logsumexp) logsumexp[h * tq + i] = -std::numeric_limits<float>::infinity();
        continue;
      }
      if (dim == 0) {
        // Every score is 0: uniform weights over the visible keys.
        for (int64_t j = 0; j < limit; j++) s[j] = 1.0f;
        weighted_rows(s, vh, limit, dim_v, o);
        for (int64_t d = 0; d < dim_v; d++) o[d] /= static_cast<float>(limit);
        if (logsumexp) logsumexp[h * tq + i] = std::log(static_cast<float>(limit));
        continue;
      }
      row_scores(qh + i * dim, panel, stride, limit, dim, scale, s);
      float m = s[0];
      for (int64_t j = 1; j < limit; j++) m = std::max(m, s[j]);
      Vec vm = vset(m), total = vset(0);
      int64_t j = 0;
      for (; j + kLanes <= limit; j += kLanes) {
        Vec e = vexp(vload(s + j) - vm);
        vstore(s + j, e);
        total = total + e;
      }
      float sum = vsum(total);
      for (; j < limit; j++) {
        s[j] = std::exp(s[j] - m);
        sum += s[j];
      }
      weighted_rows(s, vh, limit, dim_v, o);
      float inverse = 1.0f / sum;
      for (int64_t d = 0; d < dim_v; d++) o[d] *= inverse;
      if (logsumexp) logsumexp[h * tq + i] = m + std::log(sum);
    }
  };
  if (chunks * heads == 1 || work <= 1e5) {
    for (int64_t t = 0; t < heads * chunks; t++) task(t);
  } else {
    parallel_for(heads * chunks, task);
  }
}

void attention_backward(const float* q, const float* k, const float* v, const float* out,
                        const float* dout, const float* logsumexp, float* dq, float* dk,
                        float* dv, int64_t heads, int64_t tq, int64_t tk, int64_t dim,
                        int64_t dim_v, float scale, bool causal) {
  if (heads == 0) return;
  int64_t stride = padded(tk);
  double work = static_cast<double>(heads) * tq * tk * dim;
  auto task = [&](int64_t h) {
    const float* qh = q + h * tq * dim;
    const float* kh = k + h * tk * dim;
    const float* vh = v + h * tk * dim_v;
    float* dkh = dk + h * tk * dim;
    float* dvh = dv + h * tk * dim_v;
    std::memset(dkh, 0, sizeof(float) * tk * dim);
    std::memset(dvh, 0, sizeof(float) * tk * dim_v);
    float* panels = thread_scratch(2, static_cast<size_t>((dim + dim_v) * stride));
    float* k_panel = panels;
    float* v_panel = panels + dim * stride;
    float* rows = thread_scratch(3, static_cast<size_t>(2 * stride));
    float* p = rows;
    float* ds = rows + stride;
    transpose_into(kh, tk, dim, stride, k_panel);
    transpose_into(vh, tk, dim_v, stride, v_panel);
    for (int64_t i = 0; i < tq; i++) {
      const float* qi = qh + i * dim;
      const float* doi = dout + (h * tq + i) * dim_v;
      float* dqi = dq + (h * tq + i) * dim;
      int64_t limit = visible_keys(i, tq, tk, causal);
      if (limit == 0) {
        for (int64_t d = 0; d < dim; d++) dqi[d] = 0;
        continue;
      }
      float lse = logsumexp[h * tq + i];
      float di = dot(doi, out + (h * tq + i) * dim_v, dim_v);
      row_scores(qi, k_panel, stride, limit, dim, scale, p);
      row_scores(doi, v_panel, stride, limit, dim_v, 1.0f, ds);  // ds = dp for now
      Vec vl = vset(lse), vd = vset(di);
      int64_t j = 0;
      for (; j + kLanes <= limit; j += kLanes) {
        Vec pj = vexp(vload(p + j) - vl);
        vstore(p + j, pj);
        vstore(ds + j, pj * (vload(ds + j) - vd));
      }
      for (; j < limit; j++) {
        p[j] = std::exp(p[j] - lse);
        ds[j] = p[j] * (ds[j] - di);
      }
      weighted_rows(ds, kh, limit, dim, dqi);
      for (int64_t d = 0; d < dim; d++) dqi[d] *= scale;
      for (j = 0; j < limit; j++) {
        axpy(p[j], doi, dvh + j * dim_v, dim_v);
        axpy(scale * ds[j], qi, dkh + j * dim, dim);
      }
    }
  };
  if (heads == 1 || work <= 1e5) {
    for (int64_t h = 0; h < heads; h++) task(h);
  } else {
    parallel_for(heads, task);
  }
}

}  // namespace LLMKIT_NS
}  // namespace llmkit
