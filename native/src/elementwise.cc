// Element-wise activations fused with their gradients (one pass each instead of tfjs' chain of
// broadcast compare / cast / multiply kernels), threaded over chunks: ReLU6, ReLU; and add (same shapes, a scalar, or a bias over the last axis).
#include "kernels.h"

namespace lw {

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

/** y[r, c] = a[r, c] + bias[c] (a conv / dense bias: tfjs-layers adds it as a broadcast Add under autograd). */
void addBias(const float* a, const float* bias, float* y, long rows, int C) {
  const long rowsPerTask = std::max(1L, kElementChunk / C);
  const int tasks = (int)((rows + rowsPerTask - 1) / rowsPerTask);
  parallel(tasks, workers(tasks), [&](int t, int) {
    const long r0 = (long)t * rowsPerTask, r1 = std::min(rows, r0 + rowsPerTask);
    for (long r = r0; r < r1; r++) {
      const float* ar = a + r * C;
      float* yr = y + r * C;
      for (int c = 0; c < C; c++) yr[c] = ar[c] + bias[c];
    }
  });
}

}  // namespace lw
