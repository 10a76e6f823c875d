// Convolution by blocked im2col + GEMM (Chellapilla, Puri & Simard 2006, "High performance
// convolutional neural networks for document processing"): forward (bias + ReLU in the
// epilogue; the one-input-channel case by a direct kernel, conv_direct.cc), the input
// gradient (GEMM then col2im) and the filter gradient (im2colᵀ · dy, static split), threaded
// over row blocks. Any stride / padding / dilation.
#include "kernels.h"

namespace lw {

namespace {

/** Output pixel R of [n·oh·ow] (row-major) as image b, row oy, column ox. */
struct OutPixel {
  int b, oy, ox;
};
inline OutPixel outPixel(const Conv& c, long R) {
  const long plane = (long)c.oh * c.ow;
  const int rem = (int)(R % plane);
  return OutPixel{(int)(R / plane), rem / c.ow, rem % c.ow};
}

/** cols[r][(i·fw + j)·cin + c] = x[b, oy·sh − top + i·dh, ox·sw − left + j·dw, c] (0 outside) for rows r0 … r0+rows of [n·oh·ow]. */
void im2col(const Conv& c, const float* x, long r0, int rows, float* cols) {
  const int K = c.K();
  for (int r = 0; r < rows; r++) {
    const OutPixel q = outPixel(c, r0 + r);
    const int b = q.b, oy = q.oy, ox = q.ox;
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
  for (int r = 0; r < rows; r++) {
    const OutPixel q = outPixel(c, r0 + r);
    const int b = q.b, oy = q.oy, ox = q.ox;
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

/** A 1×1, stride-1, unpadded conv: im2col of x is x itself. */
bool im2colIsInput(const Conv& c) {
  return c.fh == 1 && c.fw == 1 && c.sh == 1 && c.sw == 1 && c.top == 0 && c.left == 0 && c.oh == c.h && c.ow == c.w;
}

/**
 * dx of a stride-1 conv with few input channels (CIN input channels, ≤ 64 outputs, any padding and dilation): per image, dy
 * copied once into zero-padded planes dyp[co][r][q] = dy[r − pr, q − pc, co] (pr = (fh−1)·dh − top, pc likewise),
 * then dx[iy, ix, ci] = Σ_{i,j,co} W[i, j, ci, co] · dyp[co][iy + (fh−1−i)·dh][ix + (fw−1−j)·dw] (the
 * rotated-filter form of convBackpropInputStride1) with VW pixels of one row as the vector and CIN accumulators,
 * one dyp load per tap. The GEMM + col2im path ran K = fh·fw·cin columns of col2im per pixel (M1's 1 → 6 first
 * conv: 5.1 ms for 64 images). The sums per pixel run in a fixed order: any thread split gives the same dx.
 */
template <int CIN>
void backpropInputPlanar(const Conv& c, const float* dy, const float* W, float* dx) {
  const int pr = (c.fh - 1) * c.dh - c.top, pc = (c.fw - 1) * c.dw - c.left;
  const int nchunk = (c.w + VW - 1) / VW;
  const int hp = c.h + (c.fh - 1) * c.dh, wp = nchunk * VW + (c.fw - 1) * c.dw;
  const long plane = (long)hp * wp;
  // Wr[(i·fw + j)·cout + co][ci] = W[i, j, ci, co]: the CIN weights of one tap and output contiguous.
  std::vector<float> Wr((size_t)c.fh * c.fw * c.cout * CIN);
  for (int t = 0; t < c.fh * c.fw; t++)
    for (int ci = 0; ci < CIN; ci++)
      for (int co = 0; co < c.cout; co++) Wr[((size_t)t * c.cout + co) * CIN + ci] = W[((long)t * CIN + ci) * c.cout + co];
  parallel(c.n, workers(c.n), [&](int b, int) {
    thread_local Buf pbuf;
    float* dyp = pbuf.get((size_t)c.cout * plane);
    std::memset(dyp, 0, (size_t)c.cout * plane * 4);
    const float* db = dy + (long)b * c.oh * c.ow * c.cout;
    for (int oy = 0; oy < c.oh; oy++) {
      const int r = oy + pr;
      if (r < 0 || r >= hp) continue;
      for (int ox = 0; ox < c.ow; ox++) {
        const int q = ox + pc;
        if (q < 0 || q >= wp) continue;
        const float* src = db + ((long)oy * c.ow + ox) * c.cout;
        for (int co = 0; co < c.cout; co++) dyp[co * plane + (long)r * wp + q] = src[co];
      }
    }
    float* xb = dx + (long)b * c.h * c.w * CIN;
    alignas(64) float tmp[CIN][VW];
    for (int iy = 0; iy < c.h; iy++)
      for (int ch = 0; ch < nchunk; ch++) {
        vf acc[CIN];
        for (int ci = 0; ci < CIN; ci++) acc[ci] = vf{};
        for (int co = 0; co < c.cout; co++) {
          const float* pl = dyp + co * plane;
          for (int i = 0; i < c.fh; i++) {
            const float* row = pl + (long)(iy + (c.fh - 1 - i) * c.dh) * wp + ch * VW;
            for (int j = 0; j < c.fw; j++) {
              const vf v = loadu(row + (c.fw - 1 - j) * c.dw);
              const float* w = Wr.data() + ((size_t)(i * c.fw + j) * c.cout + co) * CIN;
              for (int ci = 0; ci < CIN; ci++) acc[ci] += w[ci] * v;
            }
          }
        }
        for (int ci = 0; ci < CIN; ci++) storeu(tmp[ci], acc[ci]);
        const int n = std::min(VW, c.w - ch * VW);
        float* out = xb + ((long)iy * c.w + ch * VW) * CIN;
        for (int p = 0; p < n; p++)
          for (int ci = 0; ci < CIN; ci++) out[p * CIN + ci] = tmp[ci][p];
      }
  });
}

/**
 * backpropInputPlanar when it applies: stride 1, one input channel (grayscale first layers, whose dx tfjs' fused conv
 * computes too), ≤ 64 outputs, pr / pc ≥ 0; false (nothing done) otherwise. Measured slower than the GEMM + col2im
 * path at cin = 3 (3 → 16, 3×3: 6.4 → 7.1 ms) and cin = 6 (6 → 16, 5×5: 2.2 → 2.9 ms), so those keep it.
 */
bool convBackpropInputPlanar(const Conv& c, const float* dy, const float* W, float* dx) {
  if (c.sh != 1 || c.sw != 1 || c.cin != 1 || c.cout > 64) return false;
  if ((c.fh - 1) * c.dh - c.top < 0 || (c.fw - 1) * c.dw - c.left < 0) return false;
  backpropInputPlanar<1>(c, dy, W, dx);
  return true;
}

}  // namespace

/** y[n, oh, ow, cout] = act(conv(x, W) + bias). */
void convForward(const Conv& c, const float* x, const float* W, const float* bias, float* y, int act) {
  if (convDirect(c, x, W, bias, y, act) || convWinograd(c, x, W, bias, y, act) || convVecPadded(c, x, W, bias, y, act) || convPointwiseVec(c, x, W, bias, y, act) ||
      convStridedVec(c, x, W, bias, y, act))
    return;
  const long M = c.M();
  const int K = c.K(), N = c.cout;
  const int tasks = (int)((M + ROWS - 1) / ROWS);
  const bool direct = im2colIsInput(c);
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
    biasAct(y + r0 * N, rows, N, N, bias, act);
  });
}

/**
 * dx[n, h, w, cin] of a stride-1 conv as a forward conv of dy (Dumoulin & Visin 2016, "A guide
 * to convolution arithmetic", §4.1): dx[iy, ix, ci] = Σ dy[iy + top − i·dh, ix + left − j·dw, co]
 * · W[i, j, ci, co], i.e. dy convolved with the filter rotated by 180° and transposed,
 * W'[fh−1−i, fw−1−j, co, ci] = W[i, j, ci, co], padded (fh−1)·dh − top above, (fw−1)·dw − left
 * on the left. One GEMM of depth fh·fw·cout per row block instead of dy·Wᵀ (depth cout only,
 * K-wide output) and a col2im pass.
 */
void convBackpropInputStride1(const Conv& c, const float* dy, const float* W, float* dx) {
  const Conv t{c.n, c.oh, c.ow, c.cout, c.h, c.w, c.cin, c.fh, c.fw, 1, 1, (c.fh - 1) * c.dh - c.top, (c.fw - 1) * c.dw - c.left, c.dh, c.dw};
  std::vector<float> Wt((size_t)c.fh * c.fw * c.cin * c.cout);
  for (int i = 0; i < c.fh; i++)
    for (int j = 0; j < c.fw; j++) {
      const float* src = W + (long)(i * c.fw + j) * c.cin * c.cout;
      float* dst = Wt.data() + (long)((c.fh - 1 - i) * c.fw + (c.fw - 1 - j)) * c.cout * c.cin;
      for (int ci = 0; ci < c.cin; ci++)
        for (int co = 0; co < c.cout; co++) dst[(long)co * c.cin + ci] = src[(long)ci * c.cout + co];
    }
  convForward(t, dy, Wt.data(), nullptr, dx, 0);
}

/**
 * dx[n, h, w, cin] = col2im(dy · Wᵀ); parallel over images (col2im of one image stays in one thread).
 * Stride 1 with ≥ 8 input channels: convBackpropInputStride1 (with fewer, its GEMM would be
 * cin columns wide: 3→16 at 32×32 took 4.1 ms that way vs 2.5 here); with fewer, backpropInputPlanar.
 */
void convBackpropInput(const Conv& c, const float* dy, const float* W, float* dx) {
  if (c.sh == 1 && c.sw == 1 && c.cin >= 8) return convBackpropInputStride1(c, dy, W, dx);
  if (convBackpropInputPlanar(c, dy, W, dx)) return;
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
  if (convFilterWinograd(c, x, dy, dW) || convFilterDirect(c, x, dy, dW) || convFilterDirect1(c, x, dy, dW)) return;
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
    const bool direct = im2colIsInput(c);
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

}  // namespace lw
