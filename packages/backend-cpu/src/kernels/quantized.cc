// Quantized matmul kernels (see quantized.h), compiled once per instruction set like every file
// in binding.gyp's kernel_sources. Each weight row is decoded into a thread-local scratch row (K
// floats, in L1) with the integer-to-float conversions vectorised (AVX2: 8 lanes, AVX-512: 16),
// then dotted with every row of x, so a decoded row is reused M times and the packed bytes are
// read once per product. Threads split the output features (forward) or the K columns (input
// gradient).
#include <algorithm>
#include <cstring>

#include "common.h"
#include "quantized.h"
#include "simd.h"

namespace llmkit {
namespace LLMKIT_NS {
namespace {

// bitsandbytes' NF4 code values (QLoRA).
constexpr float kNf4Code[16] = {
    -1.0f, -0.6961928009986877f, -0.5250730514526367f, -0.39491748809814453f,
    -0.28444138169288635f, -0.18477343022823334f, -0.09105003625154495f, 0.0f,
    0.07958029955625534f, 0.16093020141124725f, 0.24611230194568634f, 0.33791524171829224f,
    0.44070982933044434f, 0.5626170039176941f, 0.7229568362236023f, 1.0f};

float half_to_float(uint16_t h) {
  uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  uint32_t exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
  uint32_t bits;
  if (exponent == 0x1f) {
    bits = sign | 0x7f800000 | (mantissa << 13);
  } else if (exponent != 0) {
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else if (mantissa == 0) {
    bits = sign;
  } else {  // subnormal: value = mantissa * 2^-24
    float value = static_cast<float>(mantissa) * 5.9604644775390625e-8f;
    return sign ? -value : value;
  }
  float out;
  std::memcpy(&out, &bits, 4);
  return out;
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
    case kNf4: {
      const uint8_t* packed = static_cast<const uint8_t*>(a.weight) + r * (K / 2);
      const int64_t groups = K / a.group;
      for (int64_t g = k0 / a.group; g < k1 / a.group; g++) {
        const float s = a.scales[r * groups + g];
        const uint8_t* bytes = packed + g * a.group / 2;
        float* dst = out + (g * a.group - k0);
        if (a.format == kNf4) {
          for (int64_t j = 0; j < a.group / 2; j++) {
            dst[2 * j] = kNf4Code[bytes[j] >> 4] * s;
            dst[2 * j + 1] = kNf4Code[bytes[j] & 15] * s;
          }
        } else if (a.symmetric) {
          for (int64_t j = 0; j < a.group / 2; j++) {
            dst[2 * j] = ((bytes[j] >> 4) - 8) * s;
            dst[2 * j + 1] = ((bytes[j] & 15) - 8) * s;
          }
        } else {
          const float minimum = a.minimums[r * groups + g];
          for (int64_t j = 0; j < a.group / 2; j++) {
            dst[2 * j] = (bytes[j] >> 4) * s + minimum;
            dst[2 * j + 1] = (bytes[j] & 15) * s + minimum;
          }
        }
      }
      return;
    }
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
