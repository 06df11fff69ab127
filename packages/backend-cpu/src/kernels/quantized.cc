// Quantized matmul kernels (see quantized.h), compiled once per instruction set like every file
// in binding.gyp's kernel_sources. Each weight row is decoded into a thread-local scratch row (K
// floats, in L1) with the integer-to-float conversions vectorised (AVX2: 8 lanes, AVX-512: 16;
// int4 / nf4 nibbles unpacked 32 at a time), then dotted with every row of x, so a decoded row is
// reused M times and the packed bytes are read once per product. For a few rows of x (M <= 4, a
// decoded token) AVX2 / AVX-512 skip the scratch row: each packed row is dotted with x directly
// and each scale multiplies its group's sum once (fused_matmul; for int4 / nf4 x is first
// reordered even elements then odd ones per 32, so the nibbles need no interleaving). Threads split the output features
// (forward) or the K columns (input gradient). fp16 / bf16 weights run half.cc's products instead
// (matrix-vector products for a few rows of x, gemm.cc's GEMM above).
#include <algorithm>
#include <cstring>
#include <vector>

#include "common.h"
#include "quantized.h"
#include "simd.h"

namespace llmkit {
namespace LLMKIT_NS {

// quantized-activations.cc
void int8_activation_matmul(const QuantizedArgs& a);
// half.cc: fp16 / bf16 weights (matrix-vector products, or gemm.cc's GEMM).
void half_matmul(const QuantizedArgs& a);

namespace {

// bitsandbytes' NF4 code values (QLoRA).
constexpr float kNf4Code[16] = {
    -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f,
    -0.28444138169288635f, -0.18477343022823334f, -0.09105003625154495f, 0.0f,
    0.07958029955625534f, 0.16093020141124725f, 0.24611230194568634f, 0.33791524171829224f,
    0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1.0f};

// half_to_float without its branches on the common path (a block scale per 32 weights is hot in
// the fused products): AVX-512's conversion instruction, else the bits moved into a float's place
// times 2^112 (exact for normal and subnormal halves), infinities and NaNs the slow way.
LLMKIT_INLINE float block_scale(uint16_t h) {
#if defined(LLMKIT_ISA_AVX512)
  const __m256i bits = _mm256_castsi128_si256(_mm_cvtsi32_si128(h));
  return _mm_cvtss_f32(_mm512_castps512_ps128(_mm512_cvtph_ps(bits)));
#else
  if ((h & 0x7c00) == 0x7c00) return half_to_float(h);
  const uint32_t moved = static_cast<uint32_t>(h & 0x7fff) << 13;
  float magnitude;
  std::memcpy(&magnitude, &moved, 4);
  magnitude *= 0x1p112f;
  return (h & 0x8000) ? -magnitude : magnitude;
#endif
}

// n int8 values times scale into out.
LLMKIT_INLINE void decode_int8(const int8_t* q, float scale, float* out, int64_t n) {
  int64_t i = 0;
#if defined(LLMKIT_ISA_AVX512)
  const __m512 s = _mm512_set1_ps(scale);
  for (; i + 16 <= n; i += 16) {
    __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(q + i));
    _mm512_storeu_ps(out + i, _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(bytes)), s));
  }
#elif defined(LLMKIT_ISA_AVX2)
  const __m256 s = _mm256_set1_ps(scale);
  for (; i + 8 <= n; i += 8) {
    __m128i bytes = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(q + i));
    _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(bytes)), s));
  }
#endif
  for (; i < n; i++) out[i] = q[i] * scale;
}

// Q4_0's 16 bytes: element j (low nibble) and j + 16 (high nibble), (code - 8) * d.
LLMKIT_INLINE void decode_q4_block(const uint8_t* qs, float d, float* out) {
#if defined(LLMKIT_ISA_AVX512)
  __m512i bytes = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(qs)));
  const __m512i eight = _mm512_set1_epi32(8), fifteen = _mm512_set1_epi32(15);
  const __m512 s = _mm512_set1_ps(d);
  __m512i lo = _mm512_sub_epi32(_mm512_and_si512(bytes, fifteen), eight);
  __m512i hi = _mm512_sub_epi32(_mm512_srli_epi32(bytes, 4), eight);
  _mm512_storeu_ps(out, _mm512_mul_ps(_mm512_cvtepi32_ps(lo), s));
  _mm512_storeu_ps(out + 16, _mm512_mul_ps(_mm512_cvtepi32_ps(hi), s));
