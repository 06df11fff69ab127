// The kernel table of this translation unit's instruction set (compiled once per ISA).
#include "kernels.h"

namespace llmkit {
namespace LLMKIT_NS {

const KernelTable& kernel_table() {
  static const KernelTable table = {
#if defined(LLMKIT_ISA_AVX512)
      "avx512",
#elif defined(LLMKIT_ISA_AVX2)
      "avx2",
#elif defined(LLMKIT_ISA_NEON)
      "neon",
#else
      "portable",
#endif
      gemm,
      softmax,
      softmax_backward,
      layer_norm,
      layer_norm_backward,
      gelu,
      gelu_backward,
      cross_entropy,
      cross_entropy_backward,
      embedding,
      embedding_backward,
      adamw,
      attention,
      attention_backward,
      int8_dot,
      int8_gemv,
      int8_isa,
      rms_norm,
      rope,
  };
  return table;
}

}  // namespace LLMKIT_NS
}  // namespace llmkit
