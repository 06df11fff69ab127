// Products with 16-bit float weights: quantizedMatmul's fp16 and bf16 formats (quantized.h).
// Hugging Face models ship bf16 (a few f16) and llmkit keeps that dtype in memory, so W [N, K] is
// read as 16-bit words and widened to float32 in registers; x, the sums and out stay float32.
//   M <= 8 (decoding a token, or a few): matrix-vector products, bound by memory bandwidth. Each
//     weight row is dotted with the rows of x (four at a time) straight from its words, with
//     several accumulators and the words 4 KB ahead prefetched; threads split the output rows.
//   M > 8 (prefill, training; input gradient: M > 4): gemm.cc's GEMM with a 16-bit op(B)
//     (W^T forward, W for the input gradient). pack_b_half converts each KC x NC slice once into
//     the float panels the float micro-kernel reads, so the GEMM runs at sgemm's speed.
//   The input gradient at M <= 4: each weight row streamed once, out[m] += x[m, r] * W[r] with
//     out in L1 / L2; threads split the rows of W into partial sums added at the end.
// Widening: bf16 is the upper half of a float32 (bits << 16, exact); fp16 is vcvtph2ps (AVX-512,
// and F16C on the avx2 path: binding.gyp adds -mf16c and dispatch.cc requires the feature;
// x86-64-v3, the level of AVX2 + FMA, includes it), vcvt_f32_f16 on NEON, a branch-free
// half_to_float on the portable path; all exact, subnormal halves included.
// Not AVX512_BF16's vdpbf16ps: it multiplies pairs of bf16, so x would be rounded to bf16 (8
// mantissa bits) before the product, and the activations must stay float32, as in the js
// reference and every other path.
#include <algorithm>
#include <cstring>
#include <vector>

#include "common.h"
#include "kernels.h"
#include "pack.h"
#include "quantized.h"
#include "simd.h"

namespace llmkit {
namespace LLMKIT_NS {

void half_matmul(const QuantizedArgs& a);

namespace {

// Rows of x up to which the matrix-vector products run (forward: past 8 the GEMM wins, measured on
// Qwen3-0.6B's shapes; below it the GEMM's 14-row register tile is mostly empty), and the input
// gradient's axpy rows (its partial sums grow with M).
constexpr int64_t kMatvecRows = 8;
constexpr int64_t kGradientRows = 4;
constexpr int64_t kPrefetchWords = 2048;  // 4 KB: see dot_half_row
constexpr int64_t NR = kGemmPanelWidth;

// One 16-bit word's value.
template <BType type>
LLMKIT_INLINE float half_value(uint16_t bits) {
  if (type == BType::kFloat16) return half_to_float(bits);
  const uint32_t word = static_cast<uint32_t>(bits) << 16;
  float value;
  std::memcpy(&value, &word, 4);
  return value;
}

// ---- kLanes words -> one Vec of floats ----
#if defined(LLMKIT_ISA_AVX512)
template <BType type>
LLMKIT_INLINE Vec widen(__m256i bits) {
  if (type == BType::kFloat16) return {_mm512_cvtph_ps(bits)};
  return {_mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(bits), 16))};
}
template <BType type>
LLMKIT_INLINE Vec load_half(const uint16_t* p) {
  return widen<type>(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
}
// The first count (< kLanes) words, zeros after; reads nothing past them.
template <BType type>
LLMKIT_INLINE Vec load_half_partial(const uint16_t* p, int64_t count) {
  return widen<type>(_mm256_maskz_loadu_epi16(static_cast<__mmask16>((1u << count) - 1), p));
}
#elif defined(LLMKIT_ISA_AVX2)
template <BType type>
LLMKIT_INLINE Vec load_half(const uint16_t* p) {
  const __m128i bits = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  if (type == BType::kFloat16) return {_mm256_cvtph_ps(bits)};  // F16C
  return {_mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(bits), 16))};
}
#elif defined(LLMKIT_ISA_NEON)
template <BType type>
LLMKIT_INLINE Vec load_half(const uint16_t* p) {
  const uint16x8_t bits = vld1q_u16(p);
  if (type == BType::kFloat16) {
    const float16x8_t h = vreinterpretq_f16_u16(bits);
    return {vcvt_f32_f16(vget_low_f16(h)), vcvt_high_f32_f16(h)};
  }
  return {vreinterpretq_f32_u32(vshll_n_u16(vget_low_u16(bits), 16)),
          vreinterpretq_f32_u32(vshll_high_n_u16(bits, 16))};
}
#else
// fp16 without half_to_float's branches, so the compiler vectorises the lanes: the exponent and
// mantissa moved into a float's place times 2^112 (exact for normal and subnormal halves), and
// infinities and NaNs (exponent 31) selected, not branched to.
LLMKIT_INLINE float fp16_value(uint16_t h) {
  const uint32_t moved = static_cast<uint32_t>(h & 0x7fff) << 13;
  const uint32_t special = moved | 0x7f800000u;
  float magnitude, infinite;
  std::memcpy(&magnitude, &moved, 4);
  std::memcpy(&infinite, &special, 4);
  magnitude = (h & 0x7c00) == 0x7c00 ? infinite : magnitude * 0x1p112f;
  return (h & 0x8000) ? -magnitude : magnitude;
}
template <BType type>
LLMKIT_INLINE Vec load_half(const uint16_t* p) {
  Vec v;
  for (int i = 0; i < kLanes; i++)
    v.v[i] = type == BType::kFloat16 ? fp16_value(p[i]) : half_value<type>(p[i]);
  return v;
}
#endif