#else
  for (int j = 0; j < 16; j++) {
    out[j] = ((qs[j] & 15) - 8) * d;
    out[j + 16] = ((qs[j] >> 4) - 8) * d;
  }
#endif
}

// How a 4-bit code becomes a weight: (c - 8) s (symmetric int4), c s + minimum (asymmetric int4),
// NF4[c] s (nf4).
enum NibbleMode { kSymmetric, kAsymmetric, kNormalFloat };

LLMKIT_INLINE float decode_nibble(int code, NibbleMode mode, float s, float minimum) {
  if (mode == kNormalFloat) return kNf4Code[code] * s;
  if (mode == kAsymmetric) return std::fma(static_cast<float>(code), s, minimum);
  return (code - 8) * s;
}

#if defined(LLMKIT_ISA_AVX512) || defined(LLMKIT_ISA_AVX2)
// 16 codes (bytes 0..15) -> 16 weights. The asymmetric form is one fused multiply-add, as the
// scalar std::fma, so every path gives the same bits.
#if defined(LLMKIT_ISA_AVX512)
LLMKIT_INLINE void decode_codes16(__m128i codes, NibbleMode mode, float s, float minimum,
                                  float* out) {
  const __m512i index = _mm512_cvtepu8_epi32(codes);
  const __m512 scale = _mm512_set1_ps(s);
  if (mode == kNormalFloat) {
    const __m512 table = _mm512_loadu_ps(kNf4Code);
    _mm512_storeu_ps(out, _mm512_mul_ps(_mm512_permutexvar_ps(index, table), scale));
  } else if (mode == kAsymmetric) {
    _mm512_storeu_ps(out, _mm512_fmadd_ps(_mm512_cvtepi32_ps(index), scale,
                                          _mm512_set1_ps(minimum)));
  } else {
    const __m512i centred = _mm512_sub_epi32(index, _mm512_set1_epi32(8));
    _mm512_storeu_ps(out, _mm512_mul_ps(_mm512_cvtepi32_ps(centred), scale));
  }
}
#else
LLMKIT_INLINE void decode_codes8(__m128i codes, NibbleMode mode, float s, float minimum,
                                 float* out) {
  const __m256i index = _mm256_cvtepu8_epi32(codes);
  const __m256 scale = _mm256_set1_ps(s);
  if (mode == kNormalFloat) {
    // 16-entry table from two 8-entry permutes, picked by index > 7.
    const __m256 low = _mm256_permutevar8x32_ps(_mm256_loadu_ps(kNf4Code), index);
    const __m256 high = _mm256_permutevar8x32_ps(_mm256_loadu_ps(kNf4Code + 8), index);
    const __m256 upper = _mm256_castsi256_ps(_mm256_cmpgt_epi32(index, _mm256_set1_epi32(7)));
    _mm256_storeu_ps(out, _mm256_mul_ps(_mm256_blendv_ps(low, high, upper), scale));
  } else if (mode == kAsymmetric) {
    _mm256_storeu_ps(out, _mm256_fmadd_ps(_mm256_cvtepi32_ps(index), scale,
                                          _mm256_set1_ps(minimum)));
  } else {
    const __m256i centred = _mm256_sub_epi32(index, _mm256_set1_epi32(8));
    _mm256_storeu_ps(out, _mm256_mul_ps(_mm256_cvtepi32_ps(centred), scale));
  }
}
LLMKIT_INLINE void decode_codes16(__m128i codes, NibbleMode mode, float s, float minimum,
                                  float* out) {
  decode_codes8(codes, mode, s, minimum, out);
  decode_codes8(_mm_srli_si128(codes, 8), mode, s, minimum, out + 8);
}
#endif

