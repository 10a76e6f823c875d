// Max pooling, NHWC, forward and gradient, threaded (the gradient over images).
#include <vector>

#include "kernels.h"

namespace lw {

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

/**
 * dx = Σ over windows of dy routed to the window's first maximum (row-major scan, as tfjs:
 * the window's first element, then each strictly greater one); parallel over images. The
 * scan keeps every channel's running maximum and its offset, channels innermost (contiguous).
 */
namespace {
/**
 * maxPoolBackward for 2×2 windows at stride 2 inside the image (no padding) with fewer than 16 channels
 * (LeNet's 6): each x belongs to at most one window, so dx is written once, and the window's first
 * maximum (row-major, strictly greater replaces: the element the general scan picks) is found
 * branch-free per channel. With few channels the general scan's per-window loops and its branch on
 * random data dominate (64×28×28×6: 1.6 → 1.3 ms CPU); from 16 channels it vectorises and is faster.
 */
void maxPoolBackward2x2(const Pool2& p, const float* dy, const float* x, float* dx) {
  parallel(p.n, workers(p.n), [&](int b, int) {
    const int C = p.c;
    const long img = (long)p.h * p.w * C, row = (long)p.w * C;
    const float* xb = x + b * img;
    float* db = dx + b * img;
    if (2 * p.oh != p.h || 2 * p.ow != p.w) std::memset(db, 0, img * 4);  // a last row / column no window covers
    const float* dyb = dy + (long)b * p.oh * p.ow * C;
    for (int oy = 0; oy < p.oh; oy++)
      for (int ox = 0; ox < p.ow; ox++) {
        const long q = 2 * oy * row + 2L * ox * C;
        const float *x0 = xb + q, *x1 = x0 + C, *x2 = x0 + row, *x3 = x2 + C;
        float *d0 = db + q, *d1 = d0 + C, *d2 = d0 + row, *d3 = d2 + C;
        const float* g = dyb + ((long)oy * p.ow + ox) * C;
        for (int ch = 0; ch < C; ch++) {
          float m = x0[ch];
          int k = 0;
          k = x1[ch] > m ? 1 : k;
          m = x1[ch] > m ? x1[ch] : m;
          k = x2[ch] > m ? 2 : k;
          m = x2[ch] > m ? x2[ch] : m;
          k = x3[ch] > m ? 3 : k;
          const float gv = 0.f + g[ch];  // as the general path's zeroed dx += g (−0 becomes +0 there too)
          d0[ch] = k == 0 ? gv : 0.f;
          d1[ch] = k == 1 ? gv : 0.f;
          d2[ch] = k == 2 ? gv : 0.f;
          d3[ch] = k == 3 ? gv : 0.f;
        }
      }
  });
}
}  // namespace

void maxPoolBackward(const Pool2& p, const float* dy, const float* x, float* dx) {
  if (p.c < 16 && p.fh == 2 && p.fw == 2 && p.sh == 2 && p.sw == 2 && p.top == 0 && p.left == 0 && 2 * p.oh <= p.h && 2 * p.ow <= p.w) {
    maxPoolBackward2x2(p, dy, x, dx);
    return;
  }
  parallel(p.n, workers(p.n), [&](int b, int) {
    thread_local std::vector<float> bestBuf;
    thread_local std::vector<long> atBuf;
    bestBuf.resize(p.c);
    atBuf.resize(p.c);
    float* best = bestBuf.data();
    long* at = atBuf.data();
    const int C = p.c;
    const long img = (long)p.h * p.w * C;
    const float* xb = x + b * img;
    float* db = dx + b * img;
    std::memset(db, 0, img * 4);
    const float* dyb = dy + (long)b * p.oh * p.ow * C;
    for (int oy = 0; oy < p.oh; oy++) {
      const int y0 = std::max(0, oy * p.sh - p.top), y1 = std::min(p.h, oy * p.sh - p.top + p.fh);
      for (int ox = 0; ox < p.ow; ox++) {
        const int x0 = std::max(0, ox * p.sw - p.left), x1 = std::min(p.w, ox * p.sw - p.left + p.fw);
        if (y0 >= y1 || x0 >= x1) continue;  // an empty window routes nothing
        const long first = ((long)y0 * p.w + x0) * C;
        for (int ch = 0; ch < C; ch++) {
          best[ch] = xb[first + ch];
          at[ch] = first + ch;
        }
        for (int iy = y0; iy < y1; iy++)
          for (int ix = iy == y0 ? x0 + 1 : x0; ix < x1; ix++) {
            const long q = ((long)iy * p.w + ix) * C;
            const float* v = xb + q;
            for (int ch = 0; ch < C; ch++)
              if (v[ch] > best[ch]) {
                best[ch] = v[ch];
                at[ch] = q + ch;
              }
          }
        const float* g = dyb + ((long)oy * p.ow + ox) * C;
        for (int ch = 0; ch < C; ch++) db[at[ch]] += g[ch];
      }
    }
  });
}

}  // namespace lw
