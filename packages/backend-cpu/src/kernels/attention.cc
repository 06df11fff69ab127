// Scaled dot-product attention, forward and backward, in query tiles of 32 rows so memory is
// O(32 x keys) per thread instead of the (queries x keys) score matrix: for long sequences
// nothing quadratic is stored. Each tile's products are GEMMs (gemm.cc, on the calling thread).
//
// Forward per query tile Q_b (visible keys j < limit_i; causal: limit_i = i + tk - tq + 1):
//   S = scale * Q_b K^T,  P = softmax(S) over visible keys,  O_b = P V,  lse_i = log sum exp(S_i)
// Backward per head, tile by tile (as FlashAttention, Dao et al. 2022, recomputing P from lse):
//   dV += P^T dO_b,  dP = dO_b V^T,  dS = P * (dP - rowsum(dO_b * O_b)),
//   dQ_b = scale * dS K,  dK += scale * dS^T Q_b
// Threads take (head, tile) pairs forward and key/value heads backward (each owns its dK, dV).
// Grouped-query attention: `group` consecutive query heads share one key/value head (head h
// reads kv head h / group), so the caller never repeats keys and values; backward, a kv head's
// task runs its group's query heads one after another, accumulating dK and dV.
// A row with no visible key (tq > tk with causal) gets NaN output, like PyTorch.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "kernels.h"

