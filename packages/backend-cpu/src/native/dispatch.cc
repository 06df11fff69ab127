// Chooses the kernel table once: AVX2/FMA when the CPU has both, the portable one otherwise.
#include "../kernels/common.h"

namespace llmkit {
namespace {

const KernelTable* active = nullptr;

}  // namespace

bool cpu_has_avx2_fma() {
#if defined(__x86_64__) || defined(__i386__)
  static const bool has = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return has;
#else
  return false;
#endif
}

const KernelTable& kernels() {
  if (active == nullptr) {
#if defined(LLMKIT_HAVE_AVX2_BUILD)
    active = cpu_has_avx2_fma() ? &avx2::kernel_table() : &portable::kernel_table();
#else
    active = &portable::kernel_table();
#endif
  }
  return *active;
}

const ElementwiseTable& elementwise() {
  if (&kernels() == &portable::kernel_table()) return portable::elementwise_table();
#if defined(LLMKIT_HAVE_AVX2_BUILD)
  return avx2::elementwise_table();
#else
  return portable::elementwise_table();
#endif
}

const char* kernel_isa() { return kernels().isa; }

const char* force_portable(bool use_portable) {
  active = nullptr;
  if (use_portable) active = &portable::kernel_table();
  return kernels().isa;
}

}  // namespace llmkit
