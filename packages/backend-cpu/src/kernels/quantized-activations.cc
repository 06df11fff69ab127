// Quantized products with 8-bit activations (QuantizedArgs::int8_activations), llama.cpp's
// arithmetic for its Q8_0 / Q4_0 weights: each row of x is quantized in blocks of 32 as Q8_0
// (llama.cpp's x86 quantize_row_q8_0: amax = max |x_j|, d = amax / 127 kept as fp16, codes
// q_j = round-half-even(x_j * 127 / amax), in [-127, 127]), and every weight block's integer codes
// are dotted with x's codes in int32 (exact), each block's sum scaled once:
//   out[m, n] = sum_b w_scale(n, b) * d(m, b) * sum_{j in b} w_code(n, j) q(m, j)
// with w_code / w_scale: q8_0 the int8 and the block's fp16 d; q4_0 c - 8 and d; int4 (symmetric)
// c - 8 and the group's scale; int8 the code and the row's scale. Weights stay packed.
//
// This file: x's quantization and the row by row products, for one row of x (decoding); two rows
// and more take quantized-tiles.cc's tiled products.
//
// Paths: avx512 with VNNI (two blocks a step: 8-bit weights one 512-bit vpdpbusd, 4-bit ones a
// 256-bit vpdpbusd per nibble half), avx2 and avx512 without VNNI (vpmaddubsw + vpmaddwd, a block
// a step), scalar elsewhere. vpdpbusd and
// vpmaddubsw multiply unsigned by signed bytes: 4-bit codes c (0..15) go in as they are and
// 8 sum q is taken off; 8-bit codes go in as w + 128 (vpdpbusd: a xor with 0x80, 128 sum q off)
// or as |w| against sign(w) q (vpmaddubsw: pairs stay below 2^15). x's codes are laid out in the
// order the weight bytes unpack to, once per call, so the inner loops shuffle nothing.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "common.h"
#include "quantized-activations.h"
#include "quantized.h"
#include "simd.h"

