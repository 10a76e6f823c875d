// Layerwise native CPU kernels: a packed, register-blocked SGEMM (the BLIS / GotoBLAS
// scheme: Goto & van de Geijn 2008, "Anatomy of high-performance matrix multiplication",
// ACM TOMS 34(3); Van Zee & van de Geijn 2015, "BLIS", ACM TOMS 41(3)), and on top of it
// convolution forward / input gradient / filter gradient by blocked im2col (Chellapilla,
// Puri & Simard 2006), parallel over row blocks with std::thread.
//
// Every tensor is float32, NHWC, row-major; filters are HWIO [fh, fw, cin, cout] as in
// TensorFlow. The addon never allocates a tensor: JS passes Float32Array views (of the
// tfjs wasm heap) for inputs and outputs. Exposed through plain N-API (node_api.h), which
// is ABI-stable, so one build loads in Node and in Electron's utility process.
#ifndef LW_NO_NAPI  // native/bench builds the kernels alone
#include <node_api.h>
#endif

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

namespace {

#if defined(LW_VW)  // overrides, for experiments (native/bench)
constexpr int VW = LW_VW;
constexpr int MR = LW_MR;
#elif defined(__AVX512F__)
constexpr int VW = 16;  // zmm: 14×32 tile, 28 accumulators of 32 registers. On Zen 5 (full-width AVX-512)
constexpr int MR = 14;  // 170–220 GFLOP/s on one core vs 80–120 for the ymm 12×16 tile (native/bench)
#elif defined(__AVX__)
constexpr int VW = 8;
constexpr int MR = 6;  // 12 accumulators + 2 B vectors + 1 broadcast of 16 ymm
#else
constexpr int VW = 4;  // SSE / NEON
constexpr int MR = 6;
#endif
constexpr int NR = 2 * VW;  // columns of the micro-tile
constexpr int KC = 256;     // depth of a packed block (A panel MR×KC, B panel KC×NR in L1)
constexpr int MC = MR * 16; // rows of a packed A block (L2)
constexpr int NC = 2048;    // columns of a packed B block

typedef float vf __attribute__((vector_size(VW * 4)));

inline vf loadu(const float* p) {
  vf v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void storeu(float* p, vf v) { std::memcpy(p, &v, sizeof v); }

int g_threads = std::max(1u, std::thread::hardware_concurrency());

/** A strided matrix view: element (i, j) is d[i*rs + j*cs]. */
struct Mat {
  const float* d;
  long rs, cs;
};

/** Buffer aligned to 64 bytes, grown on demand, one per thread. */
struct Buf {
  float* p = nullptr;
  size_t n = 0;
  float* get(size_t want) {
    if (want > n) {
      std::free(p);
      size_t bytes = ((want * 4 + 63) / 64) * 64;
      p = static_cast<float*>(std::aligned_alloc(64, bytes));
      n = bytes / 4;
    }
    return p;
  }
  ~Buf() { std::free(p); }
};

/**
 * C[mr×nr] (+)= A · Bp (kc×NR); edge tiles go through a temporary. A is packed (kc×MR,
 * p-major) when PK, else read in place, row i at Ap + i·lda (no packing: small n reuses
 * each A element only n/VW times, so packing it would cost as much as the product).
 */
template <bool PK>
inline void micro(int kc, const float* __restrict Ap, long lda, const float* __restrict Bp, float* C, long ldc, int mr, int nr, bool acc) {
  vf c0[MR], c1[MR];
  for (int i = 0; i < MR; i++) {
    c0[i] = vf{};
    c1[i] = vf{};
  }
  for (int p = 0; p < kc; p++) {
    const vf b0 = *reinterpret_cast<const vf*>(Bp);
    const vf b1 = *reinterpret_cast<const vf*>(Bp + VW);
    for (int i = 0; i < MR; i++) {
      const vf a = vf{} + (PK ? Ap[i] : Ap[i * lda]);
      c0[i] += a * b0;
      c1[i] += a * b1;
    }
    Ap += PK ? MR : 1;
    Bp += NR;
  }
  if (mr == MR && nr == NR) {
    for (int i = 0; i < MR; i++) {
      float* row = C + i * ldc;
      if (acc) {
        storeu(row, loadu(row) + c0[i]);
        storeu(row + VW, loadu(row + VW) + c1[i]);
      } else {
        storeu(row, c0[i]);
        storeu(row + VW, c1[i]);
      }
    }
  } else {
    alignas(64) float tmp[MR * NR];
    for (int i = 0; i < MR; i++) {
      storeu(tmp + i * NR, c0[i]);
      storeu(tmp + i * NR + VW, c1[i]);
    }
    for (int i = 0; i < mr; i++) {
      float* row = C + i * ldc;
      for (int j = 0; j < nr; j++) row[j] = (acc ? row[j] : 0.f) + tmp[i * NR + j];
    }
  }
}

void packA(Mat A, int i0, int mc, int p0, int kc, float* out) {
  for (int ip = 0; ip < mc; ip += MR) {
    const int mr = std::min(MR, mc - ip);
    for (int p = 0; p < kc; p++) {
      const float* src = A.d + (long)(i0 + ip) * A.rs + (long)(p0 + p) * A.cs;
      int ii = 0;
      for (; ii < mr; ii++) out[p * MR + ii] = src[ii * A.rs];
      for (; ii < MR; ii++) out[p * MR + ii] = 0.f;
    }
    out += (long)kc * MR;
  }
}

void packB(Mat B, int p0, int kc, int j0, int nc, float* out) {
  for (int jp = 0; jp < nc; jp += NR) {
    const int nr = std::min(NR, nc - jp);
    for (int p = 0; p < kc; p++) {
      const float* src = B.d + (long)(p0 + p) * B.rs + (long)(j0 + jp) * B.cs;
      float* dst = out + p * NR;
      if (B.cs == 1 && nr == NR) {
        std::memcpy(dst, src, NR * 4);
      } else {
        int jj = 0;
        for (; jj < nr; jj++) dst[jj] = src[jj * B.cs];
        for (; jj < NR; jj++) dst[jj] = 0.f;
      }
    }
    out += (long)kc * NR;
  }
}

/** C[m×n] (row stride ldc) = (acc ? C : 0) + A[m×k]·B[k×n]. Single-threaded; callers parallelise. */
void gemm(int m, int n, int k, Mat A, Mat B, float* C, long ldc, bool acc) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    if (!acc)
      for (int i = 0; i < m; i++) std::memset(C + i * ldc, 0, n * 4);
    return;
  }
  thread_local Buf abuf, bbuf;
  float* Ap = abuf.get((size_t)MC * KC);
  float* Bp = bbuf.get((size_t)KC * (NC + NR));
  for (int jc = 0; jc < n; jc += NC) {
    const int nc = std::min(NC, n - jc);
    for (int pc = 0; pc < k; pc += KC) {
      const int kc = std::min(KC, k - pc);
      const bool a2 = acc || pc > 0;
      packB(B, pc, kc, jc, nc, Bp);
      for (int ic = 0; ic < m; ic += MC) {
        const int mc = std::min(MC, m - ic);
        // In place: full MR-row tiles of a row-major A when n is small; edge rows are packed.
        const bool inPlace = A.cs == 1 && nc <= 2 * NR;
        const int mFull = inPlace ? mc / MR * MR : 0;
        if (mFull < mc) packA(A, ic + mFull, mc - mFull, pc, kc, Ap);
        for (int jr = 0; jr < nc; jr += NR) {
          const float* bp = Bp + (long)(jr / NR) * kc * NR;
          const int nr = std::min(NR, nc - jr);
          for (int ir = 0; ir < mFull; ir += MR)
            micro<false>(kc, A.d + (long)(ic + ir) * A.rs + pc, A.rs, bp, C + (long)(ic + ir) * ldc + jc + jr, ldc, MR, nr, a2);
          for (int ir = mFull; ir < mc; ir += MR)
            micro<true>(kc, Ap + (long)((ir - mFull) / MR) * kc * MR, 0, bp, C + (long)(ic + ir) * ldc + jc + jr, ldc, std::min(MR, mc - ir), nr, a2);
        }
      }
    }
  }
}

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

/** Run f(task, worker) for task in [0, tasks) on T workers of the pool (the caller is worker 0), tasks handed out dynamically. */
template <class F>
void parallel(int tasks, int T, F&& f) {
  if (T <= 1) {
    for (int t = 0; t < tasks; t++) f(t, 0);
    return;
  }
  std::atomic<int> next{0};
  pool().run(
      T, [&](int w) {
        for (int t; (t = next.fetch_add(1)) < tasks;) f(t, w);
      },
      true);
}
/** Like parallel, but worker w runs the contiguous tasks [w·tasks/T, (w+1)·tasks/T) in order: deterministic partial sums. */
template <class F>
void parallelStatic(int tasks, int T, F&& f) {
  pool().run(T, [&](int w) {
    const int t0 = (int)((long)tasks * w / T), t1 = (int)((long)tasks * (w + 1) / T);
    for (int t = t0; t < t1; t++) f(t, w);
  });
}
/** Set inside a task of the inference executor: kernels called from it run on that thread only (the pool is not reentrant). */
thread_local bool t_serial = false;
inline int workers(int tasks) { return t_serial ? 1 : std::max(1, std::min(g_threads, tasks)); }

