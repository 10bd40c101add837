#include "threadpool.h"

#include <algorithm>
#include <cstdlib>
#include <memory>

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#endif

namespace convlab {

namespace {
#if defined(__x86_64__) || defined(__i386__)
constexpr unsigned kFtzDaz = 0x8040;  // MXCSR bits: flush to zero (15), denormals are zero (6)
#endif
}  // namespace

void flush_denormals() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_setcsr(_mm_getcsr() | kFtzDaz);
#endif
}

ScopedFlushDenormals::ScopedFlushDenormals() {
#if defined(__x86_64__) || defined(__i386__)
  saved_ = _mm_getcsr();
  _mm_setcsr(saved_ | kFtzDaz);
#endif
}

ScopedFlushDenormals::~ScopedFlushDenormals() {
#if defined(__x86_64__) || defined(__i386__)
  _mm_setcsr(saved_);
#endif
}

ThreadPool::ThreadPool(int threads) {
  for (int i = 1; i < std::max(1, threads); i++) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_.store(true);
  }
  start_cv_.notify_all();
  for (auto& t : workers_) t.join();
}

namespace {
inline void cpu_relax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}
// About a millisecond of spinning before a worker sleeps.
constexpr long kSpins = 20000;
// Set while a thread runs a task: a kernel called from inside a task runs on that thread alone.
thread_local bool t_in_task = false;

struct InTask {
  InTask() { t_in_task = true; }
  ~InTask() { t_in_task = false; }
};
}  // namespace

bool in_task() { return t_in_task; }

int ThreadPool::claim(uint64_t gen) {
  uint64_t t = ticket_.load(std::memory_order_acquire);
  for (;;) {
    if ((t >> 32) != (gen & 0xffffffffu)) return -1;
    const uint64_t tasks = (t >> 16) & 0xffff, next = t & 0xffff;
    if (next >= tasks) return -1;
    if (ticket_.compare_exchange_weak(t, t + 1, std::memory_order_acq_rel, std::memory_order_acquire)) return static_cast<int>(next);
  }
}

void ThreadPool::worker_loop() {
  flush_denormals();
  uint64_t seen = 0;
  for (;;) {
    long spins = 0;
    while (generation_.load(std::memory_order_acquire) == seen && !stop_.load(std::memory_order_relaxed) && spins < kSpins) {
      cpu_relax();
      // Now and then let another runnable thread (the caller, or another process) have this core.
      if (++spins % 1024 == 0) std::this_thread::yield();
    }
    if (generation_.load(std::memory_order_acquire) == seen) {
      std::unique_lock<std::mutex> lock(mu_);
      start_cv_.wait(lock, [&] { return stop_.load() || generation_.load() != seen; });
    }
    if (stop_.load()) return;
    seen = generation_.load(std::memory_order_acquire);
    InTask scope;
    for (int t; (t = claim(seen)) >= 0;) {
      // A successful claim holds the region open (the caller waits for done_), so job_ is this region's.
      (*job_)(t);
      done_.fetch_add(1, std::memory_order_acq_rel);
    }
  }
}

void ThreadPool::run_tasks(int tasks, const std::function<void(int)>& fn) {
  if (tasks <= 0) return;
  if (workers_.empty() || tasks == 1 || t_in_task || tasks > 0xffff) {
    for (int t = 0; t < tasks; t++) fn(t);
    return;
  }
  const uint64_t gen = generation_.load(std::memory_order_relaxed) + 1;
  job_ = &fn;
  done_.store(0, std::memory_order_relaxed);
  ticket_.store(((gen & 0xffffffffu) << 32) | (static_cast<uint64_t>(tasks) << 16), std::memory_order_release);
  {
    // Under the lock, so a worker between its last check and its wait cannot miss the new generation.
    std::lock_guard<std::mutex> lock(mu_);
    generation_.store(gen, std::memory_order_release);
  }
  start_cv_.notify_all();
  int mine = 0;
  {
    InTask scope;
    for (int t; (t = claim(gen)) >= 0; mine++) fn(t);
  }
  // Wait only for tasks that workers claimed and are running; a worker that never woke has claimed nothing, and
  // one that wakes late finds every task of this region taken.
  for (long spins = 0; done_.load(std::memory_order_acquire) + mine != tasks; spins++) {
    if (spins < kSpins) cpu_relax();
    else std::this_thread::yield();
  }
  job_ = nullptr;
}

void ThreadPool::parallel_for(long n, long grain, const std::function<void(long, long)>& fn) {
  if (n <= 0) return;
  long chunks = t_in_task ? 1 : std::min<long>(size(), std::max<long>(1, n / std::max<long>(1, grain)));
  if (chunks <= 1) {
    fn(0, n);
    return;
  }
  long step = (n + chunks - 1) / chunks;
  run_tasks(static_cast<int>(chunks), [&](int t) {
    long b = t * step, e = std::min(n, b + step);
    if (b < e) fn(b, e);
  });
}

static std::unique_ptr<ThreadPool> g_pool;

static int default_threads() {
  if (const char* env = std::getenv("CONVLAB_THREADS")) {
    int n = std::atoi(env);
    if (n > 0) return n;
  }
  unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}

ThreadPool& pool() {
  if (!g_pool) g_pool = std::make_unique<ThreadPool>(default_threads());
  return *g_pool;
}

void set_threads(int n) { g_pool = std::make_unique<ThreadPool>(std::max(1, n)); }

int get_threads() { return t_in_task ? 1 : pool().size(); }

}  // namespace convlab
