// Element-wise activations fused with their gradients (one pass each instead of tfjs' chain of
// broadcast compare / cast / multiply kernels), threaded over chunks: ReLU6, ReLU; and add (same shapes, or a scalar).
#include "kernels.h"

namespace lw {

namespace {
constexpr long kChunk = 1 << 14;  // elements per task: 64 KiB of floats
template <class F>
void chunked(long n, F&& f) {
  const int tasks = (int)((n + kChunk - 1) / kChunk);
  parallel(tasks, workers(tasks), [&](int t, int) {
    const long i0 = (long)t * kChunk, i1 = std::min(n, i0 + kChunk);
    f(i0, i1);
  });
}
}  // namespace

/** y = min(max(x, 0), 6) (ReLU6; NaN stays NaN as in tfjs' minimum(6, relu(x))). */
void relu6Forward(const float* x, float* y, long n) {
  chunked(n, [&](long i0, long i1) {
    for (long i = i0; i < i1; i++) {
      const float v = x[i];
      y[i] = v > 0.f ? (v < 6.f ? v : 6.f) : (v == v ? 0.f : v);
    }
  });
}

/**
 * dx = dy · [0 < x < 6] (the gradient of minimum(6, relu(x)) as tfjs computes it: dy · step(x) · [x < 6],
 * a product, so a NaN or infinite dy stays NaN where the mask is 0, as there). Branch-free, so it vectorises.
 */
void relu6Backward(const float* dy, const float* x, float* dx, long n) {
  chunked(n, [&](long i0, long i1) {
    for (long i = i0; i < i1; i++) {
      const float v = x[i];
      dx[i] = dy[i] * (float)((v > 0.f) & (v < 6.f));
    }
  });
}

/** y = max(x, 0) (ReLU; NaN stays NaN, as tfjs' Relu on every backend). */
void reluForward(const float* x, float* y, long n) {
  chunked(n, [&](long i0, long i1) {
    for (long i = i0; i < i1; i++) {
      const float v = x[i];
      y[i] = v < 0.f ? 0.f : v;
    }
  });
}

/**
 * dx = dy · step(x) with step(x) = 1 for x > 0, 0 for x ≤ 0 and NaN for NaN x (tfjs' Relu
 * gradient, mul(dy, cast(step(x)))), so a NaN or infinite dy stays NaN where the mask is 0,
 * and a NaN x gives NaN, as there. Branch-free, so it vectorises.
 */
void reluBackward(const float* dy, const float* x, float* dx, long n) {
  chunked(n, [&](long i0, long i1) {
    for (long i = i0; i < i1; i++) {
      const float v = x[i];
      const float m = v > 0.f ? 1.f : (v == v ? 0.f : v);
      dx[i] = dy[i] * m;
    }
  });
}

/** y = a + b over n floats (a same-shape Add: residual merges, autograd's gradient sums). */
void addSame(const float* a, const float* b, float* y, long n) {
  chunked(n, [&](long i0, long i1) {
    for (long i = i0; i < i1; i++) y[i] = a[i] + b[i];
  });
}

/** y = a + s over n floats (an Add of a scalar: Adam's √v̂ + ε). */
void addScalar(const float* a, float s, float* y, long n) {
  chunked(n, [&](long i0, long i1) {
    for (long i = i0; i < i1; i++) y[i] = a[i] + s;
  });
}

}  // namespace lw