// 16 packed bytes -> 32 weights. The first code of a byte is its high nibble, so unpacking the
// high and low nibbles byte by byte gives the codes in order: [hi0, lo0, hi1, lo1, ...].
LLMKIT_INLINE void decode_nibbles32(const uint8_t* bytes, NibbleMode mode, float s, float minimum,
                                    float* out) {
  const __m128i packed = _mm_loadu_si128(reinterpret_cast<const __m128i*>(bytes));
  const __m128i fifteen = _mm_set1_epi8(15);
  const __m128i high = _mm_and_si128(_mm_srli_epi16(packed, 4), fifteen);
  const __m128i low = _mm_and_si128(packed, fifteen);
  decode_codes16(_mm_unpacklo_epi8(high, low), mode, s, minimum, out);
  decode_codes16(_mm_unpackhi_epi8(high, low), mode, s, minimum, out + 16);
}
#endif

// Columns [k0, k1) of int4 / nf4 row r (k0, k1 multiples of the group) into out, one group at a
// time; the mode is a template parameter so the inner loops have no branch.
template <NibbleMode mode>
void decode_groups(const QuantizedArgs& a, int64_t r, int64_t k0, int64_t k1, float* out) {
  const uint8_t* packed = static_cast<const uint8_t*>(a.weight) + r * (a.k / 2);
  const int64_t groups = a.k / a.group;
  for (int64_t g = k0 / a.group; g < k1 / a.group; g++) {
    const float s = a.scales[r * groups + g];
    const float minimum = mode == kAsymmetric ? a.minimums[r * groups + g] : 0.0f;
    const uint8_t* bytes = packed + g * a.group / 2;
    float* dst = out + (g * a.group - k0);
    int64_t j = 0;
#if defined(LLMKIT_ISA_AVX512) || defined(LLMKIT_ISA_AVX2)
    for (; j + 16 <= a.group / 2; j += 16)
      decode_nibbles32(bytes + j, mode, s, minimum, dst + 2 * j);
#endif
    for (; j < a.group / 2; j++) {
      dst[2 * j] = decode_nibble(bytes[j] >> 4, mode, s, minimum);
      dst[2 * j + 1] = decode_nibble(bytes[j] & 15, mode, s, minimum);
    }
  }
}

// Decodes columns [k0, k1) of weight row r into out[0, k1 - k0). k0 and k1 are multiples of the
// format's block (32 for q8_0/q4_0, the group for int4/nf4; any for fp16/bf16/int8).
void decode_row(const QuantizedArgs& a, int64_t r, int64_t k0, int64_t k1, float* out) {
  const int64_t K = a.k;
  switch (a.format) {
    case kFp16: {
      const uint16_t* bits = static_cast<const uint16_t*>(a.weight) + r * K;
      for (int64_t k = k0; k < k1; k++) out[k - k0] = half_to_float(bits[k]);
      return;
    }
    case kBf16: {
      const uint16_t* bits = static_cast<const uint16_t*>(a.weight) + r * K;
      for (int64_t k = k0; k < k1; k++) {
        uint32_t word = static_cast<uint32_t>(bits[k]) << 16;
        std::memcpy(out + (k - k0), &word, 4);
      }
      return;
    }
    case kInt8:
      decode_int8(static_cast<const int8_t*>(a.weight) + r * K + k0, a.scales[r], out, k1 - k0);
      return;
    case kInt4:
    case kNf4:
      if (a.format == kNf4) decode_groups<kNormalFloat>(a, r, k0, k1, out);
      else if (a.symmetric) decode_groups<kSymmetric>(a, r, k0, k1, out);
      else decode_groups<kAsymmetric>(a, r, k0, k1, out);
      return;
    case kQ8_0:
    case kQ4_0: {
      const int64_t block_bytes = a.format == kQ8_0 ? 34 : 18;
      const uint8_t* row = static_cast<const uint8_t*>(a.weight) + r * (K / 32) * block_bytes;
      for (int64_t b = k0 / 32; b < k1 / 32; b++) {
        const uint8_t* block = row + b * block_bytes;
        uint16_t bits;
        std::memcpy(&bits, block, 2);
        const float d = half_to_float(bits);
        float* dst = out + (b * 32 - k0);
        if (a.format == kQ8_0) {
          decode_int8(reinterpret_cast<const int8_t*>(block + 2), d, dst, 32);
        } else {
          decode_q4_block(block + 2, d, dst);
        }
      }
      return;
    }
  }
}

