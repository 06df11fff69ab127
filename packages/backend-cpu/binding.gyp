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
      "src/kernels/layer-norm.cc",
      "src/kernels/softmax.cc",
      "src/kernels/table.cc"
    ],
    "kernel_flags": ["-O3", "-fno-math-errno", "-fno-trapping-math", "-std=c++17"]
  },
  "targets": [
    {
      "target_name": "kernels_portable",
      "type": "static_library",
      "sources": ["<@(kernel_sources)"],
      "cflags_cc": ["<@(kernel_flags)"],
      "cflags": ["-fPIC"]
    },
    {
      "target_name": "kernels_avx2",
      "type": "static_library",
      "conditions": [
        ["target_arch=='x64'", {
          "sources": ["<@(kernel_sources)"],
          "defines": ["LLMKIT_ISA_AVX2"],
          "cflags_cc": ["<@(kernel_flags)", "-mavx2", "-mfma"],
          "cflags": ["-fPIC"]
        }]
      ]
    },
    {
      "target_name": "llmkit_cpu",
      "sources": [
        "src/native/addon.cc",
        "src/native/dispatch.cc",
        "src/kernels/scratch.cc",
        "src/kernels/thread-pool.cc"
      ],
      "dependencies": ["kernels_portable", "kernels_avx2"],
      "cflags_cc": ["-O3", "-std=c++17"],
      "libraries": ["-lpthread"],
      "conditions": [
        ["target_arch=='x64'", { "defines": ["LLMKIT_HAVE_AVX2_BUILD"] }]
      ]
    }
  ]
}
