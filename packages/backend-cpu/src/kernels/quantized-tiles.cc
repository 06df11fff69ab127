// The products with 8-bit activations for several rows of x (M > kTileMinRows: prefill, batched
// decoding), llama.cpp's arithmetic as in quantized-activations.cc (x's rows quantized once per
// call by prepare, integer block dot products, one scale multiply per block):
//   out[m, n] = sum_b w_scale(n, b) * d(m, b) * sum_{j in b} w_code(n, j) q(m, j)
// Row by row, every weight block is read and unpacked once per row of x, and each 64 products
// of one vpdpbusd pay a float convert, multiply and add. Here, as llama.cpp's repacked GEMMs
// (ggml-cpu repack.cpp), a tile of 16 weight rows is repacked once per call, block by block, into
// 8 registers' worth: group g holds elements 4g..4g+3 of every row, one row per 32-bit lane
// (unsigned codes: 8-bit w + 128, 4-bit c), then the 16 rows' scales. A tile of 8 rows of x then
// runs against it: x's 4 codes of group g broadcast, vpdpbusd adds each row's 4 products in its
// lane, and after 8 groups each lane holds a whole block's integer dot, so the float work (convert,
// scale, add) is paid once per 512 products. The code-sum the unsigned weights add (128 sum q,
// 8 sum q) is taken off by starting the sum at -offset * sum q, from x's side.
//
// x's rows go into panels once per call, one per tile of 8 rows (the last of 2 or 4 when that
// many are left): per block the tile's codes, d's and corrections, so the kernel walks one pointer.
// Threads take ranges of weight tiles; each repacks its tile into its scratch a slice of K at a
// time (32 blocks: 18 KB on VNNI, in L1 with the panels' slices) and runs every panel against it,
// the sums carried from slice to slice.
//
// Paths (one driver, a TilePath each): avx512 with VNNI (16 weight rows x 8 x rows, above); avx2
// and avx512 without VNNI (8 x 4, vpmaddubsw); portable and NEON (8 x 8, signed codes in plain
// loops). 8 rows of x of Qwen3-0.6B gate/up q8_0, 1 thread: avx2 2.20 -> 0.69 ms, portable
// 20.9 -> 5.3 ms against row by row.
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

// Where element j of a block sits in the weights' and the panel's order: groups of 4 elements,
// natural, except int4 (per group of 8 elements the even ones then the odd ones, as its bytes'
// high and low nibbles): position 4g + i holds element 8g + 2i (g < 4) or 8(g - 4) + 2i + 1.
LLMKIT_INLINE int64_t element_at(int format, int64_t j) {
  return format == kInt4 ? (j & 15) / 4 * 8 + (j & 3) * 2 + j / 16 : j;
}

// x's rows [m0, m0 + rows) as one panel of T rows (rows past M are zeros): per block, the tile's
// 32 codes per row in element_at's order, then T d's, then T code-sum corrections
// (-offset * sum q, where the weights went in offset up: 8-bit w + 128, 4-bit c instead of c - 8).
void build_panel(const std::vector<Activations>& x, int64_t m0, int64_t rows, int64_t T,
                 int64_t K, int format, int32_t offset, uint8_t* panel) {
  const int64_t blocks = K / kBlock, stride = T * (kBlock + 8);
  std::memset(panel, 0, static_cast<size_t>(blocks * stride));
  for (int64_t t = 0; t < rows; t++) {
    const Activations& row = x[m0 + t];
    for (int64_t b = 0; b < blocks; b++) {
      uint8_t* at = panel + b * stride;
      const int8_t* codes = row.codes.data() + b * kBlock;
      int8_t* out = reinterpret_cast<int8_t*>(at + t * kBlock);
      for (int64_t j = 0; j < kBlock; j++) out[j] = codes[element_at(format, j)];
      const float d = row.d[b];
      const int32_t correction = -offset * row.sums[b];
      std::memcpy(at + T * kBlock + 4 * t, &d, 4);
      std::memcpy(at + T * (kBlock + 4) + 4 * t, &correction, 4);
    }
  }
}

constexpr int64_t kSliceBlocks = 32;  // K 1024 a slice

// One path's tiles: `lanes` weight rows per tile, blocks [b0, b1) repacked into `block_bytes` each
// by `repack` (w[0..lanes), already clamped to N); `product[i]` runs a panel of 2, 4 or `rows` x
// rows (i = 0, 1, 2) against a repacked slice into out [T][lanes] (added to it when `accumulate`:
// K's later slices).
using Repack = void (*)(const WeightRow* w, int64_t b0, int64_t b1, uint8_t* out);
using Product = void (*)(const uint8_t* repacked, int64_t blocks, const uint8_t* panel,
                         float* out, bool accumulate);