#if defined(LLMKIT_ISA_AVX512) || defined(LLMKIT_ISA_AVX2)
// Few rows of x (decoding a token: M = 1): the rows of int8, int4, nf4, q8_0 and q4_0 weights are
// dotted with x straight from the packed bytes, without writing the decoded row, and each scale
// multiplies its group's sum once: sum_j q_j s x_j = s sum_j q_j x_j (int8, q8_0, q4_0,
// symmetric int4 with q = c - 8, nf4 with q = NF4[c]), s sum_j c_j x_j + minimum sum_j x_j
// (asymmetric int4). Rounding differs from decode-then-dot by float error only.
constexpr int64_t kFusedRows = 4;
constexpr int64_t kPrefetchRows = 2;

#if defined(LLMKIT_ISA_AVX512)
// 16 codes (one per 32-bit lane) -> their values without the scale.
template <NibbleMode mode>
LLMKIT_INLINE __m512 code_values(__m512i index) {
  if (mode == kNormalFloat) return _mm512_permutexvar_ps(index, _mm512_loadu_ps(kNf4Code));
  if (mode == kAsymmetric) return _mm512_cvtepi32_ps(index);
  return _mm512_cvtepi32_ps(_mm512_sub_epi32(index, _mm512_set1_epi32(8)));
}
// 16 int8 weights times 16 x, added to acc.
LLMKIT_INLINE Vec dot_int8_16(const int8_t* q, const float* x, Vec acc) {
  const __m512i values = _mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(q)));
  acc.v = _mm512_fmadd_ps(_mm512_cvtepi32_ps(values), _mm512_loadu_ps(x), acc.v);
  return acc;
}
// A Q4_0 block's 32 weights (16 bytes: element j low nibble, j + 16 high) times x, added to acc.
LLMKIT_INLINE Vec dot_q4_32(const uint8_t* qs, const float* x, Vec acc) {
  const __m512i bytes = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(qs)));
  const __m512i eight = _mm512_set1_epi32(8), fifteen = _mm512_set1_epi32(15);
  const __m512i low = _mm512_sub_epi32(_mm512_and_si512(bytes, fifteen), eight);
  const __m512i high = _mm512_sub_epi32(_mm512_srli_epi32(bytes, 4), eight);
  acc.v = _mm512_fmadd_ps(_mm512_cvtepi32_ps(low), _mm512_loadu_ps(x), acc.v);
  acc.v = _mm512_fmadd_ps(_mm512_cvtepi32_ps(high), _mm512_loadu_ps(x + 16), acc.v);
  return acc;
}
// sum over 32 weights (16 packed bytes) of value(c) * x, added to acc, with x split as
// split_halves makes it: byte j's high nibble is element 2j, its low nibble element 2j + 1, so
// the high nibbles meet x's even elements (xs[0..15]) and the low ones its odd (xs[16..31]).
template <NibbleMode mode>
LLMKIT_INLINE Vec dot_nibbles32(const uint8_t* bytes, const float* xs, Vec acc) {
  const __m512i packed =
      _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(bytes)));
  const __m512i high = _mm512_srli_epi32(packed, 4);
  const __m512i low = _mm512_and_si512(packed, _mm512_set1_epi32(15));
  acc.v = _mm512_fmadd_ps(code_values<mode>(high), _mm512_loadu_ps(xs), acc.v);
  acc.v = _mm512_fmadd_ps(code_values<mode>(low), _mm512_loadu_ps(xs + 16), acc.v);
  return acc;
}
#else
LLMKIT_INLINE Vec dot_int8_16(const int8_t* q, const float* x, Vec acc) {
  for (int half = 0; half < 2; half++) {
    const __m256i values =
        _mm256_cvtepi8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(q + 8 * half)));
    acc.v = _mm256_fmadd_ps(_mm256_cvtepi32_ps(values), _mm256_loadu_ps(x + 8 * half), acc.v);
  }
  return acc;
}
LLMKIT_INLINE Vec dot_q4_32(const uint8_t* qs, const float* x, Vec acc) {
  const __m256i eight = _mm256_set1_epi32(8), fifteen = _mm256_set1_epi32(15);
  for (int half = 0; half < 2; half++) {
    const __m256i bytes =
        _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(qs + 8 * half)));
    const __m256i low = _mm256_sub_epi32(_mm256_and_si256(bytes, fifteen), eight);
    const __m256i high = _mm256_sub_epi32(_mm256_srli_epi32(bytes, 4), eight);
    acc.v = _mm256_fmadd_ps(_mm256_cvtepi32_ps(low), _mm256_loadu_ps(x + 8 * half), acc.v);
    acc.v = _mm256_fmadd_ps(_mm256_cvtepi32_ps(high), _mm256_loadu_ps(x + 16 + 8 * half), acc.v);
  }
  return acc;
}
template <NibbleMode mode>
LLMKIT_INLINE __m256 code_values(__m256i index) {
  if (mode == kNormalFloat) {
    const __m256 low = _mm256_permutevar8x32_ps(_mm256_loadu_ps(kNf4Code), index);
    const __m256 high = _mm256_permutevar8x32_ps(_mm256_loadu_ps(kNf4Code + 8), index);
    const __m256 upper = _mm256_castsi256_ps(_mm256_cmpgt_epi32(index, _mm256_set1_epi32(7)));
    return _mm256_blendv_ps(low, high, upper);
  }
  if (mode == kAsymmetric) return _mm256_cvtepi32_ps(index);
  return _mm256_cvtepi32_ps(_mm256_sub_epi32(index, _mm256_set1_epi32(8)));
}
template <NibbleMode mode>
LLMKIT_INLINE Vec dot_nibbles32(const uint8_t* bytes, const float* xs, Vec acc) {
  const __m256i fifteen = _mm256_set1_epi32(15);
  for (int half = 0; half < 2; half++) {
    const __m256i packed =
        _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(bytes + 8 * half)));
    acc.v = _mm256_fmadd_ps(code_values<mode>(_mm256_srli_epi32(packed, 4)),
                            _mm256_loadu_ps(xs + 8 * half), acc.v);
    acc.v = _mm256_fmadd_ps(code_values<mode>(_mm256_and_si256(packed, fifteen)),
                            _mm256_loadu_ps(xs + 16 + 8 * half), acc.v);
  }
  return acc;
}
#endif

