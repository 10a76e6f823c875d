// Direct convolution kernels for shapes where im2col + GEMM wastes the register tile:
//  - one input channel (grayscale first layers), by convForward and the executor, alone or
//    with the 2×2 / 2 max pool that follows fused;
//  - as many outputs as a vector has lanes (cout = VW), in the executor, alone or with the pool.
// Sums run in im2col's order, so the numbers equal the GEMM path's up to its blocking; a max
// pool is taken before bias and ReLU (both monotone: the same numbers as conv → pool).
// (One file of ~465 lines: every kernel here shares the anonymous-namespace templates above it —
// withConstant's run-time → template dispatch, the padded row bands, pool2x2Follows — which a
// split would have to publish in a header for a single caller each.)
#include <type_traits>

#include "kernels.h"

namespace lw {

namespace {

/** Calls f(std::integral_constant<int, v>) for LO ≤ v ≤ HI (a template argument chosen at run time); false when v is outside. */
template <int LO, int HI, class F>
bool withConstant(int v, F&& f) {
  if (v == LO) {
    f(std::integral_constant<int, LO>{});
    return true;
  }
  if constexpr (LO < HI) return withConstant<LO + 1, HI>(v, f);
  return false;
}

/**
 * One output row oy of image xb for the one-input-channel kernel, before bias: planar
 * out[co·nchunk·VW + ox]. The fh input rows it reads are first copied zero-padded into xp
 * (fh × pw floats); per tap, one load of a padded row and COUT FMAs into COUT accumulators.
 */
template <int COUT>
inline void direct1Row(const Conv& c, const float* xb, const float* W, int oy, int nchunk, int pw, float* xp, float* out) {
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
}

/**
 * Direct convolution for one input channel (grayscale first layers: M1's 28×28×1 → 6),
 * stride 1 along x, COUT ≤ 16 outputs: im2col + GEMM would have K = fh·fw and n = COUT,
 * a sliver of the micro-tile. Here each output row is a few vectors over x (direct1Row),
 * then a transposed store to NHWC with bias and ReLU.
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
    direct1Row<COUT>(c, x + (long)b * c.h * c.w, W, oy, nchunk, pw, xp, out);
    float* yr = y + (long)r * c.ow * COUT;
    const long stride = (long)nchunk * VW;
    for (int ox = 0; ox < c.ow; ox++)
      for (int co = 0; co < COUT; co++) {
        float v = out[co * stride + ox] + (bias ? bias[co] : 0.f);
        if (act >= 1) v = v > 0.f ? v : 0.f;
        if (act == 2) v = v < 6.f ? v : 6.f;
        yr[(long)ox * COUT + co] = v;
      }
  });
}

/**
 * The one-input-channel direct conv with the 2×2 / 2 max pool that follows fused: two
 * output rows are computed, their vertical and horizontal maxima taken before bias and
 * ReLU, and only the pooled row is written. Serial (the executor's task).
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
    for (int rr = 0; rr < 2; rr++) direct1Row<COUT>(c, xb, W, 2 * py + rr, nchunk, pw, xp, out + (long)rr * COUT * stride);
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
        if (act >= 1) v = v > 0.f ? v : 0.f;
        if (act == 2) v = v < 6.f ? v : 6.f;
        yr[(long)px * COUT + co] = v;
      }
  }
}

/**
 * Direct convolution with the output channels as the vector (cout = VW: M1's 6→16 5×5 conv),
 * stride 1, no dilation, the window always inside the input (valid padding): im2col + GEMM
 * would run K = fh·fw·cin = 150 deep with n = 16, half of the 32-wide tile. Here a block of
 * R output rows × PX pixels keeps R·PX accumulators; per (tap, input channel) one weight
 * vector and R·PX broadcast FMAs, summed in im2col's order (i, j, c). With R = 2 the
 * 2×2 / 2 max pool that follows is taken from the accumulators, and only the pooled map is written.
 */
template <int R, int PX, int CI>
void convVecBlock(const Conv& c, const float* xb, const float* W, const float* bias, int act, int oy0, int ox0, float* y, const float* res) {
  vf acc[R][PX];
  for (int rr = 0; rr < R; rr++)
    for (int q = 0; q < PX; q++) acc[rr][q] = vf{};
  const int cin = CI > 0 ? CI : c.cin;
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
  const vf zero = vf{}, six = zero + 6.f;
  if (R == 1 && res) {
    // Residual epilogue: act((acc + bias) + res), act 0 or relu written as the executor's separate add did (std::max(v, 0)).
    for (int q = 0; q < PX; q++) {
      vf v = (acc[0][q] + bv) + loadu(res + (long)q * VW);
      if (act >= 1) v = v < zero ? zero : v;
      storeu(y + (long)q * VW, v);
    }
  } else if (R == 1) {
    for (int q = 0; q < PX; q++) {
      vf v = acc[0][q] + bv;
      if (act >= 1) v = v > zero ? v : zero;
      if (act == 2) v = v < six ? v : six;
      storeu(y + (long)q * VW, v);
    }
  } else {
    for (int q = 0; q + 1 < PX; q += 2) {
      vf a = acc[0][q] > acc[0][q + 1] ? acc[0][q] : acc[0][q + 1];
      vf b = acc[1][q] > acc[1][q + 1] ? acc[1][q] : acc[1][q + 1];
      vf v = (a > b ? a : b) + bv;
      if (act >= 1) v = v > zero ? v : zero;
      if (act == 2) v = v < six ? v : six;
      storeu(y + (long)(q / 2) * VW, v);
    }
  }
}

/**
 * convVecBlock<R, px> for a run of 1 ≤ px ≤ 12 pixels. Three input channels (RGB first layers) with
 * the channel count a constant: the per-tap loop unrolled, pixel strides known (M2.s 3 → 32 at 64×32×32: 3.0–3.2 → 1.55 ms CPU on 1 thread).
 */
template <int R>
void convVecRow(const Conv& c, const float* xb, const float* W, const float* bias, int act, int oy0, int ox0, int px, float* y, const float* res = nullptr) {
  if (c.cin == 3) withConstant<1, 12>(px, [&](auto k) { convVecBlock<R, decltype(k)::value, 3>(c, xb, W, bias, act, oy0, ox0, y, res); });
  else withConstant<1, 12>(px, [&](auto k) { convVecBlock<R, decltype(k)::value, 0>(c, xb, W, bias, act, oy0, ox0, y, res); });
}

/**
 * convVecBlock for cout = NV·VW outputs (NV vectors per pixel), one output row, no pool: PX
 * pixels × NV vectors of accumulators; per (tap, input channel) NV weight vectors and PX·NV
 * broadcast FMAs, in im2col's order (i, j, c).
 */
template <int NV, int PX, int CI>
void convVecWideBlock(const Conv& c, const float* xb, const float* W, const float* bias, int act, int oy, int ox0, float* y, const float* res) {
  vf acc[PX][NV];
  for (int q = 0; q < PX; q++)
    for (int v = 0; v < NV; v++) acc[q][v] = vf{};
  const int cin = CI > 0 ? CI : c.cin;
  constexpr int CO = NV * VW;
  for (int i = 0; i < c.fh; i++)
    for (int j = 0; j < c.fw; j++) {
      const float* wr = W + (long)(i * c.fw + j) * cin * CO;
      const float* xr = xb + ((long)(oy + i) * c.w + ox0 + j) * cin;
      for (int ci = 0; ci < cin; ci++) {
        vf wv[NV];
        for (int v = 0; v < NV; v++) wv[v] = loadu(wr + (long)ci * CO + v * VW);
        for (int q = 0; q < PX; q++) {
          const float xv = xr[(long)q * cin + ci];
          for (int v = 0; v < NV; v++) acc[q][v] += xv * wv[v];
        }
      }
    }
  const vf zero = vf{}, six = zero + 6.f;
  for (int v = 0; v < NV; v++) {
    const vf bv = bias ? loadu(bias + v * VW) : vf{};
    if (res) {
      for (int q = 0; q < PX; q++) {
        vf o = (acc[q][v] + bv) + loadu(res + (long)q * CO + v * VW);
        if (act >= 1) o = o < zero ? zero : o;
        storeu(y + (long)q * CO + v * VW, o);
      }
      continue;
    }
    for (int q = 0; q < PX; q++) {
      vf o = acc[q][v] + bv;
      if (act >= 1) o = o > zero ? o : zero;
      if (act == 2) o = o < six ? o : six;
      storeu(y + (long)q * CO + v * VW, o);
    }
  }
}

/** Serial, valid padding (the window inside x): y = act(conv(x) + bias [+ res]) for c.n images by convVecWideBlock, cout = NV·VW. */
template <int NV>
void convVecWideSerial(const Conv& c, const float* x, const float* W, const float* bias, float* y, int act, const float* res = nullptr) {
  constexpr int PXB = 24 / NV;  // 24 accumulators of 32 registers
  for (int b = 0; b < c.n; b++) {
    const float* xb = x + (long)b * c.h * c.w * c.cin;
    for (int oy = 0; oy < c.oh; oy++)
      for (int ox = 0; ox < c.ow; ox += PXB) {
        const long off = (((long)b * c.oh + oy) * c.ow + ox) * NV * VW;
        float* yo = y + off;
        const float* ro = res ? res + off : nullptr;
        const int px = std::min(PXB, c.ow - ox);
        if (c.cin == 3) withConstant<1, PXB>(px, [&](auto k) { convVecWideBlock<NV, decltype(k)::value, 3>(c, xb, W, bias, act, oy, ox, yo, ro); });
        else withConstant<1, PXB>(px, [&](auto k) { convVecWideBlock<NV, decltype(k)::value, 0>(c, xb, W, bias, act, oy, ox, yo, ro); });
      }
  }
}

/** p is a 2×2 / 2 unpadded max pool over the whole output of c (the pool the fused kernels take). */
bool pool2x2Follows(const Conv& c, const Pool2& p) {
  return p.fh == 2 && p.fw == 2 && p.sh == 2 && p.sw == 2 && p.top == 0 && p.left == 0 && p.h == c.oh && p.w == c.ow && p.c == c.cout && 2 * p.oh <= c.oh && 2 * p.ow <= c.ow;
}

}  // namespace

bool convDirect(const Conv& c, const float* x, const float* W, const float* bias, float* y, int act) {
  if (c.cin != 1 || c.sw != 1 || c.cout > 16 || c.ow > 4096) return false;
  return withConstant<1, 16>(c.cout, [&](auto k) { convDirect1<decltype(k)::value>(c, x, W, bias, y, act); });
}

bool convVecOk(const Conv& c, const Pool2* p) {
  if (c.cout != VW || c.sh != 1 || c.sw != 1 || c.dh != 1 || c.dw != 1 || c.top != 0 || c.left != 0 || c.oh + c.fh - 1 > c.h || c.ow + c.fw - 1 > c.w) return false;
  return !p || pool2x2Follows(c, *p);
}

void convVecSerial(const Conv& c, const Pool2* p, const float* x, const float* W, const float* bias, float* y, int act, const float* res) {
  constexpr int PXB = 12;
  for (int b = 0; b < c.n; b++) {
    const float* xb = x + (long)b * c.h * c.w * c.cin;
    if (!p) {
      for (int oy = 0; oy < c.oh; oy++)
        for (int ox = 0; ox < c.ow; ox += PXB) {
          const long off = (((long)b * c.oh + oy) * c.ow + ox) * VW;
          convVecRow<1>(c, xb, W, bias, act, oy, ox, std::min(PXB, c.ow - ox), y + off, res ? res + off : nullptr);
        }
    } else {
      for (int py = 0; py < p->oh; py++)
        for (int ox = 0; ox < 2 * p->ow; ox += PXB) convVecRow<2>(c, xb, W, bias, act, 2 * py, ox, std::min(PXB, 2 * p->ow - ox), y + (((long)b * p->oh + py) * p->ow + ox / 2) * VW);
    }
  }
}

bool convVecPaddedOk(const Conv& c) {
  const int nv = c.cout % VW == 0 ? c.cout / VW : 0;
  // Not 1×1 (their GEMM reads x in place, no im2col to save). Any number of input channels: a
  // first layer's 3 (M2's 3 → 32 at 32×32: K = 27, a sliver of the GEMM's depth blocking).
  return (nv == 1 || nv == 2 || nv == 4) && c.fh * c.fw > 1 && c.sh == 1 && c.sw == 1 && c.dh == 1 && c.dw == 1 && c.top >= 0 && c.left >= 0 &&
         c.top < c.fh && c.left < c.fw;
}

void rowBands(const Conv& c, int* bands, int* bandRows) {
  const int T = workers(c.n * c.oh);
  *bands = c.n >= 2 * T ? 1 : std::min(c.oh, (2 * T + c.n - 1) / c.n);
  *bandRows = (c.oh + *bands - 1) / *bands;
}

void padRows(const Conv& c, const float* xb, int iy0, int rows, int wp, float* xp) {
  std::memset(xp, 0, (size_t)rows * wp * c.cin * 4);
  const int cols = std::max(0, std::min(c.w, wp - c.left));
  for (int r = 0; r < rows; r++) {
    const int iy = iy0 + r;
    if (iy >= 0 && iy < c.h && cols > 0) std::memcpy(xp + ((long)r * wp + c.left) * c.cin, xb + (long)iy * c.w * c.cin, (size_t)cols * c.cin * 4);
  }
}

namespace {

/** convVecPadded's kernel on a padded band v (valid padding, v.n = 1): cout = VW, 2·VW or 4·VW. */
void convVecBand(const Conv& v, const float* xp, const float* W, const float* bias, float* y, int act, const float* res = nullptr) {
  const int nv = v.cout / VW;
  if (nv == 1) convVecSerial(v, nullptr, xp, W, bias, y, act, res);
  else if (nv == 2) convVecWideSerial<2>(v, xp, W, bias, y, act, res);
  else convVecWideSerial<4>(v, xp, W, bias, y, act, res);
}

}  // namespace

bool convVecPadded(const Conv& c, const float* x, const float* W, const float* bias, float* y, int act, const float* res) {
  if (!convVecPaddedOk(c)) return false;
  // Tasks: (image, band of output rows), bands only when there are too few images for the threads.
  // Taken for any batch size, so the numbers do not depend on how a batch is split (the executor's
  // chunks vs whole-batch ops).
  int bands, bandRows;
  rowBands(c, &bands, &bandRows);
  // With a residual (the executor's conv + add, already on one thread): serial, one band an image.
  if (res) bands = 1, bandRows = c.oh;
  const int wp = c.ow + c.fw - 1;
  const long img = (long)c.h * c.w * c.cin;
  auto task = [&](int t, int) {
    const int b = t / bands, oy0 = (t % bands) * bandRows, oy1 = std::min(c.oh, oy0 + bandRows);
    if (oy0 >= oy1) return;
    // The band's zero-padded input rows: padded row pr (x row pr − top) for pr in [oy0, oy1 + fh − 1).
    const int hp = oy1 - oy0 + c.fh - 1;
    thread_local Buf pbuf;
    float* xp = pbuf.get((size_t)hp * wp * c.cin);
    padRows(c, x + b * img, oy0 - c.top, hp, wp, xp);
    const Conv v{1, hp, wp, c.cin, oy1 - oy0, c.ow, c.cout, c.fh, c.fw, 1, 1, 0, 0, 1, 1};
    const long off = (((long)b * c.oh + oy0) * c.ow) * c.cout;
    convVecBand(v, xp, W, bias, y + off, act, res ? res + off : nullptr);
  };
  if (res)
    for (int t = 0; t < c.n; t++) task(t, 0);
  else
    parallel(c.n * bands, workers(c.n * bands), task);
  return true;
}

bool convPointwiseVec(const Conv& c, const float* x, const float* W, const float* bias, float* y, int act) {
  const int nv = c.cout % VW == 0 ? c.cout / VW : 0;
  if ((nv != 1 && nv != 2 && nv != 4) || c.fh != 1 || c.fw != 1 || c.sh != 1 || c.sw != 1 || c.top != 0 || c.left != 0 || c.oh != c.h || c.ow != c.w || c.cin > 64) return false;
  // All n·h·w pixels as one row, in blocks: a pixel's sum runs over its input channels in order
  // wherever its block starts, so the numbers do not depend on the batch split.
  const long P = (long)c.n * c.h * c.w;
  constexpr long BLOCK = 240;
  const int tasks = (int)((P + BLOCK - 1) / BLOCK);
  parallel(tasks, workers(tasks), [&](int t, int) {
    const long p0 = (long)t * BLOCK;
    const int px = (int)std::min(BLOCK, P - p0);
    const Conv v{1, 1, px, c.cin, 1, px, c.cout, 1, 1, 1, 1, 0, 0, 1, 1};
    convVecBand(v, x + p0 * c.cin, W, bias, y + p0 * c.cout, act);
  });
  return true;
}

namespace {

/**
 * convStridedVec's block: PX output pixels from ox of a padded band (valid padding, strides v.sh / v.sw) × NV
 * output vectors (weights Wr: NV·VW per (tap, input channel); under VW outputs, one vector whose upper lanes
 * have zero weights); per (tap, input channel) NV weight vectors and PX·NV broadcast FMAs, in im2col's order
 * (i, j, c); the cout outputs stored (before bias and act).
 */
template <int PX, int CI, int NV>
void stridedVecBlock(const Conv& v, const float* xr, const float* Wr, int ld, int co0, int ox, float* y) {
  vf acc[PX][NV];
  for (int q = 0; q < PX; q++)
    for (int u = 0; u < NV; u++) acc[q][u] = vf{};
  const int cin = CI > 0 ? CI : v.cin;
  constexpr int CO = NV * VW;
  for (int i = 0; i < v.fh; i++)
    for (int j = 0; j < v.fw; j++) {
      const float* xq = xr + ((long)i * v.w + (long)ox * v.sw + j) * cin;
      const float* wr = Wr + (long)(i * v.fw + j) * cin * ld + co0;
      for (int ci = 0; ci < cin; ci++) {
        vf wv[NV];
        for (int u = 0; u < NV; u++) wv[u] = loadu(wr + (long)ci * ld + u * VW);
        for (int q = 0; q < PX; q++) {
          const float xv = xq[(long)q * v.sw * cin + ci];
          for (int u = 0; u < NV; u++) acc[q][u] += xv * wv[u];
        }
      }
    }
  if (v.cout >= CO) {
    for (int q = 0; q < PX; q++)
      for (int u = 0; u < NV; u++) storeu(y + (long)(ox + q) * v.cout + co0 + u * VW, acc[q][u]);
    return;
  }
  alignas(64) float lanes[VW];
  for (int q = 0; q < PX; q++) {
    storeu(lanes, acc[q][0]);
    float* yo = y + (long)(ox + q) * v.cout;
    for (int co = 0; co < v.cout; co++) yo[co] = lanes[co];
  }
}

/**
 * Outputs [co0, co0 + NV·VW) of one output row (stridedVecBlock's; ld: the weights' row stride): blocks of PX pixels, then
 * single pixels; three input channels a constant. PX × NV accumulators + NV weights + a broadcast within the vector
 * registers: 24 / NV pixels with 32 zmm, 12 / NV with 16 ymm (AVX2: 6 × 4 had spilled).
 */
template <int NV>
void stridedVecRow(const Conv& v, const float* xr, const float* Wr, int ld, int co0, float* yr) {
  constexpr int PX = VW >= 16 ? (NV == 4 ? 6 : 12) : (NV == 2 ? 6 : 12);
  int ox = 0;
  if (v.cin == 3) {
    for (; ox + PX <= v.ow; ox += PX) stridedVecBlock<PX, 3, NV>(v, xr, Wr, ld, co0, ox, yr);
    for (; ox < v.ow; ox++) stridedVecBlock<1, 3, NV>(v, xr, Wr, ld, co0, ox, yr);
  } else {
    for (; ox + PX <= v.ow; ox += PX) stridedVecBlock<PX, 0, NV>(v, xr, Wr, ld, co0, ox, yr);
    for (; ox < v.ow; ox++) stridedVecBlock<1, 0, NV>(v, xr, Wr, ld, co0, ox, yr);
  }
}

}  // namespace

bool convStridedVec(const Conv& c, const float* x, const float* W, const float* bias, float* y, int act) {
  const bool small = c.cout < VW && c.cin <= 16;
  const int nv = small ? 1 : c.cout % VW == 0 ? c.cout / VW : 0;
  // Vectors of outputs per pass over a row: all of them up to 4 with 32 zmm, else groups of 4 / 2 (16 ymm: 2) vectors.
  const int group = VW >= 16 ? (nv == 1 || nv == 2 || nv == 4 ? nv : nv % 4 == 0 ? 4 : nv % 2 == 0 ? 2 : 1) : (nv % 2 == 0 ? 2 : 1);
  // (AVX2: up to 64 outputs, 8 ymm, so M3's 32 → 64 stride-2 conv is here and not im2col + GEMM; zmm: up to 64 too.)
  const bool strided = (nv == 1 || nv == 2 || nv == 4 || (VW < 16 && nv == 8)) && (c.sh > 1 || c.sw > 1);
  if ((!small && !strided) || c.fh * c.fw == 1 || c.fh * c.fw > 49 || c.dh != 1 || c.dw != 1 || c.top < 0 || c.left < 0 || c.top >= c.fh || c.left >= c.fw) return false;
  // Under VW outputs: the filter with its outputs padded to VW lanes (zeros above cout); else W as it is.
  const int K = c.fh * c.fw * c.cin;
  std::vector<float> Wp;
  if (small) {
    Wp.assign((size_t)K * VW, 0.f);
    for (int k = 0; k < K; k++)
      for (int co = 0; co < c.cout; co++) Wp[(size_t)k * VW + co] = W[(long)k * c.cout + co];
  }
  const float* Wr = small ? Wp.data() : W;
  const int ld = small ? VW : c.cout;
  int bands, bandRows;
  rowBands(c, &bands, &bandRows);
  const int wp = (c.ow - 1) * c.sw + c.fw;
  const long img = (long)c.h * c.w * c.cin;
  parallel(c.n * bands, workers(c.n * bands), [&](int t, int) {
    const int b = t / bands, oy0 = (t % bands) * bandRows, oy1 = std::min(c.oh, oy0 + bandRows);
    if (oy0 >= oy1) return;
    const int hp = (oy1 - oy0 - 1) * c.sh + c.fh;
    thread_local Buf pbuf;
    float* xp = pbuf.get((size_t)hp * wp * c.cin);
    padRows(c, x + b * img, oy0 * c.sh - c.top, hp, wp, xp);
    const Conv v{1, hp, wp, c.cin, oy1 - oy0, c.ow, c.cout, c.fh, c.fw, c.sh, c.sw, 0, 0, 1, 1};
    for (int oy = oy0; oy < oy1; oy++) {
      const float* xr = xp + (long)(oy - oy0) * c.sh * wp * c.cin;
      float* yr = y + ((long)b * c.oh + oy) * c.ow * c.cout;
      for (int co0 = 0; co0 < nv * VW; co0 += group * VW) {
        if (group == 1) stridedVecRow<1>(v, xr, Wr, ld, co0, yr);
        else if (group == 2) stridedVecRow<2>(v, xr, Wr, ld, co0, yr);
        else stridedVecRow<4>(v, xr, Wr, ld, co0, yr);
      }
      biasAct(yr, c.ow, c.cout, c.cout, bias, act);
    }
  });
  return true;
}

bool convVecPaddedPoolOk(const Conv& c, const Pool2& p) { return convVecPaddedOk(c) && pool2x2Follows(c, p); }

void convVecPaddedPool(const Conv& c, const Pool2& p, const float* x, const float* W, const float* bias, float* y, int act) {
  // Per image: the padded image (one copy), then per pooled row the two conv rows into a
  // buffer that stays in L1 (convVecBand: the same sums as convVecPadded), pooled from there.
  const int wp = c.ow + c.fw - 1, hp = 2 * p.oh + c.fh - 1, C = c.cout;
  const long img = (long)c.h * c.w * c.cin;
  thread_local Buf pbuf, rbuf;
  float* xp = pbuf.get((size_t)hp * wp * c.cin);
  float* rows = rbuf.get((size_t)2 * c.ow * C);
  const float* r1 = rows + (long)c.ow * C;
  const Conv v{1, c.fh + 1, wp, c.cin, 2, c.ow, C, c.fh, c.fw, 1, 1, 0, 0, 1, 1};
  for (int b = 0; b < c.n; b++) {
    padRows(c, x + b * img, -c.top, hp, wp, xp);
    for (int py = 0; py < p.oh; py++) {
      convVecBand(v, xp + (long)2 * py * wp * c.cin, W, bias, rows, act);
      float* yr = y + ((long)b * p.oh + py) * p.ow * C;
      for (int px = 0; px < p.ow; px++) {
        const float *a = rows + (long)2 * px * C, *q = r1 + (long)2 * px * C;
        float* o = yr + (long)px * C;
        for (int ch = 0; ch < C; ch++) {
          const float m0 = a[ch] > a[ch + C] ? a[ch] : a[ch + C], m1 = q[ch] > q[ch + C] ? q[ch] : q[ch + C];
          o[ch] = m0 > m1 ? m0 : m1;
        }
      }
    }
  }
}

bool convDirect1PoolOk(const Conv& c, const Pool2& p) { return c.cin == 1 && c.sw == 1 && c.cout <= 16 && c.ow <= 4096 && pool2x2Follows(c, p); }

void convDirect1Pool(const Conv& c, const Pool2& p, const float* x, const float* W, const float* bias, float* y, int act) {
  withConstant<1, 16>(c.cout, [&](auto k) { convDirect1PoolSerial<decltype(k)::value>(c, p, x, W, bias, y, act); });
}

}  // namespace lw