struct Conv {
  int n, h, w, cin, oh, ow, cout, fh, fw, sh, sw, top, left, dh, dw;
  int K() const { return fh * fw * cin; }
  long M() const { return (long)n * oh * ow; }
};

/** cols[r][(i·fw + j)·cin + c] = x[b, oy·sh − top + i·dh, ox·sw − left + j·dw, c] (0 outside) for rows r0 … r0+rows of [n·oh·ow]. */
void im2col(const Conv& c, const float* x, long r0, int rows, float* cols) {
  const int K = c.K();
  const long plane = (long)c.oh * c.ow;
  for (int r = 0; r < rows; r++) {
    const long R = r0 + r;
    const int b = (int)(R / plane);
    const int rem = (int)(R % plane);
    const int oy = rem / c.ow, ox = rem % c.ow;
    float* dst = cols + (long)r * K;
    const float* xb = x + (long)b * c.h * c.w * c.cin;
    const int ix0 = ox * c.sw - c.left;
    for (int i = 0; i < c.fh; i++) {
      const int iy = oy * c.sh - c.top + i * c.dh;
      float* d = dst + i * c.fw * c.cin;
      if (iy < 0 || iy >= c.h) {
        std::memset(d, 0, (size_t)c.fw * c.cin * 4);
        continue;
      }
      const float* xr = xb + (long)iy * c.w * c.cin;
      if (c.dw == 1 && ix0 >= 0 && ix0 + c.fw <= c.w) {
        std::memcpy(d, xr + (long)ix0 * c.cin, (size_t)c.fw * c.cin * 4);
        continue;
      }
      for (int j = 0; j < c.fw; j++) {
        const int ix = ix0 + j * c.dw;
        if (ix < 0 || ix >= c.w)
          std::memset(d + j * c.cin, 0, (size_t)c.cin * 4);
        else
          std::memcpy(d + j * c.cin, xr + (long)ix * c.cin, (size_t)c.cin * 4);
      }
    }
  }
}

/** The adjoint of im2col: dx[b, iy, ix, c] += dcols[r][(i·fw + j)·cin + c]. */
void col2imAdd(const Conv& c, const float* dcols, long r0, int rows, float* dx) {
  const int K = c.K();
  const long plane = (long)c.oh * c.ow;
  for (int r = 0; r < rows; r++) {
    const long R = r0 + r;
    const int b = (int)(R / plane);
    const int rem = (int)(R % plane);
    const int oy = rem / c.ow, ox = rem % c.ow;
    const float* src = dcols + (long)r * K;
    float* xb = dx + (long)b * c.h * c.w * c.cin;
    const int ix0 = ox * c.sw - c.left;
    for (int i = 0; i < c.fh; i++) {
      const int iy = oy * c.sh - c.top + i * c.dh;
      if (iy < 0 || iy >= c.h) continue;
      float* xr = xb + (long)iy * c.w * c.cin;
      const float* s = src + i * c.fw * c.cin;
      if (c.dw == 1 && ix0 >= 0 && ix0 + c.fw <= c.w) {
        float* d = xr + (long)ix0 * c.cin;
        const int len = c.fw * c.cin;
        for (int q = 0; q < len; q++) d[q] += s[q];
        continue;
      }
      for (int j = 0; j < c.fw; j++) {
        const int ix = ix0 + j * c.dw;
        if (ix < 0 || ix >= c.w) continue;
        float* d = xr + (long)ix * c.cin;
        for (int q = 0; q < c.cin; q++) d[q] += s[j * c.cin + q];
      }
    }
  }
}

constexpr int ROWS = 192;  // output pixels per task (im2col block)

void epilogue(float* y, long rows, int n, const float* bias, int act) {
  if (!bias && act == 0) return;
  for (long r = 0; r < rows; r++) {
    float* row = y + r * n;
    if (bias)
      for (int j = 0; j < n; j++) row[j] += bias[j];
    if (act == 1)
      for (int j = 0; j < n; j++) row[j] = row[j] > 0.f ? row[j] : 0.f;
  }
}

/**
 * Direct convolution for one input channel (grayscale first layers: M1's 28×28×1 → 6),
 * stride 1 along x, COUT ≤ 16 outputs: im2col + GEMM would have K = fh·fw and n = COUT,
 * a sliver of the micro-tile. Here each output row is a few vectors over x; per tap, one
 * load of the zero-padded input row and COUT FMAs into COUT accumulators, then a
 * transposed store to NHWC with bias and ReLU.
 */
template <int COUT>
void convDirect1(const Conv& c, const float* x, const float* W, const float* bias, float* y, int act) {
  const int rows = c.n * c.oh;
  const int nchunk = (c.ow + VW - 1) / VW;
  const int pw = nchunk * VW + (c.fw - 1) * c.dw + 1;
  parallel(rows, workers(rows / 8 + 1), [&](int r, int) {
    thread_local Buf pbuf, obuf;
    const int b = r / c.oh, oy = r % c.oh;
    float* xp = pbuf.get((size_t)c.fh * pw);
    float* out = obuf.get((size_t)COUT * nchunk * VW);
    const float* xb = x + (long)b * c.h * c.w;
    for (int i = 0; i < c.fh; i++) {
      float* row = xp + (long)i * pw;
      std::memset(row, 0, (size_t)pw * 4);
      const int iy = oy * c.sh - c.top + i * c.dh;
      if (iy < 0 || iy >= c.h) continue;
      // row[q] = x[b, iy, q − left]
      const int q0 = std::max(0, c.left), q1 = std::min(pw, c.left + c.w);
      if (q1 > q0) std::memcpy(row + q0, xb + (long)iy * c.w + (q0 - c.left), (size_t)(q1 - q0) * 4);
    }
    for (int ch = 0; ch < nchunk; ch++) {
      vf acc[COUT];
      for (int co = 0; co < COUT; co++) acc[co] = vf{};
      for (int i = 0; i < c.fh; i++)
        for (int j = 0; j < c.fw; j++) {
          const vf xv = loadu(xp + (long)i * pw + ch * VW + j * c.dw);
          const float* wr = W + (long)(i * c.fw + j) * COUT;
          for (int co = 0; co < COUT; co++) acc[co] += wr[co] * xv;
        }
      for (int co = 0; co < COUT; co++) storeu(out + ((long)co * nchunk + ch) * VW, acc[co]);
    }
    float* yr = y + (long)r * c.ow * COUT;
    const long stride = (long)nchunk * VW;
    for (int ox = 0; ox < c.ow; ox++)
      for (int co = 0; co < COUT; co++) {
        float v = out[co * stride + ox] + (bias ? bias[co] : 0.f);
        if (act == 1) v = v > 0.f ? v : 0.f;
        yr[(long)ox * COUT + co] = v;
      }
  });
}

/** The direct kernel when it applies (one input channel, x-stride 1, ≤ 16 outputs); false otherwise. */
bool convDirect(const Conv& c, const float* x, const float* W, const float* bias, float* y, int act) {
  if (c.cin != 1 || c.sw != 1 || c.cout > 16 || c.ow > 4096) return false;
  switch (c.cout) {
#define LW_CASE(k) \
  case k:          \
    convDirect1<k>(c, x, W, bias, y, act); \
    return true;
    LW_CASE(1) LW_CASE(2) LW_CASE(3) LW_CASE(4) LW_CASE(5) LW_CASE(6) LW_CASE(7) LW_CASE(8)
    LW_CASE(9) LW_CASE(10) LW_CASE(11) LW_CASE(12) LW_CASE(13) LW_CASE(14) LW_CASE(15) LW_CASE(16)
#undef LW_CASE
  }
  return false;
}

/** y[n, oh, ow, cout] = act(conv(x, W) + bias). */
void convForward(const Conv& c, const float* x, const float* W, const float* bias, float* y, int act) {
  if (convDirect(c, x, W, bias, y, act)) return;
  const long M = c.M();
  const int K = c.K(), N = c.cout;
  const int tasks = (int)((M + ROWS - 1) / ROWS);
  const bool direct = c.fh == 1 && c.fw == 1 && c.sh == 1 && c.sw == 1 && c.top == 0 && c.left == 0 && c.oh == c.h && c.ow == c.w;
  parallel(tasks, workers(tasks), [&](int t, int) {
    thread_local Buf cbuf;
    const long r0 = (long)t * ROWS;
    const int rows = (int)std::min<long>(ROWS, M - r0);
    const float* cols = x + r0 * K;
    if (!direct) {
      float* cb = cbuf.get((size_t)ROWS * K);
      im2col(c, x, r0, rows, cb);
      cols = cb;
    }
    gemm(rows, N, K, Mat{cols, K, 1}, Mat{W, N, 1}, y + r0 * N, N, false);
    epilogue(y + r0 * N, rows, N, bias, act);
  });
}

