// Layerwise native CPU kernels: what every kernel file shares (vector type and register tile,
// matrix views, scratch buffers, the conv / pool geometries, the thread pool's parallel
// loops) and the entry points of each kernel family, one .cc file per family:
//   thread_pool.cc  persistent worker pool (parallel, parallelStatic)
//   gemm.cc         packed SGEMM (BLIS scheme) and batched matmul
//   conv.cc         convolution forward / input gradient / filter gradient by im2col + GEMM
//   conv_direct.cc  direct convolution kernels (one input channel; outputs as the vector;
//                   conv + 2×2 max pool fused) used by convForward and the executor
//   conv_filter_direct.cc  the filter gradient of stride-1 convs with 16 / 32 / 64 outputs, directly
//   pooling.cc      max pool and its gradient
//   depthwise.cc    depthwise convolution forward / input gradient / filter gradient
//   elementwise.cc  ReLU6, ReLU and their gradients, one pass each; add (same shapes, a scalar, a bias)
//   optimizer.cc    Adam and SGD-momentum updates, one pass per variable
//   batch_norm.cc   batch normalization (training forward / backward, inference)
//   reduce_tile.cc  Sum / Mean over a run of axes in double, Tile
//   infer.cc        the inference executor (a whole graph plan in one call; infer.h)
//   binding.cc      N-API glue: the exported functions (infer_binding.cc: the executor's); napi_args.h
//                   their argument checks (the only files that include node_api.h)
//
// Every tensor is float32, NHWC, row-major; filters are HWIO [fh, fw, cin, cout] as in
// TensorFlow. The kernels never allocate a tensor: callers pass the input and output
// buffers. Everything but binding.cc / infer_binding.cc builds without Node (no N-API), for kernel experiments.
#pragma once

#include <algorithm>
#include <cmath>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <vector>

