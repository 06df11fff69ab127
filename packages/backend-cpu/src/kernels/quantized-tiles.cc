// The products with 8-bit activations for many rows of x (M > kTileMinRows: prefill, batched
// decoding), llama.cpp's arithmetic as in quantized-activations.cc (x's rows quantized once per
// call by prepare, integer block dot products, one scale multiply per block pair):
//   out[m, n] = sum_b w_scale(n, b) * d(m, b) * sum_{j in b} w_code(n, j) q(m, j)
// Row by row, every weight block would be read and unpacked once per row of x. Here a tile of
// kTileWeights weight rows meets a tile of up to kTileRows rows of x: each weight block is
// unpacked once into registers and dotted with every x row of the tile, the accumulators
// (kTileWeights x kTileRows float vectors) staying in registers for the whole row.
//
// Weights go in as signed codes (8-bit w; 4-bit c - 8), and the unsigned-by-signed byte products
// (vpdpbusd, vpmaddubsw) take |w| against x's codes with w's sign, as llama.cpp's
// mul_sum_i8_pairs: no code-sum correction, so x's side is only its codes and d's. x's rows are
// copied once per call into panels, one per tile of x rows: per step (VNNI: a pair of blocks,
// 64 codes and 16 d lanes; avx2: a block, 32 codes and 8 lanes) the tile's codes then its d
// vectors, so the kernel walks one pointer; a panel is kept small enough for L1 (8 rows x K 2048
// is 32 KB). Threads take ranges of weight tiles; within one, a chunk of weight rows (~128 KB)
// meets every x panel before the next chunk, so weights come from L2 and x from L1.
//
// Paths: avx512 with VNNI (512-bit vpdpbusd, 2 weight rows x 8 x rows), avx2 and avx512 without
// VNNI (256-bit vpmaddubsw, 2 x 4), scalar elsewhere (each weight row unpacked once into an L1
// buffer of codes, then dotted with every row of x).
#include <algorithm>
#include <cstring>
#include <vector>

#include "common.h"
#include "quantized-activations.h"
#include "quantized.h"
#include "simd.h"