namespace llmkit {
namespace LLMKIT_NS {
namespace {

constexpr int64_t kTile = 32;  // query rows per tile (smaller skips more of a causal mask)

int64_t visible_keys(int64_t i, int64_t tq, int64_t tk, bool causal) {
  return causal ? std::max<int64_t>(0, std::min(tk, i + tk - tq + 1)) : tk;
}

// C (m x n, row stride ldc) = alpha * op(A) op(B) + beta * C on the calling thread's scratch.
void small_gemm(bool ta, bool tb, int64_t m, int64_t n, int64_t k, float alpha, const float* a,
                int64_t lda, const float* b, int64_t ldb, float beta, float* c, int64_t ldc) {
  GemmArgs g;
  g.transpose_a = ta;
  g.transpose_b = tb;
  g.m = m;
  g.n = n;
  g.k = k;
  g.alpha = alpha;
  g.beta = beta;
  g.a = a;
  g.lda = lda;
  g.b = b;
  g.ldb = ldb;
  g.c = c;
  g.ldc = ldc;
  gemm(g);
}

// Softmax of row[0:limit] in place (zeros after it, up to width); returns the logsumexp.
float softmax_row(float* row, int64_t limit, int64_t width) {
  float m = row[0];
  for (int64_t j = 1; j < limit; j++) m = std::max(m, row[j]);
  Vec vm = vset(m), total = vset(0);
  int64_t j = 0;
  for (; j + kLanes <= limit; j += kLanes) {
    Vec e = vexp(vload(row + j) - vm);
    vstore(row + j, e);
    total = total + e;
  }
  if (j < limit) {
    Vec e = vexp(vload_partial(row + j, limit - j, -std::numeric_limits<float>::infinity()) - vm);
    vstore_partial(row + j, e, limit - j);
    total = total + e;
  }
  float sum = vsum(total);
  Vec inverse = vset(1.0f / sum);
  for (j = 0; j + kLanes <= limit; j += kLanes) vstore(row + j, vload(row + j) * inverse);
  for (; j < limit; j++) row[j] /= sum;
  for (j = limit; j < width; j++) row[j] = 0.0f;
  return m + std::log(sum);
}

// q . k_j for four keys at once: four independent accumulator chains (one chain waits on its
// FMA's latency), reduced at the end.
void dot4(const float* q, const float* k, int64_t dim, float* out) {
  const float *k0 = k, *k1 = k + dim, *k2 = k + 2 * dim, *k3 = k + 3 * dim;
  Vec a0 = vset(0), a1 = vset(0), a2 = vset(0), a3 = vset(0);
  int64_t d = 0;
  for (; d + kLanes <= dim; d += kLanes) {
    const Vec x = vload(q + d);
    a0 = vfma(x, vload(k0 + d), a0);
    a1 = vfma(x, vload(k1 + d), a1);
    a2 = vfma(x, vload(k2 + d), a2);
    a3 = vfma(x, vload(k3 + d), a3);
  }
  float s0 = vsum(a0), s1 = vsum(a1), s2 = vsum(a2), s3 = vsum(a3);
  for (; d < dim; d++) {
    s0 += q[d] * k0[d];
    s1 += q[d] * k1[d];
    s2 += q[d] * k2[d];
    s3 += q[d] * k3[d];
  }
  out[0] = s0, out[1] = s1, out[2] = s2, out[3] = s3;
}

// o[0:dim_v] += sum_j p[j] v_j over `limit` value rows, four vectors of o held in registers
// while the rows stream past (no load / store of o per row).
void add_weighted_sum(const float* p, const float* v, int64_t limit, int64_t dim_v, float* o) {
  int64_t d = 0;
  for (; d + 4 * kLanes <= dim_v; d += 4 * kLanes) {
    Vec a0 = vload(o + d), a1 = vload(o + d + kLanes), a2 = vload(o + d + 2 * kLanes),
        a3 = vload(o + d + 3 * kLanes);
    for (int64_t j = 0; j < limit; j++) {
      const Vec w = vset(p[j]);
      const float* vj = v + j * dim_v + d;
      a0 = vfma(w, vload(vj), a0);
      a1 = vfma(w, vload(vj + kLanes), a1);
      a2 = vfma(w, vload(vj + 2 * kLanes), a2);
      a3 = vfma(w, vload(vj + 3 * kLanes), a3);
    }
    vstore(o + d, a0);
    vstore(o + d + kLanes, a1);
    vstore(o + d + 2 * kLanes, a2);
    vstore(o + d + 3 * kLanes, a3);
  }
  for (; d + kLanes <= dim_v; d += kLanes) {
    Vec a = vload(o + d);
    for (int64_t j = 0; j < limit; j++) a = vfma(vset(p[j]), vload(v + j * dim_v + d), a);
    vstore(o + d, a);
  }
  for (; d < dim_v; d++) {
    float a = o[d];
    for (int64_t j = 0; j < limit; j++) a += p[j] * v[j * dim_v + d];
    o[d] = a;
  }
}

// Keys (or values) per block in attend_rows: 64 rows of 128 floats are 32 KB, in L1 while every
// query row of the group uses them.
constexpr int64_t kKeyBlock = 64;

// A few query rows that see the same `limit` keys (a decoded token's query heads that share one
// key/value head): scores by dot products four keys at a time, softmax, and P V with the output
// in registers, without the GEMMs' packing (a GEMM of one row is all overhead). Keys and values
// go by in blocks that every row uses while they are in L1, so the cache is read from memory
// once per group, not once per query head. p holds rows x limit floats; lse (rows) may be null.
void attend_rows(const float* q, const float* k, const float* v, float* o, float* lse,
                 int64_t rows, int64_t limit, int64_t dim, int64_t dim_v, float scale, float* p) {
  for (int64_t j0 = 0; j0 < limit; j0 += kKeyBlock) {
    const int64_t end = std::min(limit, j0 + kKeyBlock);
    for (int64_t r = 0; r < rows; r++) {
      const float* qr = q + r * dim;
      float* pr = p + r * limit;
      int64_t j = j0;
      for (; j + 4 <= end; j += 4) dot4(qr, k + j * dim, dim, pr + j);
      for (; j < end; j++) pr[j] = vdot(qr, k + j * dim, dim);
    }
  }
  const Vec vscale = vset(scale);
  for (int64_t r = 0; r < rows; r++) {
    float* pr = p + r * limit;
    int64_t j = 0;
    for (; j + kLanes <= limit; j += kLanes) vstore(pr + j, vload(pr + j) * vscale);
    for (; j < limit; j++) pr[j] *= scale;
    const float row_lse = softmax_row(pr, limit, limit);
    if (lse) lse[r] = row_lse;
  }
  std::fill(o, o + rows * dim_v, 0.0f);
  for (int64_t j0 = 0; j0 < limit; j0 += kKeyBlock) {
    const int64_t count = std::min(kKeyBlock, limit - j0);
    for (int64_t r = 0; r < rows; r++)
      add_weighted_sum(p + r * limit + j0, v + j0 * dim_v, count, dim_v, o + r * dim_v);
  }
}

}  // namespace

void attention(const float* q, const float* k, const float* v, float* out, float* logsumexp,
               int64_t heads, int64_t tq, int64_t tk, int64_t dim, int64_t dim_v, float scale,
               bool causal, int64_t k_head_stride, int64_t v_head_stride, int64_t group) {
  if (heads == 0 || tq == 0) return;
  double work = static_cast<double>(heads) * tq * tk * (dim + dim_v);
  if (tq == 1 && tk > 0) {
    // Decoding one token: a task per key/value head runs its group of query heads together, so
    // each cached key and value is read once per group rather than once per query head. With
    // fewer kv heads than threads (multi-query attention has one), each head's keys are split
    // into `parts` ranges as flash-decoding does: every part attends to its keys alone, then
    // the parts' outputs are merged by their logsumexps, o = sum_p exp(lse_p - lse) o_p.
    const int64_t kv_heads = heads / group;
    const int64_t parts =
        work < 2e5 ? 1
                   : std::max<int64_t>(1, std::min((thread_count() + kv_heads - 1) / kv_heads,
                                                    tk / 128));
    const int64_t per_part = (tk + parts - 1) / parts;
    std::vector<float> partial(parts > 1 ? static_cast<size_t>(parts * heads * (dim_v + 1)) : 0);
    float* partial_lse = partial.data() + parts * heads * dim_v;
    auto task = [&](int64_t t) {
      const int64_t g = t / parts, part = t % parts;
      const int64_t j0 = part * per_part, count = std::min(per_part, tk - j0);
      if (count <= 0) return;
      float* p = thread_scratch(3, static_cast<size_t>(group * count));
      float* o = parts > 1 ? partial.data() + (part * heads + g * group) * dim_v
                           : out + g * group * dim_v;
      float* l = parts > 1 ? partial_lse + part * heads + g * group
                           : (logsumexp ? logsumexp + g * group : nullptr);
      attend_rows(q + g * group * dim, k + g * k_head_stride + j0 * dim,
                  v + g * v_head_stride + j0 * dim_v, o, l, group, count, dim, dim_v, scale, p);
    };
    if (work < 2e5) {
      for (int64_t t = 0; t < kv_heads; t++) task(t);
    } else {
      parallel_for(kv_heads * parts, task);
    }
    if (parts == 1) return;
    for (int64_t h = 0; h < heads; h++) {
      float total_max = -std::numeric_limits<float>::infinity();
      int64_t used = 0;  // parts that hold keys (the last may be empty when tk splits unevenly)
      for (; used < parts && used * per_part < tk; used++)
        total_max = std::max(total_max, partial_lse[used * heads + h]);
      float sum = 0.0f;
      for (int64_t part = 0; part < used; part++)
        sum += std::exp(partial_lse[part * heads + h] - total_max);
      float* o = out + h * dim_v;
      std::fill(o, o + dim_v, 0.0f);
      for (int64_t part = 0; part < used; part++) {
        const float weight = std::exp(partial_lse[part * heads + h] - total_max) / sum;
        const float* op = partial.data() + (part * heads + h) * dim_v;
        for (int64_t d = 0; d < dim_v; d++) o[d] += weight * op[d];
      }
      if (logsumexp) logsumexp[h] = total_max + std::log(sum);
    }
    return;
  }
  int64_t tiles = (tq + kTile - 1) / kTile;
  auto task = [&](int64_t t) {
    int64_t h = t / tiles;
    const float* kh = k + (h / group) * k_head_stride;
    const float* vh = v + (h / group) * v_head_stride;
    int64_t i0 = (t % tiles) * kTile;
    int64_t rows = std::min(kTile, tq - i0);
    int64_t width = visible_keys(i0 + rows - 1, tq, tk, causal);  // keys any row of the tile sees
    float* o = out + (h * tq + i0) * dim_v;
    float* lse = logsumexp ? logsumexp + h * tq + i0 : nullptr;
    if (width == 0) {
      for (int64_t x = 0; x < rows * dim_v; x++) o[x] = std::numeric_limits<float>::quiet_NaN();
      if (lse) for (int64_t r = 0; r < rows; r++) lse[r] = -std::numeric_limits<float>::infinity();
      return;
    }
    float* p = thread_scratch(3, static_cast<size_t>(kTile * width));
    if (rows == 1) {
      attend_rows(q + (h * tq + i0) * dim, kh, vh, o, lse, 1, width, dim, dim_v, scale, p);
      return;
    }
    small_gemm(false, true, rows, width, dim, scale, q + (h * tq + i0) * dim, dim, kh, dim, 0.0f, p,
               width);
    for (int64_t r = 0; r < rows; r++) {
      int64_t limit = visible_keys(i0 + r, tq, tk, causal);
      float row_lse = -std::numeric_limits<float>::infinity();
      if (limit > 0) {
        row_lse = softmax_row(p + r * width, limit, width);
      } else {
        std::fill(p + r * width, p + (r + 1) * width, 0.0f);
      }
      if (lse) lse[r] = row_lse;
    }
    small_gemm(false, false, rows, dim_v, width, 1.0f, p, width, vh, dim_v, 0.0f, o, dim_v);
    for (int64_t r = 0; r < rows; r++) {
      if (visible_keys(i0 + r, tq, tk, causal) == 0) {
        for (int64_t d = 0; d < dim_v; d++) o[r * dim_v + d] = std::numeric_limits<float>::quiet_NaN();
      }
    }
  };
  if (work < 2e5) {
    for (int64_t t = 0; t < heads * tiles; t++) task(t);
  } else {
    parallel_for(heads * tiles, task);
  }
}

void attention_backward(const float* q, const float* k, const float* v, const float* out,
                        const float* dout, const float* logsumexp, float* dq, float* dk,
                        float* dv, int64_t heads, int64_t tq, int64_t tk, int64_t dim,
                        int64_t dim_v, float scale, bool causal, int64_t group) {
  if (heads == 0) return;
  const int64_t kv_heads = heads / group;
  auto task = [&](int64_t kvh) {
    const float* kh = k + kvh * tk * dim;
    const float* vh = v + kvh * tk * dim_v;
    float* dkh = dk + kvh * tk * dim;
    float* dvh = dv + kvh * tk * dim_v;
    std::memset(dkh, 0, sizeof(float) * tk * dim);
    std::memset(dvh, 0, sizeof(float) * tk * dim_v);
    for (int64_t h = kvh * group; h < (kvh + 1) * group; h++) {
    const float* qh = q + h * tq * dim;
    for (int64_t i0 = 0; i0 < tq; i0 += kTile) {
      int64_t rows = std::min(kTile, tq - i0);
      int64_t width = visible_keys(i0 + rows - 1, tq, tk, causal);
      float* dqb = dq + (h * tq + i0) * dim;
      if (width == 0) {
        std::memset(dqb, 0, sizeof(float) * rows * dim);
        continue;
      }
      const float* qb = qh + i0 * dim;
      const float* dob = dout + (h * tq + i0) * dim_v;
      const float* ob = out + (h * tq + i0) * dim_v;
      const float* lse = logsumexp + h * tq + i0;
      float* p = thread_scratch(3, static_cast<size_t>(2 * kTile * width));
      float* ds = p + kTile * width;
      // P = exp(scale * Q K^T - lse) on visible keys, 0 elsewhere
      small_gemm(false, true, rows, width, dim, scale, qb, dim, kh, dim, 0.0f, p, width);
      for (int64_t r = 0; r < rows; r++) {
        int64_t limit = visible_keys(i0 + r, tq, tk, causal);
        float* row = p + r * width;
        Vec vl = vset(lse[r]);
        int64_t j = 0;
        for (; j + kLanes <= limit; j += kLanes) vstore(row + j, vexp(vload(row + j) - vl));
        for (; j < limit; j++) row[j] = std::exp(row[j] - lse[r]);
        for (j = limit; j < width; j++) row[j] = 0.0f;
      }
      // dV += P^T dO;  dP = dO V^T
      small_gemm(true, false, width, dim_v, rows, 1.0f, p, width, dob, dim_v, 1.0f, dvh, dim_v);
      small_gemm(false, true, rows, width, dim_v, 1.0f, dob, dim_v, vh, dim_v, 0.0f, ds, width);
      // dS = P * (dP - D)
      for (int64_t r = 0; r < rows; r++) {
        float d = vdot(dob + r * dim_v, ob + r * dim_v, dim_v);
        Vec vd = vset(d);
        float* pr = p + r * width;
        float* dr = ds + r * width;
        int64_t j = 0;
        for (; j + kLanes <= width; j += kLanes) vstore(dr + j, vload(pr + j) * (vload(dr + j) - vd));
        for (; j < width; j++) dr[j] = pr[j] * (dr[j] - d);
      }
      // dQ = scale * dS K;  dK += scale * dS^T Q
      small_gemm(false, false, rows, dim, width, scale, ds, width, kh, dim, 0.0f, dqb, dim);
      small_gemm(true, false, width, dim, rows, scale, ds, width, qb, dim, 1.0f, dkh, dim);
    }
    }
  };
  double work = static_cast<double>(heads) * tq * tk * (dim + dim_v);
  if (kv_heads == 1 || work < 2e5) {
    for (int64_t h = 0; h < kv_heads; h++) task(h);
  } else {
    parallel_for(kv_heads, task);
  }
}

}  // namespace LLMKIT_NS
}  // namespace llmkit