// ---- matrix-vector products (M <= kMatvecRows) ----

// Weight row w [K] dotted with the M rows of x [M, K]: out[m * ldo] = w . x[m]. Each vector of
// w is widened once for all M rows of x; U vectors a step give M * U independent accumulators
// (M = 1: four chains), so the FMA latency never stalls the stream of weights.
// The weights come from DRAM once per token, and their conversion takes several times the
// instructions per byte of a float dot product, so the out-of-order window alone keeps fewer
// cache misses in flight than the float path does: the words kPrefetchWords ahead (in the next
// rows once near the end of this one: a thread's rows are contiguous) are prefetched into L2.
// Measured on the 1024 x 151936 LM head (Xeon, AVX-512, one thread): 10.7 GB/s without
// prefetching, 13.5 at 1024 words ahead into L1, 14.9 at 2048 into L2 (float32 gemv: 16).
// Prefetching past the weight's end is harmless (a prefetch never faults).
template <BType type, int M>
void dot_half_row(const uint16_t* w, const float* x, int64_t K, float* out, int64_t ldo) {
  constexpr int U = M == 1 ? 4 : 2;
  Vec acc[M][U];
  for (int m = 0; m < M; m++)
    for (int u = 0; u < U; u++) acc[m][u] = vset(0.0f);
  int64_t k = 0;
  for (; k + U * kLanes <= K; k += U * kLanes) {
    for (int u = 0; u < U * kLanes; u += 32) __builtin_prefetch(w + k + u + kPrefetchWords, 0, 2);
    for (int u = 0; u < U; u++) {
      const Vec wv = load_half<type>(w + k + u * kLanes);
      for (int m = 0; m < M; m++)
        acc[m][u] = vfma(wv, vload(x + m * K + k + u * kLanes), acc[m][u]);
    }
  }
  for (; k + kLanes <= K; k += kLanes) {
    const Vec wv = load_half<type>(w + k);
    for (int m = 0; m < M; m++) acc[m][0] = vfma(wv, vload(x + m * K + k), acc[m][0]);
  }
#if defined(LLMKIT_ISA_AVX512)
  if (k < K) {  // masked: K need not be a multiple of 16
    const Vec wv = load_half_partial<type>(w + k, K - k);
    for (int m = 0; m < M; m++)
      acc[m][0] = vfma(wv, vload_partial(x + m * K + k, K - k, 0.0f), acc[m][0]);
    k = K;
  }
#endif
  for (int m = 0; m < M; m++) {
    Vec total = acc[m][0];
    for (int u = 1; u < U; u++) total = total + acc[m][u];
    float sum = vsum(total);
    for (int64_t j = k; j < K; j++) sum += half_value<type>(w[j]) * x[m * K + j];
    out[m * ldo] = sum;
  }
}

