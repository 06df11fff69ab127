// What the products with 8-bit activations share (quantized-activations.cc: x's quantization and
// the row-by-row products; quantized-tiles.cc: the tiled products for many rows of x). Included
// by each instruction-set compilation, so everything here lives in that path's namespace.
#pragma once

#include <cstdint>
#include <vector>

#include "quantized.h"
#include "simd.h"

namespace llmkit {
namespace LLMKIT_NS {

constexpr int64_t kBlock = 32;

inline bool four_bit(int format) { return format == kQ4_0 || format == kInt4; }

// How x's codes are laid out and which step the products take.
enum Path { kScalar, kBlocks /* avx2: a block a step */, kPairs /* avx512 VNNI: two blocks */ };

// The path this CPU takes (avx512 with VNNI: kPairs; avx2 and avx512 without: kBlocks).
Path path_for();

// One row of x quantized: codes in the path's order, each block's fp16-rounded d and code sum,
// and, for the vector paths, per step a bias vector (the code-sum correction in the lane that
// starts each block) and a d vector (each lane its block's d).
struct Activations {
  std::vector<int8_t> codes;
  std::vector<float> d;
  std::vector<int32_t> sums;
  std::vector<int32_t> bias;
  std::vector<float> dv;
};

// Row x [K] quantized (llama.cpp's quantize_row_q8_0, bit for bit with the js reference) and laid
// out for `path` and the weight format.
void prepare(const float* x, int64_t K, int format, Path path, Activations& out);

// The tiled products, out [M, N] for M > kTileMinRows (quantized-tiles.cc), and the layout they
// want x's codes prepared in. Two rows of x already gain (Qwen3-0.6B gate/up q8_0 on avx512 VNNI,
// 1 thread: M = 2 0.27 -> 0.17 ms, M = 4 0.51 -> 0.21 ms); one row stays row by row, where the
// weights' memory traffic is the bound and the repacking would be pure cost.
constexpr int64_t kTileMinRows = 1;
Path tile_layout(Path path);
void int8_activation_tiles(const QuantizedArgs& a, Path path, const std::vector<Activations>& x);

// The weight block b of row r: its codes' address and its scale (1 for int8: the row scale is
// applied once at the end).
struct WeightRow {
  const uint8_t* bytes;
  const float* group_scales;  // int4
  int64_t blocks_per_group;
  int group_shift;  // log2(blocks_per_group) if a power of two (groups of 32, 64, 128), else -1
};

// int4: the group of block b (a shift for the usual groups: no integer division in the loops)
LLMKIT_INLINE int64_t group_of(const WeightRow& w, int64_t b) {
  return w.group_shift >= 0 ? b >> w.group_shift : b / w.blocks_per_group;
}

inline WeightRow weight_row(const QuantizedArgs& a, int64_t r) {
  const uint8_t* w = static_cast<const uint8_t*>(a.weight);
  switch (a.format) {
    case kInt8:
      return {w + r * a.k, nullptr, 0, -1};
    case kInt4: {
      const int64_t per_group = a.group / kBlock;
      int shift = -1;
      if ((per_group & (per_group - 1)) == 0) shift = __builtin_ctzll(per_group);
      return {w + r * (a.k / 2), a.scales + r * (a.k / a.group), per_group, shift};
    }
    case kQ8_0:
      return {w + r * (a.k / kBlock) * 34, nullptr, 0, -1};
    default:
      return {w + r * (a.k / kBlock) * 18, nullptr, 0, -1};
  }
}

}  // namespace LLMKIT_NS
}  // namespace llmkit