struct TilePath {
  int64_t lanes, rows, block_bytes;
  int32_t offset;
  Repack repack;
  Product product[3];
};

// ---- portable (and NEON): signed codes, plain loops the compiler may vectorise ----

// Row n's block b in element_at's order, as signed codes (8-bit w, 4-bit c - 8), then 8 scales.
constexpr int64_t kScalarLanes = 8;
constexpr int64_t kScalarBlock = kScalarLanes * kBlock + kScalarLanes * 4;

template <int format>
void repack_scalar(const WeightRow* w, int64_t b0, int64_t b1, uint8_t* out) {
  for (int64_t b = b0; b < b1; b++) {
    int8_t* codes = reinterpret_cast<int8_t*>(out + (b - b0) * kScalarBlock);
    float* scales =
        reinterpret_cast<float*>(out + (b - b0) * kScalarBlock + kScalarLanes * kBlock);
    for (int64_t n = 0; n < kScalarLanes; n++) {
      for (int64_t j = 0; j < kBlock; j++) {
        const int64_t e = element_at(format, j);
        int32_t code;
        if (format == kInt8) {
          code = static_cast<int8_t>(w[n].bytes[b * kBlock + e]);
        } else if (format == kQ8_0) {
          code = static_cast<int8_t>(w[n].bytes[b * 34 + 2 + e]);
        } else if (format == kQ4_0) {
          const uint8_t byte = w[n].bytes[b * 18 + 2 + (e & 15)];
          code = (e < 16 ? byte & 15 : byte >> 4) - 8;
        } else {
          const uint8_t byte = w[n].bytes[b * 16 + e / 2];
          code = (e & 1 ? byte & 15 : byte >> 4) - 8;
        }
        codes[n * kBlock + j] = static_cast<int8_t>(code);
      }
      uint16_t half;
      if (format == kQ8_0 || format == kQ4_0) {
        std::memcpy(&half, w[n].bytes + b * (format == kQ8_0 ? 34 : 18), 2);
        scales[n] = half_to_float(half);
      } else {
        scales[n] = format == kInt4 ? w[n].group_scales[group_of(w[n], b)] : 1.0f;
      }
    }
  }
}

template <int T>
void product_scalar(const uint8_t* repacked, int64_t blocks, const uint8_t* panel, float* out,
                    bool accumulate) {
  float acc[T][kScalarLanes] = {};
  if (accumulate) std::memcpy(acc, out, sizeof acc);
  for (int64_t b = 0; b < blocks; b++) {
    const int8_t* w = reinterpret_cast<const int8_t*>(repacked + b * kScalarBlock);
    const uint8_t* xb = panel + b * T * (kBlock + 8);
    float scales[kScalarLanes];
    std::memcpy(scales, repacked + b * kScalarBlock + kScalarLanes * kBlock, sizeof scales);
    for (int t = 0; t < T; t++) {
      const int8_t* q = reinterpret_cast<const int8_t*>(xb + t * kBlock);
      float d;
      std::memcpy(&d, xb + T * kBlock + 4 * t, 4);
      for (int64_t n = 0; n < kScalarLanes; n++) {
        int32_t sum = 0;
        for (int64_t j = 0; j < kBlock; j++) sum += w[n * kBlock + j] * q[j];
        acc[t][n] += static_cast<float>(sum) * (scales[n] * d);
      }
    }
  }
  std::memcpy(out, acc, sizeof acc);
}

template <int format>
constexpr TilePath scalar_path() {
  return {kScalarLanes, 8, kScalarBlock, 0, repack_scalar<format>,
          {product_scalar<2>, product_scalar<4>, product_scalar<8>}};
}

#if defined(LLMKIT_ISA_AVX512) || defined(LLMKIT_ISA_AVX2)
// ---- avx2 and avx512 without VNNI: 8 weight rows, one per 32-bit lane of a 256-bit register ----
//
// Codes [8 groups][8 rows][4 bytes] then 8 scales. vpmaddubsw multiplies unsigned by signed bytes
// into int16 pairs: 4-bit codes c go in unsigned (pairs below 2 * 15 * 127, so a block's 8 groups
// add up in int16, then one vpmaddwd), 8-bit ones as |w| against x with w's sign (pairs below
// 2^15, vpmaddwd per group).
constexpr int64_t kAvx2Block = 8 * 32 + 32;

