// Packing helpers shared by gemm.cc (a float op(B) given transposed) and half.cc (16-bit weights):
// gemm.cc's B panels from a source whose rows are the panel's columns, transposed in registers.
// Header-only: each instruction-set compilation of its includers gets its own copy (simd.h).
#pragma once

#include <cstdint>

#include "kernels.h"
#include "simd.h"

namespace llmkit {
namespace LLMKIT_NS {

#if defined(LLMKIT_ISA_AVX512)
// r[i][j] -> r[j][i] for 16 x 16 floats: pairs, then quads within 128-bit lanes, then the lanes.
LLMKIT_INLINE void transpose16(__m512 (&r)[16]) {
  __m512 t[16];
  for (int i = 0; i < 16; i += 2) {
    t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);      // lane L: r[i][4L], r[i+1][4L], .. [4L+1]
    t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);  // the same for elements 4L+2, 4L+3
  }
  for (int i = 0; i < 16; i += 4) {  // r[i + e]: rows i..i+3, element 4L+e in lane L
    const __m512d t0 = _mm512_castps_pd(t[i]), t1 = _mm512_castps_pd(t[i + 1]);
    const __m512d t2 = _mm512_castps_pd(t[i + 2]), t3 = _mm512_castps_pd(t[i + 3]);
    r[i] = _mm512_castpd_ps(_mm512_unpacklo_pd(t0, t2));
    r[i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(t0, t2));
    r[i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(t1, t3));
    r[i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(t1, t3));
  }
  for (int e = 0; e < 4; e++) {  // output row 4L+e: lane L of r[e], r[4+e], r[8+e], r[12+e]
    const __m512 even0 = _mm512_shuffle_f32x4(r[e], r[4 + e], 0x88);  // lanes 0, 2 of each
    const __m512 odd0 = _mm512_shuffle_f32x4(r[e], r[4 + e], 0xdd);   // lanes 1, 3 of each
    const __m512 even1 = _mm512_shuffle_f32x4(r[8 + e], r[12 + e], 0x88);
    const __m512 odd1 = _mm512_shuffle_f32x4(r[8 + e], r[12 + e], 0xdd);
    t[e] = _mm512_shuffle_f32x4(even0, even1, 0x88);
    t[8 + e] = _mm512_shuffle_f32x4(even0, even1, 0xdd);
    t[4 + e] = _mm512_shuffle_f32x4(odd0, odd1, 0x88);
    t[12 + e] = _mm512_shuffle_f32x4(odd0, odd1, 0xdd);
  }
  for (int i = 0; i < 16; i++) r[i] = t[i];
}
#elif defined(LLMKIT_ISA_AVX2)
// r[i][j] -> r[j][i] for 8 x 8 floats.
LLMKIT_INLINE void transpose8(__m256 (&r)[8]) {
  __m256 t[8], s[8];
  for (int i = 0; i < 8; i += 2) {
    t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
    t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
  }
  for (int i = 0; i < 8; i += 4) {  // s[i + e]: rows i..i+3, element e (low lane), e + 4 (high)
    s[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
    s[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xee);
    s[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
    s[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xee);
  }
  for (int e = 0; e < 4; e++) {
    r[e] = _mm256_permute2f128_ps(s[e], s[4 + e], 0x20);
    r[4 + e] = _mm256_permute2f128_ps(s[e], s[4 + e], 0x31);
  }
}
#endif

// Depth [0, kc) of panel columns [0, cols) where column c is row c of a row-major source (src +
// c * ld, contiguous along the depth): panel[k * kGemmPanelWidth + c] = float(src[c * ld + k]),
// columns past cols zero. widen(p) gives kLanes elements from p as a Vec, value(e) one element.
// AVX-512 and AVX2 load square tiles (16 or 8 rows by as many elements) and transpose them in
// registers; the depth past the last whole tile, and the other paths, go element by element.
// (Element by element costs about a cycle each, as much as the micro-kernel spends on the element
// for M = 32 rows of A; the tiles take about a quarter of that.)
template <typename Element, typename Widen, typename Value>
LLMKIT_INLINE void pack_transposed_panel(const Element* src, int64_t ld, int64_t kc,
                                         int64_t cols, float* panel, Widen widen, Value value) {
  constexpr int64_t NR = kGemmPanelWidth;
  int64_t k0 = 0;
#if defined(LLMKIT_ISA_AVX512) || defined(LLMKIT_ISA_AVX2)
  constexpr int T = kLanes;  // the tile: T rows of the source by T elements
  k0 = kc / T * T;
  for (int64_t h = 0; h < NR; h += T) {
    for (int64_t k = 0; k < k0; k += T) {
#if defined(LLMKIT_ISA_AVX512)
      __m512 r[T];
      for (int i = 0; i < T; i++)
        r[i] = h + i < cols ? widen(src + (h + i) * ld + k).v : _mm512_setzero_ps();
      transpose16(r);
      for (int i = 0; i < T; i++) _mm512_storeu_ps(panel + (k + i) * NR + h, r[i]);
#else
      __m256 r[T];
      for (int i = 0; i < T; i++)
        r[i] = h + i < cols ? widen(src + (h + i) * ld + k).v : _mm256_setzero_ps();
      transpose8(r);
      for (int i = 0; i < T; i++) _mm256_storeu_ps(panel + (k + i) * NR + h, r[i]);
#endif
    }
  }
#else
  (void)widen;
#endif
  for (int64_t c = 0; c < NR; c++) {
    if (c >= cols) {
      for (int64_t k = k0; k < kc; k++) panel[k * NR + c] = 0.0f;
      continue;
    }
    const Element* row = src + c * ld;
    for (int64_t k = k0; k < kc; k++) panel[k * NR + c] = value(row[k]);
  }
}

}  // namespace LLMKIT_NS
}  // namespace llmkit
