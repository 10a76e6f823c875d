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
void maxPoolBackward(const Pool2& p, const float* dy, const float* x, float* dx) {
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
