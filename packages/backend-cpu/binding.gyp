# The native addon. Every file in kernel_sources is compiled once per instruction-set path into
# its own static library (kernels_<isa>), with LLMKIT_ISA_<ISA> defined: simd.h then puts that
# compilation's code in namespace llmkit::<isa> with the matching vector type, so one source gives
# every path. src/native/dispatch.cc picks a path at load time (or as LLMKIT_CPU_ISA forces).
#
# Adding a kernel file: write it against simd.h (Vec, kLanes; `#if defined(LLMKIT_ISA_AVX512)` for
# an ISA-specific section), add it to kernel_sources below, and add its entry points to the
# KernelTable (common.h) and table.cc, or to a table of its own looked up like dispatch.cc does.
# Paths: portable (baseline flags), avx2 (+AVX2/FMA/F16C), avx512 (+AVX-512 F/BW/DQ/VL) on x64; neon on
# arm64. Code that needs a feature beyond its path's flags (VNNI, BF16) uses
# __attribute__((target(...))) and a cpu_has() check at run time (see int8.cc).
{
  "variables": {
    "kernel_sources": [
      "src/kernels/adamw.cc",
      "src/kernels/attention.cc",
      "src/kernels/cross-entropy.cc",
      "src/kernels/elementwise.cc",
      "src/kernels/embedding.cc",
      "src/kernels/gelu.cc",
      "src/kernels/gemm.cc",
      "src/kernels/gemv.cc",
      "src/kernels/half.cc",
      "src/kernels/int8.cc",
      "src/kernels/layer-norm.cc",
      "src/kernels/softmax.cc",
      "src/kernels/table.cc",
      "src/kernels/quantized.cc",
      "src/kernels/quantized-activations.cc",
      "src/kernels/quantized-tiles.cc",
      "src/kernels/rope.cc",
    ],
    "kernel_flags": ["-O3", "-fno-math-errno", "-fno-trapping-math", "-std=c++17"],
  },
  "targets": [
    {
      "target_name": "kernels_portable",
      "type": "static_library",
      "sources": ["<@(kernel_sources)"],
      "cflags_cc": ["<@(kernel_flags)"],
      "cflags": ["-fPIC"],
    },
    {
      "target_name": "kernels_avx2",
      "type": "static_library",
      "conditions": [
        ["target_arch=='x64'", {
          "sources": ["<@(kernel_sources)"],
          "defines": ["LLMKIT_ISA_AVX2"],
          # F16C (half.cc's fp16 weights): part of x86-64-v3 with AVX2 and FMA, on every AVX2
          # CPU; dispatch.cc still requires it before it runs this path.
          "cflags_cc": ["<@(kernel_flags)", "-mavx2", "-mfma", "-mf16c"],
          "cflags": ["-fPIC"],
        }],
      ],
    },
    {
      "target_name": "kernels_avx512",
      "type": "static_library",
      "conditions": [
        ["target_arch=='x64'", {
          "sources": ["<@(kernel_sources)"],
          "defines": ["LLMKIT_ISA_AVX512"],
          # prefer-vector-width: let the auto-vectoriser use zmm too (generic tuning says ymm).
          # -Wno-(maybe-)uninitialized: GCC 12's own AVX-512 headers trip it (GCC bug 105593).
          "cflags_cc": ["<@(kernel_flags)", "-mavx2", "-mfma", "-mavx512f", "-mavx512bw",
                        "-mavx512dq", "-mavx512vl", "-mprefer-vector-width=512",
                        "-Wno-uninitialized", "-Wno-maybe-uninitialized"],
          "cflags": ["-fPIC"],
        }],
      ],
    },
    {
      "target_name": "kernels_neon",
      "type": "static_library",
      "conditions": [
        ["target_arch=='arm64'", {
          "sources": ["<@(kernel_sources)"],
          "defines": ["LLMKIT_ISA_NEON"],
          "cflags_cc": ["<@(kernel_flags)"],
          "cflags": ["-fPIC"],
        }],
      ],
    },
    {
      "target_name": "llmkit_cpu",
      "sources": [
        "src/native/addon.cc",
        "src/native/dispatch.cc",
        "src/native/quantized.cc",
        "src/kernels/scratch.cc",
        "src/kernels/thread-pool.cc",
      ],
      "dependencies": ["kernels_portable", "kernels_avx2", "kernels_avx512", "kernels_neon"],
      "cflags_cc": ["-O3", "-std=c++17"],
      "libraries": ["-lpthread"],
      "conditions": [
        ["target_arch=='x64'", {
          "defines": ["LLMKIT_HAVE_AVX2_BUILD", "LLMKIT_HAVE_AVX512_BUILD"],
        }],
        ["target_arch=='arm64'", { "defines": ["LLMKIT_HAVE_NEON_BUILD"] }],
      ],
    },
  ],
}
