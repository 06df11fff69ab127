// A fixed pool of worker threads for parallel_for. The calling (JavaScript) thread always takes
// part, so a pool of N threads starts N - 1 workers. Workers spin briefly after each job (ops come
// in quick succession during training) and then sleep on a condition variable, so an idle
// process burns no CPU.
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

#include "common.h"

namespace llmkit {
namespace {

// Set while a thread runs a task, so nested parallel_for calls run inline instead of deadlocking.
thread_local bool inside_task = false;

inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

struct Pool {
  std::vector<std::thread> workers;
  std::mutex mutex;
  std::condition_variable wake;
  // Bumped for every job; workers look at a job when they see a generation they have not seen.
  std::atomic<uint64_t> generation{0};
  // The next unclaimed task of the current job: generation in the high 32 bits, task index in
  // the low 32. Claiming is a compare-and-swap on the whole word, so a worker that wakes late
  // can never claim a task of a newer job by mistake.
  std::atomic<uint64_t> next{0};
  std::atomic<int64_t> task_count{0};
  std::atomic<int64_t> completed{0};
  const std::function<void(int64_t)>* body = nullptr;
  bool stopping = false;
  int threads = 1;
};

Pool& pool() {
  static Pool* instance = new Pool();  // never destroyed: workers are joined by shutdown
  return *instance;
}

int default_thread_count() {
  if (const char* env = std::getenv("LLMKIT_CPU_THREADS")) {
    int value = std::atoi(env);
    if (value >= 1) return value;
  }
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

// Claims and runs tasks of job `job` until none is left. Whoever is first takes the most: when
// a worker wakes late (a busy machine), the caller has already done its share and more.
void run_tasks(Pool& p, uint32_t job) {
  for (;;) {
    uint64_t word = p.next.load(std::memory_order_acquire);
    for (;;) {
      if (static_cast<uint32_t>(word >> 32) != job) return;
      if (static_cast<int64_t>(word & 0xffffffffu) >= p.task_count.load(std::memory_order_relaxed)) {
        return;
      }
      if (p.next.compare_exchange_weak(word, word + 1, std::memory_order_acq_rel)) break;
    }
    inside_task = true;
    (*p.body)(static_cast<int64_t>(word & 0xffffffffu));
    inside_task = false;
    p.completed.fetch_add(1, std::memory_order_acq_rel);
  }
}

// `seen` is the generation when the worker was created, read by the creating thread.
void worker_loop(Pool& p, uint64_t seen) {
  for (;;) {
    // Spin for a short while: the next op usually follows within microseconds.
    uint64_t current = seen;
    for (int spin = 0; spin < 20000; spin++) {
      current = p.generation.load(std::memory_order_acquire);
      if (current != seen) break;
      cpu_relax();
    }
    if (current == seen) {
      std::unique_lock<std::mutex> lock(p.mutex);
      p.wake.wait(lock, [&] { return p.stopping || p.generation.load() != seen; });
      if (p.stopping) return;
      current = p.generation.load();
    }
    seen = current;
    run_tasks(p, static_cast<uint32_t>(current));
  }
}

void start(Pool& p, int threads) {
  p.threads = threads;
  p.stopping = false;
  uint64_t generation = p.generation.load();
  for (int i = 1; i < threads; i++) p.workers.emplace_back(worker_loop, std::ref(p), generation);
}

void stop(Pool& p) {
  {
    std::lock_guard<std::mutex> lock(p.mutex);
    p.stopping = true;
  }
  p.wake.notify_all();
  for (auto& worker : p.workers) worker.join();
  p.workers.clear();
  p.threads = 1;
}

bool started = false;

Pool& ready_pool() {
  Pool& p = pool();
  if (!started) {
    started = true;
    start(p, default_thread_count());
  }
  return p;
}

}  // namespace

int thread_count() { return ready_pool().threads; }

int set_thread_count(int count) {
  Pool& p = ready_pool();
  count = std::max(1, count);
  if (count != p.threads) {
    stop(p);
    start(p, count);
  }
  return p.threads;
}

void parallel_for(int64_t tasks, const std::function<void(int64_t)>& body) {
  if (tasks <= 0) return;
  Pool& p = ready_pool();
  // One job at a time: a second caller (another JavaScript worker thread using the addon) or a
  // nested call from inside a task runs its tasks inline.
  static std::mutex dispatch;
  std::unique_lock<std::mutex> owner(dispatch, std::defer_lock);
  if (tasks == 1 || p.threads == 1 || inside_task || !owner.try_lock()) {
    for (int64_t t = 0; t < tasks; t++) body(t);
    return;
  }
  // Publish the job: body and count first, then the task word, then the generation.
  uint32_t job = static_cast<uint32_t>(p.generation.load(std::memory_order_relaxed) + 1);
  p.body = &body;
  p.task_count.store(tasks, std::memory_order_relaxed);
  p.completed.store(0, std::memory_order_relaxed);
  p.next.store(static_cast<uint64_t>(job) << 32, std::memory_order_release);
  {
    std::lock_guard<std::mutex> lock(p.mutex);
    p.generation.fetch_add(1, std::memory_order_release);
  }
  p.wake.notify_all();
  run_tasks(p, job);
  // Wait only for tasks a worker claimed and still runs. Spin first; on a busy machine that
  // worker may be descheduled, so then give the core away.
  for (int spin = 0; p.completed.load(std::memory_order_acquire) != tasks; spin++) {
    if (spin < 50000) {
      cpu_relax();
    } else {
      std::this_thread::yield();
    }
  }
}

void parallel_range(int64_t n, int64_t min_chunk,
                    const std::function<void(int64_t, int64_t)>& body) {
  if (n <= 0) return;
  int threads = thread_count();
  min_chunk = std::max<int64_t>(1, min_chunk);
  int64_t chunks = std::min<int64_t>(threads, n / min_chunk);
  if (chunks <= 1) {
    body(0, n);
    return;
  }
  int64_t per = (n + chunks - 1) / chunks;
  parallel_for(chunks, [&](int64_t c) {
    int64_t begin = c * per;
    int64_t end = std::min(n, begin + per);
    if (begin < end) body(begin, end);
  });
}

void shutdown_thread_pool() {
  if (started) stop(pool());
  started = false;
}

}  // namespace llmkit
