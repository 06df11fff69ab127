// int8 x int8 -> int32 dot products, the inner loop of int8-quantized linear layers
// (@llmkit/quantize): y[j] = x_scale * row_scales[j] * sum_p w[j, p] * x[p], with w n x k int8
// row-major (one scale per output row) and x k int8 (one scale for the vector). The sums are exact
// (int32, no saturation) for any int8 values and k < 2^17, so every path gives the same integers.
//
// Paths (one compilation per ISA, like every kernel; VNNI is checked at run time because the
// avx512 and avx2 builds also run on CPUs without it; LLMKIT_CPU_VNNI=0 turns it off to test the
// widening paths on a VNNI machine):
//   avx512 + AVX512_VNNI (Ice Lake, Zen 4+): vpdpbusd, 64 products per instruction;
//   avx2 + AVX_VNNI (Alder Lake, Zen 5):    vpdpbusd on ymm, 32 per instruction;
//   avx512 / avx2 without VNNI:              sign-extend to int16, vpmaddwd;
//   neon:                                    vmull_s8 + vpadalq_s16 (int16 products, int32 sums);
//   portable:                                a scalar loop.
// vpdpbusd multiplies unsigned by signed bytes, so the weights go in as w + 128 (a xor with 0x80)
// and the result is corrected by 128 * sum(x), one constant per call:
//   sum_p (w + 128) x = sum_p w x + 128 sum_p x.
#include <algorithm>

#include "kernels.h"

namespace llmkit {
namespace LLMKIT_NS {
namespace {

int32_t dot_scalar(const int8_t* a, const int8_t* b, int64_t k) {
  int32_t sum = 0;
  for (int64_t p = 0; p < k; p++) sum += static_cast<int32_t>(a[p]) * b[p];
  return sum;
}

int32_t sum_scalar(const int8_t* x, int64_t k) {
  int32_t sum = 0;
  for (int64_t p = 0; p < k; p++) sum += x[p];
  return sum;
}

#if defined(LLMKIT_ISA_AVX512)

// 64 bytes a step; the tail (k % 64) is a masked load, zeros contribute nothing.
__attribute__((target("avx512vnni"))) int32_t dot_vnni(const int8_t* w, const int8_t* x,
                                                       int64_t k, int32_t x_sum) {
  const __m512i flip = _mm512_set1_epi8(static_cast<char>(0x80));
  __m512i acc0 = _mm512_setzero_si512(), acc1 = _mm512_setzero_si512();
  int64_t p = 0;
  for (; p + 128 <= k; p += 128) {
    __m512i w0 = _mm512_xor_si512(_mm512_loadu_si512(w + p), flip);
    __m512i w1 = _mm512_xor_si512(_mm512_loadu_si512(w + p + 64), flip);
    acc0 = _mm512_dpbusd_epi32(acc0, w0, _mm512_loadu_si512(x + p));
    acc1 = _mm512_dpbusd_epi32(acc1, w1, _mm512_loadu_si512(x + p + 64));
  }
  for (; p < k; p += 64) {
    const __mmask64 mask = k - p >= 64 ? ~0ULL : (1ULL << (k - p)) - 1;
    // masked-off weight bytes become 0 ^ 0x80 = 128 but meet x bytes of 0
    __m512i w0 = _mm512_xor_si512(_mm512_maskz_loadu_epi8(mask, w + p), flip);
    acc0 = _mm512_dpbusd_epi32(acc0, w0, _mm512_maskz_loadu_epi8(mask, x + p));
  }
  return _mm512_reduce_add_epi32(_mm512_add_epi32(acc0, acc1)) - 128 * x_sum;
}

// Without VNNI (Skylake-X): widen 32 bytes to int16 and multiply-add pairs into int32.
int32_t dot_widen(const int8_t* w, const int8_t* x, int64_t k) {
  __m512i acc = _mm512_setzero_si512();
  int64_t p = 0;
  for (; p + 32 <= k; p += 32) {
    __m512i a = _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + p)));
    __m512i b = _mm512_cvtepi8_epi16(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(x + p)));
    acc = _mm512_add_epi32(acc, _mm512_madd_epi16(a, b));
  }
  return _mm512_reduce_add_epi32(acc) + dot_scalar(w + p, x + p, k - p);
}

bool has_vnni() {
  static const bool has = cpu_has("avx512vnni") && vnni_allowed();
  return has;
}
const char* path_name() { return has_vnni() ? "avx512-vnni" : "avx512"; }

#elif defined(LLMKIT_ISA_AVX2)