/** dx[n, h, w, cin] = col2im(dy · Wᵀ); parallel over images (col2im of one image stays in one thread). */
void convBackpropInput(const Conv& c, const float* dy, const float* W, float* dx) {
  const int K = c.K(), N = c.cout;
  const long plane = (long)c.oh * c.ow;
  const long img = (long)c.h * c.w * c.cin;
  parallel(c.n, workers(c.n), [&](int b, int) {
    thread_local Buf dbuf;
    float* dcols = dbuf.get((size_t)ROWS * K);
    std::memset(dx + b * img, 0, img * 4);
    for (long r = 0; r < plane; r += ROWS) {
      const int rows = (int)std::min<long>(ROWS, plane - r);
      const long r0 = b * plane + r;
      gemm(rows, K, N, Mat{dy + r0 * N, N, 1}, Mat{W, 1, N}, dcols, K, false);
      col2imAdd(c, dcols, r0, rows, dx);
    }
  });
}

/** dW[fh, fw, cin, cout] = im2col(x)ᵀ · dy, partial sums per thread then reduced. */
void convBackpropFilter(const Conv& c, const float* x, const float* dy, float* dW) {
  const long M = c.M();
  const int K = c.K(), N = c.cout;
  constexpr int FROWS = 256;
  const int tasks = (int)((M + FROWS - 1) / FROWS);
  const int T = workers(tasks);
  std::vector<std::vector<float>> part(T - 1, std::vector<float>((size_t)K * N, 0.f));
  std::memset(dW, 0, (size_t)K * N * 4);
  // Static split: the same thread count gives bit-identical gradients (runs are reproducible).
  parallelStatic(tasks, T, [&](int t, int w) {
    thread_local Buf cbuf;
    float* out = w == 0 ? dW : part[w - 1].data();
    const long r0 = (long)t * FROWS;
    const int rows = (int)std::min<long>(FROWS, M - r0);
    const bool direct = c.fh == 1 && c.fw == 1 && c.sh == 1 && c.sw == 1 && c.top == 0 && c.left == 0 && c.oh == c.h && c.ow == c.w;
    const float* cols = x + r0 * K;
    if (!direct) {
      float* cb = cbuf.get((size_t)FROWS * K);
      im2col(c, x, r0, rows, cb);
      cols = cb;
    }
    gemm(K, N, rows, Mat{cols, 1, K}, Mat{dy + r0 * N, N, 1}, out, N, true);
  });
  for (auto& p : part)
    for (size_t i = 0; i < p.size(); i++) dW[i] += p[i];
}

/** Batched C[b] = act(op(A[b])·op(B[b]) + bias); a batch stride of 0 broadcasts. */
void matmul(int batch, int m, int n, int k, const float* A, long aStride, bool ta, const float* B, long bStride, bool tb, float* C, const float* bias, int act) {
  const int T = g_threads;
  int sm = 1, sn = 1;
  if (batch < 2 * T) {
    const int want = (2 * T + batch - 1) / batch;
    if (m >= n) sm = std::max(1, std::min(want, (m + MR - 1) / MR));
    else sn = std::max(1, std::min(want, (n + NR - 1) / NR));
  }
  const int cm = ((m + sm - 1) / sm + MR - 1) / MR * MR;
  const int cn = ((n + sn - 1) / sn + NR - 1) / NR * NR;
  const int tasks = batch * sm * sn;
  parallel(tasks, workers(tasks), [&](int t, int) {
    const int b = t / (sm * sn);
    const int i0 = (t % (sm * sn)) / sn * cm;
    const int j0 = (t % sn) * cn;
    if (i0 >= m || j0 >= n) return;
    const int mm = std::min(cm, m - i0), nn = std::min(cn, n - j0);
    const float* a = A + b * aStride;
    const float* bb = B + b * bStride;
    Mat Am = ta ? Mat{a + i0, 1, m} : Mat{a + (long)i0 * k, k, 1};
    Mat Bm = tb ? Mat{bb + (long)j0 * k, 1, k} : Mat{bb + j0, n, 1};
    float* c = C + (long)b * m * n + (long)i0 * n + j0;
    gemm(mm, nn, k, Am, Bm, c, n, false);
    if (bias || act)
      for (int i = 0; i < mm; i++) {
        float* row = c + (long)i * n;
        if (bias)
          for (int j = 0; j < nn; j++) row[j] += bias[j0 + j];
        if (act == 1)
          for (int j = 0; j < nn; j++) row[j] = row[j] > 0.f ? row[j] : 0.f;
      }
  });
}

/**
 * out[a, b] = Σ_r x[a, r, b] (× 1/R for a mean), accumulated in double: batch-norm
 * gradients subtract such sums from values of the same size, so float32 accumulation over
 * 10⁴–10⁵ terms (what tfjs-backend-wasm's Sum does) leaves errors the cancellation magnifies.
 */
void reduceMid(const float* x, float* out, long A, long R, long B, bool mean) {
  constexpr long BCH = 512;
  const long bChunks = (B + BCH - 1) / BCH;
  const long tasks = A * bChunks;
  parallel((int)tasks, workers((int)tasks), [&](int t, int) {
    const long a = t / bChunks, b0 = (t % bChunks) * BCH, nb = std::min(BCH, B - b0);
    const float* xa = x + a * R * B + b0;
    if (nb == 1) {
      double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      long r = 0;
      for (; r + 4 <= R; r += 4) {
        s0 += xa[r * B];
        s1 += xa[(r + 1) * B];
        s2 += xa[(r + 2) * B];
        s3 += xa[(r + 3) * B];
      }
      for (; r < R; r++) s0 += xa[r * B];
      const double s = (s0 + s1) + (s2 + s3);
      out[a * B + b0] = (float)(mean ? s / (double)R : s);
      return;
    }
    double acc[BCH];
    for (long b = 0; b < nb; b++) acc[b] = 0;
    for (long r = 0; r < R; r++) {
      const float* row = xa + r * B;
      for (long b = 0; b < nb; b++) acc[b] += row[b];
    }
    for (long b = 0; b < nb; b++) out[a * B + b0 + b] = (float)(mean ? acc[b] / (double)R : acc[b]);
  });
}

// ---------------------------------------------------------------- batch normalization
// x viewed as [M, C] (NHWC: M = N·H·W rows of C channels), statistics per channel over the M rows.
// Rows are cut into fixed chunks of kBnRows (independent of the thread count); each chunk's
// partial sums (double) go to its own slot and are added in chunk order afterwards, so every
// result is bit-identical for any thread count.
constexpr long kBnRows = 1024;

/** For each chunk, part[chunk·C + c] = Σ_rows f(row, c) in double; returns Σ over chunks in order into out[c]. */
template <class F>
void bnChunkSums(long M, int C, int nOut, double* out, F&& f) {
  const long chunks = (M + kBnRows - 1) / kBnRows;
  std::vector<double> part((size_t)chunks * nOut * C, 0.0);
  parallel((int)chunks, workers((int)chunks), [&](int t, int) {
    const long r0 = (long)t * kBnRows, r1 = std::min(M, r0 + kBnRows);
    f(r0, r1, part.data() + (size_t)t * nOut * C);
  });
  for (int i = 0; i < nOut * C; i++) out[i] = 0;
  for (long t = 0; t < chunks; t++)
    for (int i = 0; i < nOut * C; i++) out[i] += part[(size_t)t * nOut * C + i];
}

/** y = (x − μ)·(γ·invstd) + β per channel, rows in parallel; gamma/beta may be null (1 / 0). */
void bnApply(const float* x, float* y, long M, int C, const double* mean, const double* invstd, const float* gamma, const float* beta) {
  std::vector<float> mu(C), sc(C), sh(C);
  for (int c = 0; c < C; c++) {
    mu[c] = (float)mean[c];
    sc[c] = (float)((gamma ? gamma[c] : 1.0) * invstd[c]);
    sh[c] = beta ? beta[c] : 0.f;
  }
  const long chunks = (M + kBnRows - 1) / kBnRows;
  parallel((int)chunks, workers((int)chunks), [&](int t, int) {
    const long r0 = (long)t * kBnRows, r1 = std::min(M, r0 + kBnRows);
    for (long r = r0; r < r1; r++) {
      const float* xr = x + r * C;
      float* yr = y + r * C;
      for (int c = 0; c < C; c++) yr[c] = (xr[c] - mu[c]) * sc[c] + sh[c];
    }
  });
}