namespace lw {

#if defined(LW_VW)  // overrides, for experiments
constexpr int VW = LW_VW;
constexpr int MR = LW_MR;
#elif defined(__AVX512F__)
constexpr int VW = 16;  // zmm: 14×32 tile, 28 accumulators of 32 registers. On Zen 5 (full-width AVX-512)
constexpr int MR = 14;  // 170–220 GFLOP/s on one core vs 80–120 for the ymm 12×16 tile
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

/** Eight floats whatever VW is (kernels over channel counts that are multiples of 8: batch norm, depthwise gradients). */
typedef float vf8 __attribute__((vector_size(32)));
inline vf8 load8(const float* p) {
  vf8 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline void store8(float* p, vf8 v) { std::memcpy(p, &v, sizeof v); }

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

/** Convolution geometry, NHWC / HWIO: [n, h, w, cin, oh, ow, cout, fh, fw, sh, sw, top, left, dh, dw] (the addon's conv dims). */
struct Conv {
  int n, h, w, cin, oh, ow, cout, fh, fw, sh, sw, top, left, dh, dw;
  int K() const { return fh * fw * cin; }
  long M() const { return (long)n * oh * ow; }
};

/** Pooling geometry, NHWC: [n, h, w, c, oh, ow, fh, fw, sh, sw, top, left] (the addon's pool dims). */
struct Pool2 {
  int n, h, w, c, oh, ow, fh, fw, sh, sw, top, left;
};

/** The epilogue of a conv / matmul block of rows × n outputs at y (row stride ld): y += bias (per column; may be null), then ReLU when act == 1, ReLU6 when act == 2. */
inline void biasAct(float* y, long rows, int n, long ld, const float* bias, int act) {
  if (!bias && act != 1 && act != 2) return;
  for (long r = 0; r < rows; r++) {
    float* row = y + r * ld;
    if (bias)
      for (int j = 0; j < n; j++) row[j] += bias[j];
    if (act == 1 || act == 2)
      for (int j = 0; j < n; j++) row[j] = row[j] > 0.f ? row[j] : 0.f;
    if (act == 2)
      for (int j = 0; j < n; j++) row[j] = row[j] < 6.f ? row[j] : 6.f;
  }
}

// ---------------------------------------------------------------- threads (thread_pool.cc)

/** Worker threads the kernels use (setThreads; default: the hardware's). */
extern int g_threads;

/**
 * Run job(w) on workers w = 0 … T−1 of the persistent pool (w = 0 on the caller) and wait.
 * open: the job hands out its work dynamically, so the caller waits only for workers that
 * entered before its own job(0) returned (see thread_pool.cc). Not reentrant.
 */
void poolRun(int T, const std::function<void(int)>& job, bool open);

/** Run f(task, worker) for task in [0, tasks) on T workers of the pool (the caller is worker 0), tasks handed out dynamically. */
template <class F>
void parallel(int tasks, int T, F&& f) {
  if (T <= 1) {
    for (int t = 0; t < tasks; t++) f(t, 0);
    return;
  }
  std::atomic<int> next{0};
  poolRun(
      T, [&](int w) {
        for (int t; (t = next.fetch_add(1)) < tasks;) f(t, w);
      },
      true);
}
/** Like parallel, but worker w runs the contiguous tasks [w·tasks/T, (w+1)·tasks/T) in order: deterministic partial sums. */
template <class F>
void parallelStatic(int tasks, int T, F&& f) {
  poolRun(
      T, [&](int w) {
        const int t0 = (int)((long)tasks * w / T), t1 = (int)((long)tasks * (w + 1) / T);
        for (int t = t0; t < t1; t++) f(t, w);
      },
      false);
}
/** Set inside a task of the inference executor: kernels called from it run on that thread only (the pool is not reentrant). */
inline thread_local bool t_serial = false;
inline int workers(int tasks) { return t_serial ? 1 : std::max(1, std::min(g_threads, tasks)); }

// ---------------------------------------------------------------- GEMM (gemm.cc)

/** C[m×n] (row stride ldc) = (acc ? C : 0) + A[m×k]·B[k×n]. Single-threaded; callers parallelise. */
void gemm(int m, int n, int k, Mat A, Mat B, float* C, long ldc, bool acc);
/** Batched C[b] = act(op(A[b])·op(B[b]) + bias); a batch stride of 0 broadcasts; act 0 linear, 1 relu. */
void matmul(int batch, int m, int n, int k, const float* A, long aStride, bool ta, const float* B, long bStride, bool tb, float* C, const float* bias, int act);

// ---------------------------------------------------------------- convolution (conv.cc, conv_direct.cc)

/** y[n, oh, ow, cout] = act(conv(x, W) + bias); bias may be null; act 0 linear, 1 relu, 2 relu6 (min(max(v, 0), 6)). */
void convForward(const Conv& c, const float* x, const float* W, const float* bias, float* y, int act);
/** dx[n, h, w, cin] = col2im(dy · Wᵀ). */
void convBackpropInput(const Conv& c, const float* dy, const float* W, float* dx);
/** dW[fh, fw, cin, cout] = im2col(x)ᵀ · dy; bit-identical for a given thread count. */
void convBackpropFilter(const Conv& c, const float* x, const float* dy, float* dW);

/**
 * The filter gradient of a stride-1 conv with cout = VW, 2·VW or 4·VW (fw 2…5, no dilation, ≥ 4
 * input channels) without im2col (conv_filter_direct.cc); static split over images, bit-identical
 * for a given thread count. False (nothing done) when it does not apply.
 */
bool convFilterDirect(const Conv& c, const float* x, const float* dy, float* dW);
/** The filter gradient of a stride-1 conv with one input channel, ≤ 8 outputs, fw ≤ 5 (conv_filter_direct.cc); as convFilterDirect otherwise. */
bool convFilterDirect1(const Conv& c, const float* x, const float* dy, float* dW);
/** The one-input-channel direct kernel when it applies (x-stride 1, ≤ 16 outputs); false otherwise. */
bool convDirect(const Conv& c, const float* x, const float* W, const float* bias, float* y, int act);
/**
 * The vector-over-cout direct kernel for any padding (cout = VW, 2·VW or 4·VW; stride and dilation 1;
 * not 1×1; any number of input channels): each image copied zero-padded (one pass over x instead of im2col's
 * fh·fw), then one output row of PX pixels × cout/VW vectors of accumulators at a time; threaded
 * over images (and bands of rows when images are fewer than 2 per thread; the sums do not depend on
 * the split). res (c.n × oh × ow × cout, or null): a residual added in the epilogue, y = act((conv(x) + bias) + res)
 * with act 0 or 1 (relu as std::max(v, 0)): the numbers of the conv then a separate add + relu; then serial (the
 * executor's), one band an image, and y may be res (not x).
 * False (nothing done) when it does not apply.
 */
bool convVecPadded(const Conv& c, const float* x, const float* W, const float* bias, float* y, int act, const float* res = nullptr);
/**
 * 1×1 stride-1 convs (pointwise, MobileNet's) with cout = VW, 2·VW or 4·VW and ≤ 64 input channels by the
 * vector-over-cout kernel over blocks of pixels, x read in place: the GEMM's 14×32 tile half empty at 16
 * outputs and its packing not repaid at K ≤ 64. False (nothing done) when it does not apply.
 */
bool convPointwiseVec(const Conv& c, const float* x, const float* W, const float* bias, float* y, int act);
/**
 * The vector-over-cout block over strided pixels of a zero-padded band (no dilation, not 1×1), for convs with fewer
 * outputs than a vector has lanes and ≤ 16 input channels at any stride (the outputs padded to one vector, zero
 * weights above cout: MobileNet's first layer, 3 → 8 at stride 2, where im2col + GEMM ran a 32-wide tile for 8
 * columns at K = 27), and for 16 / 32 / 64 outputs at strides > 1 (ResNet's 16 → 32, 32 → 64). False (nothing done)
 * when it does not apply.
 */
bool convStridedVec(const Conv& c, const float* x, const float* W, const float* bias, float* y, int act);
/** Tasks of (image, band of output rows) for c: one band an image unless images are fewer than 2 a thread (then ≥ 2 tasks a thread). */
void rowBands(const Conv& c, int* bands, int* bandRows);
/** xp[r][q][ci] (rows × wp × cin) = image xb's row iy0 + r, column q − c.left, zero outside (a zero-padded band of input rows). */
void padRows(const Conv& c, const float* xb, int iy0, int rows, int wp, float* xp);
/** Does convWinograd apply to c (3×3, stride 1, no dilation, cin and cout multiples of VW, padding 0–2)? LAYERWISE_WINOGRAD=0: never. */
bool convWinogradOk(const Conv& c);
/** Does convWinograd apply with p fused (convWinogradOk, p a 2×2 / 2 unpadded max pool over c's whole, even-sized output)? */
bool convWinogradPoolOk(const Conv& c, const Pool2& p);
/**
 * y = act(conv(x, W) + bias [+ res]) [then p's 2×2 max pool] by Winograd F(2×2, 3×3) (conv_winograd.cc; Lavin & Gray 2016):
 * x [n, h, w, cin], W HWIO [3, 3, cin, cout], bias [cout] or null, y [n, oh, ow, cout] ([n, oh/2, ow/2, cout] with p),
 * res (null, or y's shape without p). act 0 linear, 1 relu, 2 relu6. Threaded over blocks of tiles unless t_serial.
 * U: W's transform (winogradFilterTransform) when the caller keeps one, else computed per call.
 * False (nothing written) when it does not apply.
 */
bool convWinograd(const Conv& c, const float* x, const float* W, const float* bias, float* y, int act, const float* res = nullptr, const Pool2* p = nullptr, const float* U = nullptr);
/** U[ξ][ci][co] (16 × cin × cout) = (G g Gᵀ)[ξ] of the HWIO filter W [3, 3, cin, cout]: convWinograd's transformed filter (its U, given when fixed weights run many times). */
void winogradFilterTransform(int cin, int cout, const float* W, float* U);
/** dW [3, 3, cin, cout] of a conv convWinogradOk takes, from x [n, h, w, cin] and dy [n, oh, ow, cout], by Winograd F(2×2, 3×3) transposed; false when it does not apply. */
bool convFilterWinograd(const Conv& c, const float* x, const float* dy, float* dW);
/** Does convVecPadded apply to c? */
bool convVecPaddedOk(const Conv& c);
/** Does convVecPaddedPool apply (convVecPaddedOk, and p a 2×2 / 2 unpadded max pool over c's whole output)? */
bool convVecPaddedPoolOk(const Conv& c, const Pool2& p);
/**
 * Serial: maxpool(act(conv(x) + bias)) by convVecPadded's kernel (convVecPaddedPoolOk must hold), two conv rows at
 * a time in an L1 buffer, pooled from there: the same numbers as convVecPadded then the pool, the conv map never written.
 */
void convVecPaddedPool(const Conv& c, const Pool2& p, const float* x, const float* W, const float* bias, float* y, int act);
/** Does the vector-over-cout direct kernel apply? (p: the 2×2 / 2 unpadded max pool to fuse, or null.) */
bool convVecOk(const Conv& c, const Pool2* p);
/**
 * Serial: y = act(conv(x) + bias) for c.n images by the vector-over-cout kernel, or its 2×2 / 2 max pool when p is given.
 * res (no pool only; c.n × oh × ow × cout, or null): a residual added in the epilogue, as convVecPadded's.
 */
void convVecSerial(const Conv& c, const Pool2* p, const float* x, const float* W, const float* bias, float* y, int act, const float* res = nullptr);
/** Does the one-input-channel conv fused with the 2×2 / 2 max pool p apply? */
bool convDirect1PoolOk(const Conv& c, const Pool2& p);
/** Serial: maxpool(act(conv(x) + bias)) by the one-input-channel kernel (convDirect1PoolOk must hold). */
void convDirect1Pool(const Conv& c, const Pool2& p, const float* x, const float* W, const float* bias, float* y, int act);

// ---------------------------------------------------------------- depthwise convolution (depthwise.cc)
// Conv dims with cout = cin · depthMultiplier; filter [fh, fw, cin, mult] (output channel c·mult + m).

/** y[n, oh, ow, cin·mult] = depthwise conv(x, W) (no bias, no activation: tfjs-layers adds them apart). */
void depthwiseForward(const Conv& c, const float* x, const float* W, float* y);
/**
 * y = act(depthwise conv(x, W) + bias) (act 0, 1 relu, 2 relu6; bias may be null) with the taps summed in registers
 * (depthwise_vec.cc): depth multiplier 1, no dilation, channels a multiple of VW (any stride) or dividing VW (stride 1).
 * False (nothing done) when it does not apply.
 */
bool depthwiseForwardVec(const Conv& c, const float* x, const float* W, const float* bias, float* y, int act);
/** Does depthwiseForwardVec take c? */
bool depthwiseVecOk(const Conv& c);
/**
 * dx[n, h, w, cin] = the transposed depthwise convolution of dy with W; at stride 1 with depth multiplier 1 (when
 * depthwiseForwardVec takes it) the forward of dy with the filter turned 180° and the complementary padding.
 */
void depthwiseBackpropInput(const Conv& c, const float* dy, const float* W, float* dx);
/** dW[fh, fw, cin, mult] = Σ over images and output pixels of x · dy; bit-identical for any thread count. */
void depthwiseBackpropFilter(const Conv& c, const float* x, const float* dy, float* dW);

// ---------------------------------------------------------------- element-wise (elementwise.cc)

constexpr long kElementChunk = 1 << 14;  // elements per task of an element-wise pass: 64 KiB of floats
/** f(i0, i1) over [0, n) in chunks of kElementChunk, on the pool (element-wise passes: elementwise.cc, optimizer.cc). */
template <class F>
void chunked(long n, F&& f) {
  const int tasks = (int)((n + kElementChunk - 1) / kElementChunk);
  parallel(tasks, workers(tasks), [&](int t, int) {
    const long i0 = (long)t * kElementChunk, i1 = std::min(n, i0 + kElementChunk);
    f(i0, i1);
  });
}

/** y = min(max(x, 0), 6) over n floats. */
void relu6Forward(const float* x, float* y, long n);
/** dx = dy where 0 < x < 6, else 0. */
void relu6Backward(const float* dy, const float* x, float* dx, long n);
/** y = max(x, 0) over n floats (NaN stays NaN). */
void reluForward(const float* x, float* y, long n);
/** dx = dy · step(x): dy where x > 0, 0·dy where x ≤ 0, NaN where x is NaN. */
void reluBackward(const float* dy, const float* x, float* dx, long n);
/** y = a + b over n floats. */
void addSame(const float* a, const float* b, float* y, long n);
/** y = a + s over n floats. */
void addScalar(const float* a, float s, float* y, long n);
/** y[r, c] = a[r, c] + bias[c] over rows × C floats (a bias broadcast over the last axis). */
void addBias(const float* a, const float* bias, float* y, long rows, int C);

// ---------------------------------------------------------------- optimizer updates (optimizer.cc)

/** Adam's float32 scalars, as tfjs makes them: 1 − β as a double rounded once, 1 − β^t from its float32 β^t. */
struct AdamScalars {
  float beta1, oneMinusBeta1, beta2, oneMinusBeta2, oneMinusAccBeta1, oneMinusAccBeta2, epsilon, negLearningRate;
};
/** Adam (Kingma & Ba 2015, Alg. 1, tfjs' form): m' = β₁m + (1−β₁)g, v' = β₂v + (1−β₂)g², x' = x − lr·(m'/(1−β₁ᵗ))/(√(v'/(1−β₂ᵗ)) + ε). */
void adamUpdate(const float* x, const float* m, const float* v, const float* g, float* xo, float* mo, float* vo, long n, const AdamScalars& s);
/** SGD with momentum (tfjs' form, not Nesterov): a' = μ·a + g, x' = (−lr)·a' + x. */
void momentumUpdate(const float* x, const float* acc, const float* g, float* xo, float* acco, long n, float momentum, float negLearningRate);

// ---------------------------------------------------------------- max pool (pooling.cc)

/** y[b, oy, ox, ch] = max over the window (padding never wins: windows are clipped to the image). */
void maxPoolForward(const Pool2& p, const float* x, float* y);
/** dx = Σ over windows of dy routed to the window's first maximum (row-major scan, as tfjs). */
void maxPoolBackward(const Pool2& p, const float* dy, const float* x, float* dx);

// ---------------------------------------------------------------- batch norm (batch_norm.cc), x viewed as [M, C]

/**
 * Training mode: per-channel mean, biased variance (double sums), invstd = 1/√(var + ε); y = (x − μ)·γ·invstd + β,
 * then ReLU (act 1) or ReLU6 (act 2) in the same pass when act ≠ 0 (0: none).
 */
void bnTrainForward(const float* x, const float* gamma, const float* beta, float* y, float* mean, float* var, float* invstd, long M, int C, double eps, int act = 0);
/**
 * Its gradient: dx, dγ = Σdy·x̂, dβ = Σdy; dmean / dvar (gradients reaching the mean / variance outputs) may be null.
 * act ≠ 0: the forward had that activation fused (dy is the gradient of the activated output); its mask is rebuilt
 * from x, the saved mean / invstd, γ and beta (β, may be null: 0) exactly as the forward computed it.
 */
void bnTrainBackward(const float* x, const float* dy, const float* gamma, const float* mean, const float* invstd, const float* dmean, const float* dvar,
                     float* dx, float* dgamma, float* dbeta, long M, int C, const float* beta = nullptr, int act = 0);
/** Inference with given statistics: y = (x − mean)·γ/√(var + ε) + β; gamma / beta may be null (1 / 0). */
void bnInference(const float* x, const float* mean, const float* var, const float* gamma, const float* beta, float* y, long M, int C, double eps);

// ---------------------------------------------------------------- reductions, tile (reduce_tile.cc)

/** out[a, b] = Σ_r x[a, r, b] (× 1/R for a mean), accumulated in double. */
void reduceMid(const float* x, float* out, long A, long R, long B, bool mean);
/** Tile: out (shape xs[d]·reps[d]) repeats x; strides in elements per axis (rank ≤ 8). */
void tileRec(int d, int rank, const float* x, float* o, const long* xs, const long* reps, const long* xStride, const long* oStride);

// The inference executor (infer.cc) has its own header, infer.h.

}  // namespace lw