// 8 rows' 16 bytes at rows[n] + offset, transposed: p[g] lane n = dword g of row n.
LLMKIT_INLINE void transpose8x4(const uint8_t* const* rows, int64_t offset, __m256i (&p)[4]) {
  __m256i z[4];
  for (int j = 0; j < 4; j++) {
    const __m128i low = _mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[j] + offset));
    const __m128i high = _mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[j + 4] + offset));
    z[j] = _mm256_inserti128_si256(_mm256_castsi128_si256(low), high, 1);
  }
  const __m256i t0 = _mm256_unpacklo_epi32(z[0], z[1]), t1 = _mm256_unpackhi_epi32(z[0], z[1]);
  const __m256i t2 = _mm256_unpacklo_epi32(z[2], z[3]), t3 = _mm256_unpackhi_epi32(z[2], z[3]);
  p[0] = _mm256_unpacklo_epi64(t0, t2);
  p[1] = _mm256_unpackhi_epi64(t0, t2);
  p[2] = _mm256_unpacklo_epi64(t1, t3);
  p[3] = _mm256_unpackhi_epi64(t1, t3);
}

template <int format>
void repack_avx2(const WeightRow* w, int64_t b0, int64_t b1, uint8_t* out) {
  const uint8_t* rows[8];
  for (int n = 0; n < 8; n++) rows[n] = w[n].bytes;
  const __m256i fifteen = _mm256_set1_epi8(15);
  const int64_t block_bytes =
      format == kQ8_0 ? 34 : format == kQ4_0 ? 18 : format == kInt8 ? 32 : 16;
  const int64_t codes_at = format == kQ8_0 || format == kQ4_0 ? 2 : 0;
  for (int64_t b = b0; b < b1; b++) {
    uint8_t* o = out + (b - b0) * kAvx2Block;
    const auto store = [&](int g, __m256i v) {
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(o + 32 * g), v);
    };
    __m256i p[4];
    const int64_t at = b * block_bytes + codes_at;
    if (format == kQ8_0 || format == kInt8) {  // signed w as they are
      transpose8x4(rows, at, p);
      for (int g = 0; g < 4; g++) store(g, p[g]);
      transpose8x4(rows, at + 16, p);
      for (int g = 0; g < 4; g++) store(4 + g, p[g]);
    } else {
      transpose8x4(rows, at, p);
      for (int g = 0; g < 4; g++) {
        const __m256i low = _mm256_and_si256(p[g], fifteen);
        const __m256i high = _mm256_and_si256(_mm256_srli_epi16(p[g], 4), fifteen);
        store(g, format == kQ4_0 ? low : high);
        store(4 + g, format == kQ4_0 ? high : low);
      }
    }
    float* scales = reinterpret_cast<float*>(o + 8 * 32);
    for (int n = 0; n < 8; n++) {
      if (format == kQ8_0 || format == kQ4_0) {
        uint16_t half;
        std::memcpy(&half, rows[n] + b * block_bytes, 2);
        scales[n] = half_to_float(half);
      } else {
        scales[n] = format == kInt4 ? w[n].group_scales[group_of(w[n], b)] : 1.0f;
      }
    }
  }
}

