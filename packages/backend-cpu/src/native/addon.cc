// Node-API entry points: one function per kernel, each decoding and bounds-checking its
// arguments (see call.h) and calling the kernel table picked at load time (dispatch.cc).
// Argument order mirrors src/native.ts, which documents each function for TypeScript.
#include <node_api.h>

#include <algorithm>
#include <cmath>

#include "../kernels/common.h"
#include "call.h"
#include "layout.h"

namespace llmkit {
namespace {

// Elements a strided batch of row-major matrices touches (0 when any extent is 0).
int64_t extent(int64_t offset, int64_t batch, int64_t stride, int64_t rows, int64_t cols,
               int64_t ld) {
  if (batch == 0 || rows == 0 || cols == 0) return 0;
  return offset + (batch - 1) * stride + (rows - 1) * ld + cols;
}

// gemm(transA, transB, m, n, k, alpha, a, aOffset, lda, strideA, b, bOffset, ldb, strideB,
//      beta, c, cOffset, ldc, strideC, batch)
napi_value Gemm(napi_env env, napi_callback_info info) {
  Call call(env, info, "gemm");
  GemmArgs g;
  g.transpose_a = call.flag(0);
  g.transpose_b = call.flag(1);
  g.m = call.integer(2);
  g.n = call.integer(3);
  g.k = call.integer(4);
  g.alpha = static_cast<float>(call.number(5));
  int64_t a_offset = call.integer(7);
  g.lda = call.integer(8);
  g.stride_a = call.integer(9);
  int64_t b_offset = call.integer(11);
  g.ldb = call.integer(12);
  g.stride_b = call.integer(13);
  g.beta = static_cast<float>(call.number(14));
  int64_t c_offset = call.integer(16);
  g.ldc = call.integer(17);
  g.stride_c = call.integer(18);
  g.batch = call.integer(19);
  if (call.failed()) return nullptr;
  if ((g.transpose_a ? g.lda < g.m : g.lda < g.k) && g.m > 0 && g.k > 0) {
    call.fail("lda %lld is smaller than a row of A", static_cast<long long>(g.lda));
  }
  if ((g.transpose_b ? g.ldb < g.k : g.ldb < g.n) && g.n > 0 && g.k > 0) {
    call.fail("ldb %lld is smaller than a row of B", static_cast<long long>(g.ldb));
  }
  if (g.ldc < g.n && g.m > 0) call.fail("ldc %lld < n %lld", (long long)g.ldc, (long long)g.n);
  int64_t a_rows = g.transpose_a ? g.k : g.m, a_cols = g.transpose_a ? g.m : g.k;
  int64_t b_rows = g.transpose_b ? g.n : g.k, b_cols = g.transpose_b ? g.k : g.n;
  float* a = call.floats(6, extent(a_offset, g.batch, g.stride_a, a_rows, a_cols, g.lda));
  float* b = call.floats(10, extent(b_offset, g.batch, g.stride_b, b_rows, b_cols, g.ldb));
  float* c = call.floats(15, extent(c_offset, g.batch, g.stride_c, g.m, g.n, g.ldc));
  if (call.failed()) return nullptr;
  g.a = a + a_offset;
  g.b = b + b_offset;
  g.c = c + c_offset;
  kernels().gemm(g);
  return call.undefined();
}

// softmax(x, y, rows, cols, log)
napi_value Softmax(napi_env env, napi_callback_info info) {
  Call call(env, info, "softmax");
  int64_t rows = call.integer(2), cols = call.integer(3);
  bool log = call.flag(4);
  float* x = call.floats(0, rows * cols);
  float* y = call.floats(1, rows * cols);
  if (call.failed()) return nullptr;
  kernels().softmax(x, y, rows, cols, log);
  return call.undefined();
}

// softmaxBackward(y, dy, dx, rows, cols, log)
napi_value SoftmaxBackward(napi_env env, napi_callback_info info) {
  Call call(env, info, "softmaxBackward");
  int64_t rows = call.integer(3), cols = call.integer(4);
  bool log = call.flag(5);
  float* y = call.floats(0, rows * cols);
  float* dy = call.floats(1, rows * cols);
  float* dx = call.floats(2, rows * cols);
  if (call.failed()) return nullptr;
  kernels().softmax_backward(y, dy, dx, rows, cols, log);
  return call.undefined();
}

// layerNorm(x, weight?, bias?, y, mean?, rstd?, rows, cols, eps)
napi_value LayerNorm(napi_env env, napi_callback_info info) {
  Call call(env, info, "layerNorm");
  int64_t rows = call.integer(6), cols = call.integer(7);
  float eps = static_cast<float>(call.number(8));
  float* x = call.floats(0, rows * cols);
  float* weight = call.floats(1, cols, true);
  float* bias = call.floats(2, cols, true);
  float* y = call.floats(3, rows * cols);
  float* mean = call.floats(4, rows, true);
  float* rstd = call.floats(5, rows, true);
  if (call.failed()) return nullptr;
  kernels().layer_norm(x, weight, bias, y, mean, rstd, rows, cols, eps);
  return call.undefined();
}

// layerNormBackward(x, weight?, mean, rstd, dy, dx, dweight?, dbias?, rows, cols)
napi_value LayerNormBackward(napi_env env, napi_callback_info info) {
  Call call(env, info, "layerNormBackward");
  int64_t rows = call.integer(8), cols = call.integer(9);
  float* x = call.floats(0, rows * cols);
  float* weight = call.floats(1, cols, true);
  float* mean = call.floats(2, rows);
  float* rstd = call.floats(3, rows);
  float* dy = call.floats(4, rows * cols);
  float* dx = call.floats(5, rows * cols);
  float* dweight = call.floats(6, cols, true);
  float* dbias = call.floats(7, cols, true);
  if (call.failed()) return nullptr;
  kernels().layer_norm_backward(x, weight, mean, rstd, dy, dx, dweight, dbias, rows, cols);
  return call.undefined();
}

// gelu(x, y, n, tanhApproximation)
napi_value Gelu(napi_env env, napi_callback_info info) {
  Call call(env, info, "gelu");
  int64_t n = call.integer(2);
  bool approximate = call.flag(3);
  float* x = call.floats(0, n);
  float* y = call.floats(1, n);
  if (call.failed()) return nullptr;
  kernels().gelu(x, y, n, approximate);
  return call.undefined();
}

// geluBackward(x, dy, dx, n, tanhApproximation)
napi_value GeluBackward(napi_env env, napi_callback_info info) {
  Call call(env, info, "geluBackward");
  int64_t n = call.integer(3);
  bool approximate = call.flag(4);
  float* x = call.floats(0, n);
  float* dy = call.floats(1, n);
  float* dx = call.floats(2, n);
  if (call.failed()) return nullptr;
  kernels().gelu_backward(x, dy, dx, n, approximate);
  return call.undefined();
}

// Checks every target is ignore_index or in [0, vocab); reports the first bad one.
bool check_targets(Call& call, const int32_t* targets, int64_t rows, int64_t vocab,
                   int32_t ignore_index) {
  for (int64_t r = 0; r < rows; r++) {
    int32_t t = targets[r];
    if (t != ignore_index && (t < 0 || t >= vocab)) {
      call.fail("target %d at row %lld is outside [0, %lld)", t, static_cast<long long>(r),
                static_cast<long long>(vocab));
      return false;
    }
  }
  return true;
}

// crossEntropy(logits, targets, losses, logsumexp?, rows, vocab, ignoreIndex, labelSmoothing)
napi_value CrossEntropy(napi_env env, napi_callback_info info) {
  Call call(env, info, "crossEntropy");
  int64_t rows = call.integer(4), vocab = call.integer(5);
  int32_t ignore = static_cast<int32_t>(call.number(6));
  float smoothing = static_cast<float>(call.number(7));
  float* logits = call.floats(0, rows * vocab);
  int32_t* targets = call.ints(1, rows);
  float* losses = call.floats(2, rows);
  float* lse = call.floats(3, rows, true);
  if (call.failed() || !check_targets(call, targets, rows, vocab, ignore)) return nullptr;
  kernels().cross_entropy(logits, targets, losses, lse, rows, vocab, ignore, smoothing);
  return call.undefined();
}

// crossEntropyBackward(logits, targets, logsumexp, dlosses, dlogits, rows, vocab, ignoreIndex,
//                      labelSmoothing)
napi_value CrossEntropyBackward(napi_env env, napi_callback_info info) {
  Call call(env, info, "crossEntropyBackward");
  int64_t rows = call.integer(5), vocab = call.integer(6);
  int32_t ignore = static_cast<int32_t>(call.number(7));
  float smoothing = static_cast<float>(call.number(8));
  float* logits = call.floats(0, rows * vocab);
  int32_t* targets = call.ints(1, rows);
  float* lse = call.floats(2, rows, true);
  float* dlosses = call.floats(3, rows);
  float* dlogits = call.floats(4, rows * vocab);
  if (call.failed() || !check_targets(call, targets, rows, vocab, ignore)) return nullptr;
  kernels().cross_entropy_backward(logits, targets, lse, dlosses, dlogits, rows, vocab, ignore,
                                   smoothing);
  return call.undefined();
}

bool check_ids(Call& call, const int32_t* ids, int64_t count, int64_t vocab) {
  for (int64_t i = 0; i < count; i++) {
    if (ids[i] < 0 || ids[i] >= vocab) {
      call.fail("id %d at position %lld is outside [0, %lld)", ids[i], static_cast<long long>(i),
                static_cast<long long>(vocab));
      return false;
    }
  }
  return true;
}

// embedding(weight, ids, out, count, dim, vocab)
napi_value Embedding(napi_env env, napi_callback_info info) {
  Call call(env, info, "embedding");
  int64_t count = call.integer(3), dim = call.integer(4), vocab = call.integer(5);
  float* weight = call.floats(0, vocab * dim);
  int32_t* ids = call.ints(1, count);
  float* out = call.floats(2, count * dim);
  if (call.failed() || !check_ids(call, ids, count, vocab)) return nullptr;
  kernels().embedding(weight, ids, out, count, dim);
  return call.undefined();
}

// embeddingBackward(dout, ids, dweight, count, dim, vocab): dweight += scatter(dout)
napi_value EmbeddingBackward(napi_env env, napi_callback_info info) {
  Call call(env, info, "embeddingBackward");
  int64_t count = call.integer(3), dim = call.integer(4), vocab = call.integer(5);
  float* dout = call.floats(0, count * dim);
  int32_t* ids = call.ints(1, count);
  float* dweight = call.floats(2, vocab * dim);
  if (call.failed() || !check_ids(call, ids, count, vocab)) return nullptr;
  kernels().embedding_backward(dout, ids, dweight, count, dim);
  return call.undefined();
}

// adamw(param, grad, m, v, n, lr, beta1, beta2, eps, weightDecay, step)
napi_value AdamW(napi_env env, napi_callback_info info) {
  Call call(env, info, "adamw");
  int64_t n = call.integer(4);
  float lr = static_cast<float>(call.number(5));
  float beta1 = static_cast<float>(call.number(6));
  float beta2 = static_cast<float>(call.number(7));
  float eps = static_cast<float>(call.number(8));
  float decay = static_cast<float>(call.number(9));
  int64_t step = call.integer(10);
  float* param = call.floats(0, n);
  float* grad = call.floats(1, n);
  float* m = call.floats(2, n);
  float* v = call.floats(3, n);
  if (!call.failed() && step < 1) call.fail("step must be >= 1, got %lld", (long long)step);
  if (call.failed()) return nullptr;
  kernels().adamw(param, grad, m, v, n, lr, beta1, beta2, eps, decay, step);
  return call.undefined();
}

// int8Dot(a, b, k) -> a . b (exact int32)
napi_value Int8Dot(napi_env env, napi_callback_info info) {
  Call call(env, info, "int8Dot");
  int64_t k = call.integer(2);
  const int8_t* a = call.signed_bytes(0, k);
  const int8_t* b = call.signed_bytes(1, k);
  if (!call.failed() && k >= (1 << 17)) call.fail("k must be < 131072, got %lld", (long long)k);
  if (call.failed()) return nullptr;
  napi_value result;
  napi_create_int32(env, kernels().int8_dot(a, b, k), &result);
  return result;
}

// int8Gemv(w, rowScales, x, xScale, y, n, k): y[j] = xScale * rowScales[j] * (w[j, :] . x)
napi_value Int8Gemv(napi_env env, napi_callback_info info) {
  Call call(env, info, "int8Gemv");
  int64_t n = call.integer(5), k = call.integer(6);
  float x_scale = static_cast<float>(call.number(3));
  const int8_t* w = call.signed_bytes(0, n * k);
  const float* scales = call.floats(1, n);
  const int8_t* x = call.signed_bytes(2, k);
  float* y = call.floats(4, n);
  if (!call.failed() && k >= (1 << 17)) call.fail("k must be < 131072, got %lld", (long long)k);
  if (call.failed()) return nullptr;
  kernels().int8_gemv(w, scales, x, x_scale, y, n, k);
  return call.undefined();
}

// attention(q, k, v, out, logsumexp?, heads, tq, tk, dim, dimV, scale, causal, kHeadStride,
//           vHeadStride, group): k and v hold heads / group heads (grouped-query attention)
napi_value Attention(napi_env env, napi_callback_info info) {
  Call call(env, info, "attention");
  int64_t heads = call.integer(5), tq = call.integer(6), tk = call.integer(7);
  int64_t dim = call.integer(8), dim_v = call.integer(9);
  float scale = static_cast<float>(call.number(10));
  bool causal = call.flag(11);
  int64_t k_stride = call.integer(12), v_stride = call.integer(13);
  int64_t group = call.integer(14);
  if (!call.failed() && (k_stride < tk * dim || v_stride < tk * dim_v))
    call.fail("head strides %lld, %lld are smaller than a head's keys (%lld) or values (%lld)",
              (long long)k_stride, (long long)v_stride, (long long)(tk * dim),
              (long long)(tk * dim_v));
  if (!call.failed() && (group < 1 || heads % group != 0))
    call.fail("group %lld does not divide heads %lld", (long long)group, (long long)heads);
  const int64_t last = heads > 0 ? heads / std::max<int64_t>(group, 1) - 1 : 0;
  float* q = call.floats(0, heads * tq * dim);
  float* k = call.floats(1, heads > 0 ? last * k_stride + tk * dim : 0);
  float* v = call.floats(2, heads > 0 ? last * v_stride + tk * dim_v : 0);
  float* out = call.floats(3, heads * tq * dim_v);
  float* lse = call.floats(4, heads * tq, true);
  if (call.failed()) return nullptr;
  kernels().attention(q, k, v, out, lse, heads, tq, tk, dim, dim_v, scale, causal, k_stride,
                      v_stride, group);
  return call.undefined();
}

// attentionBackward(q, k, v, out, dout, logsumexp, dq, dk, dv, heads, tq, tk, dim, dimV, scale,
//                   causal, group): k, v, dk and dv hold heads / group heads
napi_value AttentionBackward(napi_env env, napi_callback_info info) {
  Call call(env, info, "attentionBackward");
  int64_t heads = call.integer(9), tq = call.integer(10), tk = call.integer(11);
  int64_t dim = call.integer(12), dim_v = call.integer(13);
  float scale = static_cast<float>(call.number(14));
  bool causal = call.flag(15);
  int64_t group = call.integer(16);
  if (!call.failed() && (group < 1 || heads % group != 0))
    call.fail("group %lld does not divide heads %lld", (long long)group, (long long)heads);
  if (call.failed()) return nullptr;
  const int64_t kv_heads = heads / group;
  float* q = call.floats(0, heads * tq * dim);
  float* k = call.floats(1, kv_heads * tk * dim);
  float* v = call.floats(2, kv_heads * tk * dim_v);
  float* out = call.floats(3, heads * tq * dim_v);
  float* dout = call.floats(4, heads * tq * dim_v);
  float* lse = call.floats(5, heads * tq);
  float* dq = call.floats(6, heads * tq * dim);
  float* dk = call.floats(7, kv_heads * tk * dim);
  float* dv = call.floats(8, kv_heads * tk * dim_v);
  if (call.failed()) return nullptr;
  kernels().attention_backward(q, k, v, out, dout, lse, dq, dk, dv, heads, tq, tk, dim, dim_v,
                               scale, causal, group);
  return call.undefined();
}

// rmsNorm(x, weight?, y, rstd?, rows, cols, eps)
napi_value RmsNorm(napi_env env, napi_callback_info info) {
  Call call(env, info, "rmsNorm");
  int64_t rows = call.integer(4), cols = call.integer(5);
  float eps = static_cast<float>(call.number(6));
  float* x = call.floats(0, rows * cols);
  float* weight = call.floats(1, cols, true);
  float* y = call.floats(2, rows * cols);
  float* rstd = call.floats(3, rows, true);
  if (call.failed()) return nullptr;
  kernels().rms_norm(x, weight, y, rstd, rows, cols, eps);
  return call.undefined();
}

// rope(x, cos, sin, out, batch, heads, positions, dim, tableBatches, transpose): cos and sin
// hold tableBatches (1 or batch) tables of positions x dim
napi_value Rope(napi_env env, napi_callback_info info) {
  Call call(env, info, "rope");
  int64_t batch = call.integer(4), heads = call.integer(5), positions = call.integer(6);
  int64_t dim = call.integer(7), tables = call.integer(8);
  bool transpose = call.flag(9);
  if (!call.failed() && (dim % 2 != 0 || (tables != 1 && tables != batch)))
    call.fail("dim %lld must be even and tables %lld 1 or batch %lld", (long long)dim,
              (long long)tables, (long long)batch);
  if (call.failed()) return nullptr;
  float* x = call.floats(0, batch * heads * positions * dim);
  float* cos = call.floats(1, tables * positions * dim);
  float* sin = call.floats(2, tables * positions * dim);
  float* out = call.floats(3, batch * heads * positions * dim);
  if (call.failed()) return nullptr;
  kernels().rope(x, cos, sin, out, batch, heads, positions, dim, tables == 1 ? 0 : positions * dim,
                 transpose);
  return call.undefined();
}

// unary(op, x, out, layout)
napi_value Unary(napi_env env, napi_callback_info info) {
  Call call(env, info, "unary");
  int64_t op = call.integer(0);
  int64_t meta_length = call.length(3);
  const double* meta = call.doubles(3, meta_length);
  Layout layout;
  int64_t need[3], total = 0;
  if (call.failed() || !decode_layout(call, meta, meta_length, 2, layout, need, &total)) {
    return nullptr;
  }
  if (op >= kUnaryOpCount) call.fail("unknown op %lld", static_cast<long long>(op));
  float* x = call.floats(1, need[0]);
  float* out = call.floats(2, need[1]);
  if (call.failed()) return nullptr;
  if (total > 0) elementwise().unary(static_cast<int>(op), x, out, layout);
  return call.undefined();
}

// binary(op, a, b, out, layout)
napi_value Binary(napi_env env, napi_callback_info info) {
  Call call(env, info, "binary");
  int64_t op = call.integer(0);
  int64_t meta_length = call.length(4);
  const double* meta = call.doubles(4, meta_length);
  Layout layout;
  int64_t need[3], total = 0;
  if (call.failed() || !decode_layout(call, meta, meta_length, 3, layout, need, &total)) {
    return nullptr;
  }
  if (op >= kBinaryOpCount) call.fail("unknown op %lld", static_cast<long long>(op));
  float* a = call.floats(1, need[0]);
  float* b = call.floats(2, need[1]);
  float* out = call.floats(3, need[2]);
  if (call.failed()) return nullptr;
  if (total > 0) elementwise().binary(static_cast<int>(op), a, b, out, layout);
  return call.undefined();
}

// reduce(op, x, out, outSize, layout): out strides in the layout are 0 on reduced axes.
napi_value Reduce(napi_env env, napi_callback_info info) {
  Call call(env, info, "reduce");
  int64_t op = call.integer(0);
  int64_t out_size = call.integer(3);
  int64_t meta_length = call.length(4);
  const double* meta = call.doubles(4, meta_length);
  Layout layout;
  int64_t need[3], total = 0;
  if (call.failed() || !decode_layout(call, meta, meta_length, 2, layout, need, &total)) {
    return nullptr;
  }
  if (op >= kReduceOpCount) call.fail("unknown op %lld", static_cast<long long>(op));
  if (need[1] > out_size) call.fail("output index %lld beyond outSize", (long long)need[1]);
  float* x = call.floats(1, need[0]);
  float* out = call.floats(2, out_size);
  if (call.failed()) return nullptr;
  if (total == 0) {
    float init = op == kSum ? 0.0f : op == kMax ? -INFINITY : INFINITY;
    for (int64_t i = 0; i < out_size; i++) out[i] = init;
  } else {
    elementwise().reduce(static_cast<int>(op), x, out, out_size, layout);
  }
  return call.undefined();
}

// where(condition, a, b, out, layout)
napi_value Where(napi_env env, napi_callback_info info) {
  Call call(env, info, "where");
  int64_t meta_length = call.length(4);
  const double* meta = call.doubles(4, meta_length);
  Layout layout;
  int64_t need[4], total = 0;
  if (call.failed() || !decode_layout(call, meta, meta_length, 4, layout, need, &total)) {
    return nullptr;
  }
  uint8_t* condition = call.bytes(0, need[0]);
  float* a = call.floats(1, need[1]);
  float* b = call.floats(2, need[2]);
  float* out = call.floats(3, need[3]);
  if (call.failed()) return nullptr;
  if (total > 0) elementwise().where(condition, a, b, out, layout);
  return call.undefined();
}

// gather(x, index, out, axisSize, axisStride, layout): layout operands (index, out, x with stride
// 0 on the gathered axis). Every index must lie in [0, axisSize).
napi_value Gather(napi_env env, napi_callback_info info) {
  Call call(env, info, "gather");
  int64_t axis_size = call.integer(3), axis_stride = call.integer(4);
  int64_t meta_length = call.length(5);
  const double* meta = call.doubles(5, meta_length);
  Layout layout;
  int64_t need[4], total = 0;
  if (call.failed() || !decode_layout(call, meta, meta_length, 3, layout, need, &total)) {
    return nullptr;
  }
  int32_t* index = call.ints(1, need[0]);
  float* out = call.floats(2, need[1]);
  int64_t x_need = total == 0 ? 0 : need[2] + (axis_size > 0 ? (axis_size - 1) * axis_stride : 0);
  float* x = call.floats(0, x_need);
  if (call.failed()) return nullptr;
  if (total == 0) return call.undefined();
  // Every index element the layout reaches: scan the index view's own extent.
  for (int64_t i = layout.offsets[0]; i < need[0]; i++) {
    if (index[i] < 0 || index[i] >= axis_size) {
      // Conservative: an out-of-range value anywhere in the viewed span sends the call to the
      // js kernel, which reports the exact element.
      call.fail("index %d outside [0, %lld)", index[i], static_cast<long long>(axis_size));
      return nullptr;
    }
  }
  elementwise().gather(x, index, out, axis_stride, layout);
  return call.undefined();
}

napi_value make_string(napi_env env, const char* text) {
  napi_value value;
  napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &value);
  return value;
}

napi_value make_bool(napi_env env, bool flag) {
  napi_value value;
  napi_get_boolean(env, flag, &value);
  return value;
}

// info() -> { isa, best, requested, supported: string[], features: { avx2: bool, ... }, threads }
// isa: the path in use; best: the one chosen when nothing is forced; requested: LLMKIT_CPU_ISA
// (null when unset); supported: every path this build has and this CPU runs, lowest first;
// features: the CPU's relevant instruction sets.
napi_value Info(napi_env env, napi_callback_info) {
  napi_value result, threads, supported, features;
  napi_create_object(env, &result);
  napi_set_named_property(env, result, "isa", make_string(env, kernel_isa()));
  napi_set_named_property(env, result, "best", make_string(env, isa_name(best_isa())));
  napi_value requested;
  if (forced_isa() != nullptr) {
    requested = make_string(env, forced_isa());
  } else {
    napi_get_null(env, &requested);
  }
  napi_set_named_property(env, result, "requested", requested);
  napi_create_array(env, &supported);
  uint32_t count = 0;
  for (Isa isa : {Isa::kPortable, Isa::kAvx2, Isa::kAvx512, Isa::kNeon}) {
    if (isa_supported(isa)) napi_set_element(env, supported, count++, make_string(env, isa_name(isa)));
  }
  napi_set_named_property(env, result, "supported", supported);
  napi_create_object(env, &features);
  for (const char* feature : {"avx2", "fma", "avx512f", "avx512bw", "avx512dq", "avx512vl",
                              "avx512vnni", "avxvnni", "avx512bf16"}) {
    napi_set_named_property(env, features, feature, make_bool(env, cpu_has(feature)));
  }
  napi_set_named_property(env, result, "features", features);
  napi_set_named_property(env, result, "int8", make_string(env, kernels().int8_isa()));
  napi_create_int32(env, thread_count(), &threads);
  napi_set_named_property(env, result, "threads", threads);
  return result;
}

// setIsa(name) -> isa in use; "best" selects the best path, "" the default one. An unknown or unsupported
// name throws and changes nothing.
napi_value SetIsa(napi_env env, napi_callback_info info) {
  Call call(env, info, "setIsa");
  std::string name = call.text(0);
  if (call.failed()) return nullptr;
  if (!set_isa(name.c_str())) {
    std::string supported;
    for (Isa isa : {Isa::kPortable, Isa::kAvx2, Isa::kAvx512, Isa::kNeon}) {
      if (!isa_supported(isa)) continue;
      if (!supported.empty()) supported += ", ";
      supported += isa_name(isa);
    }
    call.fail("ISA '%s' is not one this build and CPU run (supported: %s)", name.c_str(),
              supported.c_str());
    return nullptr;
  }
  return make_string(env, kernel_isa());
}

// setThreads(count) -> count in use
napi_value SetThreads(napi_env env, napi_callback_info info) {
  Call call(env, info, "setThreads");
  int64_t count = call.integer(0);
  if (!call.failed() && (count < 1 || count > 1024)) call.fail("count must be in [1, 1024]");
  if (call.failed()) return nullptr;
  napi_value result;
  napi_create_int32(env, set_thread_count(static_cast<int>(count)), &result);
  return result;
}

// forcePortable(flag) -> isa in use
napi_value ForcePortable(napi_env env, napi_callback_info info) {
  Call call(env, info, "forcePortable");
  bool flag = call.flag(0);
  if (call.failed()) return nullptr;
  return make_string(env, force_portable(flag));
}

void teardown(void*) {
  shutdown_thread_pool();
  release_thread_scratch();
}

}  // namespace
}  // namespace llmkit

