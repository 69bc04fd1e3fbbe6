// A fixed set of threads fed by a bounded queue: the way CPU-heavy or slow
// work (password hashing, e-mail delivery) runs without unbounded memory.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace kisee {

// WorkerPool runs submitted jobs on `threads` threads. At most
// `queue_capacity` jobs wait; TrySubmit refuses more (the caller answers
// "busy" rather than queueing without bound). Thread-safe.
class WorkerPool {
 public:
  // REQUIRES: threads > 0.
  WorkerPool(std::size_t threads, std::size_t queue_capacity);
  // The destructor calls Shutdown().
  ~WorkerPool();

  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // TrySubmit queues `job`; returns false if the queue is full or the pool is
  // shutting down. Jobs must not throw (an escaping exception is caught and
  // dropped; jobs report failures themselves).
  bool TrySubmit(std::function<void()> job);

  // Shutdown stops accepting jobs, runs every job already queued, and joins
  // the threads. Idempotent.
  void Shutdown();

  std::size_t thread_count() const { return threads_.size(); }
  // queued returns the number of jobs waiting (not running).
  std::size_t queued() const;

 private:
  void Run();

  const std::size_t capacity_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> queue_;  // guarded by mutex_
  bool stopping_ = false;                    // guarded by mutex_
  std::vector<std::thread> threads_;
};

}  // namespace kisee
