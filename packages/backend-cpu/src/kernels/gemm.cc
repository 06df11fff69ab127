// Single-precision GEMM: C = alpha * op(A) @ op(B) + beta * C, batched, both transposes.
//
// The Goto/BLIS layout: loop over NC-wide column blocks of C and KC-deep slices of K, pack the
// KC x NC slice of op(B) into NR-wide panels (read once per slice, kept in L2/L3), then for each
// MC-tall row block pack op(A) into MR-tall panels (kept in L2) and sweep an MR x NR register tile
// over the block. NR is two vectors; MR is what the register file holds:
//   AVX2, NEON, portable (16 vector registers, 8 lanes): 6 x 16, 12 accumulators + 2 of B + 1
//     broadcast of A, so each k costs 12 FMAs for 3 loads;
//   AVX-512 (32 zmm registers, 16 lanes): 14 x 32, 28 accumulators + 2 of B, each A value
//     broadcast from memory into its FMA ({1to16}), so each k costs 28 FMAs for 16 loads.
// Packing absorbs the transposes and pads edges with zeros, so the micro-kernel always sees the
// same dense layout; for a 16-bit op(B) (GemmArgs::b_type) it also converts to float (half.cc).
//
// One row of op(A), or up to 8 against op(B) = W^T, skip all this: gemv.cc streams op(B) once.
//
// Threads: the work is cut into independent (batch, row range, column range) tasks with their
// own packing buffers; with fewer batches than threads the larger of M and N is split. Problems
// under ~2 MFLOP run on the calling thread: waking a worker costs more than it saves.
#include <algorithm>

#include "common.h"
#include "kernels.h"
#include "pack.h"