namespace llmkit {
namespace LLMKIT_NS {

void int8_activation_matmul(const QuantizedArgs& a);

namespace {

// The float value of f rounded to fp16 (nearest even; overflow to infinity), as llama.cpp stores d.
float round_to_half(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  const uint32_t sign = bits & 0x80000000u, magnitude = bits & 0x7fffffffu;
  float out;
  if (magnitude >= 0x7f800000u) return f;  // infinity, NaN
  if (magnitude >= 0x477ff000u) {          // 65520 and up round to infinity
    const uint32_t inf = sign | 0x7f800000u;
    std::memcpy(&out, &inf, 4);
    return out;
  }
  if (magnitude < 0x38800000u) {  // below 2^-14: a multiple of 2^-24
    float value;
    std::memcpy(&value, &magnitude, 4);
    value = std::nearbyint(value * 16777216.0f) * 5.9604644775390625e-8f;
    return sign ? -value : value;
  }
  // 13 mantissa bits dropped, nearest even
  const uint32_t kept = (magnitude + 0xfffu + ((magnitude >> 13) & 1u)) & ~0x1fffu;
  const uint32_t result = sign | kept;
  std::memcpy(&out, &result, 4);
  return out;
}

#if defined(LLMKIT_ISA_AVX512)
bool has_vnni() {
  static const bool has = cpu_has("avx512vnni") && vnni_allowed();
  return has;
}
#endif

// Position, in a step's code layout, of element j of block `which` (0 or 1 in a pair).
// 8-bit weights: natural order. 4-bit weights, one block: q4_0 natural (low nibbles are elements
// 0..15, high 16..31); int4 even elements then odd (a byte's high nibble is element 2i, its low
// one 2i + 1). A pair (64 codes): the 16-byte quarters are [b0 first half, b1 first half, b0
// second half, b1 second half], where the halves are as in one block.
int64_t position(int format, bool pair, int which, int64_t j) {
  if (!four_bit(format)) return which * kBlock + j;
  const int64_t in_block = format == kInt4 ? (j & 1) * 16 + (j >> 1) : j;
  if (!pair) return in_block;
  const int64_t half = in_block / 16, i = in_block % 16;
  return half * 32 + which * 16 + i;
}

LLMKIT_INLINE float block_scale(const QuantizedArgs& a, const WeightRow& w, int64_t b) {
  uint16_t bits;
  switch (a.format) {
    case kQ8_0:
      std::memcpy(&bits, w.bytes + b * 34, 2);
      return half_to_float(bits);
    case kQ4_0:
      std::memcpy(&bits, w.bytes + b * 18, 2);
      return half_to_float(bits);
    case kInt4:
      return w.group_scales[group_of(w, b)];
    default:
      return 1.0f;
  }
}

// Element j of block b as an integer (c - 8 for the 4-bit formats).
LLMKIT_INLINE int32_t weight_code(const QuantizedArgs& a, const WeightRow& w, int64_t b,
                                  int64_t j) {
  switch (a.format) {
    case kInt8:
      return static_cast<int8_t>(w.bytes[b * kBlock + j]);
    case kQ8_0:
      return static_cast<int8_t>(w.bytes[b * 34 + 2 + j]);
    case kQ4_0: {
      const uint8_t byte = w.bytes[b * 18 + 2 + (j & 15)];
      return (j < 16 ? byte & 15 : byte >> 4) - 8;
    }
    default: {
      const uint8_t byte = w.bytes[b * 16 + j / 2];
      return (j & 1 ? byte & 15 : byte >> 4) - 8;
    }
  }
}

float row_scalar(const QuantizedArgs& a, const WeightRow& w, const Activations& x) {
  float acc = 0.0f;
  for (int64_t b = 0; b < a.k / kBlock; b++) {
    int32_t sum = 0;
    for (int64_t j = 0; j < kBlock; j++) sum += weight_code(a, w, b, j) * x.codes[b * kBlock + j];
    acc += static_cast<float>(sum) * (block_scale(a, w, b) * x.d[b]);
  }
  return acc;
}

#if defined(LLMKIT_ISA_AVX512) || defined(LLMKIT_ISA_AVX2)
LLMKIT_INLINE float hsum8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// Block b's 32 codes as unsigned bytes in one-block order (4-bit: c; 8-bit: the signed w).
LLMKIT_INLINE __m256i block_bytes(const QuantizedArgs& a, const WeightRow& w, int64_t b) {
  const __m256i fifteen = _mm256_set1_epi8(15);
  switch (a.format) {
    case kInt8:
      return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w.bytes + b * kBlock));
    case kQ8_0:
      return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w.bytes + b * 34 + 2));
    case kQ4_0: {  // [low nibbles, high nibbles]
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w.bytes + b * 18 + 2));
      const __m256i both = _mm256_set_m128i(_mm_srli_epi16(v, 4), v);
      return _mm256_and_si256(both, fifteen);
    }
    default: {  // int4: [high nibbles (even elements), low nibbles (odd)]
      const __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(w.bytes + b * 16));
      const __m256i both = _mm256_set_m128i(v, _mm_srli_epi16(v, 4));
      return _mm256_and_si256(both, fifteen);
    }
  }
}

// One block a step with vpmaddubsw (pairs of u8 x s8 products summed to int16, then to int32).
float row_blocks(const QuantizedArgs& a, const WeightRow& w, const Activations& x) {
  const __m256i ones = _mm256_set1_epi16(1);
  const bool nibbles = four_bit(a.format);
  __m256 acc = _mm256_setzero_ps();
  for (int64_t b = 0; b < a.k / kBlock; b++) {
    const __m256i q =
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.codes.data() + b * kBlock));
    const __m256i v = block_bytes(a, w, b);
    __m256i pairs;
    if (nibbles) {
      pairs = _mm256_maddubs_epi16(v, q);
    } else {  // |w| times q with w's sign: |w| <= 128, |q| <= 127, so a pair stays below 2^15
      pairs = _mm256_maddubs_epi16(_mm256_abs_epi8(v), _mm256_sign_epi8(q, v));
    }
    __m256i sums = _mm256_madd_epi16(pairs, ones);
    const __m256i bias =
        _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.bias.data() + b * 16));
    sums = _mm256_add_epi32(sums, bias);
    const __m256 scale = _mm256_mul_ps(_mm256_set1_ps(block_scale(a, w, b)),
                                       _mm256_loadu_ps(x.dv.data() + b * 16));
    acc = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums), scale, acc);
  }
  return hsum8(acc);
}
#endif