template <bool eight_bit, int T>
void product_avx2(const uint8_t* repacked, int64_t blocks, const uint8_t* panel, float* out,
                  bool accumulate) {
  const __m256i ones = _mm256_set1_epi16(1);
  __m256 acc[T];
#pragma GCC unroll 8
  for (int t = 0; t < T; t++) {
    acc[t] = accumulate ? _mm256_loadu_ps(out + 8 * t) : _mm256_setzero_ps();
  }
  for (int64_t b = 0; b < blocks; b++) {
    const uint8_t* wb = repacked + b * kAvx2Block;
    const uint8_t* xb = panel + b * T * (kBlock + 8);
    __m256i sums[T];
#pragma GCC unroll 8
    for (int t = 0; t < T; t++) sums[t] = _mm256_setzero_si256();
#pragma GCC unroll 8
    for (int g = 0; g < 8; g++) {
      const __m256i w = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(wb + 32 * g));
      const __m256i magnitude = eight_bit ? _mm256_abs_epi8(w) : w;
#pragma GCC unroll 8
      for (int t = 0; t < T; t++) {
        int32_t four;
        std::memcpy(&four, xb + t * kBlock + 4 * g, 4);
        const __m256i q = _mm256_set1_epi32(four);
        if (eight_bit) {
          const __m256i pairs = _mm256_maddubs_epi16(magnitude, _mm256_sign_epi8(q, w));
          sums[t] = _mm256_add_epi32(sums[t], _mm256_madd_epi16(pairs, ones));
        } else {  // int16 pairs summed over the block (below 8 * 2 * 15 * 127 < 2^15)
          sums[t] = _mm256_add_epi16(sums[t], _mm256_maddubs_epi16(magnitude, q));
        }
      }
    }
    const __m256 s = _mm256_loadu_ps(reinterpret_cast<const float*>(wb + 8 * 32));
#pragma GCC unroll 8
    for (int t = 0; t < T; t++) {
      int32_t correction;
      float d;
      std::memcpy(&correction, xb + T * (kBlock + 4) + 4 * t, 4);
      std::memcpy(&d, xb + T * kBlock + 4 * t, 4);
      __m256i total = sums[t];
      if (!eight_bit) {
        total = _mm256_add_epi32(_mm256_madd_epi16(total, ones), _mm256_set1_epi32(correction));
      }
      acc[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(total), _mm256_mul_ps(s, _mm256_set1_ps(d)),
                               acc[t]);
    }
  }
#pragma GCC unroll 8
  for (int t = 0; t < T; t++) _mm256_storeu_ps(out + 8 * t, acc[t]);
}

template <int format>
constexpr TilePath avx2_path() {
  constexpr bool eight = !(format == kQ4_0 || format == kInt4);
  return {8, 4, kAvx2Block, eight ? 0 : 8, repack_avx2<format>,
          {product_avx2<eight, 2>, product_avx2<eight, 4>, product_avx2<eight, 4>}};
}
#endif

#if defined(LLMKIT_ISA_AVX512)
// ---- avx512 with VNNI: 16 weight rows, one per 32-bit lane of a 512-bit register ----
//
// A block of a weight tile, repacked: codes [8 groups of 4][16 rows][4 bytes] (unsigned: 8-bit
// w + 128, 4-bit c), then the rows' scales [16] (int8: 1, its row scale comes at the end).
constexpr int64_t kVnniBlock = 8 * 64 + 64;

// 16 rows' 16 bytes at rows[n] + offset, transposed: p[g] lane n = dword g of row n. (Lane L of
// z[j] holds row j + 4L; a 4 x 4 transpose in every 128-bit lane.)
LLMKIT_INLINE void transpose16x4(const uint8_t* const* rows, int64_t offset, __m512i (&p)[4]) {
  __m512i z[4];
  for (int j = 0; j < 4; j++) {
    const auto load = [&](int n) {
      return _mm_loadu_si128(reinterpret_cast<const __m128i*>(rows[n] + offset));
    };
    z[j] = _mm512_castsi128_si512(load(j));
    z[j] = _mm512_inserti32x4(z[j], load(j + 4), 1);
    z[j] = _mm512_inserti32x4(z[j], load(j + 8), 2);
    z[j] = _mm512_inserti32x4(z[j], load(j + 12), 3);
  }
  const __m512i t0 = _mm512_unpacklo_epi32(z[0], z[1]), t1 = _mm512_unpackhi_epi32(z[0], z[1]);
  const __m512i t2 = _mm512_unpacklo_epi32(z[2], z[3]), t3 = _mm512_unpackhi_epi32(z[2], z[3]);
  p[0] = _mm512_unpacklo_epi64(t0, t2);
  p[1] = _mm512_unpackhi_epi64(t0, t2);
  p[2] = _mm512_unpacklo_epi64(t1, t3);
  p[3] = _mm512_unpackhi_epi64(t1, t3);
}

