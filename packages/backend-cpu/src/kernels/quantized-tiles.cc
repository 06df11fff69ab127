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
// Threads take ranges of weight tiles; each repacks its tile into its scratch (L1 / L2: K 3072 is
// 54 KB) and runs every panel against it. avx512 with VNNI only; the other paths take the row by
// row products (quantized-activations.cc).
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

#if defined(LLMKIT_ISA_AVX512)
constexpr int64_t kTileWeights = 16;  // one 32-bit lane of a 512-bit register per weight row
constexpr int64_t kTileRows = 8;
// A block of a weight tile, repacked: codes [8 groups of 4][16 rows][4 bytes] (unsigned: 8-bit
// w + 128, 4-bit c), then the rows' scales [16] (int8: 1, its row scale comes at the end).
constexpr int64_t kRepackedBlock = 8 * 64 + 64;

// x's rows [m0, m0 + rows) as one panel of T rows (rows past M are zeros): per block, the tile's
// 32 codes per row in the order of the weight groups (natural; int4: per group of 8 elements the
// even ones then the odd ones, as its bytes' high and low nibbles), then T d's, then T code-sum
// corrections (-offset * sum q: the weights went in as w + 128 or c, not w or c - 8).
void build_panel(const std::vector<Activations>& x, int64_t m0, int64_t rows, int64_t T,
                 int64_t K, int format, uint8_t* panel) {
  const int64_t blocks = K / kBlock, stride = T * (kBlock + 8);
  const int32_t offset = four_bit(format) ? 8 : 128;
  std::memset(panel, 0, static_cast<size_t>(blocks * stride));
  for (int64_t t = 0; t < rows; t++) {
    const Activations& row = x[m0 + t];
    for (int64_t b = 0; b < blocks; b++) {
      uint8_t* at = panel + b * stride;
      const int8_t* codes = row.codes.data() + b * kBlock;
      int8_t* out = reinterpret_cast<int8_t*>(at + t * kBlock);
      if (format == kInt4) {  // position 4g + i: element 8g + 2i (g < 4), 8(g - 4) + 2i + 1
        for (int64_t j = 0; j < kBlock; j++) {
          out[j] = codes[(j & 15) / 4 * 8 + (j & 3) * 2 + j / 16];
        }
      } else {
        std::memcpy(out, codes, kBlock);
      }
      const float d = row.d[b];
      const int32_t correction = -offset * row.sums[b];
      std::memcpy(at + T * kBlock + 4 * t, &d, 4);
      std::memcpy(at + T * (kBlock + 4) + 4 * t, &correction, 4);
    }
  }
}

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

// The weight rows w[0..16) repacked, block by block, into kRepackedBlock bytes each.
template <int format>
void repack(const WeightRow (&w)[kTileWeights], int64_t blocks, uint8_t* out) {
  const uint8_t* rows[kTileWeights];
  for (int n = 0; n < kTileWeights; n++) rows[n] = w[n].bytes;
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80)), fifteen = _mm512_set1_epi8(15);
  const int64_t block_bytes =
      format == kQ8_0 ? 34 : format == kQ4_0 ? 18 : format == kInt8 ? 32 : 16;
  const int64_t codes_at = format == kQ8_0 || format == kQ4_0 ? 2 : 0;
  for (int64_t b = 0; b < blocks; b++) {
    uint8_t* o = out + b * kRepackedBlock;
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
      alignas(32) uint16_t halves[kTileWeights];
      for (int n = 0; n < kTileWeights; n++) std::memcpy(&halves[n], rows[n] + b * block_bytes, 2);
      _mm512_storeu_ps(scales, _mm512_cvtph_ps(_mm256_load_si256(
                                   reinterpret_cast<const __m256i*>(halves))));
    } else {
      for (int n = 0; n < kTileWeights; n++) {
        scales[n] = format == kInt4 ? w[n].group_scales[group_of(w[n], b)] : 1.0f;
      }
    }
  }
}