#if defined(LLMKIT_ISA_AVX512)
// The odd last block of a row on the VNNI paths (its codes, bias and d follow the pairs'):
// 256-bit vpdpbusd, 8-bit weights xored with 0x80, 4-bit codes as they are.
__attribute__((target("avx512vnni"))) float last_block_vnni(const QuantizedArgs& a,
                                                             const WeightRow& w,
                                                             const Activations& x) {
  const int64_t b = a.k / kBlock - 1, step = b / 2;
  __m256i v = block_bytes(a, w, b);
  if (!four_bit(a.format)) v = _mm256_xor_si256(v, _mm256_set1_epi8(static_cast<char>(0x80)));
  const __m256i sums = _mm256_dpbusd_epi32(
      _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.bias.data() + step * 16)), v,
      _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.codes.data() + b * kBlock)));
  const __m256 scale = _mm256_mul_ps(_mm256_set1_ps(block_scale(a, w, b)),
                                     _mm256_loadu_ps(x.dv.data() + step * 16));
  return hsum8(_mm256_mul_ps(_mm256_cvtepi32_ps(sums), scale));
}

// The 8-bit formats two blocks a step with vpdpbusd; an odd last block with its 256-bit form.
__attribute__((target("avx512vnni"))) float row_pairs(const QuantizedArgs& a, const WeightRow& w,
                                                       const Activations& x) {
  const int64_t blocks = a.k / kBlock, pairs = blocks / 2;
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  const int8_t* codes = x.codes.data();
  __m512 acc = _mm512_setzero_ps();
  for (int64_t p = 0; p < pairs; p++) {
    const int64_t b0 = 2 * p;
    __m512i v;
    __m512 scale;
    switch (a.format) {
      case kInt8:
        v = _mm512_xor_si512(_mm512_loadu_si512(w.bytes + b0 * kBlock), flip);
        scale = _mm512_set1_ps(1.0f);
        break;
      case kQ8_0: {
        const uint8_t* block = w.bytes + b0 * 34;
        const __m256i lo = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + 2));
        const __m256i hi = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(block + 36));
        v = _mm512_xor_si512(_mm512_inserti64x4(_mm512_castsi256_si512(lo), hi, 1), flip);
        uint16_t h0, h1;
        std::memcpy(&h0, block, 2);
        std::memcpy(&h1, block + 34, 2);
        const __m256i halves = _mm256_set_m128i(_mm_set1_epi16(static_cast<short>(h1)),
                                                _mm_set1_epi16(static_cast<short>(h0)));
        scale = _mm512_cvtph_ps(halves);
        break;
      }
      default:  // the 4-bit formats take row_pairs_nibbles
        return 0.0f;
    }
    const __m512i sums = _mm512_dpbusd_epi32(_mm512_loadu_si512(x.bias.data() + p * 16), v,
                                             _mm512_loadu_si512(codes + p * 2 * kBlock));
    const __m512 dv = _mm512_loadu_ps(x.dv.data() + p * 16);
    acc = _mm512_fmadd_ps(_mm512_cvtepi32_ps(sums), _mm512_mul_ps(scale, dv), acc);
  }
  const float total = _mm512_reduce_add_ps(acc);
  return blocks % 2 ? total + last_block_vnni(a, w, x) : total;
}
#endif

