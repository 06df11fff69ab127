// A stand-alone check of one build's kernel tables against scalar references, without Node: the
// AArch64 NEON path is cross-compiled with aarch64-linux-gnu-g++ and run under qemu-aarch64 by
// src/neon.test.ts (CI has no ARM machine). Every kernel source is compiled twice, plain and with
// LLMKIT_ISA_NEON, and linked with dispatch.cc, thread-pool.cc and scratch.cc; see the test for the
// command lines. Each table in `tables` (portable, then neon when built) runs every check:
//   gemm (4 transposes, ragged tiles, K past one slice, alpha/beta, batches, the m = 1 path),
//   softmax / log-softmax, layerNorm, RMSNorm, RoPE (and its transpose), GELU (erf and tanh),
//   cross-entropy, AdamW, attention (causal, multi-head and grouped-query; one decoded token
//   over a single kv head, its keys split over threads),
//   int8 GEMV, quantizedMatmul with fp16 / bf16 weights (half.cc) against float64 or exact
//   references; the backward kernels and embedding against the portable table (itself checked
//   against PyTorch by the Node tests).
// Prints one line per check and "kernel-check: N failures" last; exits 1 on any failure.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <vector>

#include "../src/kernels/common.h"
#include "../src/kernels/quantized.h"

using llmkit::GemmArgs;
using llmkit::KernelTable;