/**
 * Training-mode batch norm: per-channel mean and (biased) variance over the M rows, in
 * double, two passes (Σx, then Σ(x − μ)²); y = (x − μ)·γ/√(σ² + ε) + β. Writes mean, var,
 * invstd = 1/√(σ² + ε) (each C floats).
 */
void bnTrainForward(const float* x, const float* gamma, const float* beta, float* y, float* mean, float* var, float* invstd, long M, int C, double eps) {
  std::vector<double> mu(C), sq(C), is(C);
  bnChunkSums(M, C, 1, mu.data(), [&](long r0, long r1, double* acc) {
    for (long r = r0; r < r1; r++) {
      const float* xr = x + r * C;
      for (int c = 0; c < C; c++) acc[c] += xr[c];
    }
  });
  for (int c = 0; c < C; c++) mu[c] /= (double)M;
  bnChunkSums(M, C, 1, sq.data(), [&](long r0, long r1, double* acc) {
    for (long r = r0; r < r1; r++) {
      const float* xr = x + r * C;
      for (int c = 0; c < C; c++) {
        const double d = (double)xr[c] - mu[c];
        acc[c] += d * d;
      }
    }
  });
  for (int c = 0; c < C; c++) {
    const double v = sq[c] / (double)M;
    is[c] = 1.0 / std::sqrt(v + eps);
    mean[c] = (float)mu[c];
    var[c] = (float)v;
    invstd[c] = (float)is[c];
  }
  bnApply(x, y, M, C, mu.data(), is.data(), gamma, beta);
}

/**
 * One-pass-of-sums batch-norm backward (Ioffe & Szegedy 2015, §3), with x̂ = (x − μ)·invstd:
 *   dβ = Σdy, dγ = Σdy·x̂, dx = γ·invstd/M·(M·dy − Σdy − x̂·Σdy·x̂) + dμ/M + dσ²·2(x − μ)/M
 * (the last two terms: gradients arriving at the mean / variance outputs, usually zero).
 * dmean / dvar may be null.
 */
void bnTrainBackward(const float* x, const float* dy, const float* gamma, const float* mean, const float* invstd, const float* dmean, const float* dvar,
                     float* dx, float* dgamma, float* dbeta, long M, int C) {
  std::vector<double> s(2 * C);
  bnChunkSums(M, C, 2, s.data(), [&](long r0, long r1, double* acc) {
    double* sdy = acc;
    double* sdyx = acc + C;
    for (long r = r0; r < r1; r++) {
      const float* xr = x + r * C;
      const float* dr = dy + r * C;
      for (int c = 0; c < C; c++) {
        sdy[c] += dr[c];
        sdyx[c] += (double)dr[c] * ((double)xr[c] - mean[c]);
      }
    }
  });
  std::vector<float> a(C), k(C), b(C), mu(C);
  for (int c = 0; c < C; c++) {
    const double g = gamma ? gamma[c] : 1.0, is = invstd[c], sdy = s[c], sdyxh = s[C + c] * is, Md = (double)M;
    dbeta[c] = (float)sdy;
    dgamma[c] = (float)sdyxh;
    a[c] = (float)(g * is);
    k[c] = (float)(-g * is * is * sdyxh / Md + (dvar ? 2.0 * dvar[c] / Md : 0.0));
    b[c] = (float)(-g * is * sdy / Md + (dmean ? dmean[c] / Md : 0.0));
    mu[c] = mean[c];
  }
  const long chunks = (M + kBnRows - 1) / kBnRows;
  parallel((int)chunks, workers((int)chunks), [&](int t, int) {
    const long r0 = (long)t * kBnRows, r1 = std::min(M, r0 + kBnRows);
    for (long r = r0; r < r1; r++) {
      const float* xr = x + r * C;
      const float* dr = dy + r * C;
      float* o = dx + r * C;
      for (int c = 0; c < C; c++) o[c] = a[c] * dr[c] + k[c] * (xr[c] - mu[c]) + b[c];
    }
  });
}

/** Inference batch norm with given statistics: y = (x − mean)·γ/√(var + ε) + β. */
void bnInference(const float* x, const float* mean, const float* var, const float* gamma, const float* beta, float* y, long M, int C, double eps) {
  std::vector<double> mu(C), is(C);
  for (int c = 0; c < C; c++) {
    mu[c] = mean[c];
    is[c] = 1.0 / std::sqrt((double)var[c] + eps);
  }
  bnApply(x, y, M, C, mu.data(), is.data(), gamma, beta);
}

/** Tile: out (shape xs[d]·reps[d]) repeats x; fills the first copy of each level, then replicates it with memcpy. */
void tileRec(int d, int rank, const float* x, float* o, const long* xs, const long* reps, const long* xStride, const long* oStride) {
  if (d == rank - 1) {
    for (long r = 0; r < reps[d]; r++) std::memcpy(o + r * xs[d], x, xs[d] * 4);
    return;
  }
  for (long i = 0; i < xs[d]; i++) tileRec(d + 1, rank, x + i * xStride[d], o + i * oStride[d], xs, reps, xStride, oStride);
  const long chunk = xs[d] * oStride[d];
  for (long r = 1; r < reps[d]; r++) std::memcpy(o + r * chunk, o, chunk * 4);
}


/** Pooling geometry, NHWC: [n, h, w, c, oh, ow, fh, fw, sh, sw, top, left]. */
struct Pool2 {
  int n, h, w, c, oh, ow, fh, fw, sh, sw, top, left;
};

/** y[b, oy, ox, ch] = max over the window (padding never wins: windows are clipped to the image). */
void maxPoolForward(const Pool2& p, const float* x, float* y) {
  const int rows = p.n * p.oh;
  parallel(rows, workers(rows / 4 + 1), [&](int r, int) {
    const int b = r / p.oh, oy = r % p.oh;
    const int y0 = std::max(0, oy * p.sh - p.top), y1 = std::min(p.h, oy * p.sh - p.top + p.fh);
    const float* xb = x + (long)b * p.h * p.w * p.c;
    float* yr = y + (long)r * p.ow * p.c;
    for (int ox = 0; ox < p.ow; ox++) {
      const int x0 = std::max(0, ox * p.sw - p.left), x1 = std::min(p.w, ox * p.sw - p.left + p.fw);
      float* o = yr + (long)ox * p.c;
      for (int ch = 0; ch < p.c; ch++) o[ch] = -__builtin_inff();
      for (int iy = y0; iy < y1; iy++)
        for (int ix = x0; ix < x1; ix++) {
          const float* v = xb + ((long)iy * p.w + ix) * p.c;
          for (int ch = 0; ch < p.c; ch++) o[ch] = v[ch] > o[ch] ? v[ch] : o[ch];
        }
    }
  });
}

/** dx = Σ over windows of dy routed to the window's first maximum (row-major scan, as tfjs); parallel over images. */
void maxPoolBackward(const Pool2& p, const float* dy, const float* x, float* dx) {
  parallel(p.n, workers(p.n), [&](int b, int) {
    const long img = (long)p.h * p.w * p.c;
    const float* xb = x + b * img;
    float* db = dx + b * img;
    std::memset(db, 0, img * 4);
    const float* dyb = dy + (long)b * p.oh * p.ow * p.c;
    for (int oy = 0; oy < p.oh; oy++) {
      const int y0 = std::max(0, oy * p.sh - p.top), y1 = std::min(p.h, oy * p.sh - p.top + p.fh);
      for (int ox = 0; ox < p.ow; ox++) {
        const int x0 = std::max(0, ox * p.sw - p.left), x1 = std::min(p.w, ox * p.sw - p.left + p.fw);
        const float* g = dyb + ((long)oy * p.ow + ox) * p.c;
        for (int ch = 0; ch < p.c; ch++) {
          float best = -__builtin_inff();
          long at = -1;
          for (int iy = y0; iy < y1; iy++)
            for (int ix = x0; ix < x1; ix++) {
              const long q = ((long)iy * p.w + ix) * p.c + ch;
              if (xb[q] > best || at < 0) {
                best = xb[q];
                at = q;
              }
            }
          if (at >= 0) db[at] += g[ch];
        }
      }
    }
  });
}


/**
 * Direct convolution with the output channels as the vector (cout = VW: M1's 6→16 5×5 conv),
 * stride 1, no dilation, the window always inside the input (valid padding): im2col + GEMM
 * would run K = fh·fw·cin = 150 deep with n = 16, half of the 32-wide tile. Here a block of
 * R output rows × PX pixels keeps R·PX accumulators; per (tap, input channel) one weight
 * vector and R·PX broadcast FMAs, summed in im2col's order (i, j, c). With R = 2 the
 * 2×2 / 2 max pool that follows is taken from the accumulators (max, then bias and ReLU:
 * both monotone, so the same numbers as conv → pool), and only the pooled map is written.
 */
