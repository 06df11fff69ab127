// Cross-entropy fused with log-softmax, so the (rows x vocab) probabilities are never stored.
// Per row with lse = logsumexp(logits) and label smoothing eps over C classes (as PyTorch):
//   loss = (1 - eps) * (lse - logits[t]) + eps * (lse - mean(logits))
//   dlogits = dloss * (softmax(logits) - (1 - eps) * onehot(t) - eps / C)
// Rows whose target is ignore_index have loss 0 and gradient 0.
#include <cmath>
#include <limits>

#include "kernels.h"

namespace llmkit {
namespace LLMKIT_NS {
namespace {

constexpr float kNegInf = -std::numeric_limits<float>::infinity();

int64_t min_rows(int64_t cols) { return std::max<int64_t>(1, 8192 / std::max<int64_t>(1, cols)); }

// Returns logsumexp of the row and writes its sum into *total.
float row_logsumexp(const float* x, int64_t n, float* total) {
  Vec m = vset(kNegInf);
  Vec s = vset(0);
  int64_t i = 0;
  for (; i + kLanes <= n; i += kLanes) {
    Vec v = vload(x + i);
    m = vmax(m, v);
    s = s + v;
  }
  if (i < n) {
    m = vmax(m, vload_partial(x + i, n - i, kNegInf));
    s = s + vload_partial(x + i, n - i, 0);
  }
  float mx = vmaxall(m);
  *total = vsum(s);
  Vec vm = vset(mx);
  Vec e = vset(0);
  for (i = 0; i + kLanes <= n; i += kLanes) e = e + vexp(vload(x + i) - vm);
  if (i < n) e = e + vexp(vload_partial(x + i, n - i, kNegInf) - vm);
  return mx + std::log(vsum(e));
}

}  // namespace

void cross_entropy(const float* logits, const int32_t* targets, float* losses, float* logsumexp,
                   int64_t rows, int64_t vocab, int32_t ignore_index, float label_smoothing) {
  parallel_range(rows, min_rows(vocab), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; r++) {
      const float* x = logits + r * vocab;
      float total = 0;
      float lse = row_logsumexp(x, vocab, &total);
      if (logsumexp) logsumexp[r] = lse;
      int32_t t = targets[r];
      if (t == ignore_index) {
        losses[r] = 0;
        continue;
      }
      float nll = lse - x[t];
      float smooth = lse - total / static_cast<float>(vocab);
      losses[r] = (1 - label_smoothing) * nll + label_smoothing * smooth;
    }
  });
}

void cross_entropy_backward(const float* logits, const int32_t* targets, const float* logsumexp,
                            const float* dlosses, float* dlogits, int64_t rows, int64_t vocab,
                            int32_t ignore_index, float label_smoothing) {
  parallel_range(rows, min_rows(vocab), [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; r++) {
      const float* x = logits + r * vocab;
      float* d = dlogits + r * vocab;
      int32_t t = targets[r];
      if (t == ignore_index) {
        for (int64_t i = 0; i < vocab; i++) d[i] = 0;
        continue;
      }
      float g = dlosses[r];
      Vec vg = vset(g);
      float total = 0;
      Vec lse = vset(logsumexp ? logsumexp[r] : row_logsumexp(x, vocab, &total));
      Vec off = vset(g * label_smoothing / static_cast<float>(vocab));
      int64_t i = 0;
      for (; i + kLanes <= vocab; i += kLanes) {
        vstore(d + i, vg * vexp(vload(x + i) - lse) - off);
      }
      if (i < vocab) {
        Vec p = vexp(vload_partial(x + i, vocab - i, 0) - lse);
        vstore_partial(d + i, vg * p - off, vocab - i);
      }
      d[t] -= g * (1 - label_smoothing);
    }
  });
}

}  // namespace LLMKIT_NS
}  // namespace llmkit
