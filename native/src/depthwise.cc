// Depthwise convolution, NHWC, forward and both gradients, threaded (Howard et al. 2017,
// "MobileNets", §3.1: each input channel convolved with its own depthMultiplier filters).
//
// Geometry: the Conv dims with cout = cin · mult; the filter is [fh, fw, cin, mult], which
// viewed as [fh, fw, cout] puts output channel o = c·mult + m (TensorFlow's order) at
// (i·fw + j)·cout + o. Every loop runs channels innermost (contiguous in x, dy and the filter),
// so the compiler vectorises them; depthwise layers are memory-bound (9 multiply-adds per
// loaded value at 3×3), so there is no packing.
#include <vector>

#include "kernels.h"

namespace lw {

namespace {

/** Output columns ox whose input column ox·sw − left + j·dw lies in [0, w): [*lo, *hi). */
inline void validCols(const Conv& c, int j, int* lo, int* hi) {
  const int off = c.left - j * c.dw;  // ix = ox·sw − off
  int a = off > 0 ? (off + c.sw - 1) / c.sw : 0;
  int b = (c.w - 1 + off) >= 0 ? (c.w - 1 + off) / c.sw + 1 : 0;
  *lo = std::min(a, c.ow);
  *hi = std::max(*lo, std::min(b, c.ow));
}

/** y_row[ox, o] += x_row[ix, o / M] · w[o] over the valid ox of tap column j (one filter tap). */
inline void tapForward(const Conv& c, int M, int j, const float* xrow, const float* w, float* yrow) {
  int lo, hi;
  validCols(c, j, &lo, &hi);
  const int C = c.cin, O = c.cout;
  for (int ox = lo; ox < hi; ox++) {
    const float* xv = xrow + (long)(ox * c.sw - c.left + j * c.dw) * C;
    float* yv = yrow + (long)ox * O;
    if (M == 1) {
      for (int ch = 0; ch < C; ch++) yv[ch] += xv[ch] * w[ch];
    } else {
      for (int ch = 0; ch < C; ch++)
        for (int m = 0; m < M; m++) yv[ch * M + m] += xv[ch] * w[ch * M + m];
    }
  }
}

}  // namespace

/** y[b, oy, ox, c·M + m] = Σ_{i,j} x[b, oy·sh − top + i·dh, ox·sw − left + j·dw, c] · W[i, j, c, m]; parallel over output rows. */
void depthwiseForward(const Conv& c, const float* x, const float* W, float* y) {
  if (depthwiseForwardVec(c, x, W, nullptr, y, 0)) return;
  const int M = c.cout / c.cin, rows = c.n * c.oh;
  const long rowOut = (long)c.ow * c.cout;
  parallel(rows, workers(rows / 2 + 1), [&](int r, int) {
    const int b = r / c.oh, oy = r % c.oh;
    float* yrow = y + (long)r * rowOut;
    std::memset(yrow, 0, rowOut * 4);
    for (int i = 0; i < c.fh; i++) {
      const int iy = oy * c.sh - c.top + i * c.dh;
      if (iy < 0 || iy >= c.h) continue;
      const float* xrow = x + ((long)b * c.h + iy) * c.w * c.cin;
      for (int j = 0; j < c.fw; j++) tapForward(c, M, j, xrow, W + (long)(i * c.fw + j) * c.cout, yrow);
    }
  });
}

/**
 * dx[b, iy, ix, c] = Σ over the taps and outputs that read it of dy[b, oy, ox, c·M + m] · W[i, j, c, m]
 * (the transposed depthwise convolution); parallel over input rows, each task writing its own row.
 */
void depthwiseBackpropInput(const Conv& c, const float* dy, const float* W, float* dx) {
  const int M = c.cout / c.cin, C = c.cin, O = c.cout, rows = c.n * c.h;
  const long rowIn = (long)c.w * C;
  parallel(rows, workers(rows / 2 + 1), [&](int r, int) {
    const int b = r / c.h, iy = r % c.h;
    float* dxrow = dx + (long)r * rowIn;
    std::memset(dxrow, 0, rowIn * 4);
    for (int i = 0; i < c.fh; i++) {
      const int t = iy + c.top - i * c.dh;  // = oy·sh
      if (t < 0 || t % c.sh) continue;
      const int oy = t / c.sh;
      if (oy >= c.oh) continue;
      const float* dyrow = dy + ((long)b * c.oh + oy) * c.ow * O;
      for (int j = 0; j < c.fw; j++) {
        const float* w = W + (long)(i * c.fw + j) * O;
        int lo, hi;
        validCols(c, j, &lo, &hi);
        for (int ox = lo; ox < hi; ox++) {
          float* d = dxrow + (long)(ox * c.sw - c.left + j * c.dw) * C;
          const float* g = dyrow + (long)ox * O;
          if (M == 1) {
            for (int ch = 0; ch < C; ch++) d[ch] += g[ch] * w[ch];
          } else {
            for (int ch = 0; ch < C; ch++) {
              float s = 0.f;
              for (int m = 0; m < M; m++) s += g[ch * M + m] * w[ch * M + m];
              d[ch] += s;
            }
          }
        }
      }
    }
  });
}

/**
 * dW[i, j, c, m] = Σ_{b, oy, ox} x[b, oy·sh − top + i·dh, ox·sw − left + j·dw, c] · dy[b, oy, ox, c·M + m].
 * The output rows are cut into a fixed number of chunks (not one per thread); each chunk sums
 * into its own float buffer and the chunks are added in order in double: bit-identical for any
 * thread count.
 */
void depthwiseBackpropFilter(const Conv& c, const float* x, const float* dy, float* dW) {
  const int M = c.cout / c.cin, C = c.cin, O = c.cout, rows = c.n * c.oh;
  const long taps = (long)c.fh * c.fw * O;
  const int chunks = std::max(1, std::min(rows, 32));
  std::vector<float> part((size_t)chunks * taps, 0.f);
  parallel(chunks, workers(chunks), [&](int k, int) {
    float* acc = part.data() + (long)k * taps;
    const int r0 = (int)((long)rows * k / chunks), r1 = (int)((long)rows * (k + 1) / chunks);
    for (int r = r0; r < r1; r++) {
      const int b = r / c.oh, oy = r % c.oh;
      const float* dyrow = dy + (long)r * c.ow * O;
      for (int i = 0; i < c.fh; i++) {
        const int iy = oy * c.sh - c.top + i * c.dh;
        if (iy < 0 || iy >= c.h) continue;
        const float* xrow = x + ((long)b * c.h + iy) * c.w * C;
        for (int j = 0; j < c.fw; j++) {
          float* a = acc + (long)(i * c.fw + j) * O;
          int lo, hi;
          validCols(c, j, &lo, &hi);
          for (int ox = lo; ox < hi; ox++) {
            const float* xv = xrow + (long)(ox * c.sw - c.left + j * c.dw) * C;
            const float* g = dyrow + (long)ox * O;
            if (M == 1) {
              for (int ch = 0; ch < C; ch++) a[ch] += xv[ch] * g[ch];
            } else {
              for (int ch = 0; ch < C; ch++)
                for (int m = 0; m < M; m++) a[ch * M + m] += xv[ch] * g[ch * M + m];
            }
          }
        }
      }
    }
  });
  const int T = workers((int)std::min<long>(taps / 256 + 1, 64));
  parallelStatic(T, T, [&](int t, int) {
    const long q0 = taps * t / T, q1 = taps * (t + 1) / T;
    for (long q = q0; q < q1; q++) {
      double s = 0;
      for (int k = 0; k < chunks; k++) s += part[(size_t)k * taps + q];
      dW[q] = (float)s;
    }
  });
}

}  // namespace lw
