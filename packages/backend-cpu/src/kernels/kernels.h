// Declarations of one instruction set's kernels (namespace llmkit::avx512, avx2, neon or
// portable, chosen by simd.h). Shapes are row-major; `rows x cols` means rows contiguous rows of cols.
#pragma once

#include "common.h"
#include "simd.h"

namespace llmkit {
namespace LLMKIT_NS {

// gemm.cc: see GemmArgs.
void gemm(const GemmArgs& args);
// The width of GEMM's packed B panels (gemm.cc's NR): two vectors.
constexpr int64_t kGemmPanelWidth = 2 * kLanes;

// half.cc: depth [p0, p0 + kc) and columns [j0, j0 + nc) of a 16-bit op(B) (args.b_type,
// transpose_b, ldb; b is the batch entry's first element) converted to float into gemm.cc's
// panels: panel q, depth k, column c at out[q * kGemmPanelWidth * kc + k * kGemmPanelWidth + c],
// columns past nc zero.
void pack_b_half(const GemmArgs& args, const uint16_t* b, int64_t p0, int64_t kc, int64_t j0,
                 int64_t nc, float* out);

// softmax.cc: y = softmax(x) (or log_softmax when log) over each row; y may alias x.
void softmax(const float* x, float* y, int64_t rows, int64_t cols, bool log);
// dx = y * (dy - sum(dy * y)), or for log-softmax dx = dy - exp(y) * sum(dy).
void softmax_backward(const float* y, const float* dy, float* dx, int64_t rows, int64_t cols,
                      bool log);

// layer-norm.cc: y = (x - mean) * rstd * weight + bias per row; weight/bias may be null.
// mean and rstd (rows each) are saved for the backward pass when not null.
void layer_norm(const float* x, const float* weight, const float* bias, float* y, float* mean,
                float* rstd, int64_t rows, int64_t cols, float eps);
// dx (written), dweight and dbias (accumulated, may be null) from the saved mean and rstd.
void layer_norm_backward(const float* x, const float* weight, const float* mean,
                         const float* rstd, const float* dy, float* dx, float* dweight,
                         float* dbias, int64_t rows, int64_t cols);

// gelu.cc: exact GELU x * Phi(x), or the tanh approximation.
void gelu(const float* x, float* y, int64_t n, bool tanh_approximation);
void gelu_backward(const float* x, const float* dy, float* dx, int64_t n,
                   bool tanh_approximation);

// cross-entropy.cc: per-row loss -log softmax(logits)[target] (with label smoothing eps:
// (1 - eps) * nll + eps * mean over classes of -log p); rows whose target is ignore_index get
// loss 0. logsumexp (rows) is saved for the backward pass.
void cross_entropy(const float* logits, const int32_t* targets, float* losses, float* logsumexp,
                   int64_t rows, int64_t vocab, int32_t ignore_index, float label_smoothing);
// dlogits = dlosses[row] * (softmax - smoothed one-hot); ignored rows get 0. logsumexp may be
// null (recomputed).
void cross_entropy_backward(const float* logits, const int32_t* targets, const float* logsumexp,
                            const float* dlosses, float* dlogits, int64_t rows, int64_t vocab,
                            int32_t ignore_index, float label_smoothing);

// embedding.cc: out[i] = weight[ids[i]] (dim floats each); backward scatter-adds into dweight.
void embedding(const float* weight, const int32_t* ids, float* out, int64_t count, int64_t dim);
void embedding_backward(const float* dout, const int32_t* ids, float* dweight, int64_t count,
                        int64_t dim);

// adamw.cc: one AdamW step in place (Loshchilov & Hutter, decoupled weight decay), step >= 1.
void adamw(float* param, const float* grad, float* m, float* v, int64_t n, float lr, float beta1,
           float beta2, float eps, float weight_decay, int64_t step);

// attention.cc: out = softmax(scale * q @ k^T [+ causal mask]) @ v per head, without forming the
// full score matrix. q: heads x tq x dim, k: heads x tk x dim, v: heads x tk x dim_v,
// out: heads x tq x dim_v, logsumexp: heads x tq (saved for the backward pass).
// With causal, query i sees keys j <= i + (tk - tq) (the queries are the last tq positions).
// Head h of k starts at k + h * k_head_stride (>= tk * dim; a KV cache's preallocated buffer
// leaves room after each head's rows), likewise v.
// Grouped-query attention: query head h reads key/value head h / group (heads / group of them;
// group = 1 is multi-head attention); backward, dk and dv have heads / group heads.
void attention(const float* q, const float* k, const float* v, float* out, float* logsumexp,
               int64_t heads, int64_t tq, int64_t tk, int64_t dim, int64_t dim_v, float scale,
               bool causal, int64_t k_head_stride, int64_t v_head_stride, int64_t group);
void attention_backward(const float* q, const float* k, const float* v, const float* out,
                        const float* dout, const float* logsumexp, float* dq, float* dk,
                        float* dv, int64_t heads, int64_t tq, int64_t tk, int64_t dim,
                        int64_t dim_v, float scale, bool causal, int64_t group);

// layer-norm.cc: RMSNorm, y = x * rstd * weight with rstd = 1 / sqrt(mean(x^2) + eps) per row;
// weight may be null; rstd (rows) is saved when not null.
void rms_norm(const float* x, const float* weight, float* y, float* rstd, int64_t rows,
              int64_t cols, float eps);

// rope.cc: rotary embeddings of x [batch, heads, positions, dim] (half-split pairs) by cos and
// sin [table batch, positions, dim] (table_batch_stride 0: one table for every batch row); with
// transpose, the transposed rotation (the gradient).
void rope(const float* x, const float* cos, const float* sin, float* out, int64_t batch,
          int64_t heads, int64_t positions, int64_t dim, int64_t table_batch_stride,
          bool transpose);

// int8.cc: exact int8 dot products for quantized layers (int8.cc's header says how per path).
// a . b over k elements.
int32_t int8_dot(const int8_t* a, const int8_t* b, int64_t k);
// y[j] = x_scale * row_scales[j] * (w[j, :] . x) for j < n; w: n x k int8 row-major, x: k int8.
void int8_gemv(const int8_t* w, const float* row_scales, const int8_t* x, float x_scale, float* y,
               int64_t n, int64_t k);
// Which int8 instructions run: "avx512-vnni", "avx512", "avx-vnni", "avx2", "neon", "portable".
const char* int8_isa();

}  // namespace LLMKIT_NS
}  // namespace llmkit
