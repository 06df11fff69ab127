// Chooses the kernel tables: the best instruction-set path this build has and this CPU runs
// (avx512 > avx2 > portable on x86-64, neon > portable on AArch64), unless set_isa forced a lower
// one. Which paths a build has comes from binding.gyp: LLMKIT_HAVE_<ISA>_BUILD is defined when
// the kernels_<isa> static library is linked in.
#include <cstring>

#include "../kernels/kernels.h"

namespace llmkit {
namespace {

struct Tables {
  const KernelTable* kernels;
  const ElementwiseTable* elementwise;
};

Tables tables_of(Isa isa) {
  switch (isa) {
#if defined(LLMKIT_HAVE_AVX512_BUILD)
    case Isa::kAvx512:
      return {&avx512::kernel_table(), &avx512::elementwise_table()};
#endif
#if defined(LLMKIT_HAVE_AVX2_BUILD)
    case Isa::kAvx2:
      return {&avx2::kernel_table(), &avx2::elementwise_table()};
#endif
#if defined(LLMKIT_HAVE_NEON_BUILD)
    case Isa::kNeon:
      return {&neon::kernel_table(), &neon::elementwise_table()};
#endif
    default:
      return {&portable::kernel_table(), &portable::elementwise_table()};
  }
}

bool built(Isa isa) {
  switch (isa) {
    case Isa::kPortable:
      return true;
    case Isa::kAvx2:
#if defined(LLMKIT_HAVE_AVX2_BUILD)
      return true;
#else
      return false;
#endif
    case Isa::kAvx512:
#if defined(LLMKIT_HAVE_AVX512_BUILD)
      return true;
#else
      return false;
#endif
    case Isa::kNeon:
#if defined(LLMKIT_HAVE_NEON_BUILD)
      return true;
#else
      return false;
#endif
  }
  return false;
}

bool active_set = false;
Isa active = Isa::kPortable;
Tables active_tables{};

void activate(Isa isa) {
  active = isa;
  active_tables = tables_of(isa);
  active_set = true;
}

void ensure_active() {
  if (!active_set) activate(best_isa());
}

}  // namespace

bool cpu_has(const char* feature) {
#if defined(__x86_64__) || defined(__i386__)
  // __builtin_cpu_supports takes a string literal, so each feature is spelled out once.
#define LLMKIT_FEATURE(name) \
  if (std::strcmp(feature, name) == 0) return __builtin_cpu_supports(name);
  LLMKIT_FEATURE("avx2")
  LLMKIT_FEATURE("fma")
  LLMKIT_FEATURE("avx512f")
  LLMKIT_FEATURE("avx512bw")
  LLMKIT_FEATURE("avx512dq")
  LLMKIT_FEATURE("avx512vl")
  LLMKIT_FEATURE("avx512vnni")
  LLMKIT_FEATURE("avx512bf16")
  LLMKIT_FEATURE("avxvnni")
#undef LLMKIT_FEATURE
  return false;
#else
  (void)feature;
  return false;
#endif
}

const char* isa_name(Isa isa) {
  switch (isa) {
    case Isa::kAvx2:
      return "avx2";
    case Isa::kAvx512:
      return "avx512";
    case Isa::kNeon:
      return "neon";
    default:
      return "portable";
  }
}

bool isa_supported(Isa isa) {
  if (!built(isa)) return false;
  switch (isa) {
    case Isa::kPortable:
      return true;
    case Isa::kAvx2:
      return cpu_has("avx2") && cpu_has("fma");
    case Isa::kAvx512:
      return cpu_has("avx2") && cpu_has("fma") && cpu_has("avx512f") && cpu_has("avx512bw") &&
             cpu_has("avx512dq") && cpu_has("avx512vl");
    case Isa::kNeon:
      return true;  // Advanced SIMD is part of every AArch64 CPU
  }
  return false;
}

Isa best_isa() {
  for (Isa isa : {Isa::kAvx512, Isa::kAvx2, Isa::kNeon}) {
    if (isa_supported(isa)) return isa;
  }
  return Isa::kPortable;
}

Isa active_isa() {
  ensure_active();
  return active;
}

bool set_isa(const char* name) {
  if (name == nullptr || name[0] == '\0' || std::strcmp(name, "best") == 0) {
    activate(best_isa());
    return true;
  }
  for (Isa isa : {Isa::kPortable, Isa::kAvx2, Isa::kAvx512, Isa::kNeon}) {
    if (std::strcmp(name, isa_name(isa)) == 0) {
      if (!isa_supported(isa)) return false;
      activate(isa);
      return true;
    }
  }
  return false;
}

const KernelTable& kernels() {
  ensure_active();
  return *active_tables.kernels;
}

const ElementwiseTable& elementwise() {
  ensure_active();
  return *active_tables.elementwise;
}

const char* kernel_isa() { return isa_name(active_isa()); }

const char* force_portable(bool use_portable) {
  activate(use_portable ? Isa::kPortable : best_isa());
  return kernel_isa();
}

}  // namespace llmkit
