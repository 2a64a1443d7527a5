// A persistent pool of worker threads for data-parallel loops.
// run(n, fn) calls fn(i) for i in [0, n) on the caller and the workers and returns when all are done.
// Which thread runs which i varies, so kernels make each i write its own outputs with a fixed order
// of arithmetic: results are then identical for any thread count (no racy reductions).
// Between jobs a worker spins for kSpinMicros (kernels of one training step come tens of
// microseconds apart, and waking a sleeping thread costs about as much), then sleeps on a condition
// variable, so an idle pool never holds a core for longer than that on a loaded machine.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace cn {

class ThreadPool {
 public:
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int threads() const { return static_cast<int>(workers_.size()) + 1; }
  void run(int64_t n, const std::function<void(int64_t)>& fn);

 private:
  void worker_loop();
  void drain();

  static constexpr int kSpinMicros = 50;

  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::condition_variable done_;
  std::atomic<uint64_t> generation_{0};  // changed under mu_, read without it while spinning
  std::atomic<bool> stop_{false};        // changed under mu_
  std::atomic<int> busy_{0};             // workers still in the current job
  const std::function<void(int64_t)>* job_ = nullptr;
  int64_t count_ = 0;
  std::atomic<int64_t> next_{0};
};

// The process-wide pool; set_threads replaces it (call only between kernels).
ThreadPool& pool();
void set_threads(int threads);

}  // namespace cn