// The weight rows w[0..16) repacked, block by block, into kVnniBlock bytes each.
template <int format>
void repack_vnni(const WeightRow* w, int64_t b0, int64_t b1, uint8_t* out) {
  const uint8_t* rows[16];
  for (int n = 0; n < 16; n++) rows[n] = w[n].bytes;
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80)), fifteen = _mm512_set1_epi8(15);
  const int64_t block_bytes =
      format == kQ8_0 ? 34 : format == kQ4_0 ? 18 : format == kInt8 ? 32 : 16;
  const int64_t codes_at = format == kQ8_0 || format == kQ4_0 ? 2 : 0;
  for (int64_t b = b0; b < b1; b++) {
    uint8_t* o = out + (b - b0) * kVnniBlock;
    const auto store = [&](int g, __m512i v) { _mm512_storeu_si512(o + 64 * g, v); };
    __m512i p[4];
    const int64_t at = b * block_bytes + codes_at;
    if (format == kQ8_0 || format == kInt8) {  // elements 4g..4g + 3 in group g
      transpose16x4(rows, at, p);
      for (int g = 0; g < 4; g++) store(g, _mm512_xor_si512(p[g], flip));
      transpose16x4(rows, at + 16, p);
      for (int g = 0; g < 4; g++) store(4 + g, _mm512_xor_si512(p[g], flip));
    } else {  // q4_0: low nibbles (elements 0..15), then high; int4: high (even), then low (odd)
      transpose16x4(rows, at, p);
      for (int g = 0; g < 4; g++) {
        const __m512i low = _mm512_and_si512(p[g], fifteen);
        const __m512i high = _mm512_and_si512(_mm512_srli_epi16(p[g], 4), fifteen);
        store(g, format == kQ4_0 ? low : high);
        store(4 + g, format == kQ4_0 ? high : low);
      }
    }
    float* scales = reinterpret_cast<float*>(o + 8 * 64);
    if (format == kQ8_0 || format == kQ4_0) {
      alignas(32) uint16_t halves[16];
      for (int n = 0; n < 16; n++) std::memcpy(&halves[n], rows[n] + b * block_bytes, 2);
      _mm512_storeu_ps(scales, _mm512_cvtph_ps(_mm256_load_si256(
                                   reinterpret_cast<const __m256i*>(halves))));
    } else {
      for (int n = 0; n < 16; n++) {
        scales[n] = format == kInt4 ? w[n].group_scales[group_of(w[n], b)] : 1.0f;
      }
    }
  }
}

// A repacked weight tile against a panel of T rows: out[16 t + n] for x row t, weight row n. Per
// block, group g of the 16 rows' codes (one register) meets x's 4 codes of that group broadcast
// (vpdpbusd: lane n += sum of 4 products), 8 groups into one int32 sum per row and x row, which
// then takes the block's two scales once: acc[t] += float(sum + correction) * s[n] * d[t].
template <int T>
__attribute__((target("avx512vnni"))) void product_vnni(const uint8_t* repacked, int64_t blocks,
                                                         const uint8_t* panel, float* out,
                                                         bool accumulate) {
  __m512 acc[T];
#pragma GCC unroll 8
  for (int t = 0; t < T; t++) {
    acc[t] = accumulate ? _mm512_loadu_ps(out + 16 * t) : _mm512_setzero_ps();
  }
  for (int64_t b = 0; b < blocks; b++) {
    const uint8_t* wb = repacked + b * kVnniBlock;
    const uint8_t* xb = panel + b * T * (kBlock + 8);
    __m512i sums[T];
#pragma GCC unroll 8
    for (int t = 0; t < T; t++) {
      int32_t correction;
      std::memcpy(&correction, xb + T * (kBlock + 4) + 4 * t, 4);
      sums[t] = _mm512_set1_epi32(correction);
    }
#pragma GCC unroll 8
    for (int g = 0; g < 8; g++) {
      const __m512i w = _mm512_loadu_si512(wb + 64 * g);
#pragma GCC unroll 8
      for (int t = 0; t < T; t++) {
        int32_t four;
        std::memcpy(&four, xb + t * kBlock + 4 * g, 4);
        sums[t] = _mm512_dpbusd_epi32(sums[t], w, _mm512_set1_epi32(four));
      }
    }
    const __m512 s = _mm512_loadu_ps(reinterpret_cast<const float*>(wb + 8 * 64));
#pragma GCC unroll 8
    for (int t = 0; t < T; t++) {
      float d;
      std::memcpy(&d, xb + T * kBlock + 4 * t, 4);
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sums[t]), _mm512_mul_ps(s, _mm512_set1_ps(d)),
                               acc[t]);
    }
  }
#pragma GCC unroll 8
  for (int t = 0; t < T; t++) _mm512_storeu_ps(out + 16 * t, acc[t]);
}

template <int format>
constexpr TilePath vnni_path() {
  return {16, 8, kVnniBlock, four_bit(format) ? 8 : 128, repack_vnni<format>,
          {product_vnni<2>, product_vnni<4>, product_vnni<8>}};
}
#endif