LLMKIT_INLINE int32_t hsum_epi32(__m256i v) {
  __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4e));
  s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xb1));
  return _mm_cvtsi128_si32(s);
}

__attribute__((target("avxvnni"))) int32_t dot_vnni(const int8_t* w, const int8_t* x, int64_t k,
                                                    int32_t x_sum) {
  const __m256i flip = _mm256_set1_epi8(static_cast<char>(0x80));
  __m256i acc0 = _mm256_setzero_si256(), acc1 = _mm256_setzero_si256();
  int64_t p = 0;
  for (; p + 64 <= k; p += 64) {
    auto load = [](const int8_t* q) {
      return _mm256_loadu_si256(reinterpret_cast<const __m256i*>(q));
    };
    acc0 = _mm256_dpbusd_avx_epi32(acc0, _mm256_xor_si256(load(w + p), flip), load(x + p));
    acc1 = _mm256_dpbusd_avx_epi32(acc1, _mm256_xor_si256(load(w + p + 32), flip), load(x + p + 32));
  }
  // x_sum covers all k, so the scalar tail must add (w + 128) x too
  int32_t tail = 0;
  for (; p < k; p++) tail += (static_cast<int32_t>(w[p]) + 128) * x[p];
  return hsum_epi32(_mm256_add_epi32(acc0, acc1)) + tail - 128 * x_sum;
}

int32_t dot_widen(const int8_t* w, const int8_t* x, int64_t k) {
  __m256i acc = _mm256_setzero_si256();
  int64_t p = 0;
  for (; p + 16 <= k; p += 16) {
    __m256i a = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + p)));
    __m256i b = _mm256_cvtepi8_epi16(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + p)));
    acc = _mm256_add_epi32(acc, _mm256_madd_epi16(a, b));
  }
  return hsum_epi32(acc) + dot_scalar(w + p, x + p, k - p);
}

bool has_vnni() {
  static const bool has = cpu_has("avxvnni") && vnni_allowed();
  return has;
}
const char* path_name() { return has_vnni() ? "avx-vnni" : "avx2"; }

#elif defined(LLMKIT_ISA_NEON)

// 16 bytes a step: vmull_s8 makes int16 products (|-128 * -128| = 16384 fits), vpadalq_s16 adds
// neighbouring pairs into the int32 accumulator.
int32_t dot_widen(const int8_t* w, const int8_t* x, int64_t k) {
  int32x4_t acc = vdupq_n_s32(0);
  int64_t p = 0;
  for (; p + 16 <= k; p += 16) {
    int8x16_t a = vld1q_s8(w + p), b = vld1q_s8(x + p);
    acc = vpadalq_s16(acc, vmull_s8(vget_low_s8(a), vget_low_s8(b)));
    acc = vpadalq_s16(acc, vmull_high_s8(a, b));
  }
  return vaddvq_s32(acc) + dot_scalar(w + p, x + p, k - p);
}

bool has_vnni() { return false; }
const char* path_name() { return "neon"; }
int32_t dot_vnni(const int8_t*, const int8_t*, int64_t, int32_t) { return 0; }

#else

int32_t dot_widen(const int8_t* w, const int8_t* x, int64_t k) { return dot_scalar(w, x, k); }
bool has_vnni() { return false; }
const char* path_name() { return "portable"; }
int32_t dot_vnni(const int8_t*, const int8_t*, int64_t, int32_t) { return 0; }

#endif

LLMKIT_INLINE int32_t dot(const int8_t* w, const int8_t* x, int64_t k, int32_t x_sum) {
  return has_vnni() ? dot_vnni(w, x, k, x_sum) : dot_widen(w, x, k);
}

}  // namespace

int32_t int8_dot(const int8_t* a, const int8_t* b, int64_t k) {
  return dot(a, b, k, has_vnni() ? sum_scalar(b, k) : 0);
}

void int8_gemv(const int8_t* w, const float* row_scales, const int8_t* x, float x_scale, float* y,
               int64_t n, int64_t k) {
  const int32_t x_sum = has_vnni() ? sum_scalar(x, k) : 0;
  // Bound by reading w once: split rows across threads when w is big enough to pay the wake-up.
  const int64_t min_rows = std::max<int64_t>(16, (1 << 18) / std::max<int64_t>(k, 1));
  parallel_range(n, min_rows, [&](int64_t begin, int64_t end) {
    for (int64_t j = begin; j < end; j++) {
      y[j] = static_cast<float>(dot(w + j * k, x, k, x_sum)) * (x_scale * row_scales[j]);
    }
  });
}

const char* int8_isa() { return path_name(); }

}  // namespace LLMKIT_NS
}  // namespace llmkit
