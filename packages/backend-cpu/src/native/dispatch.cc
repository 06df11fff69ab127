// Chooses the kernel tables: the best instruction-set path this build has and this CPU runs
// (avx512 > avx2 > portable on x86-64, neon > portable on AArch64), unless the LLMKIT_CPU_ISA
// environment variable or set_isa forces a lower one. Which paths a build has comes from binding.gyp: LLMKIT_HAVE_<ISA>_BUILD is defined when
// the kernels_<isa> static library is linked in.
#include <cstdio>
#include <cstdlib>
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
// The default path: LLMKIT_CPU_ISA's when it names a supported one, else the best.
bool default_known = false;
Isa default_path = Isa::kPortable;

void activate(Isa isa) {
  active = isa;
  active_tables = tables_of(isa);
  active_set = true;
}

bool parse_isa(const char* name, Isa* isa) {
  for (Isa candidate : {Isa::kPortable, Isa::kAvx2, Isa::kAvx512, Isa::kNeon}) {
    if (std::strcmp(name, isa_name(candidate)) == 0) {
      *isa = candidate;
      return true;
    }
  }
  return false;
}

// Reads LLMKIT_CPU_ISA once. A path the CPU cannot run is never taken (its instructions would
// fault): an unknown or unsupported value warns once on stderr and the best path runs.
Isa default_isa() {
  if (default_known) return default_path;
  default_known = true;
  default_path = best_isa();
  const char* forced = forced_isa();
  if (forced == nullptr) return default_path;
  Isa isa;
  if (!parse_isa(forced, &isa)) {
    std::fprintf(stderr,
                 "@llmkit/backend-cpu: LLMKIT_CPU_ISA=%s is not one of portable, avx2, avx512, "
                 "neon; using %s\n",
                 forced, isa_name(default_path));
  } else if (!isa_supported(isa)) {
    std::fprintf(stderr,
                 "@llmkit/backend-cpu: LLMKIT_CPU_ISA=%s is not supported by this CPU or build; "
                 "using %s\n",
                 forced, isa_name(default_path));
  } else {
    default_path = isa;
  }
  return default_path;
}

void ensure_active() {
  if (!active_set) activate(default_isa());
}

}  // namespace

bool cpu_has(const char* feature) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();  // may run from a static initializer, before libgcc's own
  // __builtin_cpu_supports takes a string literal, so each feature is spelled out once.
#define LLMKIT_FEATURE(name) \
  if (std::strcmp(feature, name) == 0) return __builtin_cpu_supports(name);
  LLMKIT_FEATURE("avx2")
  LLMKIT_FEATURE("fma")
  LLMKIT_FEATURE("f16c")
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

bool vnni_allowed() {
  const char* flag = std::getenv("LLMKIT_CPU_VNNI");
  return flag == nullptr || std::strcmp(flag, "0") != 0;
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
      return cpu_has("avx2") && cpu_has("fma") && cpu_has("f16c");
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

const char* forced_isa() {
  const char* forced = std::getenv("LLMKIT_CPU_ISA");
  return forced != nullptr && forced[0] != '\0' ? forced : nullptr;
}

bool set_isa(const char* name) {
  if (name == nullptr || name[0] == '\0') {
    activate(default_isa());
    return true;
  }
  if (std::strcmp(name, "best") == 0) {
    activate(best_isa());
    return true;
  }
  Isa isa;
  if (!parse_isa(name, &isa) || !isa_supported(isa)) return false;
  activate(isa);
  return true;
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
  activate(use_portable ? Isa::kPortable : default_isa());
  return kernel_isa();
}

}  // namespace llmkit