template <int R, int PX>
void convVecBlock(const Conv& c, const float* xb, const float* W, const float* bias, int act, int oy0, int ox0, float* y, long ystride) {
  vf acc[R][PX];
  for (int rr = 0; rr < R; rr++)
    for (int q = 0; q < PX; q++) acc[rr][q] = vf{};
  const int cin = c.cin;
  for (int i = 0; i < c.fh; i++)
    for (int j = 0; j < c.fw; j++) {
      const float* wr = W + (long)(i * c.fw + j) * cin * VW;
      const float* xr0 = xb + ((long)(oy0 + i) * c.w + ox0 + j) * cin;
      for (int ci = 0; ci < cin; ci++) {
        const vf wv = loadu(wr + (long)ci * VW);
        for (int rr = 0; rr < R; rr++) {
          const float* xr = xr0 + (long)rr * c.w * cin + ci;
          for (int q = 0; q < PX; q++) acc[rr][q] += xr[(long)q * cin] * wv;
        }
      }
    }
  vf bv = vf{};
  if (bias) bv = loadu(bias);
  const vf zero = vf{};
  if (R == 1) {
    for (int q = 0; q < PX; q++) {
      vf v = acc[0][q] + bv;
      if (act == 1) v = v > zero ? v : zero;
      storeu(y + (long)q * VW, v);
    }
  } else {
    for (int q = 0; q + 1 < PX; q += 2) {
      vf a = acc[0][q] > acc[0][q + 1] ? acc[0][q] : acc[0][q + 1];
      vf b = acc[1][q] > acc[1][q + 1] ? acc[1][q] : acc[1][q + 1];
      vf v = (a > b ? a : b) + bv;
      if (act == 1) v = v > zero ? v : zero;
      storeu(y + (long)(q / 2) * VW, v);
    }
  }
  (void)ystride;
}

template <int R>
void convVecRow(const Conv& c, const float* xb, const float* W, const float* bias, int act, int oy0, int ox0, int px, float* y) {
  switch (px) {
#define LW_PX(k) \
  case k:        \
    convVecBlock<R, k>(c, xb, W, bias, act, oy0, ox0, y, 0); \
    return;
    LW_PX(1) LW_PX(2) LW_PX(3) LW_PX(4) LW_PX(5) LW_PX(6) LW_PX(7) LW_PX(8) LW_PX(9) LW_PX(10) LW_PX(11) LW_PX(12)
#undef LW_PX
  }
}

/** Does the vector-over-cout direct kernel apply? (pool: the 2×2 / 2 unpadded max pool to fuse, or null.) */
bool convVecOk(const Conv& c, const Pool2* p) {
  if (c.cout != VW || c.sh != 1 || c.sw != 1 || c.dh != 1 || c.dw != 1 || c.top != 0 || c.left != 0 || c.oh + c.fh - 1 > c.h || c.ow + c.fw - 1 > c.w) return false;
  if (!p) return true;
  return p->fh == 2 && p->fw == 2 && p->sh == 2 && p->sw == 2 && p->top == 0 && p->left == 0 && p->h == c.oh && p->w == c.ow && p->c == c.cout && 2 * p->oh <= c.oh && 2 * p->ow <= c.ow;
}

/** Serial (one thread: the executor's task): y = act(conv(x) + bias) for c.n images, or its 2×2 / 2 max pool when p is given. */
void convVecSerial(const Conv& c, const Pool2* p, const float* x, const float* W, const float* bias, float* y, int act) {
  constexpr int PXB = 12;
  for (int b = 0; b < c.n; b++) {
    const float* xb = x + (long)b * c.h * c.w * c.cin;
    if (!p) {
      for (int oy = 0; oy < c.oh; oy++)
        for (int ox = 0; ox < c.ow; ox += PXB) convVecRow<1>(c, xb, W, bias, act, oy, ox, std::min(PXB, c.ow - ox), y + (((long)b * c.oh + oy) * c.ow + ox) * VW);
    } else {
      for (int py = 0; py < p->oh; py++)
        for (int ox = 0; ox < 2 * p->ow; ox += PXB) convVecRow<2>(c, xb, W, bias, act, 2 * py, ox, std::min(PXB, 2 * p->ow - ox), y + (((long)b * p->oh + py) * p->ow + ox / 2) * VW);
    }
  }
}

/**
 * The one-input-channel direct conv (convDirect1) with the 2×2 / 2 max pool that follows
 * fused: two output rows are computed, their vertical and horizontal maxima taken before
 * bias and ReLU (monotone: the same numbers as conv → pool), and only the pooled row is
 * written. Serial (the executor's task).
 */
template <int COUT>
void convDirect1PoolSerial(const Conv& c, const Pool2& p, const float* x, const float* W, const float* bias, float* y, int act) {
  const int nchunk = (c.ow + VW - 1) / VW;
  const int pw = nchunk * VW + (c.fw - 1) * c.dw + 1;
  thread_local Buf pbuf, obuf;
  float* xp = pbuf.get((size_t)c.fh * pw);
  float* out = obuf.get((size_t)2 * COUT * nchunk * VW);
  const long stride = (long)nchunk * VW;
  for (int r = 0; r < c.n * p.oh; r++) {
    const int b = r / p.oh, py = r % p.oh;
    const float* xb = x + (long)b * c.h * c.w;
    for (int rr = 0; rr < 2; rr++) {
      const int oy = 2 * py + rr;
      for (int i = 0; i < c.fh; i++) {
        float* row = xp + (long)i * pw;
        std::memset(row, 0, (size_t)pw * 4);
        const int iy = oy * c.sh - c.top + i * c.dh;
        if (iy < 0 || iy >= c.h) continue;
        const int q0 = std::max(0, c.left), q1 = std::min(pw, c.left + c.w);
        if (q1 > q0) std::memcpy(row + q0, xb + (long)iy * c.w + (q0 - c.left), (size_t)(q1 - q0) * 4);
      }
      float* o = out + (long)rr * COUT * stride;
      for (int ch = 0; ch < nchunk; ch++) {
        vf acc[COUT];
        for (int co = 0; co < COUT; co++) acc[co] = vf{};
        for (int i = 0; i < c.fh; i++)
          for (int j = 0; j < c.fw; j++) {
            const vf xv = loadu(xp + (long)i * pw + ch * VW + j * c.dw);
            const float* wr = W + (long)(i * c.fw + j) * COUT;
            for (int co = 0; co < COUT; co++) acc[co] += wr[co] * xv;
          }
        for (int co = 0; co < COUT; co++) storeu(o + ((long)co * nchunk + ch) * VW, acc[co]);
      }
    }
    const float* o1 = out + (long)COUT * stride;
    float* yr = y + (long)r * p.ow * COUT;
    for (int px = 0; px < p.ow; px++)
      for (int co = 0; co < COUT; co++) {
        const float* a = out + co * stride + 2 * px;
        const float* bq = o1 + co * stride + 2 * px;
        float m = a[0] > a[1] ? a[0] : a[1];
        const float m2 = bq[0] > bq[1] ? bq[0] : bq[1];
        m = m > m2 ? m : m2;
        float v = m + (bias ? bias[co] : 0.f);
        if (act == 1) v = v > 0.f ? v : 0.f;
        yr[(long)px * COUT + co] = v;
      }
  }
}

bool convDirect1PoolOk(const Conv& c, const Pool2& p) {
  return c.cin == 1 && c.sw == 1 && c.cout <= 16 && c.ow <= 4096 && p.fh == 2 && p.fw == 2 && p.sh == 2 && p.sw == 2 && p.top == 0 && p.left == 0 && p.h == c.oh && p.w == c.ow &&
         p.c == c.cout && 2 * p.oh <= c.oh && 2 * p.ow <= c.ow;
}

void convDirect1Pool(const Conv& c, const Pool2& p, const float* x, const float* W, const float* bias, float* y, int act) {
  switch (c.cout) {
#define LW_CASE(k) \
  case k:          \
    convDirect1PoolSerial<k>(c, p, x, W, bias, y, act); \
    return;
    LW_CASE(1) LW_CASE(2) LW_CASE(3) LW_CASE(4) LW_CASE(5) LW_CASE(6) LW_CASE(7) LW_CASE(8)
    LW_CASE(9) LW_CASE(10) LW_CASE(11) LW_CASE(12) LW_CASE(13) LW_CASE(14) LW_CASE(15) LW_CASE(16)
#undef LW_CASE
  }
}
/**
 * Inference executor (src/engine/infer.ts): a whole plan of conv [+ bias + relu] / max pool /
 * dense [+ bias + relu] ops in one call, parallel over chunks of images. Each task runs every
 * op on its chunk (≤ 8 images) on one thread, in two thread-local ping-pong buffers that stay
 * in L2: one pool dispatch per batch instead of one per op (M1's dense layers and its 6→16
 * conv spent more time waking a worker than computing), and each max pool reads the conv
 * output it follows while that is still in cache. Per image the arithmetic is that of the
 * per-op kernels (the same kernels, the same accumulation order).
 */