// x [K] with each 32 elements reordered even ones first, odd ones next:
// [x0, x2, ..., x30, x1, x3, ..., x31], what dot_nibbles32 reads.
void split_halves(const float* x, int64_t K, float* out) {
  for (int64_t c = 0; c < K; c += 32)
    for (int64_t i = 0; i < 16; i++) {
      out[c + i] = x[c + 2 * i];
      out[c + 16 + i] = x[c + 2 * i + 1];
    }
}

// Row r of an int4 / nf4 weight (group a multiple of 32) dotted with x [K] (split_halves' order).
template <NibbleMode mode>
float dot_nibble_row(const QuantizedArgs& a, int64_t r, const float* x) {
  const uint8_t* packed = static_cast<const uint8_t*>(a.weight) + r * (a.k / 2);
  const int64_t groups = a.k / a.group;
  Vec acc = vset(0), shifted = vset(0);
  for (int64_t g = 0; g < groups; g++) {
    const uint8_t* bytes = packed + g * a.group / 2;
    const float* xs = x + g * a.group;
    Vec sum = vset(0);
    for (int64_t j = 0; j < a.group; j += 32) sum = dot_nibbles32<mode>(bytes + j / 2, xs + j, sum);
    acc = vfma(sum, vset(a.scales[r * groups + g]), acc);
    if (mode == kAsymmetric) {
      Vec total = vset(0);
      for (int64_t j = 0; j < a.group; j += kLanes) total = total + vload(xs + j);
      shifted = vfma(total, vset(a.minimums[r * groups + g]), shifted);
    }
  }
  return vsum(acc + shifted);
}

