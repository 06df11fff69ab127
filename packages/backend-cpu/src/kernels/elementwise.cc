// Strided element-wise kernels: unary ops, binary ops with broadcasting (stride-0 dims) and
// reductions, over a Layout whose contiguous dimensions were merged by the addon. The innermost
// dimension runs 8 lanes at a time; strided inner dimensions gather 8 values into a vector so
// every path computes with the same formulas. Ops without a vector form (log, sin, pow, ...)
// apply the C library lane by lane.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "kernels.h"

namespace llmkit {
namespace LLMKIT_NS {
namespace {

constexpr int64_t kParallelElements = 1 << 16;

template <class F>
LLMKIT_INLINE Vec lanewise(Vec a, F f) {
  float t[kLanes];
  vstore(t, a);
  for (int i = 0; i < kLanes; i++) t[i] = f(t[i]);
  return vload(t);
}

template <class F>
LLMKIT_INLINE Vec lanewise2(Vec a, Vec b, F f) {
  float x[kLanes], y[kLanes];
  vstore(x, a);
  vstore(y, b);
  for (int i = 0; i < kLanes; i++) x[i] = f(x[i], y[i]);
  return vload(x);
}

// Runs inner(offsets, begin, count) over the layout's innermost rows, splitting the outer rows
// (or, for a single long row, the row itself) across threads when the work is large.
template <class Inner>
void for_each_row(const Layout& L, Inner inner) {
  int rank = L.rank;
  int64_t n = L.shape[rank - 1];
  int64_t outer = 1;
  for (int d = 0; d < rank - 1; d++) outer *= L.shape[d];
  if (outer == 0 || n == 0) return;
  auto rows = [&](int64_t begin, int64_t end) {
    int64_t index[kMaxRank] = {};
    int64_t offsets[4];
    int64_t rest = begin;
    for (int d = rank - 2; d >= 0; d--) {
      index[d] = rest % L.shape[d];
      rest /= L.shape[d];
    }
    for (int o = 0; o < L.operands; o++) {
      offsets[o] = L.offsets[o];
      for (int d = 0; d < rank - 1; d++) offsets[o] += index[d] * L.strides[o][d];
    }
    for (int64_t r = begin; r < end; r++) {
      inner(offsets, 0, n);
      for (int d = rank - 2; d >= 0; d--) {
        index[d]++;
        for (int o = 0; o < L.operands; o++) offsets[o] += L.strides[o][d];
        if (index[d] < L.shape[d]) break;
        for (int o = 0; o < L.operands; o++) offsets[o] -= L.shape[d] * L.strides[o][d];
        index[d] = 0;
      }
    }
  };
  if (outer * n < kParallelElements) {
    rows(0, outer);
  } else if (outer >= thread_count()) {
    parallel_range(outer, std::max<int64_t>(1, kParallelElements / 4 / n), rows);
  } else {
    // Few long rows: split each row.
    for (int64_t r = 0; r < outer; r++) {
      int64_t offsets[4];
      int64_t rest = r;
      for (int o = 0; o < L.operands; o++) offsets[o] = L.offsets[o];
      for (int d = rank - 2; d >= 0; d--) {
        int64_t i = rest % L.shape[d];
        rest /= L.shape[d];
        for (int o = 0; o < L.operands; o++) offsets[o] += i * L.strides[o][d];
      }
      parallel_range(n, kParallelElements / 4,
                     [&](int64_t begin, int64_t end) { inner(offsets, begin, end - begin); });
    }
  }
}

// Applies a vector function to count elements of x (stride sx) into out (stride so).
template <class F>
LLMKIT_INLINE void map1(const float* x, int64_t sx, float* out, int64_t so, int64_t count, F f) {
  int64_t i = 0;
  if (sx == 1 && so == 1) {
    for (; i + kLanes <= count; i += kLanes) vstore(out + i, f(vload(x + i)));
    if (i < count) vstore_partial(out + i, f(vload_partial(x + i, count - i, 0)), count - i);
    return;
  }
  float t[kLanes];
  for (; i < count; i += kLanes) {
    int64_t c = std::min<int64_t>(kLanes, count - i);
    for (int64_t j = 0; j < kLanes; j++) t[j] = j < c ? x[(i + j) * sx] : 0.0f;
    vstore(t, f(vload(t)));
    for (int64_t j = 0; j < c; j++) out[(i + j) * so] = t[j];
  }
}

template <class F>
LLMKIT_INLINE void map2(const float* a, int64_t sa, const float* b, int64_t sb, float* out,
                        int64_t so, int64_t count, F f) {
  int64_t i = 0;
  if (so == 1 && (sa == 1 || sa == 0) && (sb == 1 || sb == 0)) {
    // Contiguous or broadcast-scalar operands: the common cases (x + y, x * 0.5, bias rows).
    Vec va = vset(a[0]), vb = vset(b[0]);
    for (; i + kLanes <= count; i += kLanes) {
      vstore(out + i, f(sa ? vload(a + i) : va, sb ? vload(b + i) : vb));
    }
    if (i < count) {
      Vec x = sa ? vload_partial(a + i, count - i, 1.0f) : va;
      Vec y = sb ? vload_partial(b + i, count - i, 1.0f) : vb;
      vstore_partial(out + i, f(x, y), count - i);
    }
    return;
  }
  float x[kLanes], y[kLanes];
  for (; i < count; i += kLanes) {
    int64_t c = std::min<int64_t>(kLanes, count - i);
    for (int64_t j = 0; j < kLanes; j++) {
      x[j] = j < c ? a[(i + j) * sa] : 1.0f;
      y[j] = j < c ? b[(i + j) * sb] : 1.0f;
    }
    vstore(x, f(vload(x), vload(y)));
    for (int64_t j = 0; j < c; j++) out[(i + j) * so] = x[j];
  }
}

template <class F>
void run_unary(const float* x, float* out, const Layout& L, F f) {
  int r = L.rank - 1;
  for_each_row(L, [&](const int64_t* offsets, int64_t begin, int64_t count) {
    map1(x + offsets[0] + begin * L.strides[0][r], L.strides[0][r],
         out + offsets[1] + begin * L.strides[1][r], L.strides[1][r], count, f);
  });
}

template <class F>
void run_binary(const float* a, const float* b, float* out, const Layout& L, F f) {
  int r = L.rank - 1;
  for_each_row(L, [&](const int64_t* offsets, int64_t begin, int64_t count) {
    map2(a + offsets[0] + begin * L.strides[0][r], L.strides[0][r],
         b + offsets[1] + begin * L.strides[1][r], L.strides[1][r],
         out + offsets[2] + begin * L.strides[2][r], L.strides[2][r], count, f);
  });
}

float sign_of(float v) { return v > 0 ? 1.0f : v < 0 ? -1.0f : v; }

void unary(int op, const float* x, float* out, const Layout& L) {
  const Vec one = vset(1.0f), zero = vset(0.0f), half = vset(0.5f);
  switch (op) {
    case kNeg: return run_unary(x, out, L, [&](Vec v) { return zero - v; });
    case kExp: return run_unary(x, out, L, [](Vec v) { return vexp(v); });
    case kLog:
      return run_unary(x, out, L, [](Vec v) { return lanewise(v, [](float f) { return std::log(f); }); });
    case kSqrt: return run_unary(x, out, L, [](Vec v) { return vsqrt(v); });
    case kRsqrt: return run_unary(x, out, L, [&](Vec v) { return one / vsqrt(v); });
    case kAbs: return run_unary(x, out, L, [](Vec v) { return vabs(v); });
    case kSign: return run_unary(x, out, L, [](Vec v) { return lanewise(v, sign_of); });
    case kTanh: return run_unary(x, out, L, [](Vec v) { return vtanh(v); });
    case kSigmoid:
      return run_unary(x, out, L, [](Vec v) { return vsigmoid(v); });
    case kRelu: return run_unary(x, out, L, [&](Vec v) { return vmax(zero, v); });
    case kGelu:
      return run_unary(x, out, L, [&](Vec v) {
        Vec h = v * half;
        return vfma(h, verf(v * vset(0.70710678118654752f)), h);
      });
    case kGeluTanh:
      return run_unary(x, out, L, [&](Vec v) {
        Vec u = vset(0.79788456080286536f) * vfma(vset(0.044715f) * v * v, v, v);
        return v * vsigmoid(u + u);  // = 0.5 v (1 + tanh u), see gelu.cc
      });
    case kSilu: return run_unary(x, out, L, [&](Vec v) { return v / (one + vexp(zero - v)); });
    case kSin:
      return run_unary(x, out, L, [](Vec v) { return lanewise(v, [](float f) { return std::sin(f); }); });
    case kCos:
      return run_unary(x, out, L, [](Vec v) { return lanewise(v, [](float f) { return std::cos(f); }); });
    case kReciprocal: return run_unary(x, out, L, [&](Vec v) { return one / v; });
    case kSquare: return run_unary(x, out, L, [](Vec v) { return v * v; });
    case kFloor:
      return run_unary(x, out, L, [](Vec v) { return lanewise(v, [](float f) { return std::floor(f); }); });
    case kErf: return run_unary(x, out, L, [](Vec v) { return verf(v); });
    default: return run_unary(x, out, L, [](Vec v) { return v; });  // kIdentity: strided copy
  }
}

void binary(int op, const float* a, const float* b, float* out, const Layout& L) {
  switch (op) {
    case kAdd: return run_binary(a, b, out, L, [](Vec x, Vec y) { return x + y; });
    case kSub: return run_binary(a, b, out, L, [](Vec x, Vec y) { return x - y; });
    case kMul: return run_binary(a, b, out, L, [](Vec x, Vec y) { return x * y; });
    case kDiv: return run_binary(a, b, out, L, [](Vec x, Vec y) { return x / y; });
    case kPow:
      return run_binary(a, b, out, L, [](Vec x, Vec y) {
        return lanewise2(x, y, [](float p, float q) { return std::pow(p, q); });
      });
    case kMaximum:
      return run_binary(a, b, out, L, [](Vec x, Vec y) {
        return lanewise2(x, y, [](float p, float q) { return std::isnan(p) || p > q ? p : q; });
      });
    default:  // kMinimum
      return run_binary(a, b, out, L, [](Vec x, Vec y) {
        return lanewise2(x, y, [](float p, float q) { return std::isnan(p) || p < q ? p : q; });
      });
  }
}

// Reductions accumulate in double into acc (out_size entries), then round once into out.
void reduce(int op, const float* x, float* out, int64_t out_size, const Layout& L) {
  const double init = op == kSum ? 0.0
                      : op == kMax ? -std::numeric_limits<double>::infinity()
                                   : std::numeric_limits<double>::infinity();
  std::vector<double> acc(static_cast<size_t>(out_size), init);
  int rank = L.rank;
  int64_t n = L.shape[rank - 1];
  int64_t outer = 1;
  for (int d = 0; d < rank - 1; d++) outer *= L.shape[d];
  int64_t sx = L.strides[0][rank - 1], so = L.strides[1][rank - 1];
  int64_t index[kMaxRank] = {};
  int64_t ox = L.offsets[0], oo = L.offsets[1];
  auto combine = [op](double a, double v) {
    if (op == kSum) return a + v;
    if (std::isnan(a) || std::isnan(v)) return std::numeric_limits<double>::quiet_NaN();
    return op == kMax ? std::max(a, v) : std::min(a, v);
  };
  for (int64_t r = 0; r < outer && n > 0; r++) {
    const float* xr = x + ox;
    if (so == 0) {
      // The innermost axis is reduced: fold the row into one value.
      double a = acc[oo];
      if (op == kSum && sx == 1) {
        Vec s0 = vset(0), s1 = vset(0);
        int64_t i = 0;
        for (; i + 2 * kLanes <= n; i += 2 * kLanes) {
          s0 = s0 + vload(xr + i);
          s1 = s1 + vload(xr + i + kLanes);
        }
        double s = static_cast<double>(vsum(s0)) + vsum(s1);
        for (; i < n; i++) s += xr[i];
        a += s;
      } else {
        for (int64_t i = 0; i < n; i++) a = combine(a, xr[i * sx]);
      }
      acc[oo] = a;
    } else {
      double* ar = acc.data() + oo;
      for (int64_t i = 0; i < n; i++) ar[i * so] = combine(ar[i * so], xr[i * sx]);
    }
    for (int d = rank - 2; d >= 0; d--) {
      index[d]++;
      ox += L.strides[0][d];
      oo += L.strides[1][d];
      if (index[d] < L.shape[d]) break;
      ox -= L.shape[d] * L.strides[0][d];
      oo -= L.shape[d] * L.strides[1][d];
      index[d] = 0;
    }
  }
  for (int64_t i = 0; i < out_size; i++) out[i] = static_cast<float>(acc[i]);
}

void where(const uint8_t* condition, const float* a, const float* b, float* out,
           const Layout& L) {
  int r = L.rank - 1;
  for_each_row(L, [&](const int64_t* offsets, int64_t begin, int64_t count) {
    const uint8_t* c = condition + offsets[0] + begin * L.strides[0][r];
    const float* x = a + offsets[1] + begin * L.strides[1][r];
    const float* y = b + offsets[2] + begin * L.strides[2][r];
    float* o = out + offsets[3] + begin * L.strides[3][r];
    int64_t sc = L.strides[0][r], sx = L.strides[1][r], sy = L.strides[2][r];
    int64_t so = L.strides[3][r];
    if (so == 1 && sc == 1 && sx == 1 && sy == 1) {
      for (int64_t i = 0; i < count; i++) o[i] = c[i] ? x[i] : y[i];  // vectorised by the compiler
    } else if (so == 1 && sc == 1 && sx == 1 && sy == 0) {
      float fill = y[0];  // masked_fill: the common case
      for (int64_t i = 0; i < count; i++) o[i] = c[i] ? x[i] : fill;
    } else if (so == 1 && sc == 1 && sx == 0 && sy == 1) {
      float fill = x[0];
      for (int64_t i = 0; i < count; i++) o[i] = c[i] ? fill : y[i];
    } else {
      for (int64_t i = 0; i < count; i++) o[i * so] = c[i * sc] ? x[i * sx] : y[i * sy];
    }
  });
}

void gather(const float* x, const int32_t* index, float* out, int64_t axis_stride,
            const Layout& L) {
  int r = L.rank - 1;
  for_each_row(L, [&](const int64_t* offsets, int64_t begin, int64_t count) {
    const int32_t* idx = index + offsets[0] + begin * L.strides[0][r];
    float* o = out + offsets[1] + begin * L.strides[1][r];
    const float* src = x + offsets[2] + begin * L.strides[2][r];
    int64_t si = L.strides[0][r], so = L.strides[1][r], sx = L.strides[2][r];
    for (int64_t i = 0; i < count; i++) {
      o[i * so] = src[i * sx + static_cast<int64_t>(idx[i * si]) * axis_stride];
    }
  });
}

}  // namespace

const ElementwiseTable& elementwise_table() {
  static const ElementwiseTable table = {unary, binary, reduce, where, gather};
  return table;
}

}  // namespace LLMKIT_NS
}  // namespace llmkit