namespace llmkit {
namespace LLMKIT_NS {

// gemv.cc: C for one row of op(A), or a few against op(B) = W^T, streaming B once; false when
// the shape is not one of those.
bool streamed_gemm(const GemmArgs& g);

namespace {

constexpr int64_t NR = kGemmPanelWidth;  // two vectors (kernels.h)
#if defined(LLMKIT_ISA_AVX512)
constexpr int64_t MR = 14;
constexpr int64_t KC = 256;   // B micro-panel 256 x 32 floats = 32 KB stays in L1 (48 KB on Zen 5)
constexpr int64_t MC = 168;   // packed A block: 168 x 256 floats = 168 KB, in L2
#else
constexpr int64_t MR = 6;
constexpr int64_t KC = 256;   // A micro-panel (6 KB) + B micro-panel (16 KB) fit L1
constexpr int64_t MC = 120;   // packed A block: 120 x 256 floats = 120 KB, in L2
#endif
constexpr int64_t NC = 1024;  // packed B slice: 256 x 1024 floats = 1 MB, in L3

// Packs rows [i0, i0 + mc) and depth [p0, p0 + kc) of op(A) into MR-row panels:
// panel q, depth k, row r lives at out[q * MR * kc + k * MR + r]; rows past mc are zero.
void pack_a(const GemmArgs& g, const float* a, int64_t i0, int64_t mc, int64_t p0, int64_t kc,
            float* out) {
  for (int64_t ir = 0; ir < mc; ir += MR) {
    int64_t rows = std::min(MR, mc - ir);
    float* panel = out + ir * kc;
    if (!g.transpose_a) {
      const float* src[MR];
      for (int64_t r = 0; r < MR; r++) src[r] = a + (i0 + ir + std::min(r, rows - 1)) * g.lda + p0;
      if (rows == MR) {
        for (int64_t k = 0; k < kc; k++) {
          for (int64_t r = 0; r < MR; r++) panel[k * MR + r] = src[r][k];
        }
      } else {
        for (int64_t k = 0; k < kc; k++) {
          for (int64_t r = 0; r < MR; r++) panel[k * MR + r] = r < rows ? src[r][k] : 0.0f;
        }
      }
    } else {
      for (int64_t k = 0; k < kc; k++) {
        const float* src = a + (p0 + k) * g.lda + i0 + ir;
        for (int64_t r = 0; r < MR; r++) panel[k * MR + r] = r < rows ? src[r] : 0.0f;
      }
    }
  }
}

// Packs depth [p0, p0 + kc) and columns [j0, j0 + nc) of op(B) into NR-column panels:
// panel q, depth k, column c lives at out[q * NR * kc + k * NR + c]; columns past nc are zero.
void pack_b_float(const GemmArgs& g, const float* b, int64_t p0, int64_t kc, int64_t j0,
                  int64_t nc, float* out) {
  for (int64_t jr = 0; jr < nc; jr += NR) {
    int64_t cols = std::min(NR, nc - jr);
    float* panel = out + jr * kc;
    if (!g.transpose_b) {
      const float* src = b + p0 * g.ldb + j0 + jr;
      if (cols == NR) {
        for (int64_t k = 0; k < kc; k++) {
          vstore(panel + k * NR, vload(src + k * g.ldb));
          vstore(panel + k * NR + kLanes, vload(src + k * g.ldb + kLanes));
        }
      } else {
        for (int64_t k = 0; k < kc; k++) {
          for (int64_t c = 0; c < NR; c++) panel[k * NR + c] = c < cols ? src[k * g.ldb + c] : 0;
        }
      }
    } else {  // column c is row j0 + jr + c of b: tiles transposed in registers (pack.h)
      pack_transposed_panel(
          b + (j0 + jr) * g.ldb + p0, g.ldb, kc, cols, panel, [](const float* p) { return vload(p); },
          [](float x) { return x; });
    }
  }
}

// pack_b_float, or for a 16-bit op(B) pack_b_half (half.cc), which converts as it packs.
void pack_b(const GemmArgs& g, const void* b, int64_t p0, int64_t kc, int64_t j0, int64_t nc,
            float* out) {
  if (g.b_type == BType::kFloat32) {
    pack_b_float(g, static_cast<const float*>(b), p0, kc, j0, nc, out);
  } else {
    pack_b_half(g, static_cast<const uint16_t*>(b), p0, kc, j0, nc, out);
  }
}

// Batch entry bi of B (float or 16-bit elements).
const void* b_entry(const GemmArgs& g, int64_t bi) {
  if (g.b_type == BType::kFloat32) return g.b + bi * g.stride_b;
  return g.b16 + bi * g.stride_b;
}

// Stores alpha * acc (+ beta * C) for one row of the tile: cols <= NR valid columns.
LLMKIT_INLINE void store_row(float* c, Vec lo, Vec hi, float alpha, float beta, int64_t cols) {
  Vec va = vset(alpha);
  lo = lo * va;
  hi = hi * va;
  if (cols == NR) {
    if (beta != 0.0f) {
      Vec vb = vset(beta);
      lo = vfma(vload(c), vb, lo);
      hi = vfma(vload(c + kLanes), vb, hi);
    }
    vstore(c, lo);
    vstore(c + kLanes, hi);
    return;
  }
  float tile[NR];
  vstore(tile, lo);
  vstore(tile + kLanes, hi);
  for (int64_t j = 0; j < cols; j++) c[j] = beta != 0.0f ? tile[j] + beta * c[j] : tile[j];
}

#if defined(LLMKIT_ISA_AVX512)
// The 14 x 32 register tile: C[0:rows, 0:cols] = alpha * (A panel @ B panel) + beta * C.
// Written out row by row (X-macro) so the 28 accumulators are named registers, not an array.
#define LLMKIT_TILE_ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13)
void micro_kernel(int64_t kc, const float* __restrict a, const float* __restrict b, float* c,
                  int64_t ldc, float alpha, float beta, int64_t rows, int64_t cols) {
  // Touch the tile's 14 rows of C now: with a power-of-two ldc they share L1 sets, and the
  // stores after the loop would otherwise wait on each line in turn.
#define LLMKIT_DECLARE(r)                                           \
  __m512 c##r##0 = _mm512_setzero_ps(), c##r##1 = _mm512_setzero_ps(); \
  if (r < rows) {                                                   \
    __builtin_prefetch(c + r * ldc, 1);                             \
    __builtin_prefetch(c + r * ldc + NR - 1, 1);                    \
  }
  LLMKIT_TILE_ROWS(LLMKIT_DECLARE)
#undef LLMKIT_DECLARE
#pragma GCC unroll 2
  for (int64_t k = 0; k < kc; k++) {
    const __m512 b0 = _mm512_loadu_ps(b);
    const __m512 b1 = _mm512_loadu_ps(b + kLanes);
    __builtin_prefetch(b + 8 * NR);
#define LLMKIT_STEP(r)                                  \
  {                                                     \
    const __m512 ar = _mm512_set1_ps(a[r]);             \
    c##r##0 = _mm512_fmadd_ps(ar, b0, c##r##0);         \
    c##r##1 = _mm512_fmadd_ps(ar, b1, c##r##1);         \
  }
    LLMKIT_TILE_ROWS(LLMKIT_STEP)
#undef LLMKIT_STEP
    a += MR;
    b += NR;
  }
#define LLMKIT_STORE(r) \
  if (r < rows) store_row(c + r * ldc, {c##r##0}, {c##r##1}, alpha, beta, cols);
  LLMKIT_TILE_ROWS(LLMKIT_STORE)
#undef LLMKIT_STORE
}
#undef LLMKIT_TILE_ROWS
#else
// The 6 x 16 register tile: C[0:rows, 0:cols] = alpha * (A panel @ B panel) + beta * C.
void micro_kernel(int64_t kc, const float* __restrict a, const float* __restrict b, float* c,
                  int64_t ldc, float alpha, float beta, int64_t rows, int64_t cols) {
  Vec c00 = vset(0), c01 = vset(0), c10 = vset(0), c11 = vset(0), c20 = vset(0), c21 = vset(0);
  Vec c30 = vset(0), c31 = vset(0), c40 = vset(0), c41 = vset(0), c50 = vset(0), c51 = vset(0);
#pragma GCC unroll 4
  for (int64_t k = 0; k < kc; k++) {
    Vec b0 = vload(b);
    Vec b1 = vload(b + kLanes);
    __builtin_prefetch(b + 8 * NR);
    Vec a0 = vset(a[0]);
    c00 = vfma(a0, b0, c00);
    c01 = vfma(a0, b1, c01);
    Vec a1 = vset(a[1]);
    c10 = vfma(a1, b0, c10);
    c11 = vfma(a1, b1, c11);
    Vec a2 = vset(a[2]);
    c20 = vfma(a2, b0, c20);
    c21 = vfma(a2, b1, c21);
    Vec a3 = vset(a[3]);
    c30 = vfma(a3, b0, c30);
    c31 = vfma(a3, b1, c31);
    Vec a4 = vset(a[4]);
    c40 = vfma(a4, b0, c40);
    c41 = vfma(a4, b1, c41);
    Vec a5 = vset(a[5]);
    c50 = vfma(a5, b0, c50);
    c51 = vfma(a5, b1, c51);
    a += MR;
    b += NR;
  }
  store_row(c, c00, c01, alpha, beta, cols);
  if (rows > 1) store_row(c + ldc, c10, c11, alpha, beta, cols);
  if (rows > 2) store_row(c + 2 * ldc, c20, c21, alpha, beta, cols);
  if (rows > 3) store_row(c + 3 * ldc, c30, c31, alpha, beta, cols);
  if (rows > 4) store_row(c + 4 * ldc, c40, c41, alpha, beta, cols);
  if (rows > 5) store_row(c + 5 * ldc, c50, c51, alpha, beta, cols);
}
#endif

// Rows [m0, m1) and columns [jc, jc + nc) of C for depth slice [pc, pc + kc), from op(B)'s
// slice already packed into `panels`: pack each MC-row block of op(A), sweep the register tile.
void multiply_slice(const GemmArgs& g, const float* a, const float* panels, float* c, int64_t m0,
                    int64_t m1, int64_t jc, int64_t nc, int64_t pc, int64_t kc, float* packed_a) {
  float beta = pc == 0 ? g.beta : 1.0f;
  for (int64_t ic = m0; ic < m1; ic += MC) {
    int64_t mc = std::min(MC, m1 - ic);
    pack_a(g, a, ic, mc, pc, kc, packed_a);
    for (int64_t jr = 0; jr < nc; jr += NR) {
      for (int64_t ir = 0; ir < mc; ir += MR) {
        micro_kernel(kc, packed_a + ir * kc, panels + jr * kc, c + (ic + ir) * g.ldc + jc + jr,
                     g.ldc, g.alpha, beta, std::min(MR, mc - ir), std::min(NR, nc - jr));
      }
    }
  }
}

// Rows [m0, m1) of C from a B packed beforehand for all of K (one column block, n <= NC): slice
// pc of the panels starts at packed_b + pc * round_up(n, NR). Threads that split C by rows share
// one packing of B instead of each packing its own copy.
void gemm_rows_packed_b(const GemmArgs& g, const float* a, const float* packed_b, float* c,
                        int64_t m0, int64_t m1) {
  const int64_t n_padded = (g.n + NR - 1) / NR * NR;
  int64_t mc_max = std::min(MC, (m1 - m0 + MR - 1) / MR * MR);
  float* packed_a = thread_scratch(0, static_cast<size_t>(mc_max * std::min(KC, g.k)));
  for (int64_t pc = 0; pc < g.k; pc += KC) {
    multiply_slice(g, a, packed_b + pc * n_padded, c, m0, m1, 0, g.n, pc,
                   std::min(KC, g.k - pc), packed_a);
  }
}

// C[m0:m1, n0:n1] of one batch entry, on the calling thread.
void gemm_block(const GemmArgs& g, const float* a, const void* b, float* c, int64_t m0,
                int64_t m1, int64_t n0, int64_t n1) {
  int64_t mc_max = std::min(MC, (m1 - m0 + MR - 1) / MR * MR);
  int64_t nc_max = std::min(NC, (n1 - n0 + NR - 1) / NR * NR);
  int64_t kc_max = std::min(KC, g.k);
  float* packed_a = thread_scratch(0, static_cast<size_t>(mc_max * kc_max));
  float* packed_b = thread_scratch(1, static_cast<size_t>(nc_max * kc_max));
  for (int64_t jc = n0; jc < n1; jc += NC) {
    int64_t nc = std::min(NC, n1 - jc);
    for (int64_t pc = 0; pc < g.k; pc += KC) {
      int64_t kc = std::min(KC, g.k - pc);
      pack_b(g, b, pc, kc, jc, nc, packed_b);
      multiply_slice(g, a, packed_b, c, m0, m1, jc, nc, pc, kc, packed_a);
    }
  }
}

// K == 0: C = beta * C (the product is empty).
void scale_c(const GemmArgs& g, float* c) {
  for (int64_t i = 0; i < g.m; i++) {
    for (int64_t j = 0; j < g.n; j++) {
      c[i * g.ldc + j] = g.beta == 0.0f ? 0.0f : g.beta * c[i * g.ldc + j];
    }
  }
}

}  // namespace

void gemm(const GemmArgs& g) {
  if (g.m <= 0 || g.n <= 0 || g.batch <= 0) return;
  if (g.k <= 0) {
    for (int64_t bi = 0; bi < g.batch; bi++) scale_c(g, g.c + bi * g.stride_c);
    return;
  }
  if (streamed_gemm(g)) return;  // one row of op(A), or a few: gemv.cc
  double flops = 2.0 * static_cast<double>(g.m) * g.n * g.k * g.batch;
  int threads = flops < 2e6 ? 1 : thread_count();
  // Split each matrix into `parts` along its longer side when batches alone cannot feed every
  // thread; parts are whole register tiles so no tile straddles two tasks. Four parts per thread:
  // a worker that wakes late (or a core busy with another process) then joins partway through
  // instead of leaving the caller waiting on a half it already claimed.
  // Large problems keep one part per thread: each part packs its own copy of the shared panel,
  // and long parts reuse it best.
  int64_t per_thread = flops < 1.5e8 ? 4 : 1;
  int64_t parts = 1;
  if (g.batch < threads) parts = (per_thread * threads + g.batch - 1) / g.batch;
  bool split_rows = g.m >= g.n;
  int64_t extent = split_rows ? g.m : g.n;
  int64_t unit = split_rows ? MR : NR;
  int64_t units = (extent + unit - 1) / unit;
  parts = std::max<int64_t>(1, std::min(parts, units));
  int64_t per_part = (units + parts - 1) / parts * unit;
  // A small matrix split by rows: pack B once for every task (each part would repack all of it).
  // Large ones keep packing slice by slice, which reuses each slice while it is in cache.
  if (split_rows && g.batch == 1 && parts > 1 && threads > 1 && per_thread > 1 && g.n <= NC) {
    const int64_t n_padded = (g.n + NR - 1) / NR * NR;
    float* packed_b = thread_scratch(4, static_cast<size_t>(g.k * n_padded));
    for (int64_t pc = 0; pc < g.k; pc += KC)
      pack_b(g, b_entry(g, 0), pc, std::min(KC, g.k - pc), 0, g.n, packed_b + pc * n_padded);
    parallel_for(parts, [&](int64_t part) {
      int64_t begin = part * per_part;
      int64_t end = std::min(g.m, begin + per_part);
      if (begin < end) gemm_rows_packed_b(g, g.a, packed_b, g.c, begin, end);
    });
    return;
  }
  auto task = [&](int64_t t) {
    int64_t bi = t / parts;
    int64_t part = t % parts;
    int64_t begin = part * per_part;
    int64_t end = std::min(extent, begin + per_part);
    if (begin >= end) return;
    const float* a = g.a + bi * g.stride_a;
    const void* b = b_entry(g, bi);
    float* c = g.c + bi * g.stride_c;
    if (split_rows) {
      gemm_block(g, a, b, c, begin, end, 0, g.n);
    } else {
      gemm_block(g, a, b, c, 0, g.m, begin, end);
    }
  };
  if (threads == 1) {
    for (int64_t t = 0; t < g.batch * parts; t++) task(t);
  } else {
    parallel_for(g.batch * parts, task);
  }
}

}  // namespace LLMKIT_NS
}  // namespace llmkit