namespace {

int failures = 0;
std::mt19937 rng(1234);

std::vector<float> random_floats(size_t n, float scale = 1.0f) {
  std::normal_distribution<float> normal(0.0f, scale);
  std::vector<float> out(n);
  for (float& x : out) x = normal(rng);
  return out;
}

// max over i of |a - b| / (atol + rtol |b|) must stay <= 1
void expect_close(const char* isa, const char* what, const float* actual, const double* expected,
                  size_t n, double atol = 1e-5, double rtol = 1e-4) {
  double worst = 0;
  size_t at = 0;
  for (size_t i = 0; i < n; i++) {
    double diff = std::fabs(actual[i] - expected[i]);  // exact checks pass atol = rtol = 0
    double ratio = diff == 0 ? 0 : diff / (atol + rtol * std::fabs(expected[i]));
    if (!(ratio <= worst)) {
      worst = ratio;
      at = i;
    }
  }
  bool ok = worst <= 1;
  if (!ok) failures++;
  std::printf("%s %-8s %-34s worst %.3g%s\n", ok ? "ok  " : "FAIL", isa, what, worst,
              ok ? "" : " (first worst element below)");
  if (!ok) std::printf("     element %zu: %.9g vs %.9g\n", at, actual[at], expected[at]);
}

void expect_close(const char* isa, const char* what, const std::vector<float>& actual,
                  const std::vector<float>& expected, double atol = 1e-5, double rtol = 1e-4) {
  std::vector<double> e(expected.begin(), expected.end());
  expect_close(isa, what, actual.data(), e.data(), e.size(), atol, rtol);
}

void check_gemm(const KernelTable& t) {
  struct Shape {
    int64_t m, n, k, batch;
  };
  const Shape shapes[] = {{1, 1, 1, 1},     {5, 17, 3, 1},  {6, 16, 8, 1},  {29, 65, 257, 1},
                          {131, 67, 300, 2}, {1, 600, 300, 1}, {1, 37, 1000, 1}, {200, 97, 600, 1}};
  for (const Shape& s : shapes) {
    for (int variant = 0; variant < 4; variant++) {
      GemmArgs g;
      g.transpose_a = variant & 1;
      g.transpose_b = variant & 2;
      g.m = s.m;
      g.n = s.n;
      g.k = s.k;
      g.batch = s.batch;
      g.alpha = 0.75f;
      g.beta = s.batch > 1 ? 0.5f : 0.0f;
      auto a = random_floats(s.m * s.k * s.batch), b = random_floats(s.k * s.n * s.batch);
      auto c = random_floats(s.m * s.n * s.batch);
      g.lda = g.transpose_a ? s.m : s.k;
      g.ldb = g.transpose_b ? s.k : s.n;
      g.ldc = s.n;
      g.stride_a = s.m * s.k;
      g.stride_b = s.k * s.n;
      g.stride_c = s.m * s.n;
      std::vector<double> expected(c.size());
      for (int64_t bi = 0; bi < s.batch; bi++) {
        for (int64_t i = 0; i < s.m; i++) {
          for (int64_t j = 0; j < s.n; j++) {
            double sum = 0;
            for (int64_t p = 0; p < s.k; p++) {
              double x = g.transpose_a ? a[bi * g.stride_a + p * g.lda + i]
                                       : a[bi * g.stride_a + i * g.lda + p];
              double y = g.transpose_b ? b[bi * g.stride_b + j * g.ldb + p]
                                       : b[bi * g.stride_b + p * g.ldb + j];
              sum += x * y;
            }
            size_t o = bi * g.stride_c + i * s.n + j;
            expected[o] = g.alpha * sum + g.beta * c[o];
          }
        }
      }
      g.a = a.data();
      g.b = b.data();
      g.c = c.data();
      t.gemm(g);
      char what[96];
      std::snprintf(what, sizeof what, "gemm %lldx%lldx%lld x%lld %s%s", (long long)s.m,
                    (long long)s.n, (long long)s.k, (long long)s.batch, g.transpose_a ? "T" : "N",
                    g.transpose_b ? "T" : "N");
      expect_close(t.isa, what, c.data(), expected.data(), c.size(), 1e-4, 1e-4);
    }
  }
}

void check_softmax(const KernelTable& t) {
  const int64_t rows = 7, cols = 67;
  auto x = random_floats(rows * cols, 3.0f);
  for (bool log : {false, true}) {
    std::vector<double> expected(x.size());
    for (int64_t r = 0; r < rows; r++) {
      double m = -INFINITY, sum = 0;
      for (int64_t j = 0; j < cols; j++) m = std::fmax(m, x[r * cols + j]);
      for (int64_t j = 0; j < cols; j++) sum += std::exp(x[r * cols + j] - m);
      for (int64_t j = 0; j < cols; j++) {
        double v = x[r * cols + j] - m;
        expected[r * cols + j] = log ? v - std::log(sum) : std::exp(v) / sum;
      }
    }
    std::vector<float> y(x.size());
    t.softmax(x.data(), y.data(), rows, cols, log);
    expect_close(t.isa, log ? "log_softmax 7x67" : "softmax 7x67", y.data(), expected.data(),
                 y.size());
  }
}

void check_layer_norm(const KernelTable& t) {
  const int64_t rows = 5, cols = 131;
  auto x = random_floats(rows * cols, 2.0f), w = random_floats(cols), b = random_floats(cols);
  std::vector<double> expected(x.size());
  for (int64_t r = 0; r < rows; r++) {
    double mean = 0, var = 0;
    for (int64_t j = 0; j < cols; j++) mean += x[r * cols + j];
    mean /= cols;
    for (int64_t j = 0; j < cols; j++) var += (x[r * cols + j] - mean) * (x[r * cols + j] - mean);
    double rstd = 1 / std::sqrt(var / cols + 1e-5);
    for (int64_t j = 0; j < cols; j++)
      expected[r * cols + j] = (x[r * cols + j] - mean) * rstd * w[j] + b[j];
  }
  std::vector<float> y(x.size()), mean(rows), rstd(rows);
  t.layer_norm(x.data(), w.data(), b.data(), y.data(), mean.data(), rstd.data(), rows, cols, 1e-5f);
  expect_close(t.isa, "layer_norm 5x131", y.data(), expected.data(), y.size());
}

void check_gelu(const KernelTable& t) {
  auto x = random_floats(1003, 3.0f);
  for (bool tanh_form : {false, true}) {
    std::vector<double> expected(x.size());
    for (size_t i = 0; i < x.size(); i++) {
      double v = x[i];
      expected[i] = tanh_form
                        ? 0.5 * v * (1 + std::tanh(0.7978845608028654 * (v + 0.044715 * v * v * v)))
                        : 0.5 * v * (1 + std::erf(v / std::sqrt(2.0)));
    }
    std::vector<float> y(x.size());
    t.gelu(x.data(), y.data(), x.size(), tanh_form);
    expect_close(t.isa, tanh_form ? "gelu tanh 1003" : "gelu erf 1003", y.data(), expected.data(),
                 y.size(), 1e-6, 1e-5);
  }
}

void check_cross_entropy(const KernelTable& t) {
  const int64_t rows = 9, vocab = 65;
  auto logits = random_floats(rows * vocab, 2.0f);
  std::vector<int32_t> targets(rows);
  for (int64_t r = 0; r < rows; r++) targets[r] = (r * 7) % vocab;
  targets[3] = -100;
  std::vector<double> expected(rows);
  for (int64_t r = 0; r < rows; r++) {
    double m = -INFINITY, sum = 0;
    for (int64_t j = 0; j < vocab; j++) m = std::fmax(m, logits[r * vocab + j]);
    for (int64_t j = 0; j < vocab; j++) sum += std::exp(logits[r * vocab + j] - m);
    expected[r] = targets[r] < 0 ? 0 : m + std::log(sum) - logits[r * vocab + targets[r]];
  }
  std::vector<float> losses(rows), lse(rows);
  t.cross_entropy(logits.data(), targets.data(), losses.data(), lse.data(), rows, vocab, -100, 0);
  expect_close(t.isa, "cross_entropy 9x65", losses.data(), expected.data(), rows);
}

void check_adamw(const KernelTable& t) {
  const int64_t n = 1001;
  auto p = random_floats(n), g = random_floats(n), m = random_floats(n, 0.1f);
  auto v = random_floats(n, 0.1f);
  for (float& x : v) x = x * x;
  const double lr = 1e-2, b1 = 0.9, b2 = 0.95, eps = 1e-8, wd = 0.1;
  const int64_t step = 3;
  std::vector<double> expected(n);
  for (int64_t i = 0; i < n; i++) {
    double mi = b1 * m[i] + (1 - b1) * g[i], vi = b2 * v[i] + (1 - b2) * g[i] * g[i];
    double mhat = mi / (1 - std::pow(b1, step)), vhat = vi / (1 - std::pow(b2, step));
    expected[i] = p[i] * (1 - lr * wd) - lr * mhat / (std::sqrt(vhat) + eps);
  }
  t.adamw(p.data(), g.data(), m.data(), v.data(), n, lr, b1, b2, eps, wd, step);
  expect_close(t.isa, "adamw 1001", p.data(), expected.data(), n);
}

void check_rms_norm(const KernelTable& t) {
  const int64_t rows = 5, cols = 37;
  auto x = random_floats(rows * cols, 3.0f), w = random_floats(cols);
  std::vector<double> expected(rows * cols);
  for (int64_t r = 0; r < rows; r++) {
    double squares = 0;
    for (int64_t c = 0; c < cols; c++) squares += double(x[r * cols + c]) * x[r * cols + c];
    const double rstd = 1 / std::sqrt(squares / cols + 1e-6);
    for (int64_t c = 0; c < cols; c++) expected[r * cols + c] = x[r * cols + c] * rstd * w[c];
  }
  std::vector<float> y(rows * cols), rstd(rows);
  t.rms_norm(x.data(), w.data(), y.data(), rstd.data(), rows, cols, 1e-6f);
  expect_close(t.isa, "rms_norm 5x37", y.data(), expected.data(), y.size());
}

void check_rope(const KernelTable& t) {
  const int64_t batch = 2, heads = 3, positions = 5, dim = 40, half = dim / 2;
  auto x = random_floats(batch * heads * positions * dim);
  auto cos = random_floats(batch * positions * dim), sin = random_floats(batch * positions * dim);
  for (bool transpose : {false, true}) {
    std::vector<double> expected(x.size());
    for (int64_t r = 0; r < batch * heads * positions; r++) {
      const int64_t table = (r / (heads * positions) * positions + r % positions) * dim;
      for (int64_t i = 0; i < half; i++) {
        const double x1 = x[r * dim + i], x2 = x[r * dim + half + i];
        const double c1 = cos[table + i], c2 = cos[table + half + i];
        const double s1 = sin[table + i], s2 = sin[table + half + i];
        expected[r * dim + i] = transpose ? x1 * c1 + x2 * s2 : x1 * c1 - x2 * s1;
        expected[r * dim + half + i] = transpose ? x2 * c2 - x1 * s1 : x2 * c2 + x1 * s2;
      }
    }
    std::vector<float> out(x.size());
    t.rope(x.data(), cos.data(), sin.data(), out.data(), batch, heads, positions, dim,
           positions * dim, transpose);
    expect_close(t.isa, transpose ? "rope transpose 2x3x5x40" : "rope 2x3x5x40", out.data(),
                 expected.data(), out.size());
  }
}

// Causal attention of 4 query heads; group 1 (4 key/value heads) and 2 (2 shared heads).
void check_attention(const KernelTable& t) {
  for (int64_t group : {1, 2}) {
    const int64_t heads = 4, tq = 37, tk = 37, dim = 20, dim_v = 20;
    const float scale = 1 / std::sqrt(float(dim));
    auto q = random_floats(heads * tq * dim), k = random_floats(heads / group * tk * dim);
    auto v = random_floats(heads / group * tk * dim_v);
    std::vector<double> expected(heads * tq * dim_v);
    for (int64_t h = 0; h < heads; h++) {
      const int64_t g = h / group;
      for (int64_t i = 0; i < tq; i++) {
        std::vector<double> s(i + 1);
        double m = -INFINITY, sum = 0;
        for (int64_t j = 0; j <= i; j++) {
          double d = 0;
          for (int64_t c = 0; c < dim; c++)
            d += q[(h * tq + i) * dim + c] * k[(g * tk + j) * dim + c];
          s[j] = d * scale;
          m = std::fmax(m, s[j]);
        }
        for (int64_t j = 0; j <= i; j++) sum += (s[j] = std::exp(s[j] - m));
        for (int64_t c = 0; c < dim_v; c++) {
          double o = 0;
          for (int64_t j = 0; j <= i; j++) o += s[j] / sum * v[(g * tk + j) * dim_v + c];
          expected[(h * tq + i) * dim_v + c] = o;
        }
      }
    }
    std::vector<float> out(expected.size()), lse(heads * tq);
    t.attention(q.data(), k.data(), v.data(), out.data(), lse.data(), heads, tq, tk, dim, dim_v,
                scale, true, tk * dim, tk * dim_v, group);
    expect_close(t.isa, group == 1 ? "attention causal 4x37x20" : "attention causal 4x37x20 group 2",
                 out.data(), expected.data(), out.size());
  }
}

// One decoded token of 5 query heads over a single key/value head of 600 keys: large enough that
// the kernel splits the keys over threads and merges the parts.
void check_decode_attention(const KernelTable& t) {
  const int64_t heads = 5, tk = 600, dim = 48, dim_v = 40;
  const float scale = 0.15f;
  auto q = random_floats(heads * dim), k = random_floats(tk * dim), v = random_floats(tk * dim_v);
  std::vector<double> expected(heads * dim_v);
  for (int64_t h = 0; h < heads; h++) {
    std::vector<double> s(tk);
    double m = -INFINITY, sum = 0;
    for (int64_t j = 0; j < tk; j++) {
      double d = 0;
      for (int64_t c = 0; c < dim; c++) d += q[h * dim + c] * k[j * dim + c];
      m = std::fmax(m, s[j] = d * scale);
    }
    for (int64_t j = 0; j < tk; j++) sum += (s[j] = std::exp(s[j] - m));
    for (int64_t c = 0; c < dim_v; c++) {
      double o = 0;
      for (int64_t j = 0; j < tk; j++) o += s[j] / sum * v[j * dim_v + c];
      expected[h * dim_v + c] = o;
    }
  }
  std::vector<float> out(expected.size());
  t.attention(q.data(), k.data(), v.data(), out.data(), nullptr, heads, 1, tk, dim, dim_v, scale,
              true, tk * dim, tk * dim_v, heads);
  expect_close(t.isa, "attention one token, 5 heads over 1 kv head, 600 keys", out.data(),
               expected.data(), out.size());
}

void check_int8(const KernelTable& t) {
  const int64_t n = 13, k = 301;
  std::uniform_int_distribution<int> byte(-128, 127);
  std::vector<int8_t> w(n * k), x(k);
  for (auto& b : w) b = static_cast<int8_t>(byte(rng));
  for (auto& b : x) b = static_cast<int8_t>(byte(rng));
  w[0] = x[0] = -128;
  std::vector<float> scales(n, 1.0f), y(n);
  t.int8_gemv(w.data(), scales.data(), x.data(), 1.0f, y.data(), n, k);
  std::vector<double> expected(n);
  for (int64_t j = 0; j < n; j++) {
    int32_t sum = 0;
    for (int64_t p = 0; p < k; p++) sum += w[j * k + p] * x[p];
    expected[j] = sum;
  }
  expect_close(t.isa, "int8_gemv 13x301 (exact)", y.data(), expected.data(), n, 0, 0);
}

// A 16-bit weight's value, decoded independently of the kernels' helpers.
double half_value(int format, uint16_t bits) {
  if (format == llmkit::kBf16) {
    const uint32_t word = static_cast<uint32_t>(bits) << 16;
    float value;
    std::memcpy(&value, &word, 4);
    return value;
  }
  const int exponent = (bits >> 10) & 31, mantissa = bits & 1023;
  const double magnitude = exponent == 0 ? std::ldexp(mantissa, -24)
                                         : std::ldexp(1024 + mantissa, exponent - 25);
  return bits & 0x8000 ? -magnitude : magnitude;
}

// quantizedMatmul with fp16 / bf16 weights (half.cc): the matrix-vector products (M <= 8 forward,
// 4 input gradient), the GEMM with a 16-bit B (more rows) and K off every vector width, against
// float64 sums. The words are random finite halves (subnormal fp16 included) and
// bf16 of magnitude 2^-17 .. 2.
void check_half(const char* isa, const llmkit::QuantizedTable& q) {
  struct Shape {
    int64_t m, n, k;
  };
  std::uniform_int_distribution<int> word(0, 65535);
  for (int format : {llmkit::kFp16, llmkit::kBf16}) {
    for (Shape s : {Shape{1, 13, 40}, Shape{4, 67, 100}, Shape{6, 33, 72}, Shape{37, 67, 300}}) {
      std::vector<uint16_t> w(s.n * s.k);
      for (auto& bits : w) {
        const int r = word(rng);
        bits = format == llmkit::kFp16 ? static_cast<uint16_t>(r & 0xbfff)  // exponent <= 15
                                       : static_cast<uint16_t>((r & 0x807f) | ((110 + r % 18) << 7));
      }
      for (bool transposed : {false, true}) {
        const int64_t inner = transposed ? s.n : s.k, outer = transposed ? s.k : s.n;
        auto x = random_floats(s.m * inner);
        std::vector<float> out(s.m * outer, 7.0f);
        llmkit::QuantizedArgs a;
        a.format = format;
        a.m = s.m;
        a.n = s.n;
        a.k = s.k;
        a.transposed = transposed;
        a.x = x.data();
        a.out = out.data();
        a.weight = w.data();
        q.matmul(a);
        std::vector<double> expected(out.size());
        for (int64_t i = 0; i < s.m; i++) {
          for (int64_t j = 0; j < outer; j++) {
            double sum = 0;
            for (int64_t p = 0; p < inner; p++) {
              const uint16_t bits = transposed ? w[p * s.k + j] : w[j * s.k + p];
              sum += static_cast<double>(x[i * inner + p]) * half_value(format, bits);
            }
            expected[i * outer + j] = sum;
          }
        }
        char what[64];
        std::snprintf(what, sizeof what, "half %s %lldx%lldx%lld%s",
                      format == llmkit::kFp16 ? "fp16" : "bf16", static_cast<long long>(s.m),
                      static_cast<long long>(s.n), static_cast<long long>(s.k),
                      transposed ? " T" : "");
        expect_close(isa, what, out.data(), expected.data(), out.size(), 1e-4, 1e-4);
      }
    }
  }
}

// Kernels without a short scalar formula: same inputs through `t` and the portable table.
void check_against_portable(const KernelTable& t) {
  const KernelTable& p = llmkit::portable::kernel_table();
  if (&t == &p) return;
  const int64_t rows = 6, cols = 83;
  {
    auto y = random_floats(rows * cols), dy = random_floats(rows * cols);
    std::vector<float> mine(y.size()), theirs(y.size());
    t.softmax_backward(y.data(), dy.data(), mine.data(), rows, cols, false);
    p.softmax_backward(y.data(), dy.data(), theirs.data(), rows, cols, false);
    expect_close(t.isa, "softmax_backward vs portable", mine, theirs);
  }
  {
    auto x = random_floats(rows * cols), w = random_floats(cols), dy = random_floats(rows * cols);
    std::vector<float> mean(rows), rstd(rows), y(x.size());
    p.layer_norm(x.data(), w.data(), nullptr, y.data(), mean.data(), rstd.data(), rows, cols, 1e-5f);
    std::vector<float> dx1(x.size()), dx2(x.size()), dw1(cols), dw2(cols), db1(cols), db2(cols);
    t.layer_norm_backward(x.data(), w.data(), mean.data(), rstd.data(), dy.data(), dx1.data(),
                          dw1.data(), db1.data(), rows, cols);
    p.layer_norm_backward(x.data(), w.data(), mean.data(), rstd.data(), dy.data(), dx2.data(),
                          dw2.data(), db2.data(), rows, cols);
    expect_close(t.isa, "layer_norm_backward dx vs portable", dx1, dx2);
    expect_close(t.isa, "layer_norm_backward dw vs portable", dw1, dw2);
  }
  {
    auto x = random_floats(1003, 3.0f), dy = random_floats(1003);
    std::vector<float> a(x.size()), b(x.size());
    t.gelu_backward(x.data(), dy.data(), a.data(), x.size(), false);
    p.gelu_backward(x.data(), dy.data(), b.data(), x.size(), false);
    expect_close(t.isa, "gelu_backward vs portable", a, b, 1e-6, 1e-5);
  }
  {
    auto logits = random_floats(rows * cols, 2.0f), dl = random_floats(rows);
    std::vector<int32_t> targets = {0, 5, 82, -100, 40, 7};
    std::vector<float> a(logits.size()), b(logits.size());
    t.cross_entropy_backward(logits.data(), targets.data(), nullptr, dl.data(), a.data(), rows, cols,
                             -100, 0.1f);
    p.cross_entropy_backward(logits.data(), targets.data(), nullptr, dl.data(), b.data(), rows, cols,
                             -100, 0.1f);
    expect_close(t.isa, "cross_entropy_backward vs portable", a, b);
  }
  for (int64_t group : {1, 2}) {
    const int64_t heads = 2, tq = 33, dim = 16;
    auto q = random_floats(heads * tq * dim), k = random_floats(heads / group * tq * dim);
    auto v = random_floats(heads / group * tq * dim), dout = random_floats(heads * tq * dim);
    std::vector<float> out(q.size()), lse(heads * tq);
    p.attention(q.data(), k.data(), v.data(), out.data(), lse.data(), heads, tq, tq, dim, dim, 0.25f,
                true, tq * dim, tq * dim, group);
    std::vector<float> g1[3], g2[3];
    g1[0].resize(q.size()), g2[0].resize(q.size());
    for (int i = 1; i < 3; i++) g1[i].resize(k.size()), g2[i].resize(k.size());
    t.attention_backward(q.data(), k.data(), v.data(), out.data(), dout.data(), lse.data(),
                         g1[0].data(), g1[1].data(), g1[2].data(), heads, tq, tq, dim, dim, 0.25f,
                         true, group);
    p.attention_backward(q.data(), k.data(), v.data(), out.data(), dout.data(), lse.data(),
                         g2[0].data(), g2[1].data(), g2[2].data(), heads, tq, tq, dim, dim, 0.25f,
                         true, group);
    expect_close(t.isa, "attention_backward dq vs portable", g1[0], g2[0]);
    expect_close(t.isa, "attention_backward dk vs portable", g1[1], g2[1]);
    expect_close(t.isa, "attention_backward dv vs portable", g1[2], g2[2]);
  }
  {
    auto weight = random_floats(50 * cols), dout = random_floats(rows * cols);
    std::vector<int32_t> ids = {3, 49, 0, 3, 17, 3};
    std::vector<float> a(rows * cols), b(rows * cols), da(weight.size()), db(weight.size());
    t.embedding(weight.data(), ids.data(), a.data(), rows, cols);
    p.embedding(weight.data(), ids.data(), b.data(), rows, cols);
    expect_close(t.isa, "embedding vs portable", a, b, 0, 0);
    t.embedding_backward(dout.data(), ids.data(), da.data(), rows, cols);
    p.embedding_backward(dout.data(), ids.data(), db.data(), rows, cols);
    expect_close(t.isa, "embedding_backward vs portable", da, db);
  }
}

}  // namespace

int main() {
  std::vector<const KernelTable*> tables = {&llmkit::portable::kernel_table()};
  std::vector<const llmkit::QuantizedTable*> quantized = {&llmkit::portable::quantized_table()};
#if defined(LLMKIT_HAVE_NEON_BUILD)
  tables.push_back(&llmkit::neon::kernel_table());
  quantized.push_back(&llmkit::neon::quantized_table());
#endif
  for (int threads : {1, 2}) {
    llmkit::set_thread_count(threads);
    for (size_t i = 0; i < tables.size(); i++) {
      const KernelTable* t = tables[i];
      check_half(t->isa, *quantized[i]);
      check_gemm(*t);
      check_softmax(*t);
      check_layer_norm(*t);
      check_rms_norm(*t);
      check_rope(*t);
      check_gelu(*t);
      check_cross_entropy(*t);
      check_adamw(*t);
      check_attention(*t);
      check_decode_attention(*t);
      check_int8(*t);
      check_against_portable(*t);
    }
  }
  std::printf("kernel-check: %d tables, %d failures\n", static_cast<int>(tables.size()), failures);
  llmkit::shutdown_thread_pool();
  return failures == 0 ? 0 : 1;
}