// Output columns [begin, end) of out [M, N] = x [M, K] @ W^T: each weight row against the rows
// of x four at a time (the row stays in L1 between the groups).
template <BType type>
void matvec_rows(const QuantizedArgs& a, int64_t begin, int64_t end) {
  const uint16_t* bits = static_cast<const uint16_t*>(a.weight);
  const int64_t K = a.k, N = a.n;
  for (int64_t r = begin; r < end; r++) {
    const uint16_t* w = bits + r * K;
    for (int64_t m = 0; m < a.m; m += 4) {
      const float* x = a.x + m * K;
      float* out = a.out + m * N + r;
      switch (std::min<int64_t>(4, a.m - m)) {
        case 1: dot_half_row<type, 1>(w, x, K, out, N); break;
        case 2: dot_half_row<type, 2>(w, x, K, out, N); break;
        case 3: dot_half_row<type, 3>(w, x, K, out, N); break;
        default: dot_half_row<type, 4>(w, x, K, out, N);
      }
    }
  }
}

template <BType type>
void matvec(const QuantizedArgs& a) {
  // Rows per task: ~32K weights (64 KB) pay for a wake-up.
  parallel_range(a.n, std::max<int64_t>(1, 32768 / a.k), [&](int64_t begin, int64_t end) {
    matvec_rows<type>(a, begin, end);
  });
}

// ---- the input gradient at M <= 4: out [M, K] = x [M, N] @ W ----

// out[m] += sum over rows r in [begin, end) of x[m, r] * W[r] for the M rows of out [M, K] (each
// K floats, in L1 / L2): each vector of a weight row is widened once for all M rows, and the rows
// stream in order, prefetched as in dot_half_row.
template <BType type, int M>
void axpy_rows(const QuantizedArgs& a, int64_t begin, int64_t end, float* out) {
  const uint16_t* bits = static_cast<const uint16_t*>(a.weight);
  const int64_t N = a.n, K = a.k;
  for (int64_t r = begin; r < end; r++) {
    const uint16_t* w = bits + r * K;
    Vec g[M];
    for (int m = 0; m < M; m++) g[m] = vset(a.x[m * N + r]);
    int64_t k = 0;
    for (; k + kLanes <= K; k += kLanes) {
      if (k % 32 == 0) __builtin_prefetch(w + k + kPrefetchWords, 0, 2);
      const Vec wv = load_half<type>(w + k);
      for (int m = 0; m < M; m++) vstore(out + m * K + k, vfma(g[m], wv, vload(out + m * K + k)));
    }
    for (; k < K; k++) {
      const float value = half_value<type>(w[k]);
      for (int m = 0; m < M; m++) out[m * K + k] += a.x[m * N + r] * value;
    }
  }
}

// Threads split the N rows of W (so each streams a contiguous part of it, as the forward product
// does) into partial sums over [M, K], added up at the end: M K floats per thread, small.
template <BType type, int M>
void input_gradient(const QuantizedArgs& a) {
  const int64_t size = M * a.k;
  // ~64K weights a part pay for a wake-up
  const int64_t parts = std::max<int64_t>(1, std::min<int64_t>(thread_count(), a.n * a.k / 65536));
  std::vector<float> partial(static_cast<size_t>((parts - 1) * size), 0.0f);
  std::fill(a.out, a.out + size, 0.0f);
  auto part = [&](int64_t p) {
    float* out = p == 0 ? a.out : partial.data() + (p - 1) * size;
    axpy_rows<type, M>(a, p * a.n / parts, (p + 1) * a.n / parts, out);
  };
  if (parts == 1) part(0);
  else parallel_for(parts, part);
  for (int64_t p = 1; p < parts; p++) {
    const float* sum = partial.data() + (p - 1) * size;
    for (int64_t i = 0; i < size; i++) a.out[i] += sum[i];
  }
}

