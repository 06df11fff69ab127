// Products where op(A) has one row or a few (decoding a token, or a batch of a few): C = alpha *
// op(A) @ op(B) + beta * C streamed over op(B) instead of gemm.cc's packed GEMM. Packing would
// read every weight twice for a handful of uses, and decoding is bound by memory bandwidth, so
// each weight is read once, straight from where it lies.
//   m == 1 (any op(B)): gemv below.
//   2 <= m <= kFewRows with op(B) = W^T (x @ W^T, the Linear layers of batched decoding): register
//     tiles of 4 (AVX-512) or 2 rows of W by 4 rows of op(A), the dot products accumulated in
//     vectors and summed once at the end, W read once from memory. x @ W^T with W 3072 x 1024 on
//     the AVX-512 Xeon of the benchmark, 1 thread: m = 8 1.61 -> 0.80 ms (the GEMM before),
//     m = 4 1.63 -> 0.48, m = 2 1.60 -> 0.43 (m = 1's gemv: 0.43).
#include <algorithm>
#include <vector>

#include "common.h"
#include "kernels.h"

namespace llmkit {
namespace LLMKIT_NS {
namespace {

constexpr int64_t kFewRows = 8;

// One row of C (m == 1: a token while decoding) is a matrix-vector product. Packing op(B) would
// read every weight twice for a single use, so instead B is streamed once: with transpose_b,
// column j is the dot product of a with row j of B (contiguous); without, C accumulates a[k]
// times row k of B. Decoding is bound by memory bandwidth, so the transpose_b loop reads four
// rows of B at once (four streams for the prefetchers, each vector of `a` loaded once for all
// four) into two vector accumulators per row.
LLMKIT_INLINE void store_column(const GemmArgs& g, float* c, int64_t j, float dot) {
  float value = g.alpha * dot;
  c[j] = g.beta == 0.0f ? value : value + g.beta * c[j];
}

void gemv_rows(const GemmArgs& g, const float* a, const float* b, float* c, int64_t j0,
               int64_t j1) {
  const int64_t k = g.k;
  const int64_t vec_end = k / (2 * kLanes) * (2 * kLanes);
  int64_t j = j0;
  for (; j + 4 <= j1; j += 4) {
    const float* r0 = b + j * g.ldb;
    const float* r1 = r0 + g.ldb;
    const float* r2 = r1 + g.ldb;
    const float* r3 = r2 + g.ldb;
    Vec s0 = vset(0.0f), t0 = s0, s1 = s0, t1 = s0, s2 = s0, t2 = s0, s3 = s0, t3 = s0;
    for (int64_t p = 0; p < vec_end; p += 2 * kLanes) {
      const Vec x0 = vload(a + p);
      const Vec x1 = vload(a + p + kLanes);
      s0 = vfma(vload(r0 + p), x0, s0);
      t0 = vfma(vload(r0 + p + kLanes), x1, t0);
      s1 = vfma(vload(r1 + p), x0, s1);
      t1 = vfma(vload(r1 + p + kLanes), x1, t1);
      s2 = vfma(vload(r2 + p), x0, s2);
      t2 = vfma(vload(r2 + p + kLanes), x1, t2);
      s3 = vfma(vload(r3 + p), x0, s3);
      t3 = vfma(vload(r3 + p + kLanes), x1, t3);
    }
    float d0 = vsum(s0 + t0), d1 = vsum(s1 + t1), d2 = vsum(s2 + t2), d3 = vsum(s3 + t3);
    for (int64_t p = vec_end; p < k; p++) {
      d0 += a[p] * r0[p];
      d1 += a[p] * r1[p];
      d2 += a[p] * r2[p];
      d3 += a[p] * r3[p];
    }
    store_column(g, c, j, d0);
    store_column(g, c, j + 1, d1);
    store_column(g, c, j + 2, d2);
    store_column(g, c, j + 3, d3);
  }
  for (; j < j1; j++) {
    const float* r = b + j * g.ldb;
    Vec s = vset(0.0f), t = s;
    for (int64_t p = 0; p < vec_end; p += 2 * kLanes) {
      s = vfma(vload(r + p), vload(a + p), s);
      t = vfma(vload(r + p + kLanes), vload(a + p + kLanes), t);
    }
    float d = vsum(s + t);
    for (int64_t p = vec_end; p < k; p++) d += a[p] * r[p];
    store_column(g, c, j, d);
  }
}

// Columns [j0, j1) of c = alpha * a @ op(B) + beta * c, for a contiguous row a of length k.
void gemv_columns(const GemmArgs& g, const float* a, const float* b, float* c, int64_t j0,
                  int64_t j1) {
  if (g.transpose_b) {
    gemv_rows(g, a, b, c, j0, j1);
    return;
  }
  float acc[256];
  for (int64_t j = j0; j < j1; j += 256) {
    int64_t width = std::min<int64_t>(256, j1 - j);
    std::fill(acc, acc + width, 0.0f);
    for (int64_t p = 0; p < g.k; p++) {
      const float ap = a[p];
      const float* row = b + p * g.ldb + j;
      for (int64_t u = 0; u < width; u++) acc[u] += ap * row[u];
    }
    for (int64_t u = 0; u < width; u++) store_column(g, c, j + u, acc[u]);
  }
}

void gemv(const GemmArgs& g) {
  // a row of op(A): contiguous unless A is transposed (then its elements are lda apart)
  std::vector<float> gathered;
  // Split columns so both cores stream their share of the weights once they are worth waking
  // (decoding is bound by memory bandwidth, which one core alone does not saturate).
  const int64_t bytes = g.k * g.n * static_cast<int64_t>(sizeof(float));
  const int threads = bytes < (1 << 19) ? 1 : thread_count();
  const int64_t chunk = g.transpose_b ? 64 : 256;
  const int64_t parts = (g.n + chunk - 1) / chunk;
  for (int64_t bi = 0; bi < g.batch; bi++) {
    const float* a = g.a + bi * g.stride_a;
    if (g.transpose_a) {
      gathered.resize(g.k);
      for (int64_t p = 0; p < g.k; p++) gathered[p] = a[p * g.lda];
      a = gathered.data();
    }
    const float* b = g.b + bi * g.stride_b;
    float* c = g.c + bi * g.stride_c;
    auto task = [&](int64_t t) {
      gemv_columns(g, a, b, c, t * chunk, std::min(g.n, (t + 1) * chunk));
    };
    if (threads == 1) {
      for (int64_t t = 0; t < parts; t++) task(t);
    } else {
      parallel_for(parts, task);
    }
  }
}

// ---- a few rows of op(A) against op(B) = W^T ----

// W rows of W (w, ldb apart) dotted with M rows of op(A) (a, lda apart): sums[m][r]. A register
// tile of M x W accumulators, so each k step loads W + M vectors for M W multiply-adds (a
// matrix-vector loop would load one of x per multiply-add, and the loads, not the FMAs, would
// bound it: op(A)'s rows are in L1, W's come once from memory).
template <int M, int W>
LLMKIT_INLINE void dot_tile(const float* w, int64_t ldb, const float* a, int64_t lda, int64_t K,
                            float (&sums)[4][4]) {
  Vec acc[M][W];
  for (int m = 0; m < M; m++)
    for (int r = 0; r < W; r++) acc[m][r] = vset(0.0f);
  int64_t k = 0;
  for (; k + kLanes <= K; k += kLanes) {
    Vec wv[W];
    for (int r = 0; r < W; r++) wv[r] = vload(w + r * ldb + k);
    for (int m = 0; m < M; m++) {
      const Vec x = vload(a + m * lda + k);
      for (int r = 0; r < W; r++) acc[m][r] = vfma(wv[r], x, acc[m][r]);
    }
  }
  for (int m = 0; m < M; m++) {
    for (int r = 0; r < W; r++) {
      float sum = vsum(acc[m][r]);
      for (int64_t j = k; j < K; j++) sum += w[r * ldb + j] * a[m * lda + j];
      sums[m][r] = sum;
    }
  }
}

// Rows of W per tile: 4 x 4 accumulators fit AVX-512's 32 registers; the 16-register paths take
// 4 x 2.
#if defined(LLMKIT_ISA_AVX512)
constexpr int64_t kTileColumns = 4;
#else
constexpr int64_t kTileColumns = 2;
#endif

template <int W>
LLMKIT_INLINE void dot_rows(const float* w, int64_t ldb, const float* a, int64_t lda, int64_t M,
                            int64_t K, float (&sums)[4][4]) {
  switch (M) {
    case 1: dot_tile<1, W>(w, ldb, a, lda, K, sums); break;
    case 2: dot_tile<2, W>(w, ldb, a, lda, K, sums); break;
    case 3: dot_tile<3, W>(w, ldb, a, lda, K, sums); break;
    default: dot_tile<4, W>(w, ldb, a, lda, K, sums);
  }
}

// Columns [j0, j1) of C for the m rows of op(A) (batch entry a, b, c): tiles of kTileColumns rows
// of W by up to 4 rows of op(A) (two passes at m = 8, the second reading W's rows from L1).
void few_rows(const GemmArgs& g, const float* a, const float* b, float* c, int64_t j0,
              int64_t j1) {
  float sums[4][4];
  for (int64_t j = j0; j < j1; j += kTileColumns) {
    const int64_t columns = std::min(kTileColumns, j1 - j);
    const float* w = b + j * g.ldb;
    for (int64_t m = 0; m < g.m; m += 4) {
      const int64_t rows = std::min<int64_t>(4, g.m - m);
      if (columns == kTileColumns) {
        dot_rows<kTileColumns>(w, g.ldb, a + m * g.lda, g.lda, rows, g.k, sums);
      } else {
        for (int64_t r = 0; r < columns; r++) {
          float one[4][4];
          dot_rows<1>(w + r * g.ldb, g.ldb, a + m * g.lda, g.lda, rows, g.k, one);
          for (int64_t i = 0; i < rows; i++) sums[i][r] = one[i][0];
        }
      }
      for (int64_t i = 0; i < rows; i++) {
        for (int64_t r = 0; r < columns; r++) {
          store_column(g, c + (m + i) * g.ldc, j + r, sums[i][r]);
        }
      }
    }
  }
}

void few_rows_gemm(const GemmArgs& g) {
  // Columns per task: ~32K weights (128 KB) pay for a wake-up.
  const int64_t min_columns = std::max<int64_t>(1, 32768 / g.k);
  for (int64_t bi = 0; bi < g.batch; bi++) {
    const float* a = g.a + bi * g.stride_a;
    const float* b = g.b + bi * g.stride_b;
    float* c = g.c + bi * g.stride_c;
    parallel_range(g.n, min_columns,
                   [&](int64_t begin, int64_t end) { few_rows(g, a, b, c, begin, end); });
  }
}

}  // namespace

bool streamed_gemm(const GemmArgs& g) {
  if (g.b_type != BType::kFloat32) return false;
  if (g.m == 1) {
    gemv(g);
    return true;
  }
  if (g.m <= kFewRows && g.transpose_b && !g.transpose_a) {
    few_rows_gemm(g);
    return true;
  }
  return false;
}

}  // namespace LLMKIT_NS
}  // namespace llmkit
