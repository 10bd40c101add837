// A fixed pool of worker threads running parallel_for over index ranges. The calling thread takes part, so a
// pool of size 1 runs everything inline. Only one parallel region runs at a time (calls come from the JS thread).
// Between regions the workers spin briefly before sleeping: a training step issues dozens of kernels in a row,
// and waking a sleeping thread through the kernel costs tens of microseconds each time.
//
// Tasks are claimed, not assigned: the caller takes every task no worker has claimed yet, and waits only for tasks
// a worker is actually running. On a machine shared with other busy processes a worker may not get a core for
// milliseconds; the region then runs on the caller alone instead of waiting for it, so all-cores training is never
// slower than one thread. Which thread runs a task never changes what it computes: results depend on the task
// count (the configured threads), not on who ran what.
#pragma once
#include <atomic>
#include <cstdint>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace convlab {

class ThreadPool {
 public:
  explicit ThreadPool(int threads);
  ~ThreadPool();
  int size() const { return static_cast<int>(workers_.size()) + 1; }
  // Calls fn(begin, end) on disjoint chunks covering [0, n); chunks are at least `grain` long.
  void parallel_for(long n, long grain, const std::function<void(long, long)>& fn);
  // Calls fn(t) once for each of `tasks` task indices. Called from inside a task, both run inline on the calling
  // thread: a kernel started as a task keeps to its thread.
  void run_tasks(int tasks, const std::function<void(int)>& fn);

 private:
  void worker_loop();
  // Claims the next task of region `gen`, or returns -1 when that region has none left (or is over).
  int claim(uint64_t gen);
  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable start_cv_;
  const std::function<void(int)>* job_ = nullptr;
  // [generation: 32 bits][tasks: 16 bits][next task: 16 bits]; one word, so a late worker can never claim a task
  // of a region other than the one it saw, nor read the wrong task count.
  std::atomic<uint64_t> ticket_{0};
  std::atomic<int> done_{0};
  std::atomic<uint64_t> generation_{0};
  std::atomic<bool> stop_{false};
};

// Subnormal floats (below 1.2e-38) cost about a hundred times a normal operation on x86. Weights decayed by L2 and
// Adam's moments drift into that range over long runs, and an epoch then took 10x longer. Kernels therefore run
// with flush-to-zero and denormals-are-zero: the pool's workers always, the JS thread only inside a kernel call
// (ScopedFlushDenormals), so JavaScript's own arithmetic is untouched.
void flush_denormals();

class ScopedFlushDenormals {
 public:
  ScopedFlushDenormals();
  ~ScopedFlushDenormals();
  ScopedFlushDenormals(const ScopedFlushDenormals&) = delete;
  ScopedFlushDenormals& operator=(const ScopedFlushDenormals&) = delete;

 private:
  unsigned saved_ = 0;
};

ThreadPool& pool();
void set_threads(int n);
// The threads a kernel may use: the pool's size, or 1 inside a task (kernels run side by side, one thread each).
int get_threads();
bool in_task();

// f(begin, end) over [0, n): inline when n is under two grains, else split across the pool.
template <class F>
void parallel_chunks(long n, long grain, F f) {
  if (n < 2 * grain) f(0, n);
  else pool().parallel_for(n, grain, f);
}

}  // namespace convlab