#if defined(LLMKIT_ISA_AVX512)
// The 4-bit formats two blocks a step on 256-bit registers: a pair's 32 packed bytes split into
// their low and high nibbles, each dotted (vpdpbusd) with the 32 codes x's layout puts there, so
// no 512-bit insert is needed; the scales [s0 x4, s1 x4] come from one permute. The format and
// whether both blocks share a scale (int4 groups of 64, 128) are template parameters, and two
// pairs a step go to two accumulators, so the loop has no branch.
template <bool q4, bool shared_scale>
__attribute__((target("avx512vnni"))) LLMKIT_INLINE __m256 nibble_pair(const WeightRow& w,
                                                                        const Activations& x,
                                                                        int64_t p, __m256 acc) {
  const __m256i fifteen = _mm256_set1_epi8(15);
  const __m256i spread = _mm256_setr_epi32(0, 0, 0, 0, 1, 1, 1, 1);
  const int64_t b0 = 2 * p;
  __m256i first, second;  // the nibbles that meet codes [0, 32) and [32, 64) of the pair
  __m256 scale;
  if (q4) {
    const uint8_t* block = w.bytes + b0 * 18;
    const __m256i both = _mm256_loadu2_m128i(reinterpret_cast<const __m128i*>(block + 20),
                                             reinterpret_cast<const __m128i*>(block + 2));
    first = _mm256_and_si256(both, fifteen);
    second = _mm256_and_si256(_mm256_srli_epi16(both, 4), fifteen);
    uint16_t h0, h1;
    std::memcpy(&h0, block, 2);
    std::memcpy(&h1, block + 18, 2);
    const __m128i halves = _mm_cvtsi32_si128(static_cast<int>(h0 | (uint32_t{h1} << 16)));
    const __m512 two = _mm512_cvtph_ps(_mm256_castsi128_si256(halves));  // AVX-512F's form
    scale = _mm256_permutevar8x32_ps(_mm512_castps512_ps256(two), spread);
  } else {
    const __m256i bytes = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w.bytes + b0 * 16));
    first = _mm256_and_si256(_mm256_srli_epi16(bytes, 4), fifteen);  // even elements
    second = _mm256_and_si256(bytes, fifteen);                       // odd elements
    if (shared_scale) {
      scale = _mm256_set1_ps(w.group_scales[b0 >> w.group_shift]);
    } else {
      const __m128 two = _mm_unpacklo_ps(_mm_set_ss(w.group_scales[group_of(w, b0)]),
                                         _mm_set_ss(w.group_scales[group_of(w, b0 + 1)]));
      scale = _mm256_permutevar8x32_ps(_mm256_castps128_ps256(two), spread);
    }
  }
  const int8_t* xp = x.codes.data() + p * 2 * kBlock;
  __m256i sums = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(x.bias.data() + p * 16));
  const __m256i x0 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xp));
  const __m256i x1 = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(xp + 32));
  sums = _mm256_dpbusd_epi32(_mm256_dpbusd_epi32(sums, first, x0), second, x1);
  const __m256 weight = _mm256_mul_ps(scale, _mm256_loadu_ps(x.dv.data() + p * 16));
  return _mm256_fmadd_ps(_mm256_cvtepi32_ps(sums), weight, acc);
}

template <bool q4, bool shared_scale>
__attribute__((target("avx512vnni"))) float nibble_row(const QuantizedArgs& a, const WeightRow& w,
                                                        const Activations& x) {
  const int64_t blocks = a.k / kBlock, pairs = blocks / 2;
  __m256 acc0 = _mm256_setzero_ps(), acc1 = _mm256_setzero_ps();
  int64_t p = 0;
  for (; p + 2 <= pairs; p += 2) {
    acc0 = nibble_pair<q4, shared_scale>(w, x, p, acc0);
    acc1 = nibble_pair<q4, shared_scale>(w, x, p + 1, acc1);
  }
  if (p < pairs) acc0 = nibble_pair<q4, shared_scale>(w, x, p, acc0);
  const float total = hsum8(_mm256_add_ps(acc0, acc1));
  return blocks % 2 ? total + last_block_vnni(a, w, x) : total;
}

float row_pairs_nibbles(const QuantizedArgs& a, const WeightRow& w, const Activations& x) {
  if (a.format == kQ4_0) return nibble_row<true, false>(a, w, x);
  return w.group_shift > 0 ? nibble_row<false, true>(a, w, x) : nibble_row<false, false>(a, w, x);
}
#endif

float row_dot(const QuantizedArgs& a, Path path, const WeightRow& w, const Activations& x) {
#if defined(LLMKIT_ISA_AVX512)
  if (path == kPairs) {
    return four_bit(a.format) ? row_pairs_nibbles(a, w, x) : row_pairs(a, w, x);
  }
#endif
#if defined(LLMKIT_ISA_AVX512) || defined(LLMKIT_ISA_AVX2)
  if (path == kBlocks) return row_blocks(a, w, x);
#endif
  return row_scalar(a, w, x);
}

