// Node-API entry point of the quantized matmul (src/kernels/quantized.h), compiled once.
// quantizedMatmul(format, m, n, k, group, symmetric, transposed, x, weightBytes, scales?,
//                 minimums?, out, int8Activations): every array starts at element 0 (the
// caller passes views); the weight is given as its bytes whatever its element type.
#include <node_api.h>

#include "../kernels/quantized.h"
#include "call.h"

namespace llmkit {

napi_value QuantizedMatmul(napi_env env, napi_callback_info info) {
  Call call(env, info, "quantizedMatmul");
  QuantizedArgs a;
  a.format = static_cast<int>(call.integer(0));
  a.m = call.integer(1);
  a.n = call.integer(2);
  a.k = call.integer(3);
  a.group = call.integer(4);
  a.symmetric = call.flag(5);
  a.transposed = call.flag(6);
  a.int8_activations = call.flag(12);
  if (call.failed()) return nullptr;
  if (a.format >= kQuantFormatCount) call.fail("unknown format %d", a.format);
  const bool grouped = a.format == kInt4 || a.format == kNf4;
  if (grouped && (a.group < 2 || a.group % 2 || a.k % a.group)) {
    call.fail("group %lld must be even and divide k %lld", (long long)a.group, (long long)a.k);
  }
  if ((a.format == kQ8_0 || a.format == kQ4_0) && a.k % 32) {
    call.fail("k %lld must be a multiple of 32", (long long)a.k);
  }
  if (a.int8_activations && !a.transposed) {
    const bool takes = a.format == kInt8 || a.format == kQ8_0 || a.format == kQ4_0 ||
                       (a.format == kInt4 && a.symmetric && a.group % 32 == 0);
    if (!takes) {
      call.fail("8-bit activations need int8, q8_0, q4_0 or symmetric int4 with a group a "
                "multiple of 32 weights (format %d, group %lld)",
                a.format, (long long)a.group);
    } else if (a.k % 32) {
      call.fail("8-bit activations need k a multiple of 32, got %lld", (long long)a.k);
    }
  }
  if (call.failed()) return nullptr;
  const int64_t weights = a.n * a.k;
  const int64_t bytes = a.n * packed_row_bytes(a.format, a.k);
  const int64_t scales = a.format == kInt8 ? a.n : grouped ? weights / a.group : 0;
  const int64_t x_size = a.m * (a.transposed ? a.n : a.k);
  const int64_t out_size = a.m * (a.transposed ? a.k : a.n);
  a.x = call.floats(7, x_size);
  a.weight = call.bytes(8, bytes);
  a.scales = call.floats(9, scales, scales == 0);
  const bool has_minimums = a.format == kInt4 && !a.symmetric;
  a.minimums = call.floats(10, has_minimums ? scales : 0, !has_minimums);
  a.out = call.floats(11, out_size);
  if (call.failed()) return nullptr;
  quantized_kernels().matmul(a);
  return call.undefined();
}

}  // namespace llmkit
