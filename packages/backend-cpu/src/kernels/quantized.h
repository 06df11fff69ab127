// Quantized matrix products for @llmkit/quantize's packed weights (core-tensor's optional
// `quantizedMatmul` kernel): out = x @ W^T, or the input gradient out = x @ W, where W [N, K]
// stays packed and each row is dequantized into a K-float scratch row in L1 (never a float copy of
// the whole weight). Formats and layouts: core-tensor's src/backend/js/quantized.ts.
#pragma once

#include <cstdint>

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