// Row r of an int8 weight dotted with x [K] (any K).
float dot_int8_row(const QuantizedArgs& a, int64_t r, const float* x) {
  const int8_t* q = static_cast<const int8_t*>(a.weight) + r * a.k;
  Vec acc = vset(0);
  int64_t k = 0;
  for (; k + 16 <= a.k; k += 16) acc = dot_int8_16(q + k, x + k, acc);
  float sum = vsum(acc);
  for (; k < a.k; k++) sum += q[k] * x[k];
  return sum * a.scales[r];
}

// Row r of a Q8_0 or Q4_0 weight dotted with x [K]: each block's fp16 d times its sum.
template <bool q8>
float dot_block_row(const QuantizedArgs& a, int64_t r, const float* x) {
  constexpr int64_t block_bytes = q8 ? 34 : 18;
  const uint8_t* row = static_cast<const uint8_t*>(a.weight) + r * (a.k / 32) * block_bytes;
  Vec acc = vset(0);
  for (int64_t b = 0; b < a.k / 32; b++) {
    const uint8_t* block = row + b * block_bytes;
    uint16_t bits;
    std::memcpy(&bits, block, 2);
    Vec sum = vset(0);
    if (q8) {
      const int8_t* q = reinterpret_cast<const int8_t*>(block + 2);
      sum = dot_int8_16(q + 16, x + b * 32 + 16, dot_int8_16(q, x + b * 32, sum));
    } else {
      sum = dot_q4_32(block + 2, x + b * 32, sum);
    }
    acc = vfma(sum, vset(block_scale(bits)), acc);
  }
  return vsum(acc);
}

// Row r dotted with x, for the formats fused_matmul takes.
float dot_packed_row(const QuantizedArgs& a, int64_t r, const float* x) {
  switch (a.format) {
    case kInt8:
      return dot_int8_row(a, r, x);
    case kQ8_0:
      return dot_block_row<true>(a, r, x);
    case kQ4_0:
      return dot_block_row<false>(a, r, x);
    case kNf4:
      return dot_nibble_row<kNormalFloat>(a, r, x);
    default:
      return a.symmetric ? dot_nibble_row<kSymmetric>(a, r, x)
                         : dot_nibble_row<kAsymmetric>(a, r, x);
  }
}

// The fused products for M <= kFusedRows, or false when the format has none.
bool fused_matmul(const QuantizedArgs& a) {
  const bool nibbles = (a.format == kInt4 || a.format == kNf4) && a.group % 32 == 0;
  const bool fused = nibbles || a.format == kInt8 || a.format == kQ8_0 || a.format == kQ4_0;
  if (a.transposed || a.m > kFusedRows || !fused) return false;
  const int64_t M = a.m, N = a.n, K = a.k;
  std::vector<float> split;  // x reordered for the nibble formats
  const float* x = a.x;
  if (nibbles) {
    split.resize(static_cast<size_t>(M * K));
    for (int64_t m = 0; m < M; m++) split_halves(a.x + m * K, K, split.data() + m * K);
    x = split.data();
  }
  // Bytes of one packed row; the row a few ahead is prefetched, as the hardware's prefetcher alone
  // leaves the product waiting on memory (weights are read once per token, from DRAM).
  const int64_t row_bytes = packed_row_bytes(a.format, K);
  const char* weights = static_cast<const char*>(a.weight);
  parallel_range(N, std::max<int64_t>(1, 32768 / K), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; r++) {
      if (r + kPrefetchRows < end) {
        const char* ahead = weights + (r + kPrefetchRows) * row_bytes;
        for (int64_t b = 0; b < row_bytes; b += 64) _mm_prefetch(ahead + b, _MM_HINT_T0);
      }
      for (int64_t m = 0; m < M; m++) a.out[m * N + r] = dot_packed_row(a, r, x + m * K);
    }
  });
  return true;
}
#else
bool fused_matmul(const QuantizedArgs&) { return false; }
#endif

