// The filter gradient of a stride-1 convolution with 16, 32 or 64 outputs, directly (no im2col):
// dW[i, j, ci, :] = Σ over output pixels of x[oy + i − top, ox + j − left, ci] · dy[oy, ox, :],
// the outputs as the vector (one to four zmm). Per image, x is copied zero-padded once; then for
// each kernel row i and block of input channels, one pass over the image's output pixels keeps
// fw · CB · NV accumulators (≤ 24 of 32 registers): per pixel NV loads of dy and fw · CB
// broadcasts of x for 24 FMAs. im2col + GEMM (conv.cc) copies fh·fw·cin floats a pixel first
// and, with 16 outputs, runs a one-vector tile. Also the one-input-channel case (grayscale first
// layers, ≤ 8 outputs: M1's 1→6 5×5), with output pixels as the vector.
#include <type_traits>

#include "kernels.h"

namespace lw {

namespace {

/** acc over the image's pixels for kernel row i, taps 0 … FW−1, input channels ci0 … ci0+CB−1; added into dWp. */
template <int NV, int FW, int CB>
void filterBlock(const Conv& c, const float* xp, int wp, const float* dy, int i, int ci0, float* dWp) {
  constexpr int CO = NV * VW;
  vf acc[FW][CB][NV];
  for (int j = 0; j < FW; j++)
    for (int q = 0; q < CB; q++)
      for (int v = 0; v < NV; v++) acc[j][q][v] = vf{};
  const int cin = c.cin;
  for (int oy = 0; oy < c.oh; oy++) {
    const float* xr = xp + ((long)(oy + i) * wp) * cin + ci0;
    const float* dr = dy + (long)oy * c.ow * CO;
    for (int ox = 0; ox < c.ow; ox++) {
      vf d[NV];
      for (int v = 0; v < NV; v++) d[v] = loadu(dr + (long)ox * CO + v * VW);
      for (int j = 0; j < FW; j++)
        for (int q = 0; q < CB; q++) {
          const float xv = xr[(long)(ox + j) * cin + q];
          for (int v = 0; v < NV; v++) acc[j][q][v] += xv * d[v];
        }
    }
  }
  for (int j = 0; j < FW; j++)
    for (int q = 0; q < CB; q++) {
      float* o = dWp + ((long)(i * FW + j) * cin + ci0 + q) * CO;
      for (int v = 0; v < NV; v++) storeu(o + v * VW, loadu(o + v * VW) + acc[j][q][v]);
    }
}

template <int NV, int FW>
void filterImage(const Conv& c, const float* xp, int wp, const float* dy, float* dWp) {
  constexpr int CB = 24 / (FW * NV) > 0 ? 24 / (FW * NV) : 1;
  for (int i = 0; i < c.fh; i++) {
    int ci = 0;
    for (; ci + CB <= c.cin; ci += CB) filterBlock<NV, FW, CB>(c, xp, wp, dy, i, ci, dWp);
    for (; ci < c.cin; ci++) filterBlock<NV, FW, 1>(c, xp, wp, dy, i, ci, dWp);
  }
}

/**
 * One image of the one-input-channel filter gradient: xp the image zero-padded (hp × wpad), dyT its
 * dy planar per output ([co][oy][ncw], zero past ow); for each kernel row i, FW·COUT accumulators
 * over x vectors (VW output pixels, shifted by j) times dy vectors, reduced across lanes at the end.
 */
template <int COUT, int FW>
void filter1Image(const Conv& c, const float* xp, int wpad, const float* dyT, int ncw, float* dWp) {
  const int nchunk = ncw / VW;
  for (int i = 0; i < c.fh; i++) {
    vf acc[FW][COUT];
    for (int j = 0; j < FW; j++)
      for (int co = 0; co < COUT; co++) acc[j][co] = vf{};
    for (int oy = 0; oy < c.oh; oy++) {
      const float* xr = xp + (long)(oy + i) * wpad;
      for (int ch = 0; ch < nchunk; ch++) {
        vf d[COUT];
        for (int co = 0; co < COUT; co++) d[co] = loadu(dyT + ((long)co * c.oh + oy) * ncw + ch * VW);
        for (int j = 0; j < FW; j++) {
          const vf xv = loadu(xr + ch * VW + j);
          for (int co = 0; co < COUT; co++) acc[j][co] += xv * d[co];
        }
      }
    }
    for (int j = 0; j < FW; j++)
      for (int co = 0; co < COUT; co++) {
        float t = 0.f;
        for (int q = 0; q < VW; q++) t += acc[j][co][q];
        dWp[(long)(i * FW + j) * COUT + co] += t;
      }
  }
}

/** Calls f(std::integral_constant<int, v>) for v in [LO, HI] equal to the run-time value. */
template <int LO, int HI, class F>
bool withValue(int v, F&& f) {
  if (v == LO) return f(std::integral_constant<int, LO>{}), true;
  if constexpr (LO < HI) return withValue<LO + 1, HI>(v, f);
  return false;
}

/** Zero-padded copy of image rows: out[(r + top)·wpad + left + q] = x[r·w + q] (one channel), rest 0. */
void padImage1(const Conv& c, const float* x, int hp, int wpad, float* out) {
  std::memset(out, 0, (size_t)hp * wpad * 4);
  const int rows = std::max(0, std::min(c.h, hp - c.top)), cols = std::max(0, std::min(c.w, wpad - c.left));
  for (int r = 0; r < rows; r++) std::memcpy(out + (long)(r + c.top) * wpad + c.left, x + (long)r * c.w, (size_t)cols * 4);
}

}  // namespace

bool convFilterDirect1(const Conv& c, const float* x, const float* dy, float* dW) {
  if (c.cin != 1 || c.cout > 8 || c.fw > 5 || c.fw * c.cout > 30 || c.sh != 1 || c.sw != 1 || c.dh != 1 || c.dw != 1 || c.top < 0 || c.left < 0 || c.ow > 4096) return false;
  const int nchunk = (c.ow + VW - 1) / VW, ncw = nchunk * VW;
  const int hp = c.oh + c.fh - 1, wpad = ncw + c.fw - 1;
  const size_t K = (size_t)c.fh * c.fw * c.cout;
  const int T = workers(c.n);
  std::vector<std::vector<float>> part(T - 1, std::vector<float>(K, 0.f));
  std::memset(dW, 0, K * 4);
  parallelStatic(c.n, T, [&](int b, int w) {
    thread_local Buf pbuf, tbuf;
    float* xp = pbuf.get((size_t)hp * wpad);
    float* dyT = tbuf.get((size_t)c.cout * c.oh * ncw);
    padImage1(c, x + (long)b * c.h * c.w, hp, wpad, xp);
    const float* d = dy + (long)b * c.oh * c.ow * c.cout;
    for (int co = 0; co < c.cout; co++)
      for (int oy = 0; oy < c.oh; oy++) {
        float* t = dyT + ((long)co * c.oh + oy) * ncw;
        for (int ox = 0; ox < c.ow; ox++) t[ox] = d[((long)oy * c.ow + ox) * c.cout + co];
        for (int ox = c.ow; ox < ncw; ox++) t[ox] = 0.f;
      }
    float* o = w == 0 ? dW : part[w - 1].data();
    withValue<1, 8>(c.cout, [&](auto co) {
      withValue<1, 5>(c.fw, [&](auto fw) {
        if constexpr (decltype(co)::value * decltype(fw)::value <= 30) filter1Image<decltype(co)::value, decltype(fw)::value>(c, xp, wpad, dyT, ncw, o);
      });
    });
  });
  for (auto& p : part)
    for (size_t i = 0; i < K; i++) dW[i] += p[i];
  return true;
}

bool convFilterDirect(const Conv& c, const float* x, const float* dy, float* dW) {
  const int nv = c.cout % VW == 0 ? c.cout / VW : 0;
  if ((nv != 1 && nv != 2 && nv != 4) || c.fw < 2 || c.fw > 5 || c.sh != 1 || c.sw != 1 || c.dh != 1 || c.dw != 1 || c.top < 0 || c.left < 0 || c.cin < 4) return false;
  const int hp = c.oh + c.fh - 1, wp = c.ow + c.fw - 1;
  const int rows = std::max(0, std::min(c.h, hp - c.top)), cols = std::max(0, std::min(c.w, wp - c.left));
  const long img = (long)c.h * c.w * c.cin, out = (long)c.oh * c.ow * c.cout;
  const size_t K = (size_t)c.fh * c.fw * c.cin * c.cout;
  const int T = workers(c.n);
  std::vector<std::vector<float>> part(T - 1, std::vector<float>(K, 0.f));
  std::memset(dW, 0, K * 4);
  // Static split over images: the same thread count gives bit-identical gradients.
  parallelStatic(c.n, T, [&](int b, int w) {
    thread_local Buf pbuf;
    float* xp = pbuf.get((size_t)hp * wp * c.cin);
    std::memset(xp, 0, (size_t)hp * wp * c.cin * 4);
    for (int r = 0; r < rows; r++)
      if (cols > 0) std::memcpy(xp + ((long)(r + c.top) * wp + c.left) * c.cin, x + b * img + (long)r * c.w * c.cin, (size_t)cols * c.cin * 4);
    float* o = w == 0 ? dW : part[w - 1].data();
    const float* d = dy + b * out;
    auto run = [&](auto nvc) {
      constexpr int NV = decltype(nvc)::value;
      switch (c.fw) {
        case 2: return filterImage<NV, 2>(c, xp, wp, d, o);
        case 3: return filterImage<NV, 3>(c, xp, wp, d, o);
        case 4: return filterImage<NV, 4>(c, xp, wp, d, o);
        default: return filterImage<NV, 5>(c, xp, wp, d, o);
      }
    };
    if (nv == 1) run(std::integral_constant<int, 1>{});
    else if (nv == 2) run(std::integral_constant<int, 2>{});
    else run(std::integral_constant<int, 4>{});
  });
  for (auto& p : part)
    for (size_t i = 0; i < K; i++) dW[i] += p[i];
  return true;
}

}  // namespace lw
