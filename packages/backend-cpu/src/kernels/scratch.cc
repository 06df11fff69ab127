// Aligned allocations and per-thread scratch buffers (GEMM's packed panels, attention tiles).
// Scratch grows to the largest request and is reused, so steady-state training allocates nothing
// here; release_thread_scratch frees it at teardown.
#include <cstdlib>

#include "common.h"

namespace llmkit {
namespace {

constexpr int kSlots = 5;

struct Scratch {
  float* buffers[kSlots] = {};
  size_t sizes[kSlots] = {};
  ~Scratch() {
    for (auto* buffer : buffers) aligned_free(buffer);
  }
};

thread_local Scratch scratch;

}  // namespace

float* aligned_alloc_floats(size_t count) {
  size_t bytes = (count * sizeof(float) + 63) / 64 * 64;
  void* pointer = nullptr;
  if (posix_memalign(&pointer, 64, bytes == 0 ? 64 : bytes) != 0) return nullptr;
  return static_cast<float*>(pointer);
}

void aligned_free(void* pointer) { std::free(pointer); }

float* thread_scratch(int slot, size_t count) {
  if (scratch.sizes[slot] < count) {
    aligned_free(scratch.buffers[slot]);
    scratch.buffers[slot] = aligned_alloc_floats(count);
    if (scratch.buffers[slot] == nullptr) {
      scratch.sizes[slot] = 0;
      std::abort();  // out of memory inside a kernel: nothing sensible to return
    }
    scratch.sizes[slot] = count;
  }
  return scratch.buffers[slot];
}

void release_thread_scratch() {
  for (int i = 0; i < kSlots; i++) {
    aligned_free(scratch.buffers[i]);
    scratch.buffers[i] = nullptr;
    scratch.sizes[i] = 0;
  }
}

}  // namespace llmkit
