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

/** Does filterVecRows take c? 3×3, depth multiplier 1, no dilation, channels a multiple of 8, padding inside the filter. */
bool filterVecOk(const Conv& c) {
  return c.fh == 3 && c.fw == 3 && c.cout == c.cin && c.cin % 8 == 0 && c.dh == 1 && c.dw == 1 && c.top >= 0 && c.left >= 0 && c.top < 3 && c.left < 3;
}

/**
 * acc[(i·3 + j)·C + ch] += Σ over output rows [r0, r1) (of the batch) and columns ox of x[iy, ox·sw − left + j, ch] ·
 * dy[oy, ox, ch]: per image a zero-padded band of the input rows the output rows read, then per output row and
 * 8-channel vector the 9 taps summed over the row in 9 registers (one dy load feeds nine FMAs) and added to acc.
 */
void filterVecRows(const Conv& c, const float* x, const float* dy, int r0, int r1, float* acc) {
  const int C = c.cin, wp = (c.ow - 1) * c.sw + 3;
  const long img = (long)c.h * c.w * C, rowStride = (long)wp * C;
  thread_local Buf pbuf;
  for (int r = r0; r < r1;) {
    const int b = r / c.oh, oy0 = r % c.oh, oy1 = std::min(c.oh, oy0 + (r1 - r));
    const int hp = (oy1 - oy0 - 1) * c.sh + 3;
    float* xp = pbuf.get((size_t)hp * rowStride);
    padRows(c, x + b * img, oy0 * c.sh - c.top, hp, wp, xp);
    for (int oy = oy0; oy < oy1; oy++) {
      const float* xr = xp + (long)(oy - oy0) * c.sh * rowStride;
      const float* g = dy + ((long)b * c.oh + oy) * c.ow * C;
      for (int v = 0; v < C; v += 8) {
        vf8 a[9] = {};
        for (int ox = 0; ox < c.ow; ox++) {
          const vf8 gv = load8(g + (long)ox * C + v);
          const float* xq = xr + (long)ox * c.sw * C + v;
          for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++) a[i * 3 + j] += load8(xq + i * rowStride + (long)j * C) * gv;
        }
        for (int t = 0; t < 9; t++) {
          float* d = acc + (long)t * C + v;
          store8(d, load8(d) + a[t]);
        }
      }
    }
    r += oy1 - oy0;
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
  if (c.sh == 1 && c.sw == 1 && c.cout == c.cin) {
    // dx[iy, ix] = Σ_{i,j} dy[iy + top − i, ix + left − j]·W[i, j] = a forward of dy with W'[i', j'] = W[fh−1−i', fw−1−j']
    // and padding (fh − 1 − top, fw − 1 − left): the register-tiled forward (taps summed in order i', j').
    Conv t = c;
    t.h = c.oh;
    t.w = c.ow;
    t.oh = c.h;
    t.ow = c.w;
    t.top = c.fh - 1 - c.top;
    t.left = c.fw - 1 - c.left;
    if (depthwiseVecOk(t)) {
      const long taps = (long)c.fh * c.fw;
      std::vector<float> rot((size_t)taps * c.cin);
      for (long q = 0; q < taps; q++) std::memcpy(rot.data() + q * c.cin, W + (taps - 1 - q) * c.cin, (size_t)c.cin * 4);
      if (depthwiseForwardVec(t, dy, rot.data(), nullptr, dx, 0)) return;
    }
  }
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
  const bool vec = filterVecOk(c);
  parallel(chunks, workers(chunks), [&](int k, int) {
    float* acc = part.data() + (long)k * taps;
    const int r0 = (int)((long)rows * k / chunks), r1 = (int)((long)rows * (k + 1) / chunks);
    if (vec) return filterVecRows(c, x, dy, r0, r1, acc);
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
