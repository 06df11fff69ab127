// One float vector type per instruction set, so each kernel is written once and compiled once per
// ISA (see binding.gyp and contributing/: a kernel file listed in `kernel_sources` gets every
// build) into its own namespace, chosen at load time by dispatch.cc from what the CPU supports:
//   LLMKIT_ISA_AVX512 -> llmkit::avx512    one __m512 (16 lanes), masked loads for row tails
//   LLMKIT_ISA_AVX2   -> llmkit::avx2      one __m256 (8 lanes) with FMA
//   LLMKIT_ISA_NEON   -> llmkit::neon      two float32x4_t (8 lanes), AArch64
//   (none)            -> llmkit::portable  a float[8] the compiler vectorises with the baseline ISA
// Kernels must use kLanes, never a literal 8: it is 16 under AVX-512.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>

#if defined(LLMKIT_ISA_AVX512)
#include <immintrin.h>
#define LLMKIT_NS avx512
#elif defined(LLMKIT_ISA_AVX2)
#include <immintrin.h>
#define LLMKIT_NS avx2
#elif defined(LLMKIT_ISA_NEON)
#include <arm_neon.h>
#define LLMKIT_NS neon
#else
#define LLMKIT_NS portable
#endif

#define LLMKIT_INLINE inline __attribute__((always_inline))