namespace llmkit {
namespace LLMKIT_NS {

namespace {

constexpr int64_t kTileWeights = 2;
constexpr int64_t kTileRows = 8;

// A panel's geometry on a path: per step, `codes` bytes and `lanes` d's per row of x.
struct Step {
  int64_t blocks, codes, lanes;
};
Step step_of(Path path) { return path == kPairs ? Step{2, 64, 16} : Step{1, 32, 8}; }

// x's rows [m0, m0 + rows) as one panel of `tile` rows (rows past M are zeros): per step, the
// tile's codes then its d vectors. Codes keep prepare's layout; on the VNNI path an odd last
// block becomes a pair whose second block is zeros (its codes in the pair's positions: 4-bit
// halves at bytes 0 and 32), so every step is a pair.
void build_panel(const std::vector<Activations>& x, int64_t m0, int64_t rows, int64_t tile,
                 int64_t K, int format, Path path, uint8_t* panel) {
  const Step step = step_of(path);
  const int64_t blocks = K / kBlock, steps = (blocks + step.blocks - 1) / step.blocks;
  const int64_t stride = tile * (step.codes + 4 * step.lanes);
  std::memset(panel, 0, static_cast<size_t>(steps * stride));
  // the lanes each block's d covers: 8-bit pairs [d0 x8, d1 x8]; 4-bit [d0 x4, d1 x4] twice
  const int64_t run = path == kPairs && four_bit(format) ? 4 : 8;
  for (int64_t t = 0; t < rows; t++) {
    const Activations& row = x[m0 + t];
    for (int64_t s = 0; s < steps; s++) {
      int8_t* codes = reinterpret_cast<int8_t*>(panel + s * stride + t * step.codes);
      float* dv = reinterpret_cast<float*>(panel + s * stride + tile * step.codes) + t * step.lanes;
      const int64_t b0 = s * step.blocks;
      const bool whole = b0 + step.blocks <= blocks;
      if (whole) {
        std::memcpy(codes, row.codes.data() + b0 * kBlock, static_cast<size_t>(step.codes));
      } else if (four_bit(format)) {  // a lone last block: halves to the pair's positions
        std::memcpy(codes, row.codes.data() + b0 * kBlock, 16);
        std::memcpy(codes + 32, row.codes.data() + b0 * kBlock + 16, 16);
      } else {
        std::memcpy(codes, row.codes.data() + b0 * kBlock, 32);
      }
      for (int64_t lane = 0; lane < step.lanes; lane++) {
        const int64_t b = b0 + (lane / run) % 2;
        dv[lane] = b < blocks ? row.d[b] : 0.0f;
      }
    }
  }
}

#if defined(LLMKIT_ISA_AVX512)
// Weight blocks b0, b0 + 1 of a row as 64 signed codes in the panel's order, and their scales
// per lane (int8: 1; the row scale comes at the end). `single`: b0 is the odd last block; the
// second block's codes are left as they fall (x's are zeros there) and its scale is 0.
template <int format, bool single>
__attribute__((target("avx512vnni"))) LLMKIT_INLINE void weight_pair(const WeightRow& w,
                                                                      int64_t b0, __m512i& codes,
                                                                      __m512& scale) {
  const __m512i fifteen = _mm512_set1_epi8(15), eight = _mm512_set1_epi8(8);
  const __m512i spread8 = _mm512_setr_epi32(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
  const __m512i spread4 = _mm512_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1);
  uint16_t h0 = 0, h1 = 0;  // q8_0 / q4_0: the blocks' fp16 d's
  if (format == kInt8) {
    const uint8_t* bytes = w.bytes + b0 * kBlock;
    const __m256i first = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bytes));
    codes = single ? _mm512_zextsi256_si512(first) : _mm512_loadu_si512(bytes);
    scale = _mm512_set1_ps(1.0f);
    return;
  }
  if (format == kQ8_0) {
    const uint8_t* block = w.bytes + b0 * 34;
    const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + 2));
    const __m256i hi = single ? _mm256_setzero_si256()
                              : _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + 36));
    codes = _mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1);
    std::memcpy(&h0, block, 2);
    if (!single) std::memcpy(&h1, block + 34, 2);
  } else if (format == kQ4_0) {  // [b0 low, b1 low, b0 high, b1 high]: low nibbles elements 0..15
    const uint8_t* block = w.bytes + b0 * 18;
    const __m128i first = _mm_loadu_si128(reinterpret_cast<const __m128i*>(block + 2));
    const __m256i both =
        single ? _mm256_zextsi128_si256(first)
               : _mm256_inserti128_si256(
                     _mm256_castsi128_si256(first),
                     _mm_loadu_si128(reinterpret_cast<const __m128i*>(block + 20)), 1);
    const __m512i nibbles =
        _mm512_inserti64x4(_mm512_castsi256_si512(both), _mm256_srli_epi16(both, 4), 1);
    codes = _mm512_sub_epi8(_mm512_and_si512(nibbles, fifteen), eight);
    std::memcpy(&h0, block, 2);
    if (!single) std::memcpy(&h1, block + 18, 2);
  } else {  // int4: [b0 even, b1 even, b0 odd, b1 odd] elements (high nibbles, then low)
    const uint8_t* bytes = w.bytes + b0 * 16;
    const __m256i both =
        single ? _mm256_zextsi128_si256(_mm_loadu_si128(reinterpret_cast<const __m128i*>(bytes)))
               : _mm256_loadu_si256(reinterpret_cast<const __m256i*>(bytes));
    const __m512i nibbles =
        _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_srli_epi16(both, 4)), both, 1);
    codes = _mm512_sub_epi8(_mm512_and_si512(nibbles, fifteen), eight);
    const float s0 = w.group_scales[group_of(w, b0)];
    const float s1 = single ? 0.0f : w.group_scales[group_of(w, b0 + 1)];
    const __m128 two = _mm_unpacklo_ps(_mm_set_ss(s0), _mm_set_ss(s1));
    scale = _mm512_permutexvar_ps(spread4, _mm512_castps128_ps512(two));
    return;
  }
  const __m128i halves = _mm_cvtsi32_si128(static_cast<int>(h0 | (uint32_t{h1} << 16)));
  const __m512 two = _mm512_cvtph_ps(_mm256_castsi128_si256(halves));  // AVX-512F's form
  scale = _mm512_permutexvar_ps(format == kQ8_0 ? spread8 : spread4, two);
}

// One step of the tile: the two weight rows' codes w[r] and scales s[r] against the panel's T
// rows at xs: acc[r][t] += float(sum |w| (q signed as w)) * s[r] * d[t], 16 lanes.
template <int T>
__attribute__((target("avx512vnni"))) LLMKIT_INLINE void step_pairs(const __m512i (&w)[2],
                                                                     const __m512 (&s)[2],
                                                                     const uint8_t* xs,
                                                                     __m512 (&acc)[2][T]) {
  const __m512i zero = _mm512_setzero_si512();
  __m512i magnitude[2];
  __mmask64 negative[2];
#pragma GCC unroll 2
  for (int r = 0; r < 2; r++) {
    magnitude[r] = _mm512_abs_epi8(w[r]);
    negative[r] = _mm512_movepi8_mask(w[r]);
  }
#pragma GCC unroll 8
  for (int t = 0; t < T; t++) {
    const __m512i q = _mm512_loadu_si512(xs + t * 64);
    const __m512 d = _mm512_loadu_ps(xs + T * 64 + t * 64);
#pragma GCC unroll 2
    for (int r = 0; r < 2; r++) {
      const __m512i signed_q = _mm512_mask_sub_epi8(q, negative[r], zero, q);
      const __m512i sums = _mm512_dpbusd_epi32(zero, magnitude[r], signed_q);
      acc[r][t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sums), _mm512_mul_ps(s[r], d), acc[r][t]);
    }
  }
}

