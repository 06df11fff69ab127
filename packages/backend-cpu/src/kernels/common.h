// Shared helpers for the native kernels: the thread pool's parallel-for, aligned scratch
// memory, and vectorised exp/erf/tanh approximations used by the fused kernels.
//
// Every kernel is plain C++ over raw float pointers; the Node-API glue lives in
// src/native/addon.cc. Each kernel source is compiled once per instruction set (simd.h) and
// dispatch.cc picks one table of them at load time (or as LLMKIT_CPU_ISA / setIsa force).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>

namespace llmkit {

// ---- thread pool (thread-pool.cc) ----

// Number of threads parallel_for uses (the calling thread included).
int thread_count();
// Sets the thread count (>= 1); restarts the workers. Returns the count in use.
int set_thread_count(int count);
// Runs body(task) for task in [0, tasks) on the pool; the calling thread works too.
// Runs inline when tasks == 1 or the pool has one thread. body must not throw.
void parallel_for(int64_t tasks, const std::function<void(int64_t)>& body);
// Splits [0, n) into at most thread_count() chunks of at least min_chunk items each and runs
// body(begin, end) on each. Small n (< 2 * min_chunk) runs inline, so tiny ops pay no wake-up.
void parallel_range(int64_t n, int64_t min_chunk,
                    const std::function<void(int64_t, int64_t)>& body);
// Stops the workers (called at environment teardown so leak checkers see joined threads).
void shutdown_thread_pool();

// ---- aligned scratch memory (scratch.cc) ----

// 64-byte aligned allocation, freed with aligned_free.
float* aligned_alloc_floats(size_t count);
void aligned_free(void* pointer);
// Per-thread scratch buffer reused across calls (grows, never shrinks until teardown).
// slot selects one of a few independent buffers so a kernel can hold two at once.
float* thread_scratch(int slot, size_t count);
// Frees the calling thread's scratch buffers.
void release_thread_scratch();

// ---- CPU features and the kernel table in use (dispatch.cc) ----

// Instruction-set paths, lowest first. Each one is a static library of every kernel source
// (binding.gyp); a path runs only where the CPU has every feature it was compiled for.
enum class Isa { kPortable, kAvx2, kAvx512, kNeon };
// "portable", "avx2", "avx512" or "neon" (the names LLMKIT_CPU_ISA takes).
const char* isa_name(Isa isa);
// True when this build has the path and this CPU can run it. portable is always supported;
// avx2 needs AVX2 + FMA + F16C; avx512 needs AVX-512 F/BW/DQ/VL (Skylake-X, Zen 4 and later).
bool isa_supported(Isa isa);
// The best supported path (chosen when nothing is forced).
Isa best_isa();
// The path in use.
Isa active_isa();
// Switches every kernel to `name`; returns false (and changes nothing) when the name is unknown
// or the path is not supported. "best" selects the best path; an empty name the default one
// (LLMKIT_CPU_ISA's when it names a supported path, else the best).
bool set_isa(const char* name);
// LLMKIT_CPU_ISA as given (null when unset or empty).
const char* forced_isa();
// The path in use, by name.
const char* kernel_isa();
// Forces the portable kernels (true) or the default ones (false). Returns the ISA now in use.
const char* force_portable(bool use_portable);
// A CPU feature by name as __builtin_cpu_supports spells it ("avx512vnni", "avxvnni",
// "avx512bf16", ...); false on other architectures.
bool cpu_has(const char* feature);
// False when LLMKIT_CPU_VNNI=0 (tests of the non-VNNI int8 paths on a VNNI machine).
bool vnni_allowed();

}  // namespace llmkit

