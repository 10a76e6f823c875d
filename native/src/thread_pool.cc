// The persistent thread pool behind parallel / parallelStatic (kernels.h).
#include <condition_variable>
#include <mutex>
#include <thread>

#include "kernels.h"

namespace lw {

int g_threads = std::max(1u, std::thread::hardware_concurrency());

namespace {

/**
 * A persistent pool of worker threads (started on first use, grown to g_threads − 1; the
 * calling thread is worker 0). A job wakes the workers by bumping a generation counter;
 * they spin briefly on it (kernels come in quick succession during a step) and then sleep
 * on a condition variable, so an idle pool costs no CPU. Replaces a std::thread spawn
 * per call (≈ 30–50 µs each, ~20 calls per small training step).
 */
inline void cpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__)
  asm volatile("yield");
#else
  std::this_thread::yield();
#endif
}
constexpr int kSpin = 4000;  // pauses before sleeping (≈ 50–100 µs)

class Pool {
 public:
  /**
   * Run job(w) on workers w = 0 … T−1 (w = 0 on the caller) and wait for all. Not reentrant.
   * open: the job hands out its work dynamically (parallel), so a worker that has not started
   * by the time the caller's job(0) returns has nothing left to do: the caller closes the
   * door and waits only for workers that entered. On busy cores a woken worker may wait a
   * scheduler slice for a core; the caller no longer waits for it to find the work gone.
   * Static partitions (parallelStatic) pass open = false: every worker runs its share.
   */
  void run(int T, const std::function<void(int)>& job, bool open = false) {
    if (T <= 1) {
      job(0);
      return;
    }
    grow(T - 1);
    {
      std::lock_guard<std::mutex> lk(m_);
      job_ = &job;
      active_ = T;
      finished_.store(0, std::memory_order_relaxed);
      const unsigned g = gen_.load(std::memory_order_relaxed) + 1;
      door_.store((uint64_t)g << 32, std::memory_order_relaxed);
      gen_.store(g, std::memory_order_release);
    }
    cv_.notify_all();
    job(0);
    int want = T - 1;
    if (open) want = (int)(door_.fetch_or(kClosed, std::memory_order_acq_rel) & kCount);
    for (int spin = 0; finished_.load(std::memory_order_acquire) != want; spin++) {
      if (spin < kSpin) {
        cpuRelax();
      } else {
        std::unique_lock<std::mutex> lk(m_);
        done_.wait(lk, [&] { return finished_.load(std::memory_order_acquire) == want; });
        break;
      }
    }
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> lk(m_);
      stop_ = true;
      gen_.fetch_add(1);
    }
    cv_.notify_all();
    for (auto& t : th_) t.join();
  }

 private:
  void grow(int n) {
    while ((int)th_.size() < n) {
      const int id = (int)th_.size() + 1;
      const unsigned g = gen_.load(std::memory_order_acquire);  // before this job's bump
      th_.emplace_back([this, id, g] { loop(id, g); });
    }
  }
  void loop(int id, unsigned seen) {
    for (;;) {
      for (int spin = 0; gen_.load(std::memory_order_acquire) == seen; spin++) {
        if (spin < kSpin) {
          cpuRelax();
        } else {
          std::unique_lock<std::mutex> lk(m_);
          cv_.wait(lk, [&] { return gen_.load(std::memory_order_acquire) != seen; });
          break;
        }
      }
      const std::function<void(int)>* job;
      int active;
      {
        std::lock_guard<std::mutex> lk(m_);
        if (stop_) return;
        seen = gen_.load(std::memory_order_acquire);
        job = job_;
        active = active_;
      }
      if (id < active && enter(seen)) {
        (*job)(id);
        finished_.fetch_add(1, std::memory_order_acq_rel);
        std::lock_guard<std::mutex> lk(m_);
        done_.notify_one();
      }
    }
  }
  std::mutex m_;
  std::condition_variable cv_, done_;
  std::vector<std::thread> th_;
  const std::function<void(int)>* job_ = nullptr;
  int active_ = 0;
  bool stop_ = false;
  std::atomic<unsigned> gen_{0};
  std::atomic<int> finished_{0};
  /** (generation << 32) | closed bit | workers entered: a worker enters job `gen` only while its door is open. */
  std::atomic<uint64_t> door_{0};
  static constexpr uint64_t kClosed = 1ull << 31, kCount = kClosed - 1;
  bool enter(unsigned gen) {
    uint64_t d = door_.load(std::memory_order_acquire);
    while ((unsigned)(d >> 32) == gen && !(d & kClosed))
      if (door_.compare_exchange_weak(d, d + 1, std::memory_order_acq_rel)) return true;
    return false;
  }
};

Pool& pool() {
  static Pool* p = new Pool();  // never destroyed: workers may outlive static destruction order at exit
  return *p;
}

}  // namespace

void poolRun(int T, const std::function<void(int)>& job, bool open) { pool().run(T, job, open); }

}  // namespace lw