struct InferOp {
  int kind, act;  // kind 0 conv, 1 max pool, 2 dense; act 0 linear, 1 relu
  Conv c;         // geometry for one image (n is set per chunk)
  Pool2 p;
  int k, units;   // dense
  const float *w, *b;
  long inSize, outSize;  // floats per image
};

/** LAYERWISE_INFER_NO_FUSE=1: the executor without the fused / direct kernels (A/B). */
const bool g_inferNoFuse = [] {
  const char* e = std::getenv("LAYERWISE_INFER_NO_FUSE");
  return e && e[0] == '1';
}();

void inferRun(const std::vector<InferOp>& ops, const float* x, float* y, int n, int chunk) {
  if (ops.empty() || n < 1) return;
  long most = 0;
  for (const InferOp& op : ops) most = std::max(most, op.outSize);
  const long inSize = ops.front().inSize, outSize = ops.back().outSize;
  const int T = g_threads;
  const int nb = chunk > 0 ? chunk : std::max(1, std::min(8, (n + 2 * T - 1) / (2 * T)));  // ≥ 2 chunks per thread
  const int tasks = (n + nb - 1) / nb;
  parallel(tasks, workers(tasks), [&](int t, int) {
    thread_local Buf b0, b1;
    const bool saved = t_serial;
    t_serial = true;
    const int i0 = t * nb, m = std::min(nb, n - i0);
    float* bufs[2] = {b0.get((size_t)most * nb), b1.get((size_t)most * nb)};
    const float* src = x + (long)i0 * inSize;
    int which = 0;
    for (size_t k = 0; k < ops.size(); k++) {
      const InferOp& op = ops[k];
      // conv followed by a 2×2 / 2 max pool: one fused pass (the pool op is skipped).
      const bool fuse = op.kind == 0 && k + 1 < ops.size() && ops[k + 1].kind == 1 && !g_inferNoFuse &&
                        (convDirect1PoolOk(op.c, ops[k + 1].p) || convVecOk(op.c, &ops[k + 1].p));
      const size_t last = fuse ? k + 1 : k;
      float* dst = last + 1 == ops.size() ? y + (long)i0 * outSize : bufs[which];
      which ^= 1;
      if (op.kind == 0) {
        Conv c = op.c;
        c.n = m;
        if (fuse) {
          Pool2 p = ops[k + 1].p;
          p.n = m;
          if (convDirect1PoolOk(c, p)) convDirect1Pool(c, p, src, op.w, op.b, dst, op.act);
          else convVecSerial(c, &p, src, op.w, op.b, dst, op.act);
          k++;
        } else if (!g_inferNoFuse && convVecOk(c, nullptr)) {
          convVecSerial(c, nullptr, src, op.w, op.b, dst, op.act);
        } else {
          convForward(c, src, op.w, op.b, dst, op.act);
        }
      } else if (op.kind == 1) {
        Pool2 p = op.p;
        p.n = m;
        maxPoolForward(p, src, dst);
      } else {
        matmul(1, m, op.units, op.k, src, 0, false, op.w, 0, false, dst, op.b, op.act);
      }
      src = dst;
    }
    t_serial = saved;
  });
}

// ---------------------------------------------------------------- N-API glue
#ifndef LW_NO_NAPI

#define CHECK(call)                                                   \
  do {                                                                \
    if ((call) != napi_ok) {                                          \
      napi_throw_error(env, nullptr, "layerwise-native: " #call);     \
      return nullptr;                                                 \
    }                                                                 \
  } while (0)

/** Float32Array → data pointer; null for null/undefined; sets *len to its element count. */
bool f32(napi_env env, napi_value v, float** out, size_t* len) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t == napi_null || t == napi_undefined) {
    *out = nullptr;
    *len = 0;
    return true;
  }
  napi_typedarray_type type;
  size_t length;
  void* data;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, v, &type, &length, &data, &ab, &off) != napi_ok || type != napi_float32_array) {
    napi_throw_type_error(env, nullptr, "layerwise-native: expected a Float32Array");
    return false;
  }
  *out = static_cast<float*>(data);
  *len = length;
  return true;
}

bool i32(napi_env env, napi_value v, int* out) {
  if (napi_get_value_int32(env, v, out) != napi_ok) {
    napi_throw_type_error(env, nullptr, "layerwise-native: expected a number");
    return false;
  }
  return true;
}

bool convDims(napi_env env, napi_value v, Conv* c) {
  napi_typedarray_type type;
  size_t length;
  void* data;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, v, &type, &length, &data, &ab, &off) != napi_ok || type != napi_int32_array || length != 15) {
    napi_throw_type_error(env, nullptr, "layerwise-native: conv dims must be an Int32Array of 15");
    return false;
  }
  const int32_t* d = static_cast<int32_t*>(data);
  *c = Conv{d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8], d[9], d[10], d[11], d[12], d[13], d[14]};
  return true;
}

bool sizeOk(napi_env env, size_t have, size_t need, const char* what) {
  if (have < need) {
    napi_throw_range_error(env, nullptr, what);
    return false;
  }
  return true;
}

// conv2d(x, w, bias|null, y, dims, act)
napi_value Conv2d(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value a[6];
  CHECK(napi_get_cb_info(env, info, &argc, a, nullptr, nullptr));
  float *x, *w, *bias, *y;
  size_t nx, nw, nb, ny;
  Conv c;
  int act;
  if (!f32(env, a[0], &x, &nx) || !f32(env, a[1], &w, &nw) || !f32(env, a[2], &bias, &nb) || !f32(env, a[3], &y, &ny) || !convDims(env, a[4], &c) || !i32(env, a[5], &act)) return nullptr;
  if (!sizeOk(env, nx, (size_t)c.n * c.h * c.w * c.cin, "conv2d: x too small") || !sizeOk(env, nw, (size_t)c.K() * c.cout, "conv2d: w too small") ||
      !sizeOk(env, ny, (size_t)c.M() * c.cout, "conv2d: y too small") || (bias && !sizeOk(env, nb, c.cout, "conv2d: bias too small")))
    return nullptr;
  convForward(c, x, w, bias, y, act);
  return nullptr;
}

// conv2dBackpropInput(dy, w, dx, dims)
napi_value Conv2dBackpropInput(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value a[4];
  CHECK(napi_get_cb_info(env, info, &argc, a, nullptr, nullptr));
  float *dy, *w, *dx;
  size_t ndy, nw, ndx;
  Conv c;
  if (!f32(env, a[0], &dy, &ndy) || !f32(env, a[1], &w, &nw) || !f32(env, a[2], &dx, &ndx) || !convDims(env, a[3], &c)) return nullptr;
  if (!sizeOk(env, ndy, (size_t)c.M() * c.cout, "conv2dBackpropInput: dy too small") || !sizeOk(env, nw, (size_t)c.K() * c.cout, "conv2dBackpropInput: w too small") ||
      !sizeOk(env, ndx, (size_t)c.n * c.h * c.w * c.cin, "conv2dBackpropInput: dx too small"))
    return nullptr;
  convBackpropInput(c, dy, w, dx);
  return nullptr;
}

// conv2dBackpropFilter(x, dy, dw, dims)
napi_value Conv2dBackpropFilter(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value a[4];
  CHECK(napi_get_cb_info(env, info, &argc, a, nullptr, nullptr));
  float *x, *dy, *dw;
  size_t nx, ndy, ndw;
  Conv c;
  if (!f32(env, a[0], &x, &nx) || !f32(env, a[1], &dy, &ndy) || !f32(env, a[2], &dw, &ndw) || !convDims(env, a[3], &c)) return nullptr;
  if (!sizeOk(env, nx, (size_t)c.n * c.h * c.w * c.cin, "conv2dBackpropFilter: x too small") || !sizeOk(env, ndy, (size_t)c.M() * c.cout, "conv2dBackpropFilter: dy too small") ||
      !sizeOk(env, ndw, (size_t)c.K() * c.cout, "conv2dBackpropFilter: dw too small"))
    return nullptr;
  convBackpropFilter(c, x, dy, dw);
  return nullptr;
}

