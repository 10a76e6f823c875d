// Depthwise convolution forward with the taps summed in registers (Howard et al. 2017, §3.1; the
// layout of depthwise.cc): a zero-padded copy of the band of input rows, then per output vector
// all fh·fw taps into one accumulator and one store with bias and ReLU / ReLU6, where
// depthwise.cc's kernel adds each tap into the output row in memory (a load and a store per tap
// and vector; at 8 channels, half a vector). Two layouts:
//  - channels a multiple of VW (any stride): PX output pixels × one channel vector at a time;
//  - VW a multiple of the channels (8, 4, 2, 1), stride 1: the output row flat (ow·C floats), the
//    filter tap repeated to a vector, so a vector spans VW / C pixels.
// Per output value the taps are summed in the order (i, j), from zero; the split of the batch
// into tasks changes no sum.
#include "kernels.h"

namespace lw {

/** Does depthwiseForwardVec apply? Depth multiplier 1, no dilation, padding smaller than the filter. */
bool depthwiseVecOk(const Conv& c) {
  const int C = c.cin;
  if (c.cout != C || c.dh != 1 || c.dw != 1 || c.top < 0 || c.left < 0 || c.top >= c.fh || c.left >= c.fw || c.fh * c.fw > 49) return false;
  return C % VW == 0 || (VW % C == 0 && c.sw == 1);
}

namespace {

/** bias, then ReLU (act 1) or ReLU6 (act 2). */
inline vf epilogue(vf v, vf bv, int act) {
  const vf zero = vf{}, six = zero + 6.f;
  v += bv;
  if (act >= 1) v = v > zero ? v : zero;
  if (act == 2) v = v < six ? v : six;
  return v;
}
inline float epilogue1(float v, float b, int act) {
  v += b;
  if (act >= 1) v = v > 0.f ? v : 0.f;
  if (act == 2) v = v < 6.f ? v : 6.f;
  return v;
}

/** C % VW == 0: PX pixels from ox of output row yr × channel vector v; xr: the padded rows of this output row (row stride wp·C). */
template <int PX>
inline void pixelsBlock(const Conv& c, const float* xr, long rowStride, const float* W, const float* bias, int act, int ox, int v, float* yr) {
  const int C = c.cin;
  vf acc[PX];
  for (int q = 0; q < PX; q++) acc[q] = vf{};
  for (int i = 0; i < c.fh; i++)
    for (int j = 0; j < c.fw; j++) {
      const vf wv = loadu(W + (long)(i * c.fw + j) * C + v * VW);
      const float* xq = xr + i * rowStride + ((long)ox * c.sw + j) * C + v * VW;
      for (int q = 0; q < PX; q++) acc[q] += loadu(xq + (long)q * c.sw * C) * wv;
    }
  const vf bv = bias ? loadu(bias + v * VW) : vf{};
  for (int q = 0; q < PX; q++) storeu(yr + (long)(ox + q) * C + v * VW, epilogue(acc[q], bv, act));
}

}  // namespace

bool depthwiseForwardVec(const Conv& c, const float* x, const float* W, const float* bias, float* y, int act) {
  if (!depthwiseVecOk(c)) return false;
  const int C = c.cin, taps = c.fh * c.fw;
  const bool flat = C % VW != 0;
  // Flat layout: tap t's weights repeated over a vector (lane l holds channel l mod C), the bias likewise.
  float wexp[49 * VW], bexp[VW];
  if (flat) {
    for (int t = 0; t < taps; t++)
      for (int l = 0; l < VW; l++) wexp[t * VW + l] = W[(long)t * C + l % C];
    for (int l = 0; l < VW; l++) bexp[l] = bias ? bias[l % C] : 0.f;
  }
  int bands, bandRows;
  rowBands(c, &bands, &bandRows);
  const int wp = (c.ow - 1) * c.sw + c.fw;
  const long img = (long)c.h * c.w * C, rowStride = (long)wp * C;
  parallel(c.n * bands, workers(c.n * bands), [&](int t, int) {
    const int b = t / bands, oy0 = (t % bands) * bandRows, oy1 = std::min(c.oh, oy0 + bandRows);
    if (oy0 >= oy1) return;
    const int hp = (oy1 - oy0 - 1) * c.sh + c.fh;
    thread_local Buf pbuf;
    float* xp = pbuf.get((size_t)hp * wp * C);
    padRows(c, x + b * img, oy0 * c.sh - c.top, hp, wp, xp);
    for (int oy = oy0; oy < oy1; oy++) {
      const float* xr = xp + (long)(oy - oy0) * c.sh * rowStride;
      float* yr = y + ((long)b * c.oh + oy) * c.ow * C;
      if (!flat) {
        constexpr int PX = 4;
        for (int v = 0; v < C / VW; v++) {
          int ox = 0;
          for (; ox + PX <= c.ow; ox += PX) pixelsBlock<PX>(c, xr, rowStride, W, bias, act, ox, v, yr);
          for (; ox < c.ow; ox++) pixelsBlock<1>(c, xr, rowStride, W, bias, act, ox, v, yr);
        }
        continue;
      }
      const long L = (long)c.ow * C;
      const vf bv = loadu(bexp);
      long f = 0;
      for (; f + VW <= L; f += VW) {
        vf acc = vf{};
        for (int i = 0; i < c.fh; i++)
          for (int j = 0; j < c.fw; j++) acc += loadu(xr + i * rowStride + (long)j * C + f) * loadu(wexp + (i * c.fw + j) * VW);
        storeu(yr + f, epilogue(acc, bv, act));
      }
      for (; f < L; f++) {
        float acc = 0.f;
        for (int i = 0; i < c.fh; i++)
          for (int j = 0; j < c.fw; j++) acc += xr[i * rowStride + (long)j * C + f] * wexp[(i * c.fw + j) * VW + f % C];
        yr[f] = epilogue1(acc, bexp[f % C], act);
      }
    }
  });
  return true;
}

}  // namespace lw