namespace llmkit {
namespace LLMKIT_NS {

#if defined(LLMKIT_ISA_AVX512)

constexpr int kLanes = 16;

struct Vec {
  __m512 v;
};
LLMKIT_INLINE Vec vload(const float* p) { return {_mm512_loadu_ps(p)}; }
LLMKIT_INLINE void vstore(float* p, Vec a) { _mm512_storeu_ps(p, a.v); }
LLMKIT_INLINE Vec vset(float x) { return {_mm512_set1_ps(x)}; }
LLMKIT_INLINE Vec operator+(Vec a, Vec b) { return {_mm512_add_ps(a.v, b.v)}; }
LLMKIT_INLINE Vec operator-(Vec a, Vec b) { return {_mm512_sub_ps(a.v, b.v)}; }
LLMKIT_INLINE Vec operator*(Vec a, Vec b) { return {_mm512_mul_ps(a.v, b.v)}; }
LLMKIT_INLINE Vec operator/(Vec a, Vec b) { return {_mm512_div_ps(a.v, b.v)}; }
LLMKIT_INLINE Vec vfma(Vec a, Vec b, Vec c) { return {_mm512_fmadd_ps(a.v, b.v, c.v)}; }
// max/min return the second operand when either is NaN, as AVX2's do.
LLMKIT_INLINE Vec vmax(Vec a, Vec b) { return {_mm512_max_ps(a.v, b.v)}; }
LLMKIT_INLINE Vec vmin(Vec a, Vec b) { return {_mm512_min_ps(a.v, b.v)}; }
LLMKIT_INLINE Vec vabs(Vec a) { return {_mm512_abs_ps(a.v)}; }
LLMKIT_INLINE Vec vsqrt(Vec a) { return {_mm512_sqrt_ps(a.v)}; }
LLMKIT_INLINE Vec vselect_gt(Vec a, Vec b, Vec x, Vec y) {
  return {_mm512_mask_blend_ps(_mm512_cmp_ps_mask(a.v, b.v, _CMP_GT_OQ), y.v, x.v)};
}
LLMKIT_INLINE float vsum(Vec a) { return _mm512_reduce_add_ps(a.v); }
LLMKIT_INLINE float vmaxall(Vec a) { return _mm512_reduce_max_ps(a.v); }
LLMKIT_INLINE Vec vpow2i(Vec n) {
  __m512i i = _mm512_cvtps_epi32(n.v);
  i = _mm512_slli_epi32(_mm512_add_epi32(i, _mm512_set1_epi32(127)), 23);
  return {_mm512_castsi512_ps(i)};
}
LLMKIT_INLINE Vec vround(Vec a) {
  return {_mm512_roundscale_ps(a.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)};
}
// Row tails: masked loads and stores touch only the first count lanes (no read past the end).
LLMKIT_INLINE __mmask16 vmask(int64_t count) {
  return static_cast<__mmask16>((1u << count) - 1);
}
LLMKIT_INLINE Vec vload_partial(const float* p, int64_t count, float fill) {
  return {_mm512_mask_loadu_ps(_mm512_set1_ps(fill), vmask(count), p)};
}
LLMKIT_INLINE void vstore_partial(float* p, Vec a, int64_t count) {
  _mm512_mask_storeu_ps(p, vmask(count), a.v);
}
#define LLMKIT_HAVE_PARTIAL

#elif defined(LLMKIT_ISA_NEON)

constexpr int kLanes = 8;

// Two q registers per vector keep kLanes at 8, so every kernel's blocking is the AVX2 one.
struct Vec {
  float32x4_t lo, hi;
};
LLMKIT_INLINE Vec vload(const float* p) { return {vld1q_f32(p), vld1q_f32(p + 4)}; }
LLMKIT_INLINE void vstore(float* p, Vec a) {
  vst1q_f32(p, a.lo);
  vst1q_f32(p + 4, a.hi);
}
LLMKIT_INLINE Vec vset(float x) { return {vdupq_n_f32(x), vdupq_n_f32(x)}; }
LLMKIT_INLINE Vec operator+(Vec a, Vec b) { return {vaddq_f32(a.lo, b.lo), vaddq_f32(a.hi, b.hi)}; }
LLMKIT_INLINE Vec operator-(Vec a, Vec b) { return {vsubq_f32(a.lo, b.lo), vsubq_f32(a.hi, b.hi)}; }
LLMKIT_INLINE Vec operator*(Vec a, Vec b) { return {vmulq_f32(a.lo, b.lo), vmulq_f32(a.hi, b.hi)}; }
LLMKIT_INLINE Vec operator/(Vec a, Vec b) { return {vdivq_f32(a.lo, b.lo), vdivq_f32(a.hi, b.hi)}; }
// a * b + c (vfmaq_f32(c, a, b) = c + a * b, fused)
LLMKIT_INLINE Vec vfma(Vec a, Vec b, Vec c) {
  return {vfmaq_f32(c.lo, a.lo, b.lo), vfmaq_f32(c.hi, a.hi, b.hi)};
}
// a > b ? a : b, like the x86 paths (NEON's fmax would return NaN for either NaN operand).
LLMKIT_INLINE Vec vmax(Vec a, Vec b) {
  return {vbslq_f32(vcgtq_f32(a.lo, b.lo), a.lo, b.lo), vbslq_f32(vcgtq_f32(a.hi, b.hi), a.hi, b.hi)};
}
LLMKIT_INLINE Vec vmin(Vec a, Vec b) {
  return {vbslq_f32(vcltq_f32(a.lo, b.lo), a.lo, b.lo), vbslq_f32(vcltq_f32(a.hi, b.hi), a.hi, b.hi)};
}
LLMKIT_INLINE Vec vabs(Vec a) { return {vabsq_f32(a.lo), vabsq_f32(a.hi)}; }
LLMKIT_INLINE Vec vsqrt(Vec a) { return {vsqrtq_f32(a.lo), vsqrtq_f32(a.hi)}; }
LLMKIT_INLINE Vec vselect_gt(Vec a, Vec b, Vec x, Vec y) {
  return {vbslq_f32(vcgtq_f32(a.lo, b.lo), x.lo, y.lo), vbslq_f32(vcgtq_f32(a.hi, b.hi), x.hi, y.hi)};
}
LLMKIT_INLINE float vsum(Vec a) { return vaddvq_f32(vaddq_f32(a.lo, a.hi)); }
LLMKIT_INLINE float vmaxall(Vec a) { return vmaxvq_f32(vmaxq_f32(a.lo, a.hi)); }
LLMKIT_INLINE Vec vpow2i(Vec n) {
  auto one = [](float32x4_t x) {
    int32x4_t i = vshlq_n_s32(vaddq_s32(vcvtq_s32_f32(x), vdupq_n_s32(127)), 23);
    return vreinterpretq_f32_s32(i);
  };
  return {one(n.lo), one(n.hi)};
}
LLMKIT_INLINE Vec vround(Vec a) { return {vrndnq_f32(a.lo), vrndnq_f32(a.hi)}; }

#elif defined(LLMKIT_ISA_AVX2)

constexpr int kLanes = 8;

struct Vec {
  __m256 v;
};
LLMKIT_INLINE Vec vload(const float* p) { return {_mm256_loadu_ps(p)}; }
LLMKIT_INLINE void vstore(float* p, Vec a) { _mm256_storeu_ps(p, a.v); }
LLMKIT_INLINE Vec vset(float x) { return {_mm256_set1_ps(x)}; }
LLMKIT_INLINE Vec operator+(Vec a, Vec b) { return {_mm256_add_ps(a.v, b.v)}; }
LLMKIT_INLINE Vec operator-(Vec a, Vec b) { return {_mm256_sub_ps(a.v, b.v)}; }
LLMKIT_INLINE Vec operator*(Vec a, Vec b) { return {_mm256_mul_ps(a.v, b.v)}; }
LLMKIT_INLINE Vec operator/(Vec a, Vec b) { return {_mm256_div_ps(a.v, b.v)}; }
// a * b + c
LLMKIT_INLINE Vec vfma(Vec a, Vec b, Vec c) { return {_mm256_fmadd_ps(a.v, b.v, c.v)}; }
LLMKIT_INLINE Vec vmax(Vec a, Vec b) { return {_mm256_max_ps(a.v, b.v)}; }
LLMKIT_INLINE Vec vmin(Vec a, Vec b) { return {_mm256_min_ps(a.v, b.v)}; }
LLMKIT_INLINE Vec vabs(Vec a) {
  return {_mm256_andnot_ps(_mm256_set1_ps(-0.0f), a.v)};
}
LLMKIT_INLINE Vec vsqrt(Vec a) { return {_mm256_sqrt_ps(a.v)}; }
// Lanes where a > b take x, others y.
LLMKIT_INLINE Vec vselect_gt(Vec a, Vec b, Vec x, Vec y) {
  return {_mm256_blendv_ps(y.v, x.v, _mm256_cmp_ps(a.v, b.v, _CMP_GT_OQ))};
}
LLMKIT_INLINE float vsum(Vec a) {
  __m128 lo = _mm256_castps256_ps128(a.v);
  __m128 hi = _mm256_extractf128_ps(a.v, 1);
  lo = _mm_add_ps(lo, hi);
  lo = _mm_add_ps(lo, _mm_movehl_ps(lo, lo));
  lo = _mm_add_ss(lo, _mm_movehdup_ps(lo));
  return _mm_cvtss_f32(lo);
}
LLMKIT_INLINE float vmaxall(Vec a) {
  __m128 lo = _mm256_castps256_ps128(a.v);
  __m128 hi = _mm256_extractf128_ps(a.v, 1);
  lo = _mm_max_ps(lo, hi);
  lo = _mm_max_ps(lo, _mm_movehl_ps(lo, lo));
  lo = _mm_max_ss(lo, _mm_movehdup_ps(lo));
  return _mm_cvtss_f32(lo);
}
// 2^n for integral-valued n in [-126, 127].
LLMKIT_INLINE Vec vpow2i(Vec n) {
  __m256i i = _mm256_cvtps_epi32(n.v);
  i = _mm256_slli_epi32(_mm256_add_epi32(i, _mm256_set1_epi32(127)), 23);
  return {_mm256_castsi256_ps(i)};
}
LLMKIT_INLINE Vec vround(Vec a) {
  return {_mm256_round_ps(a.v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)};
}

#else

constexpr int kLanes = 8;

struct Vec {
  float v[kLanes];
};
#define LLMKIT_LANEWISE(expr) \
  Vec r;                      \
  for (int i = 0; i < kLanes; i++) r.v[i] = (expr);       \
  return r
LLMKIT_INLINE Vec vload(const float* p) {
  Vec r;
  std::memcpy(r.v, p, sizeof r.v);
  return r;
}
LLMKIT_INLINE void vstore(float* p, Vec a) { std::memcpy(p, a.v, sizeof a.v); }
LLMKIT_INLINE Vec vset(float x) { LLMKIT_LANEWISE(x); }
LLMKIT_INLINE Vec operator+(Vec a, Vec b) { LLMKIT_LANEWISE(a.v[i] + b.v[i]); }
LLMKIT_INLINE Vec operator-(Vec a, Vec b) { LLMKIT_LANEWISE(a.v[i] - b.v[i]); }
LLMKIT_INLINE Vec operator*(Vec a, Vec b) { LLMKIT_LANEWISE(a.v[i] * b.v[i]); }
LLMKIT_INLINE Vec operator/(Vec a, Vec b) { LLMKIT_LANEWISE(a.v[i] / b.v[i]); }
LLMKIT_INLINE Vec vfma(Vec a, Vec b, Vec c) { LLMKIT_LANEWISE(a.v[i] * b.v[i] + c.v[i]); }
LLMKIT_INLINE Vec vmax(Vec a, Vec b) { LLMKIT_LANEWISE(a.v[i] > b.v[i] ? a.v[i] : b.v[i]); }
LLMKIT_INLINE Vec vmin(Vec a, Vec b) { LLMKIT_LANEWISE(a.v[i] < b.v[i] ? a.v[i] : b.v[i]); }
LLMKIT_INLINE Vec vabs(Vec a) { LLMKIT_LANEWISE(std::fabs(a.v[i])); }
LLMKIT_INLINE Vec vsqrt(Vec a) { LLMKIT_LANEWISE(std::sqrt(a.v[i])); }
LLMKIT_INLINE Vec vselect_gt(Vec a, Vec b, Vec x, Vec y) {
  LLMKIT_LANEWISE(a.v[i] > b.v[i] ? x.v[i] : y.v[i]);
}
LLMKIT_INLINE float vsum(Vec a) {
  float s = 0;
  for (int i = 0; i < kLanes; i++) s += a.v[i];
  return s;
}
LLMKIT_INLINE float vmaxall(Vec a) {
  float m = a.v[0];
  for (int i = 1; i < kLanes; i++) m = a.v[i] > m ? a.v[i] : m;
  return m;
}
LLMKIT_INLINE Vec vpow2i(Vec n) {
  Vec r;
  for (int i = 0; i < kLanes; i++) {
    int32_t bits = (static_cast<int32_t>(n.v[i]) + 127) << 23;
    std::memcpy(&r.v[i], &bits, sizeof bits);
  }
  return r;
}
LLMKIT_INLINE Vec vround(Vec a) { LLMKIT_LANEWISE(std::nearbyint(a.v[i])); }
#undef LLMKIT_LANEWISE

#endif

#if !defined(LLMKIT_HAVE_PARTIAL)
// Loads count (< kLanes) floats, padding with fill.
LLMKIT_INLINE Vec vload_partial(const float* p, int64_t count, float fill) {
  float tmp[kLanes];
  for (int i = 0; i < kLanes; i++) tmp[i] = i < count ? p[i] : fill;
  return vload(tmp);
}
LLMKIT_INLINE void vstore_partial(float* p, Vec a, int64_t count) {
  float tmp[kLanes];
  vstore(tmp, a);
  for (int64_t i = 0; i < count; i++) p[i] = tmp[i];
}
#endif
#undef LLMKIT_HAVE_PARTIAL

// exp(x) with ~2 ulp error: x = n ln2 + r, |r| <= ln2/2, exp(r) by a degree-6 polynomial
// (Taylor coefficients), scaled by 2^n built in the exponent bits. Below -87.3 the result is
// exactly 0 (as expf underflows): a masked attention score must give probability 0, not ~1e-38,
// or every product with it downstream is a denormal that costs ~100 cycles. Above 88, exp(88).
LLMKIT_INLINE Vec vexp(Vec x) {
  Vec lowest = vset(-87.33654f);
  Vec underflow = x;
  x = vmin(vset(88.0f), vmax(lowest, x));  // operand order keeps NaN
  Vec n = vround(x * vset(1.44269504088896341f));
  // Cody-Waite: ln2 split in a high part exact in float and a low correction.
  Vec r = vfma(n, vset(-0.693359375f), x);
  r = vfma(n, vset(2.12194440e-4f), r);
  Vec p = vset(1.0f / 720);
  p = vfma(p, r, vset(1.0f / 120));
  p = vfma(p, r, vset(1.0f / 24));
  p = vfma(p, r, vset(1.0f / 6));
  p = vfma(p, r, vset(0.5f));
  p = vfma(p, r, vset(1.0f));
  p = vfma(p, r, vset(1.0f));
  Vec result = p * vpow2i(n);  // n in [-126, 127] after the clamp
  return vselect_gt(lowest, underflow, vset(0.0f), result);
}

// tanh(x): (1 - e) / (1 + e) with e = exp(-2|x|), sign restored; below |x| = 0.1, where that
// form cancels, the odd Taylor series x - x^3/3 + 2x^5/15 (error < 1e-8). Saturates at +-1.
LLMKIT_INLINE Vec vtanh(Vec x) {
  Vec a = vabs(x);
  Vec e = vexp(a * vset(-2.0f));
  Vec big = (vset(1.0f) - e) / (vset(1.0f) + e);
  Vec a2 = a * a;
  Vec small = a * vfma(a2, vfma(a2, vset(2.0f / 15), vset(-1.0f / 3)), vset(1.0f));
  Vec t = vselect_gt(a, vset(0.1f), big, small);
  return vselect_gt(vset(0.0f), x, vset(0.0f) - t, t);
}

// sigmoid(x) = 1 / (1 + exp(-x)); accurate in both tails (no 1 - (nearly 1) cancellation).
LLMKIT_INLINE Vec vsigmoid(Vec x) { return vset(1.0f) / (vset(1.0f) + vexp(vset(0.0f) - x)); }

// erf(x) by Abramowitz & Stegun 7.1.26 (absolute error <= 1.5e-7), with the sign restored.
LLMKIT_INLINE Vec verf(Vec x) {
  Vec a = vabs(x);
  Vec t = vset(1.0f) / vfma(vset(0.3275911f), a, vset(1.0f));
  Vec p = vset(1.061405429f);
  p = vfma(p, t, vset(-1.453152027f));
  p = vfma(p, t, vset(1.421413741f));
  p = vfma(p, t, vset(-0.284496736f));
  p = vfma(p, t, vset(0.254829592f));
  Vec y = vset(1.0f) - p * t * vexp(vset(0.0f) - a * a);
  return vselect_gt(vset(0.0f), x, vset(0.0f) - y, y);
}

// sum_i a[i] * b[i], one vector accumulator then the tail.
LLMKIT_INLINE float vdot(const float* a, const float* b, int64_t n) {
  Vec total = vset(0);
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) total = vfma(vload(a + i), vload(b + i), total);
  float s = vsum(total);
  for (; i < n; i++) s += a[i] * b[i];
  return s;
}

}  // namespace LLMKIT_NS
}  // namespace llmkit
