// GELU (Hendrycks & Gimpel 2016): exact x * Phi(x) = 0.5 x (1 + erf(x / sqrt 2)), or the tanh
// approximation 0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3), and their derivatives:
//   exact: Phi(x) + x * phi(x),  phi(x) = exp(-x^2 / 2) / sqrt(2 pi)
//   tanh:  0.5 (1 + t) + 0.5 x (1 - t^2) u'(x)
// The tanh form is evaluated through 0.5 (1 + tanh u) = sigmoid(2u) =: s and 1 - t^2 = 4 s (1 - s),
// which stay accurate for very negative x where 1 + tanh(u) would cancel to 0.
#include "kernels.h"

namespace llmkit {
namespace LLMKIT_NS {
namespace {

constexpr float kSqrtHalf = 0.70710678118654752f;
constexpr float kSqrt2OverPi = 0.79788456080286536f;
constexpr float kInvSqrt2Pi = 0.39894228040143268f;
constexpr float kCubic = 0.044715f;
constexpr int64_t kMinChunk = 32768;

LLMKIT_INLINE Vec gelu_value(Vec x, bool tanh_approximation) {
  Vec half_x = x * vset(0.5f);
  if (tanh_approximation) {
    Vec u = vset(kSqrt2OverPi) * vfma(vset(kCubic) * x * x, x, x);
    return x * vsigmoid(u + u);
  }
  return vfma(half_x, verf(x * vset(kSqrtHalf)), half_x);
}

LLMKIT_INLINE Vec gelu_slope(Vec x, bool tanh_approximation) {
  Vec half = vset(0.5f);
  if (tanh_approximation) {
    Vec x2 = x * x;
    Vec u = vset(kSqrt2OverPi) * vfma(vset(kCubic) * x2, x, x);
    Vec s = vsigmoid(u + u);
    Vec du = vset(kSqrt2OverPi) * vfma(vset(3 * kCubic), x2, vset(1.0f));
    return vfma(vset(2.0f) * x * s * (vset(1.0f) - s), du, s);
  }
  Vec cdf = vfma(half, verf(x * vset(kSqrtHalf)), half);
  Vec pdf = vset(kInvSqrt2Pi) * vexp(vset(-0.5f) * x * x);
  return vfma(x, pdf, cdf);
}

}  // namespace

void gelu(const float* x, float* y, int64_t n, bool tanh_approximation) {
  parallel_range(n, kMinChunk, [&](int64_t begin, int64_t end) {
    int64_t i = begin;
    for (; i + kLanes <= end; i += kLanes) {
      vstore(y + i, gelu_value(vload(x + i), tanh_approximation));
    }
    if (i < end) {
      vstore_partial(y + i, gelu_value(vload_partial(x + i, end - i, 0), tanh_approximation),
                     end - i);
    }
  });
}

void gelu_backward(const float* x, const float* dy, float* dx, int64_t n,
                   bool tanh_approximation) {
  parallel_range(n, kMinChunk, [&](int64_t begin, int64_t end) {
    int64_t i = begin;
    for (; i + kLanes <= end; i += kLanes) {
      vstore(dx + i, vload(dy + i) * gelu_slope(vload(x + i), tanh_approximation));
    }
    if (i < end) {
      Vec slope = gelu_slope(vload_partial(x + i, end - i, 0), tanh_approximation);
      vstore_partial(dx + i, vload_partial(dy + i, end - i, 0) * slope, end - i);
    }
  });
}

}  // namespace LLMKIT_NS
}  // namespace llmkit