namespace llmkit {

// C[b] = alpha * op(A[b]) @ op(B[b]) + beta * C[b] for b in [0, batch), all row-major.
// op(A) is M x K: A(i, k) = A[i * lda + k], or A[k * lda + i] when transpose_a.
// op(B) is K x N: B(k, j) = B[k * ldb + j], or B[j * ldb + k] when transpose_b.
// Batch b starts at A + b * stride_a (likewise B, C); a stride of 0 broadcasts that operand.
// beta == 0 never reads C (it may hold garbage).
// op(B) may also be 16-bit floats (b_type kFloat16 / kBfloat16, read from b16 with the same
// ldb and strides in elements): each KC x NC slice is converted to float as it is packed, so a
// weight kept in its stored dtype (quantizedMatmul's fp16 / bf16 formats) costs one conversion
// per slice and runs the float micro-kernel (half.cc).
enum class BType { kFloat32, kFloat16, kBfloat16 };

struct GemmArgs {
  bool transpose_a = false;
  bool transpose_b = false;
  int64_t m = 0, n = 0, k = 0;
  float alpha = 1.0f, beta = 0.0f;
  const float* a = nullptr;
  int64_t lda = 0, stride_a = 0;
  const float* b = nullptr;
  int64_t ldb = 0, stride_b = 0;
  BType b_type = BType::kFloat32;
  const uint16_t* b16 = nullptr;  // op(B)'s bits when b_type is not kFloat32 (b is then unused)
  float* c = nullptr;
  int64_t ldc = 0, stride_c = 0;
  int64_t batch = 1;
};

// Function table of one instruction set's kernels (kernels.h documents each one).
struct KernelTable {
  const char* isa;
  void (*gemm)(const GemmArgs& args);
  void (*softmax)(const float* x, float* y, int64_t rows, int64_t cols, bool log);
  void (*softmax_backward)(const float* y, const float* dy, float* dx, int64_t rows,
                           int64_t cols, bool log);
  void (*layer_norm)(const float* x, const float* weight, const float* bias, float* y,
                     float* mean, float* rstd, int64_t rows, int64_t cols, float eps);
  void (*layer_norm_backward)(const float* x, const float* weight, const float* mean,
                              const float* rstd, const float* dy, float* dx, float* dweight,
                              float* dbias, int64_t rows, int64_t cols);
  void (*gelu)(const float* x, float* y, int64_t n, bool tanh_approximation);
  void (*gelu_backward)(const float* x, const float* dy, float* dx, int64_t n,
                        bool tanh_approximation);
  void (*cross_entropy)(const float* logits, const int32_t* targets, float* losses,
                        float* logsumexp, int64_t rows, int64_t vocab, int32_t ignore_index,
                        float label_smoothing);
  void (*cross_entropy_backward)(const float* logits, const int32_t* targets,
                                 const float* logsumexp, const float* dlosses, float* dlogits,
                                 int64_t rows, int64_t vocab, int32_t ignore_index,
                                 float label_smoothing);
  void (*embedding)(const float* weight, const int32_t* ids, float* out, int64_t count,
                    int64_t dim);
  void (*embedding_backward)(const float* dout, const int32_t* ids, float* dweight,
                             int64_t count, int64_t dim);
  void (*adamw)(float* param, const float* grad, float* m, float* v, int64_t n, float lr,
                float beta1, float beta2, float eps, float weight_decay, int64_t step);
  void (*attention)(const float* q, const float* k, const float* v, float* out,
                    float* logsumexp, int64_t heads, int64_t tq, int64_t tk, int64_t dim,
                    int64_t dim_v, float scale, bool causal, int64_t k_head_stride,
                    int64_t v_head_stride, int64_t group);
  void (*attention_backward)(const float* q, const float* k, const float* v,
                             const float* out, const float* dout, const float* logsumexp,
                             float* dq, float* dk, float* dv, int64_t heads, int64_t tq,
                             int64_t tk, int64_t dim, int64_t dim_v, float scale, bool causal,
                             int64_t group);
  int32_t (*int8_dot)(const int8_t* a, const int8_t* b, int64_t k);
  void (*int8_gemv)(const int8_t* w, const float* row_scales, const int8_t* x, float x_scale,
                    float* y, int64_t n, int64_t k);
  const char* (*int8_isa)();
  void (*rms_norm)(const float* x, const float* weight, float* y, float* rstd, int64_t rows,
                   int64_t cols, float eps);
  void (*rope)(const float* x, const float* cos, const float* sin, float* out, int64_t batch,
               int64_t heads, int64_t positions, int64_t dim, int64_t table_batch_stride,
               bool transpose);
};

namespace avx512 {
const KernelTable& kernel_table();
}
namespace avx2 {
const KernelTable& kernel_table();
}
namespace neon {
const KernelTable& kernel_table();
}
namespace portable {
const KernelTable& kernel_table();
}

}  // namespace llmkit

namespace llmkit {
// The kernel table in use (dispatch.cc).
const KernelTable& kernels();
}  // namespace llmkit

namespace llmkit {

// A strided iteration space shared by up to four operands (inputs then output), after
// collapse_layout merged contiguous dimensions and dropped size-1 ones. Strides are in elements.
constexpr int kMaxRank = 8;
struct Layout {
  int rank = 0;
  int operands = 0;
  int64_t shape[kMaxRank] = {};
  int64_t offsets[4] = {};
  int64_t strides[4][kMaxRank] = {};
};

// Element-wise op codes; the order matches UNARY_OPS / BINARY_OPS / REDUCE_OPS in src/native.ts.
enum UnaryOp {
  kNeg, kExp, kLog, kSqrt, kRsqrt, kAbs, kSign, kTanh, kSigmoid, kRelu, kGelu, kGeluTanh,
  kSilu, kSin, kCos, kReciprocal, kSquare, kFloor, kErf, kIdentity, kUnaryOpCount
};
enum BinaryOp { kAdd, kSub, kMul, kDiv, kPow, kMaximum, kMinimum, kBinaryOpCount };
enum ReduceOp { kSum, kMax, kMin, kReduceOpCount };

// Element-wise kernels (elementwise.cc), one table entry each.
struct ElementwiseTable {
  // out = op(x) over layout operands (x, out).
  void (*unary)(int op, const float* x, float* out, const Layout& layout);
  // out = op(a, b) over layout operands (a, b, out).
  void (*binary)(int op, const float* a, const float* b, float* out, const Layout& layout);
  // out (contiguous, out_size elements) = reduction of x; layout operands (x, out) where out's
  // strides are 0 along reduced axes. Accumulates in float64 like the js backend.
  void (*reduce)(int op, const float* x, float* out, int64_t out_size, const Layout& layout);
  // out = condition ? a : b over layout operands (condition, a, b, out); condition is 0/1 bytes.
  void (*where)(const uint8_t* condition, const float* a, const float* b, float* out,
                const Layout& layout);
  // out = x[..., index[...], ...] along one axis (torch.gather) over layout operands
  // (index, out, x with stride 0 on the axis); axis_stride is x's stride along the axis.
  // Indices were checked by the caller.
  void (*gather)(const float* x, const int32_t* index, float* out, int64_t axis_stride,
                 const Layout& layout);
};

namespace avx512 {
const ElementwiseTable& elementwise_table();
}
namespace avx2 {
const ElementwiseTable& elementwise_table();
}
namespace neon {
const ElementwiseTable& elementwise_table();
}
namespace portable {
const ElementwiseTable& elementwise_table();
}
const ElementwiseTable& elementwise();

}  // namespace llmkit