// One block of x in natural order: its codes (as prepare's loop: |x| max, x * scale rounded half
// to even and clamped, the same float operations 16 or 8 lanes at a time, so the same codes) and
// their sum. Scalar, quantizing x took a third of the tiled products' time at K 3072 (32 x 1024 x
// 3072 q8_0, avx512, 1 thread: 0.94 -> 0.62 ms with this).
LLMKIT_INLINE int32_t natural_block(const float* xb, int8_t* codes, float& d) {
#if defined(LLMKIT_ISA_AVX512)
  const __m512 x0 = _mm512_loadu_ps(xb), x1 = _mm512_loadu_ps(xb + 16);
  const float amax = _mm512_reduce_max_ps(_mm512_max_ps(_mm512_abs_ps(x0), _mm512_abs_ps(x1)));
  const float scale = amax > 0.0f ? 127.0f / amax : 0.0f;
  d = round_to_half(amax / 127.0f);
  const __m512 s = _mm512_set1_ps(scale), low = _mm512_set1_ps(-127.0f),
               high = _mm512_set1_ps(127.0f);
  const auto quantize = [&](__m512 v) {
    const __m512 q = _mm512_roundscale_ps(_mm512_mul_ps(v, s), _MM_FROUND_TO_NEAREST_INT |
                                                                   _MM_FROUND_NO_EXC);
    return _mm512_cvtps_epi32(_mm512_min_ps(high, _mm512_max_ps(low, q)));
  };
  const __m512i q0 = quantize(x0), q1 = quantize(x1);
  _mm_storeu_si128(reinterpret_cast<__m128i*>(codes), _mm512_cvtepi32_epi8(q0));
  _mm_storeu_si128(reinterpret_cast<__m128i*>(codes + 16), _mm512_cvtepi32_epi8(q1));
  return _mm512_reduce_add_epi32(_mm512_add_epi32(q0, q1));
#elif defined(LLMKIT_ISA_AVX2)
  const __m256 sign = _mm256_set1_ps(-0.0f);
  __m256 x[4], m = _mm256_setzero_ps();
  for (int i = 0; i < 4; i++) {
    x[i] = _mm256_loadu_ps(xb + 8 * i);
    m = _mm256_max_ps(m, _mm256_andnot_ps(sign, x[i]));
  }
  __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
  m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
  const float amax = _mm_cvtss_f32(_mm_max_ss(m4, _mm_movehdup_ps(m4)));
  const float scale = amax > 0.0f ? 127.0f / amax : 0.0f;
  d = round_to_half(amax / 127.0f);
  const __m256 s = _mm256_set1_ps(scale), low = _mm256_set1_ps(-127.0f),
               high = _mm256_set1_ps(127.0f);
  __m256i q[4], total = _mm256_setzero_si256();
  for (int i = 0; i < 4; i++) {
    const __m256 r = _mm256_round_ps(_mm256_mul_ps(x[i], s),
                                     _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    q[i] = _mm256_cvtps_epi32(_mm256_min_ps(high, _mm256_max_ps(low, r)));
    total = _mm256_add_epi32(total, q[i]);
  }
  // packs work per 128-bit lane: [q0 0-3, q1 0-3, q2 0-3, q3 0-3, q0 4-7, ...], then put back
  const __m256i bytes = _mm256_packs_epi16(_mm256_packs_epi32(q[0], q[1]),
                                           _mm256_packs_epi32(q[2], q[3]));
  const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(codes), _mm256_permutevar8x32_epi32(bytes, order));
  __m128i t = _mm_add_epi32(_mm256_castsi256_si128(total), _mm256_extracti128_si256(total, 1));
  t = _mm_add_epi32(t, _mm_shuffle_epi32(t, 0x4e));
  t = _mm_add_epi32(t, _mm_shuffle_epi32(t, 0xb1));
  return _mm_cvtsi128_si32(t);
#else
  float amax = 0.0f;
  for (int64_t j = 0; j < kBlock; j++) amax = std::max(amax, std::fabs(xb[j]));
  const float scale = amax > 0.0f ? 127.0f / amax : 0.0f;
  d = round_to_half(amax / 127.0f);
  int32_t sum = 0;
  for (int64_t j = 0; j < kBlock; j++) {
    const float q = std::min(127.0f, std::max(-127.0f, std::nearbyint(xb[j] * scale)));
    codes[j] = static_cast<int8_t>(q);
    sum += codes[j];
  }
  return sum;
#endif
}

}  // namespace

Path path_for() {
#if defined(LLMKIT_ISA_AVX512)
  return has_vnni() ? kPairs : kBlocks;
#elif defined(LLMKIT_ISA_AVX2)
  return kBlocks;
#else
  return kScalar;
#endif
}