// Weight rows w[0], w[1] against a panel of T rows: sums[r * T + t].
template <int format, int T>
__attribute__((target("avx512vnni"))) void tile_pairs(const WeightRow* rows, int64_t blocks,
                                                       const uint8_t* panel, float* sums) {
  __m512 acc[2][T];
#pragma GCC unroll 8
  for (int t = 0; t < T; t++) acc[0][t] = acc[1][t] = _mm512_setzero_ps();
  const int64_t pairs = blocks / 2, stride = T * 128;
  __m512i w[2];
  __m512 s[2];
  for (int64_t p = 0; p < pairs; p++) {
    weight_pair<format, false>(rows[0], 2 * p, w[0], s[0]);
    weight_pair<format, false>(rows[1], 2 * p, w[1], s[1]);
    step_pairs<T>(w, s, panel + p * stride, acc);
  }
  if (blocks % 2) {
    weight_pair<format, true>(rows[0], 2 * pairs, w[0], s[0]);
    weight_pair<format, true>(rows[1], 2 * pairs, w[1], s[1]);
    step_pairs<T>(w, s, panel + pairs * stride, acc);
  }
#pragma GCC unroll 8
  for (int t = 0; t < T; t++) {
    sums[t] = _mm512_reduce_add_ps(acc[0][t]);
    sums[T + t] = _mm512_reduce_add_ps(acc[1][t]);
  }
}
#endif

using TileKernel = void (*)(const WeightRow* rows, int64_t blocks, const uint8_t* panel,
                            float* sums);

// The kernel for a format, a path and a panel of T rows (4 or 8).
TileKernel tile_kernel(int format, Path path, int64_t T) {
#if defined(LLMKIT_ISA_AVX512)
  if (path == kPairs) {
    switch (format) {
      case kInt8: return T == 4 ? tile_pairs<kInt8, 4> : tile_pairs<kInt8, 8>;
      case kInt4: return T == 4 ? tile_pairs<kInt4, 4> : tile_pairs<kInt4, 8>;
      case kQ8_0: return T == 4 ? tile_pairs<kQ8_0, 4> : tile_pairs<kQ8_0, 8>;
      default: return T == 4 ? tile_pairs<kQ4_0, 4> : tile_pairs<kQ4_0, 8>;
    }
  }
#endif
  (void)format;
  (void)path;
  (void)T;
  return nullptr;
}

}  // namespace

void int8_activation_tiles(const QuantizedArgs& a, Path path, const std::vector<Activations>& x) {
  const int64_t M = a.m, N = a.n, K = a.k, blocks = K / kBlock;
  const Step step = step_of(path);
  const int64_t steps = (blocks + step.blocks - 1) / step.blocks;
  // x's panels: tiles of kTileRows rows, the last one of 4 when at most 4 rows are left
  const int64_t x_tiles = (M + kTileRows - 1) / kTileRows;
  const int64_t panel_bytes = steps * kTileRows * (step.codes + 4 * step.lanes);
  const auto tile_size = [&](int64_t i) {
    return M - i * kTileRows <= 4 ? int64_t{4} : kTileRows;
  };
  std::vector<uint8_t> panels(static_cast<size_t>(x_tiles * panel_bytes));
  parallel_range(x_tiles, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; i++) {
      const int64_t m0 = i * kTileRows, rows = std::min(kTileRows, M - m0);
      build_panel(x, m0, rows, tile_size(i), K, a.format, path, panels.data() + i * panel_bytes);
    }
  });
  const TileKernel wide = tile_kernel(a.format, path, kTileRows);
  const TileKernel narrow = tile_kernel(a.format, path, 4);
  const int64_t row_bytes = packed_row_bytes(a.format, K);
  // weight rows per chunk: ~128 KB of packed rows, met by every panel while in L2
  const int64_t chunk_tiles = std::max<int64_t>(1, (128 << 10) / (kTileWeights * row_bytes));
  const int64_t weight_tiles = (N + kTileWeights - 1) / kTileWeights;
  parallel_range(weight_tiles, 1, [&](int64_t begin, int64_t end) {
    float sums[kTileWeights * kTileRows];
    for (int64_t c0 = begin; c0 < end; c0 += chunk_tiles) {
      const int64_t c1 = std::min(end, c0 + chunk_tiles);
      for (int64_t i = 0; i < x_tiles; i++) {
        const int64_t m0 = i * kTileRows, rows = std::min(kTileRows, M - m0), T = tile_size(i);
        const TileKernel kernel = T == 4 ? narrow : wide;
        for (int64_t tile = c0; tile < c1; tile++) {
          // an odd last row is paired with itself, one of the two results kept
          const int64_t r0 = tile * kTileWeights, r1 = std::min(r0 + 1, N - 1);
          const WeightRow w[2] = {weight_row(a, r0), weight_row(a, r1)};
          kernel(w, blocks, panels.data() + i * panel_bytes, sums);
          for (int64_t r = r0; r <= r1; r++) {
            const float row_scale = a.format == kInt8 ? a.scales[r] : 1.0f;
            for (int64_t t = 0; t < rows; t++) {
              a.out[(m0 + t) * N + r] = sums[(r - r0) * T + t] * row_scale;
            }
          }
        }
      }
    }
  });
}

}  // namespace LLMKIT_NS
}  // namespace llmkit