// matmul(a, b, c, bias|null, dims Int32Array [batch, m, n, k, ta, tb, aBatched, bBatched, act])
napi_value MatMul(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value a[5];
  CHECK(napi_get_cb_info(env, info, &argc, a, nullptr, nullptr));
  float *A, *B, *C, *bias;
  size_t na, nb, nc, nbias;
  if (!f32(env, a[0], &A, &na) || !f32(env, a[1], &B, &nb) || !f32(env, a[2], &C, &nc) || !f32(env, a[3], &bias, &nbias)) return nullptr;
  napi_typedarray_type type;
  size_t length;
  void* data;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, a[4], &type, &length, &data, &ab, &off) != napi_ok || type != napi_int32_array || length != 9) {
    napi_throw_type_error(env, nullptr, "layerwise-native: matmul dims must be an Int32Array of 9");
    return nullptr;
  }
  const int32_t* d = static_cast<int32_t*>(data);
  const int batch = d[0], m = d[1], n = d[2], k = d[3];
  const long mk = (long)m * k, kn = (long)k * n;
  if (!sizeOk(env, na, d[6] ? batch * mk : mk, "matmul: a too small") || !sizeOk(env, nb, d[7] ? batch * kn : kn, "matmul: b too small") ||
      !sizeOk(env, nc, (size_t)batch * m * n, "matmul: c too small") || (bias && !sizeOk(env, nbias, n, "matmul: bias too small")))
    return nullptr;
  matmul(batch, m, n, k, A, d[6] ? mk : 0, d[4] != 0, B, d[7] ? kn : 0, d[5] != 0, C, bias, d[8]);
  return nullptr;
}

// reduce(x, out, A, R, B, mean): out[a, b] = Σ_r x[a, r, b]
napi_value Reduce(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value a[6];
  CHECK(napi_get_cb_info(env, info, &argc, a, nullptr, nullptr));
  float *x, *out;
  size_t nx, nout;
  double A, R, B;
  bool mean;
  if (!f32(env, a[0], &x, &nx) || !f32(env, a[1], &out, &nout)) return nullptr;
  CHECK(napi_get_value_double(env, a[2], &A));
  CHECK(napi_get_value_double(env, a[3], &R));
  CHECK(napi_get_value_double(env, a[4], &B));
  CHECK(napi_get_value_bool(env, a[5], &mean));
  if (!sizeOk(env, nx, (size_t)(A * R * B), "reduce: x too small") || !sizeOk(env, nout, (size_t)(A * B), "reduce: out too small")) return nullptr;
  reduceMid(x, out, (long)A, (long)R, (long)B, mean);
  return nullptr;
}

// tile(x, out, xShape Int32Array, reps Int32Array)
napi_value Tile(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value a[4];
  CHECK(napi_get_cb_info(env, info, &argc, a, nullptr, nullptr));
  float *x, *out;
  size_t nx, nout;
  if (!f32(env, a[0], &x, &nx) || !f32(env, a[1], &out, &nout)) return nullptr;
  long xs[8], reps[8], xStride[8], oStride[8];
  int rank = 0;
  for (int q = 2; q < 4; q++) {
    napi_typedarray_type type;
    size_t length;
    void* data;
    napi_value ab;
    size_t off;
    if (napi_get_typedarray_info(env, a[q], &type, &length, &data, &ab, &off) != napi_ok || type != napi_int32_array || length < 1 || length > 8) {
      napi_throw_type_error(env, nullptr, "layerwise-native: tile shape/reps must be Int32Arrays of rank 1-8");
      return nullptr;
    }
    rank = (int)length;
    for (int i = 0; i < rank; i++) (q == 2 ? xs : reps)[i] = static_cast<int32_t*>(data)[i];
  }
  size_t total = 1, xt = 1;
  for (int i = rank - 1; i >= 0; i--) {
    xStride[i] = (long)xt;
    oStride[i] = (long)total;
    xt *= xs[i];
    total *= xs[i] * reps[i];
  }
  if (!sizeOk(env, nx, xt, "tile: x too small") || !sizeOk(env, nout, total, "tile: out too small")) return nullptr;
  if (total > 0) tileRec(0, rank, x, out, xs, reps, xStride, oStride);
  return nullptr;
}


bool poolDims(napi_env env, napi_value v, Pool2* p) {
  napi_typedarray_type type;
  size_t length;
  void* data;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, v, &type, &length, &data, &ab, &off) != napi_ok || type != napi_int32_array || length != 12) {
    napi_throw_type_error(env, nullptr, "layerwise-native: pool dims must be an Int32Array of 12");
    return false;
  }
  const int32_t* d = static_cast<int32_t*>(data);
  *p = Pool2{d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8], d[9], d[10], d[11]};
  return true;
}

// maxPool(x, y, dims)
napi_value MaxPool(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value a[3];
  CHECK(napi_get_cb_info(env, info, &argc, a, nullptr, nullptr));
  float *x, *y;
  size_t nx, ny;
  Pool2 p;
  if (!f32(env, a[0], &x, &nx) || !f32(env, a[1], &y, &ny) || !poolDims(env, a[2], &p)) return nullptr;
  if (!sizeOk(env, nx, (size_t)p.n * p.h * p.w * p.c, "maxPool: x too small") || !sizeOk(env, ny, (size_t)p.n * p.oh * p.ow * p.c, "maxPool: y too small")) return nullptr;
  maxPoolForward(p, x, y);
  return nullptr;
}

// maxPoolGrad(dy, x, dx, dims)
napi_value MaxPoolGrad(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value a[4];
  CHECK(napi_get_cb_info(env, info, &argc, a, nullptr, nullptr));
  float *dy, *x, *dx;
  size_t ndy, nx, ndx;
  Pool2 p;
  if (!f32(env, a[0], &dy, &ndy) || !f32(env, a[1], &x, &nx) || !f32(env, a[2], &dx, &ndx) || !poolDims(env, a[3], &p)) return nullptr;
  const size_t xs = (size_t)p.n * p.h * p.w * p.c;
  if (!sizeOk(env, ndy, (size_t)p.n * p.oh * p.ow * p.c, "maxPoolGrad: dy too small") || !sizeOk(env, nx, xs, "maxPoolGrad: x too small") || !sizeOk(env, ndx, xs, "maxPoolGrad: dx too small")) return nullptr;
  maxPoolBackward(p, dy, x, dx);
  return nullptr;
}

// batchNormTrain(x, gamma|null, beta|null, y, mean, var, invstd, M, C, eps)
napi_value BatchNormTrain(napi_env env, napi_callback_info info) {
  size_t argc = 10;
  napi_value a[10];
  CHECK(napi_get_cb_info(env, info, &argc, a, nullptr, nullptr));
  float *x, *g, *b, *y, *mean, *var, *is;
  size_t nx, ng, nb, ny, nm, nv, ni;
  double M, C, eps;
  if (!f32(env, a[0], &x, &nx) || !f32(env, a[1], &g, &ng) || !f32(env, a[2], &b, &nb) || !f32(env, a[3], &y, &ny) || !f32(env, a[4], &mean, &nm) ||
      !f32(env, a[5], &var, &nv) || !f32(env, a[6], &is, &ni))
    return nullptr;
  CHECK(napi_get_value_double(env, a[7], &M));
  CHECK(napi_get_value_double(env, a[8], &C));
  CHECK(napi_get_value_double(env, a[9], &eps));
  const size_t n = (size_t)(M * C), c = (size_t)C;
  if (!sizeOk(env, nx, n, "batchNormTrain: x too small") || !sizeOk(env, ny, n, "batchNormTrain: y too small") || (g && !sizeOk(env, ng, c, "batchNormTrain: gamma too small")) ||
      (b && !sizeOk(env, nb, c, "batchNormTrain: beta too small")) || !sizeOk(env, nm, c, "batchNormTrain: mean too small") || !sizeOk(env, nv, c, "batchNormTrain: var too small") ||
      !sizeOk(env, ni, c, "batchNormTrain: invstd too small") || !sizeOk(env, (size_t)M, 1, "batchNormTrain: no rows"))
    return nullptr;
  bnTrainForward(x, g, b, y, mean, var, is, (long)M, (int)C, eps);
  return nullptr;
}