template <BType type>
void small_input_gradient(const QuantizedArgs& a) {
  switch (a.m) {
    case 1: return input_gradient<type, 1>(a);
    case 2: return input_gradient<type, 2>(a);
    case 3: return input_gradient<type, 3>(a);
    default: return input_gradient<type, 4>(a);
  }
}

// ---- GEMM packing (M > kMatvecRows, or kGradientRows) ----

// Depth [0, kc) of panel columns [0, cols) where column c is row c of W (src + c * ld, its words
// contiguous along the depth), widened: pack.h's tiles transposed in registers.
template <BType type>
void pack_transposed(const uint16_t* src, int64_t ld, int64_t kc, int64_t cols, float* panel) {
  pack_transposed_panel(
      src, ld, kc, cols, panel, [](const uint16_t* p) { return load_half<type>(p); },
      [](uint16_t bits) { return half_value<type>(bits); });
}

template <BType type>
void pack_panels(const GemmArgs& g, const uint16_t* b, int64_t p0, int64_t kc, int64_t j0,
                 int64_t nc, float* out) {
  for (int64_t jr = 0; jr < nc; jr += NR) {
    const int64_t cols = std::min(NR, nc - jr);
    float* panel = out + jr * kc;
    if (g.transpose_b) {  // B(k, j) = b[j * ldb + k] (the forward product: B = W^T)
      pack_transposed<type>(b + (j0 + jr) * g.ldb + p0, g.ldb, kc, cols, panel);
      continue;
    }
    // B(k, j) = b[k * ldb + j] (the input gradient: B = W): a panel row is NR contiguous words.
    const uint16_t* src = b + p0 * g.ldb + j0 + jr;
    for (int64_t k = 0; k < kc; k++) {
      const uint16_t* row = src + k * g.ldb;
      if (cols == NR) {
        vstore(panel + k * NR, load_half<type>(row));
        vstore(panel + k * NR + kLanes, load_half<type>(row + kLanes));
      } else {
        for (int64_t c = 0; c < NR; c++)
          panel[k * NR + c] = c < cols ? half_value<type>(row[c]) : 0.0f;
      }
    }
  }
}

}  // namespace

void pack_b_half(const GemmArgs& g, const uint16_t* b, int64_t p0, int64_t kc, int64_t j0,
                 int64_t nc, float* out) {
  if (g.b_type == BType::kFloat16) {
    pack_panels<BType::kFloat16>(g, b, p0, kc, j0, nc, out);
  } else {
    pack_panels<BType::kBfloat16>(g, b, p0, kc, j0, nc, out);
  }
}

// quantizedMatmul for fp16 / bf16 weights (M, N, K > 0).
void half_matmul(const QuantizedArgs& a) {
  const BType type = a.format == kFp16 ? BType::kFloat16 : BType::kBfloat16;
  if (!a.transposed && a.m <= kMatvecRows) {
    if (type == BType::kFloat16) matvec<BType::kFloat16>(a);
    else matvec<BType::kBfloat16>(a);
    return;
  }
  if (a.transposed && a.m <= kGradientRows) {
    if (type == BType::kFloat16) small_input_gradient<BType::kFloat16>(a);
    else small_input_gradient<BType::kBfloat16>(a);
    return;
  }
  GemmArgs g;
  g.m = a.m;
  g.a = a.x;
  g.b_type = type;
  g.b16 = static_cast<const uint16_t*>(a.weight);
  g.c = a.out;
  if (!a.transposed) {  // out [M, N] = x [M, K] @ W^T: op(B) = W^T, B(k, n) = W[n * K + k]
    g.n = a.n;
    g.k = a.k;
    g.transpose_b = true;
  } else {  // out [M, K] = x [M, N] @ W: op(B) = W, B(n, k) = W[n * K + k]
    g.n = a.k;
    g.k = a.n;
  }
  g.lda = g.k;
  g.ldb = a.k;
  g.ldc = g.n;
  gemm(g);
}

}  // namespace LLMKIT_NS
}  // namespace llmkit
