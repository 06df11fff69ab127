// One AdamW step in place (Loshchilov & Hutter 2019, "Decoupled Weight Decay Regularization"),
// in PyTorch's order of operations so results match torch.optim.AdamW:
//   p *= 1 - lr * wd;  m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
//   p -= (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
#include <cmath>

#include "kernels.h"

namespace llmkit {
namespace LLMKIT_NS {

void adamw(float* param, const float* grad, float* m, float* v, int64_t n, float lr, float beta1,
           float beta2, float eps, float weight_decay, int64_t step) {
  float correction1 = 1.0f - static_cast<float>(std::pow(static_cast<double>(beta1), step));
  float correction2 = 1.0f - static_cast<float>(std::pow(static_cast<double>(beta2), step));
  float step_size = lr / correction1;
  float inv_sqrt_c2 = 1.0f / std::sqrt(correction2);
  float decay = 1.0f - lr * weight_decay;
  parallel_range(n, 32768, [&](int64_t begin, int64_t end) {
    Vec vdecay = vset(decay), vb1 = vset(beta1), vb2 = vset(beta2);
    Vec vc1 = vset(1 - beta1), vc2 = vset(1 - beta2), vstep = vset(step_size);
    Vec vinv = vset(inv_sqrt_c2), veps = vset(eps);
    int64_t i = begin;
    for (; i + kLanes <= end; i += kLanes) {
      Vec g = vload(grad + i);
      Vec mi = vfma(vb1, vload(m + i), vc1 * g);
      Vec vi = vfma(vb2, vload(v + i), vc2 * g * g);
      vstore(m + i, mi);
      vstore(v + i, vi);
      Vec denom = vfma(vsqrt(vi), vinv, veps);
      vstore(param + i, vload(param + i) * vdecay - vstep * mi / denom);
    }
    for (; i < end; i++) {
      float g = grad[i];
      m[i] = beta1 * m[i] + (1 - beta1) * g;
      v[i] = beta2 * v[i] + (1 - beta2) * g * g;
      float denom = std::sqrt(v[i]) * inv_sqrt_c2 + eps;
      param[i] = param[i] * decay - step_size * m[i] / denom;
    }
  });
}

}  // namespace LLMKIT_NS
}  // namespace llmkit