// sum_i a[i] * b[i] with four accumulators (the FMA latency, not its throughput, bounds one).
LLMKIT_INLINE float dot(const float* a, const float* b, int64_t n) {
  Vec s0 = vset(0), s1 = vset(0), s2 = vset(0), s3 = vset(0);
  int64_t i = 0;
  for (; i + 4 * kLanes <= n; i += 4 * kLanes) {
    s0 = vfma(vload(a + i), vload(b + i), s0);
    s1 = vfma(vload(a + i + kLanes), vload(b + i + kLanes), s1);
    s2 = vfma(vload(a + i + 2 * kLanes), vload(b + i + 2 * kLanes), s2);
    s3 = vfma(vload(a + i + 3 * kLanes), vload(b + i + 3 * kLanes), s3);
  }
  for (; i + kLanes <= n; i += kLanes) s0 = vfma(vload(a + i), vload(b + i), s0);
  float s = vsum(s0 + s1 + (s2 + s3));
  for (; i < n; i++) s += a[i] * b[i];
  return s;
}

// out[i] += g * row[i].
LLMKIT_INLINE void axpy(float g, const float* row, float* out, int64_t n) {
  const Vec vg = vset(g);
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) vstore(out + i, vfma(vg, vload(row + i), vload(out + i)));
  for (; i < n; i++) out[i] += g * row[i];
}

void quantized_matmul(const QuantizedArgs& a) {
  const int64_t M = a.m, N = a.n, K = a.k;
  if (M == 0 || N == 0 || K == 0) {
    if (a.transposed) std::fill(a.out, a.out + M * K, 0.0f);
    else std::fill(a.out, a.out + M * N, 0.0f);
    return;
  }
  if (a.int8_activations && !a.transposed) {
    int8_activation_matmul(a);
    return;
  }
  if (a.format == kFp16 || a.format == kBf16) {
    half_matmul(a);
    return;
  }
  if (fused_matmul(a)) return;
  if (!a.transposed) {
    // Rows of W per task: enough work (~32K weights) to pay for a wake-up.
    const int64_t min_rows = std::max<int64_t>(1, 32768 / K);
    parallel_range(N, min_rows, [&](int64_t begin, int64_t end) {
      float* row = thread_scratch(0, static_cast<size_t>(K));
      for (int64_t r = begin; r < end; r++) {
        decode_row(a, r, 0, K, row);
        for (int64_t m = 0; m < M; m++) a.out[m * N + r] = dot(a.x + m * K, row, K);
      }
    });
    return;
  }
  // Input gradient: out [M, K] = x [M, N] @ W. Threads take column ranges aligned to the
  // format's block, so each decodes only its part of every row.
  const int64_t unit = a.group > 1 ? a.group : 32;
  const int64_t chunk = unit * std::max<int64_t>(1, 512 / unit);
  const int64_t chunks = (K + chunk - 1) / chunk;
  parallel_range(chunks, 1, [&](int64_t begin, int64_t end) {
    float* row = thread_scratch(0, static_cast<size_t>(chunk));
    for (int64_t c = begin; c < end; c++) {
      const int64_t k0 = c * chunk, k1 = std::min(K, k0 + chunk);
      for (int64_t m = 0; m < M; m++) std::fill(a.out + m * K + k0, a.out + m * K + k1, 0.0f);
      for (int64_t r = 0; r < N; r++) {
        decode_row(a, r, k0, k1, row);
        for (int64_t m = 0; m < M; m++) {
          const float g = a.x[m * N + r];
          if (g != 0.0f) axpy(g, row, a.out + m * K + k0, k1 - k0);
        }
      }
    }
  });
}

}  // namespace

const QuantizedTable& quantized_table() {
  static const QuantizedTable table = {quantized_matmul};
  return table;
}

}  // namespace LLMKIT_NS

#if !defined(LLMKIT_ISA_AVX2) && !defined(LLMKIT_ISA_AVX512) && !defined(LLMKIT_ISA_NEON)
// Compiled once (in the portable library): the table of the path in use.
const QuantizedTable& quantized_kernels() {
  switch (active_isa()) {
#if defined(__x86_64__)
    case Isa::kAvx512:
      return avx512::quantized_table();
    case Isa::kAvx2:
      return avx2::quantized_table();
#endif
#if defined(__aarch64__)
    case Isa::kNeon:
      return neon::quantized_table();
#endif
    default:
      return portable::quantized_table();
  }
}
#endif

}  // namespace llmkit