// The tiles of this path and format (int8, int4, q8_0, q4_0).
TilePath tile_path(Path path, int format) {
  switch (path) {
#if defined(LLMKIT_ISA_AVX512)
    case kPairs:
      switch (format) {
        case kInt8: return vnni_path<kInt8>();
        case kInt4: return vnni_path<kInt4>();
        case kQ8_0: return vnni_path<kQ8_0>();
        default: return vnni_path<kQ4_0>();
      }
#endif
#if defined(LLMKIT_ISA_AVX512) || defined(LLMKIT_ISA_AVX2)
    case kBlocks:
      switch (format) {
        case kInt8: return avx2_path<kInt8>();
        case kInt4: return avx2_path<kInt4>();
        case kQ8_0: return avx2_path<kQ8_0>();
        default: return avx2_path<kQ4_0>();
      }
#endif
    default:
      switch (format) {
        case kInt8: return scalar_path<kInt8>();
        case kInt4: return scalar_path<kInt4>();
        case kQ8_0: return scalar_path<kQ8_0>();
        default: return scalar_path<kQ4_0>();
      }
  }
}

}  // namespace

// Every path wants x's codes in natural order (prepare's scalar layout); panels reorder them.
Path tile_layout(Path) { return kScalar; }

void int8_activation_tiles(const QuantizedArgs& a, Path path, const std::vector<Activations>& x) {
  const int64_t M = a.m, N = a.n, K = a.k, blocks = K / kBlock;
  const TilePath tiles = tile_path(path, a.format);
  const int64_t lanes = tiles.lanes, R = tiles.rows;
  // x's panels: tiles of R rows, the last one of 2 or 4 when at most that many are left
  const int64_t x_tiles = (M + R - 1) / R;
  const int64_t panel_bytes = blocks * R * (kBlock + 8);
  const auto kind = [&](int64_t i) {  // index into tiles.product
    const int64_t left = M - i * R;
    return left <= 2 ? 0 : left <= 4 ? 1 : 2;
  };
  const auto tile_rows = [&](int64_t i) { return kind(i) == 0 ? 2 : kind(i) == 1 ? 4 : R; };
  std::vector<uint8_t> panels(static_cast<size_t>(x_tiles * panel_bytes));
  parallel_range(x_tiles, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; i++) {
      const int64_t m0 = i * R, rows = std::min(R, M - m0);
      build_panel(x, m0, rows, tile_rows(i), K, a.format, tiles.offset,
                  panels.data() + i * panel_bytes);
    }
  });
  const int64_t weight_tiles = (N + lanes - 1) / lanes;
  // K in slices of kSliceBlocks blocks, so a slice of the repacked tile (VNNI: 18 KB) and of a
  // panel (10 KB) stay in L1 while the slice runs; each tile of x keeps its sums in `sums`
  parallel_range(weight_tiles, 1, [&](int64_t begin, int64_t end) {
    const int64_t slice = std::min(blocks, kSliceBlocks);
    uint8_t* repacked = reinterpret_cast<uint8_t*>(
        thread_scratch(0, static_cast<size_t>(slice * tiles.block_bytes / 4)));
    float* sums = thread_scratch(1, static_cast<size_t>(x_tiles * R * lanes));
    WeightRow w[16];
    for (int64_t tile = begin; tile < end; tile++) {
      // rows past N repeat the last one; their results are not stored
      const int64_t n0 = tile * lanes, valid = std::min(lanes, N - n0);
      for (int64_t n = 0; n < lanes; n++) w[n] = weight_row(a, std::min(n0 + n, N - 1));
      for (int64_t b0 = 0; b0 < blocks; b0 += slice) {
        const int64_t b1 = std::min(blocks, b0 + slice);
        tiles.repack(w, b0, b1, repacked);
        for (int64_t i = 0; i < x_tiles; i++) {
          const uint8_t* panel = panels.data() + i * panel_bytes + b0 * tile_rows(i) * (kBlock + 8);
          tiles.product[kind(i)](repacked, b1 - b0, panel, sums + i * R * lanes, b0 > 0);
        }
      }
      for (int64_t i = 0; i < x_tiles; i++) {
        const int64_t m0 = i * R, rows = std::min(R, M - m0);
        const float* tile_sums = sums + i * R * lanes;
        for (int64_t t = 0; t < rows; t++) {
          float* row = a.out + (m0 + t) * N + n0;
          for (int64_t n = 0; n < valid; n++) {
            row[n] = tile_sums[t * lanes + n] * (a.format == kInt8 ? a.scales[n0 + n] : 1.0f);
          }
        }
      }
    }
  });
}

}  // namespace LLMKIT_NS
}  // namespace llmkit