// batchNormTrainGrad(x, dy, gamma|null, mean, invstd, dmean|null, dvar|null, dx, dgamma, dbeta, M, C)
napi_value BatchNormTrainGrad(napi_env env, napi_callback_info info) {
  size_t argc = 12;
  napi_value a[12];
  CHECK(napi_get_cb_info(env, info, &argc, a, nullptr, nullptr));
  float *x, *dy, *g, *mean, *is, *dm, *dv, *dx, *dg, *db;
  size_t nx, ndy, ng, nm, ni, ndm, ndv, ndx, ndg, ndb;
  double M, C;
  if (!f32(env, a[0], &x, &nx) || !f32(env, a[1], &dy, &ndy) || !f32(env, a[2], &g, &ng) || !f32(env, a[3], &mean, &nm) || !f32(env, a[4], &is, &ni) ||
      !f32(env, a[5], &dm, &ndm) || !f32(env, a[6], &dv, &ndv) || !f32(env, a[7], &dx, &ndx) || !f32(env, a[8], &dg, &ndg) || !f32(env, a[9], &db, &ndb))
    return nullptr;
  CHECK(napi_get_value_double(env, a[10], &M));
  CHECK(napi_get_value_double(env, a[11], &C));
  const size_t n = (size_t)(M * C), c = (size_t)C;
  if (!sizeOk(env, nx, n, "batchNormTrainGrad: x too small") || !sizeOk(env, ndy, n, "batchNormTrainGrad: dy too small") || !sizeOk(env, ndx, n, "batchNormTrainGrad: dx too small") ||
      (g && !sizeOk(env, ng, c, "batchNormTrainGrad: gamma too small")) || !sizeOk(env, nm, c, "batchNormTrainGrad: mean too small") ||
      !sizeOk(env, ni, c, "batchNormTrainGrad: invstd too small") || (dm && !sizeOk(env, ndm, c, "batchNormTrainGrad: dmean too small")) ||
      (dv && !sizeOk(env, ndv, c, "batchNormTrainGrad: dvar too small")) || !sizeOk(env, ndg, c, "batchNormTrainGrad: dgamma too small") ||
      !sizeOk(env, ndb, c, "batchNormTrainGrad: dbeta too small"))
    return nullptr;
  bnTrainBackward(x, dy, g, mean, is, dm, dv, dx, dg, db, (long)M, (int)C);
  return nullptr;
}

// batchNormInference(x, mean, var, gamma|null, beta|null, y, M, C, eps)
napi_value BatchNormInference(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value a[9];
  CHECK(napi_get_cb_info(env, info, &argc, a, nullptr, nullptr));
  float *x, *mean, *var, *g, *b, *y;
  size_t nx, nm, nv, ng, nb, ny;
  double M, C, eps;
  if (!f32(env, a[0], &x, &nx) || !f32(env, a[1], &mean, &nm) || !f32(env, a[2], &var, &nv) || !f32(env, a[3], &g, &ng) || !f32(env, a[4], &b, &nb) || !f32(env, a[5], &y, &ny))
    return nullptr;
  CHECK(napi_get_value_double(env, a[6], &M));
  CHECK(napi_get_value_double(env, a[7], &C));
  CHECK(napi_get_value_double(env, a[8], &eps));
  const size_t n = (size_t)(M * C), c = (size_t)C;
  if (!sizeOk(env, nx, n, "batchNormInference: x too small") || !sizeOk(env, ny, n, "batchNormInference: y too small") || !sizeOk(env, nm, c, "batchNormInference: mean too small") ||
      !sizeOk(env, nv, c, "batchNormInference: var too small") || (g && !sizeOk(env, ng, c, "batchNormInference: gamma too small")) ||
      (b && !sizeOk(env, nb, c, "batchNormInference: beta too small")))
    return nullptr;
  bnInference(x, mean, var, g, b, y, (long)M, (int)C, eps);
  return nullptr;
}

// setThreads(n) → n actually used; threads() → current

// inferRun(x, y, n, desc Int32Array [per op 20: kind, act, dims…], params [w0, b0|null, w1, …], chunk): the inference executor
napi_value InferRun(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value a[6];
  CHECK(napi_get_cb_info(env, info, &argc, a, nullptr, nullptr));
  float *x, *y;
  size_t nx, ny;
  int n, chunk;
  if (!f32(env, a[0], &x, &nx) || !f32(env, a[1], &y, &ny) || !i32(env, a[2], &n) || !i32(env, a[5], &chunk)) return nullptr;
  napi_typedarray_type type;
  size_t length;
  void* data;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, a[3], &type, &length, &data, &ab, &off) != napi_ok || type != napi_int32_array || length == 0 || length % 20 != 0) {
    napi_throw_type_error(env, nullptr, "layerwise-native: inferRun desc must be an Int32Array of 20 per op");
    return nullptr;
  }
  const int32_t* d = static_cast<int32_t*>(data);
  const size_t nops = length / 20;
  std::vector<InferOp> ops(nops);
  for (size_t i = 0; i < nops; i++) {
    const int32_t* o = d + i * 20;
    InferOp& op = ops[i];
    op.kind = o[0];
    op.act = o[1];
    napi_value wv, bv;
    CHECK(napi_get_element(env, a[4], (uint32_t)(2 * i), &wv));
    CHECK(napi_get_element(env, a[4], (uint32_t)(2 * i + 1), &bv));
    float *w = nullptr, *b = nullptr;
    size_t nw = 0, nbias = 0;
    if (op.kind != 1 && (!f32(env, wv, &w, &nw) || !f32(env, bv, &b, &nbias))) return nullptr;
    op.w = w;
    op.b = b;
    size_t wNeed = 0, bNeed = 0;
    if (op.kind == 0) {
      op.c = Conv{1, o[3], o[4], o[5], o[6], o[7], o[8], o[9], o[10], o[11], o[12], o[13], o[14], o[15], o[16]};
      op.inSize = (long)op.c.h * op.c.w * op.c.cin;
      op.outSize = (long)op.c.oh * op.c.ow * op.c.cout;
      wNeed = (size_t)op.c.K() * op.c.cout;
      bNeed = op.c.cout;
    } else if (op.kind == 1) {
      op.p = Pool2{1, o[3], o[4], o[5], o[6], o[7], o[8], o[9], o[10], o[11], o[12], o[13]};
      op.inSize = (long)op.p.h * op.p.w * op.p.c;
      op.outSize = (long)op.p.oh * op.p.ow * op.p.c;
    } else if (op.kind == 2) {
      op.k = o[2];
      op.units = o[3];
      op.inSize = op.k;
      op.outSize = op.units;
      wNeed = (size_t)op.k * op.units;
      bNeed = op.units;
    } else {
      napi_throw_range_error(env, nullptr, "inferRun: unknown op kind");
      return nullptr;
    }
    if (op.inSize <= 0 || op.outSize <= 0 || (i > 0 && op.inSize != ops[i - 1].outSize)) {
      napi_throw_range_error(env, nullptr, "inferRun: op shapes do not chain");
      return nullptr;
    }
    if (op.kind != 1 && (!w || !sizeOk(env, nw, wNeed, "inferRun: weights too small") || (b && !sizeOk(env, nbias, bNeed, "inferRun: bias too small")))) {
      if (!w) napi_throw_type_error(env, nullptr, "inferRun: missing weights");
      return nullptr;
    }
  }
  if (n < 1 || !sizeOk(env, nx, (size_t)n * ops.front().inSize, "inferRun: x too small") || !sizeOk(env, ny, (size_t)n * ops.back().outSize, "inferRun: y too small")) {
    if (n < 1) napi_throw_range_error(env, nullptr, "inferRun: n < 1");
    return nullptr;
  }
  inferRun(ops, x, y, n, chunk);
  return nullptr;
}
napi_value SetThreads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value a[1];
  CHECK(napi_get_cb_info(env, info, &argc, a, nullptr, nullptr));
  int t;
  if (!i32(env, a[0], &t)) return nullptr;
  g_threads = std::max(1, std::min(t, 256));
  napi_value r;
  CHECK(napi_create_int32(env, g_threads, &r));
  return r;
}

napi_value Threads(napi_env env, napi_callback_info) {
  napi_value r;
  CHECK(napi_create_int32(env, g_threads, &r));
  return r;
}

napi_value SimdInfo(napi_env env, napi_callback_info) {
#if defined(__AVX512F__)
  const char* s = "AVX-512 (zmm 14x32 tile)";
#elif defined(__AVX2__)
  const char* s = "AVX2 (6x16 tile)";
#elif defined(__AVX__)
  const char* s = "AVX (6x16 tile)";
#else
  const char* s = "128-bit vectors (6x8 tile)";
#endif
  napi_value r;
  CHECK(napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &r));
  return r;
}

napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"conv2d", nullptr, Conv2d, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"conv2dBackpropInput", nullptr, Conv2dBackpropInput, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"conv2dBackpropFilter", nullptr, Conv2dBackpropFilter, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"matmul", nullptr, MatMul, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"reduce", nullptr, Reduce, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"tile", nullptr, Tile, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"maxPool", nullptr, MaxPool, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"maxPoolGrad", nullptr, MaxPoolGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"batchNormTrain", nullptr, BatchNormTrain, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"batchNormTrainGrad", nullptr, BatchNormTrainGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"batchNormInference", nullptr, BatchNormInference, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"inferRun", nullptr, InferRun, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"threads", nullptr, Threads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"simd", nullptr, SimdInfo, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

#endif  // LW_NO_NAPI
}  // namespace

#ifndef LW_NO_NAPI
NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
#endif