void prepare(const float* x, int64_t K, int format, Path path, Activations& out) {
  const int64_t blocks = K / kBlock;
  out.codes.assign(static_cast<size_t>(K), 0);
  out.d.assign(static_cast<size_t>(blocks), 0.0f);
  out.sums.assign(static_cast<size_t>(blocks), 0);
  if (path == kScalar) {  // natural order (the scalar products, and the tiled ones everywhere)
    for (int64_t b = 0; b < blocks; b++) {
      out.sums[b] = natural_block(x + b * kBlock, out.codes.data() + b * kBlock, out.d[b]);
    }
    return;
  }
  const int64_t pairs = path == kPairs ? blocks / 2 : 0;
  for (int64_t b = 0; b < blocks; b++) {
    const float* xb = x + b * kBlock;
    float amax = 0.0f;
    for (int64_t j = 0; j < kBlock; j++) amax = std::max(amax, std::fabs(xb[j]));
    const float scale = amax > 0.0f ? 127.0f / amax : 0.0f;
    out.d[b] = round_to_half(amax / 127.0f);
    const bool pair = b < 2 * pairs;
    const int64_t base = pair ? (b / 2) * 2 * kBlock : b * kBlock;
    int32_t sum = 0;
    for (int64_t j = 0; j < kBlock; j++) {
      const float q = std::min(127.0f, std::max(-127.0f, std::nearbyint(xb[j] * scale)));
      const int8_t code = static_cast<int8_t>(q);
      sum += code;
      out.codes[base + (path == kScalar ? j : position(format, pair, pair ? b % 2 : 0, j))] = code;
    }
    out.sums[b] = sum;
  }
  if (path == kScalar) return;
  // the code-sum taken off: 4-bit c - 8 (every path); 8-bit w + 128 on the VNNI pairs only
  const int32_t offset = four_bit(format) ? 8 : path == kPairs ? 128 : 0;
  const int64_t steps = pairs + (blocks - 2 * pairs);
  out.bias.assign(static_cast<size_t>(steps * 16), 0);
  out.dv.assign(static_cast<size_t>(steps * 16), 0.0f);
  for (int64_t s = 0; s < steps; s++) {
    int32_t* bias = out.bias.data() + s * 16;
    float* dv = out.dv.data() + s * 16;
    if (s < pairs) {
      const int64_t b0 = 2 * s, b1 = 2 * s + 1;
      const int lanes_per_run = four_bit(format) ? 4 : 8;  // lanes a block covers before the other
      for (int lane = 0; lane < 16; lane++) dv[lane] = out.d[(lane / lanes_per_run) % 2 ? b1 : b0];
      bias[0] = -offset * out.sums[b0];
      bias[lanes_per_run] = -offset * out.sums[b1];
    } else {
      const int64_t b = 2 * pairs + (s - pairs);
      for (int lane = 0; lane < 8; lane++) dv[lane] = out.d[b];
      bias[0] = -offset * out.sums[b];
    }
  }
}

void int8_activation_matmul(const QuantizedArgs& a) {
  const int64_t M = a.m, N = a.n, K = a.k;
  const Path path = path_for();
  const bool tiled = M > kTileMinRows;  // prefill, batched decoding
  const Path layout = tiled ? tile_layout(path) : path;
  std::vector<Activations> x(static_cast<size_t>(M));
  parallel_range(M, std::max<int64_t>(1, 16384 / K), [&](int64_t begin, int64_t end) {
    for (int64_t m = begin; m < end; m++) prepare(a.x + m * K, K, a.format, layout, x[m]);
  });
  if (tiled) {  // quantized-tiles.cc
    int8_activation_tiles(a, path, x);
    return;
  }
  const int64_t row_bytes = packed_row_bytes(a.format, K);
  const char* weights = static_cast<const char*>(a.weight);
  parallel_range(N, std::max<int64_t>(1, 32768 / K), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; r++) {
#if defined(LLMKIT_ISA_AVX512) || defined(LLMKIT_ISA_AVX2)
      // weights are read once per token, from memory: ask for the row two ahead
      if (r + 2 < end) {
        const char* ahead = weights + (r + 2) * row_bytes;
        for (int64_t b = 0; b < row_bytes; b += 64) _mm_prefetch(ahead + b, _MM_HINT_T0);
      }
#else
      (void)weights;
      (void)row_bytes;
#endif
      const WeightRow w = weight_row(a, r);
      const float row_scale = a.format == kInt8 ? a.scales[r] : 1.0f;
      for (int64_t m = 0; m < M; m++) a.out[m * N + r] = row_dot(a, path, w, x[m]) * row_scale;
    }
  });
}

}  // namespace LLMKIT_NS
}  // namespace llmkit