namespace llmkit {
// src/native/quantized.cc
napi_value QuantizedMatmul(napi_env env, napi_callback_info info);
}  // namespace llmkit

NAPI_MODULE_INIT() {
  using namespace llmkit;
  struct Entry {
    const char* name;
    napi_callback callback;
  };
  const Entry entries[] = {
      {"gemm", Gemm},
      {"softmax", Softmax},
      {"softmaxBackward", SoftmaxBackward},
      {"layerNorm", LayerNorm},
      {"layerNormBackward", LayerNormBackward},
      {"gelu", Gelu},
      {"geluBackward", GeluBackward},
      {"crossEntropy", CrossEntropy},
      {"crossEntropyBackward", CrossEntropyBackward},
      {"embedding", Embedding},
      {"embeddingBackward", EmbeddingBackward},
      {"adamw", AdamW},
      {"attention", Attention},
      {"attentionBackward", AttentionBackward},
      {"rmsNorm", RmsNorm},
      {"rope", Rope},
      {"quantizedMatmul", QuantizedMatmul},
      {"unary", Unary},
      {"binary", Binary},
      {"reduce", Reduce},
      {"where", Where},
      {"gather", Gather},
      {"info", Info},
      {"setThreads", SetThreads},
      {"forcePortable", ForcePortable},
      {"setIsa", SetIsa},
      {"int8Dot", Int8Dot},
      {"int8Gemv", Int8Gemv},
  };
  for (const Entry& entry : entries) {
    napi_value fn;
    napi_create_function(env, entry.name, NAPI_AUTO_LENGTH, entry.callback, nullptr, &fn);
    napi_set_named_property(env, exports, entry.name, fn);
  }
  napi_add_env_cleanup_hook(env, teardown, nullptr);
  return exports;
}
