// Quantized matrix products for @llmkit/quantize's packed weights (core-tensor's optional
// `quantizedMatmul` kernel): out = x @ W^T, or the input gradient out = x @ W, where W [N, K]
// stays packed and each row is dequantized into a K-float scratch row in L1 (never a float copy of
// the whole weight). Formats and layouts: core-tensor's src/backend/js/quantized.ts.
#pragma once

#include <cstdint>
#include <cstring>

namespace llmkit {

// The packed formats, in the order of QUANTIZED_FORMATS in src/kernels/quantized.ts.
enum QuantFormat { kFp16, kBf16, kInt8, kInt4, kNf4, kQ8_0, kQ4_0, kQuantFormatCount };

struct QuantizedArgs {
  int format = kInt8;
  int64_t m = 0, n = 0, k = 0;
  // Weights per scale along a row (int4, nf4); unused otherwise.
  int64_t group = 0;
  // int4 only: false when `minimums` holds each group's minimum.
  bool symmetric = true;
  // false: out [m, n] = x [m, k] @ W^T; true: out [m, k] = x [m, n] @ W.
  bool transposed = false;
  // Forward products of int8, symmetric int4 (group a multiple of 32), q8_0 and q4_0 weights
  // only (k a multiple of 32): x quantized to 8 bits in blocks of 32, integer dot products
  // (llama.cpp's arithmetic; quantized-activations.cc). Ignored when transposed.
  bool int8_activations = false;
  const float* x = nullptr;
  float* out = nullptr;
  // The packed weight: uint16 bits (fp16/bf16), int8, or bytes (int4, nf4, q8_0, q4_0 blocks).
  const void* weight = nullptr;
  // int8: one per row; int4/nf4: [n, k / group].
  const float* scales = nullptr;
  const float* minimums = nullptr;
};

// Bytes of one packed row of k weights. (Helpers here are static: each instruction-set
// compilation keeps its own copy, so the linker never hands one path another's code.)
static inline int64_t packed_row_bytes(int format, int64_t k) {
  switch (format) {
    case kFp16:
    case kBf16: return 2 * k;
    case kInt8: return k;
    case kQ8_0: return k / 32 * 34;
    case kQ4_0: return k / 32 * 18;
    default: return k / 2;  // int4, nf4
  }
}

// An IEEE half's value (subnormals, infinities and NaNs included).
static inline float half_to_float(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000) << 16;
  const uint32_t exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
  uint32_t bits;
  if (exponent == 0x1f) {
    bits = sign | 0x7f800000u | (mantissa << 13);
  } else if (exponent != 0) {
    bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
  } else {  // zero or subnormal: mantissa * 2^-24
    const float value = static_cast<float>(mantissa) * 5.9604644775390625e-8f;
    return sign ? -value : value;
  }
  float out;
  std::memcpy(&out, &bits, 4);
  return out;
}

struct QuantizedTable {
  void (*matmul)(const QuantizedArgs& args);
};

namespace avx512 {
const QuantizedTable& quantized_table();
}
namespace avx2 {
const QuantizedTable& quantized_table();
}
namespace neon {
const QuantizedTable& quantized_table();
}
namespace portable {
const QuantizedTable& quantized_table();
}

// The table of the instruction-set path in use (follows setIsa / LLMKIT_CPU_ISA).
const QuantizedTable& quantized_kernels();

}  // namespace llmkit