// A repacked weight tile against a panel of T rows: out[t] lane n = out[m0 + t, n0 + n]. Per
// block, group g of the 16 rows' codes (one register) meets x's 4 codes of that group broadcast
// (vpdpbusd: lane n += sum of 4 products), 8 groups into one int32 sum per row and x row, which
// then takes the block's two scales once: acc[t] += float(sum + correction) * s[n] * d[t].
template <int T>
__attribute__((target("avx512vnni"))) void tile_product(const uint8_t* repacked, int64_t blocks,
                                                         const uint8_t* panel, __m512* out) {
  __m512 acc[T];
#pragma GCC unroll 8
  for (int t = 0; t < T; t++) acc[t] = _mm512_setzero_ps();
  for (int64_t b = 0; b < blocks; b++) {
    const uint8_t* wb = repacked + b * kRepackedBlock;
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
  for (int t = 0; t < T; t++) out[t] = acc[t];
}

using Repack = void (*)(const WeightRow (&w)[kTileWeights], int64_t blocks, uint8_t* out);

Repack repack_for(int format) {
  switch (format) {
    case kInt8: return repack<kInt8>;
    case kInt4: return repack<kInt4>;
    case kQ8_0: return repack<kQ8_0>;
    default: return repack<kQ4_0>;
  }
}

void vnni_tiles(const QuantizedArgs& a, const std::vector<Activations>& x) {
  const int64_t M = a.m, N = a.n, K = a.k, blocks = K / kBlock;
  // x's panels: tiles of kTileRows rows, the last one of 2 or 4 when at most that many are left
  const int64_t x_tiles = (M + kTileRows - 1) / kTileRows;
  const int64_t panel_bytes = blocks * kTileRows * (kBlock + 8);
  const auto tile_size = [&](int64_t i) {
    const int64_t left = M - i * kTileRows;
    return left <= 2 ? int64_t{2} : left <= 4 ? int64_t{4} : kTileRows;
  };
  std::vector<uint8_t> panels(static_cast<size_t>(x_tiles * panel_bytes));
  parallel_range(x_tiles, 1, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; i++) {
      const int64_t m0 = i * kTileRows, rows = std::min(kTileRows, M - m0);
      build_panel(x, m0, rows, tile_size(i), K, a.format, panels.data() + i * panel_bytes);
    }
  });
  const Repack repack_tile = repack_for(a.format);
  const int64_t weight_tiles = (N + kTileWeights - 1) / kTileWeights;
  parallel_range(weight_tiles, 1, [&](int64_t begin, int64_t end) {
    uint8_t* repacked = reinterpret_cast<uint8_t*>(
        thread_scratch(0, static_cast<size_t>(blocks * kRepackedBlock / 4)));
    __m512 out[kTileRows];
    for (int64_t tile = begin; tile < end; tile++) {
      // rows past N repeat the last one; their lanes are not stored
      const int64_t n0 = tile * kTileWeights, valid = std::min(kTileWeights, N - n0);
      WeightRow w[kTileWeights];
      for (int64_t n = 0; n < kTileWeights; n++) w[n] = weight_row(a, std::min(n0 + n, N - 1));
      repack_tile(w, blocks, repacked);
      const __mmask16 mask = static_cast<__mmask16>((1u << valid) - 1);
      const __m512 row_scales = a.format == kInt8 ? _mm512_maskz_loadu_ps(mask, a.scales + n0)
                                                  : _mm512_set1_ps(1.0f);
      for (int64_t i = 0; i < x_tiles; i++) {
        const int64_t m0 = i * kTileRows, rows = std::min(kTileRows, M - m0);
        const uint8_t* panel = panels.data() + i * panel_bytes;
        switch (tile_size(i)) {
          case 2: tile_product<2>(repacked, blocks, panel, out); break;
          case 4: tile_product<4>(repacked, blocks, panel, out); break;
          default: tile_product<kTileRows>(repacked, blocks, panel, out);
        }
        for (int64_t t = 0; t < rows; t++) {
          _mm512_mask_storeu_ps(a.out + (m0 + t) * N + n0, mask, _mm512_mul_ps(out[t], row_scales));
        }
      }
    }
  });
}
#endif

}  // namespace

Path tile_layout(Path path) { return path == kPairs ? kScalar : path; }

void int8_activation_tiles(const QuantizedArgs& a, Path path, const std::vector<Activations>& x) {
#if defined(LLMKIT_ISA_AVX512)
  if (path == kPairs) {
    vnni_tiles(a, x);
    return;
  }
#endif
  (void)a;
  (void)path;
  (void)x;
}

}  // namespace LLMKIT_NS
}  // namespace llmkit
