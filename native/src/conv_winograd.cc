// Winograd F(2×2, 3×3) convolution: Lavin & Gray 2016, "Fast Algorithms for Convolutional Neural
// Networks" (CVPR), §4.1 (the minimal filtering algorithm F(2, 3) nested to 2-D) and §5 (tiles of
// 4×4 inputs, 16 element-wise products turned into 16 matrix products over channels).
//
// Per output tile of 2×2 pixels (input tile d of 4×4 pixels, filter g of 3×3, per channel pair):
//   U = G g Gᵀ,  V = Bᵀ d B,  M[ξ] = Σ_ci V[ξ][ci] · U[ξ][ci][co]  (ξ one of the 16 positions),
//   y = Aᵀ M A
// with G = [1 0 0; ½ ½ ½; ½ −½ ½; 0 0 1], Bᵀ = [1 0 −1 0; 0 1 1 0; 0 −1 1 0; 0 1 0 −1],
// Aᵀ = [1 1 1 0; 0 1 −1 −1]: 16 multiplies per channel pair for 4 outputs instead of 36 (2.25×
// fewer), the transforms being adds only. It computes the cross-correlation TensorFlow's conv2d
// does. A tile's numbers depend on its own inputs only (the sum over input channels runs in order),
// so they do not depend on how the tiles are split into blocks or across threads: the executor's
// chunks and the whole-batch op give the same numbers. They differ from direct convolution by
// rounding (≈ 1e-6 relative on the presets; the tests compare with tfjs' cpu backend to 1e-4).
#include "kernels.h"

namespace lw {

namespace {

/** LAYERWISE_WINOGRAD=0: direct convolution for every 3×3 conv; =forward: Winograd but not for the filter gradient (A/B). */
const char* const g_winogradEnv = std::getenv("LAYERWISE_WINOGRAD");
const bool g_noWinograd = g_winogradEnv && g_winogradEnv[0] == '0';
const bool g_noWinogradFilter = g_noWinograd || (g_winogradEnv && std::strcmp(g_winogradEnv, "forward") == 0);

}  // namespace

/** U[ξ][ci][co] = (G g Gᵀ)[ξ] for the HWIO filter W [3, 3, cin, cout]. */
void winogradFilterTransform(int cin, int cout, const float* W, float* U) {
  const long cc = (long)cin * cout;
  for (long q = 0; q < cc; q++) {
    float g[3][3], t[4][3];
    for (int i = 0; i < 3; i++)
      for (int j = 0; j < 3; j++) g[i][j] = W[(i * 3 + j) * cc + q];
    for (int j = 0; j < 3; j++) {
      t[0][j] = g[0][j];
      t[1][j] = 0.5f * (g[0][j] + g[1][j] + g[2][j]);
      t[2][j] = 0.5f * (g[0][j] - g[1][j] + g[2][j]);
      t[3][j] = g[2][j];
    }
    for (int i = 0; i < 4; i++) {
      U[(i * 4 + 0) * cc + q] = t[i][0];
      U[(i * 4 + 1) * cc + q] = 0.5f * (t[i][0] + t[i][1] + t[i][2]);
      U[(i * 4 + 2) * cc + q] = 0.5f * (t[i][0] - t[i][1] + t[i][2]);
      U[(i * 4 + 3) * cc + q] = t[i][2];
    }
  }
}

namespace {

/**
 * M (rows × cout, row-major) = V (rows × cin) · U (cin × cout) for one position ξ; rows a multiple of R.
 * A register tile of R rows × NV vectors, the sum over ci from 0 up.
 */
template <int NV, int R>
void tileGemm(const float* V, int rows, int cin, const float* U, int cout, float* M) {
  for (int j0 = 0; j0 < cout; j0 += NV * VW)
    for (int r0 = 0; r0 < rows; r0 += R) {
      vf acc[R][NV];
      for (int r = 0; r < R; r++)
        for (int v = 0; v < NV; v++) acc[r][v] = vf{};
      const float* a = V + (long)r0 * cin;
      for (int k = 0; k < cin; k++) {
        vf u[NV];
        for (int v = 0; v < NV; v++) u[v] = loadu(U + (long)k * cout + j0 + v * VW);
        for (int r = 0; r < R; r++) {
          const float s = a[(long)r * cin + k];
          for (int v = 0; v < NV; v++) acc[r][v] += s * u[v];
        }
      }
      for (int r = 0; r < R; r++)
        for (int v = 0; v < NV; v++) storeu(M + (long)(r0 + r) * cout + j0 + v * VW, acc[r][v]);
    }
}

struct Tiles {
  int th, tw;  // tiles per image, vertically and horizontally
};

/** V[ξ][r][ci] (16 × TB × cin) = (Bᵀ d B)[ξ] of the input tile d of tiles t0 + r, r < tb (zeros outside the image). */
void inputTransform(const Conv& c, const Tiles& g, const float* x, long t0, int tb, int TB, float* V) {
  const int cin = c.cin;
  const long perImage = (long)g.th * g.tw;
  const vf zero = vf{};
  for (int r = 0; r < tb; r++) {
    const long t = t0 + r;
    const int b = (int)(t / perImage), ty = (int)(t % perImage) / g.tw, tx = (int)(t % perImage) % g.tw;
    const int iy0 = 2 * ty - c.top, ix0 = 2 * tx - c.left;
    const float* xb = x + (long)b * c.h * c.w * cin;
    // Interior tiles (all 16 pixels inside the image, nearly all of them) load without a bounds test per pixel.
    const bool inside = iy0 >= 0 && iy0 + 4 <= c.h && ix0 >= 0 && ix0 + 4 <= c.w;
    const long rowStride = (long)c.w * cin;
    const float* x0 = xb + (long)iy0 * rowStride + (long)ix0 * cin;
    for (int cv = 0; cv < cin; cv += VW) {
      vf d[4][4], s[4][4];
      if (inside) {
        for (int i = 0; i < 4; i++)
          for (int j = 0; j < 4; j++) d[i][j] = loadu(x0 + i * rowStride + (long)j * cin + cv);
      } else {
        for (int i = 0; i < 4; i++)
          for (int j = 0; j < 4; j++) {
            const int iy = iy0 + i, ix = ix0 + j;
            d[i][j] = iy >= 0 && iy < c.h && ix >= 0 && ix < c.w ? loadu(xb + ((long)iy * c.w + ix) * cin + cv) : zero;
          }
      }
      for (int j = 0; j < 4; j++) {
        s[0][j] = d[0][j] - d[2][j];
        s[1][j] = d[1][j] + d[2][j];
        s[2][j] = d[2][j] - d[1][j];
        s[3][j] = d[1][j] - d[3][j];
      }
      for (int i = 0; i < 4; i++) {
        float* v = V + ((long)(i * 4) * TB + r) * cin + cv;
        const long step = (long)TB * cin;
        storeu(v, s[i][0] - s[i][2]);
        storeu(v + step, s[i][1] + s[i][2]);
        storeu(v + 2 * step, s[i][2] - s[i][1]);
        storeu(v + 3 * step, s[i][1] - s[i][3]);
      }
    }
  }
}

/**
 * Tiles [t0, t0 + tb) of the batch (image-major, then tile row, tile column): input transform into V
 * (16 × TB × cin), the 16 products into M (16 × TB × cout), output transform with bias, residual, act,
 * and the 2×2 max pool when p: one block's buffers stay in L2.
 */
template <int NV, int R>
void winogradBlock(const Conv& c, const Tiles& g, const float* x, const float* U, const float* bias, float* y, int act, const float* res,
                   bool pool, long t0, int tb, int TB, float* V, float* M) {
  const int cin = c.cin, cout = c.cout;
  const long perImage = (long)g.th * g.tw;
  const vf zero = vf{}, six = zero + 6.f;
  inputTransform(c, g, x, t0, tb, TB, V);
  const int rows = (tb + R - 1) / R * R;
  for (int xi = 0; xi < 16; xi++) {
    float* v = V + (long)xi * TB * cin;
    if (rows > tb) std::memset(v + (long)tb * cin, 0, (size_t)(rows - tb) * cin * 4);
    tileGemm<NV, R>(v, rows, cin, U + (long)xi * cin * cout, cout, M + (long)xi * TB * cout);
  }
  for (int r = 0; r < tb; r++) {
    const long t = t0 + r;
    const int b = (int)(t / perImage), ty = (int)(t % perImage) / g.tw, tx = (int)(t % perImage) % g.tw;
    const int oy0 = 2 * ty, ox0 = 2 * tx;
    for (int cv = 0; cv < cout; cv += VW) {
      vf m[4][4], s0[4], s1[4], o[2][2];
      for (int xi = 0; xi < 16; xi++) m[xi / 4][xi % 4] = loadu(M + ((long)xi * TB + r) * cout + cv);
      for (int j = 0; j < 4; j++) {
        s0[j] = m[0][j] + m[1][j] + m[2][j];
        s1[j] = m[1][j] - m[2][j] - m[3][j];
      }
      o[0][0] = s0[0] + s0[1] + s0[2];
      o[0][1] = s0[1] - s0[2] - s0[3];
      o[1][0] = s1[0] + s1[1] + s1[2];
      o[1][1] = s1[1] - s1[2] - s1[3];
      const vf bv = bias ? loadu(bias + cv) : zero;
      if (pool) {
        // The tile is the pool's window (2×2 / 2, unpadded, every window whole): max of act(conv + bias).
        vf best = zero;
        for (int i = 0; i < 2; i++)
          for (int j = 0; j < 2; j++) {
            vf q = o[i][j] + bv;
            if (act >= 1) q = q > zero ? q : zero;
            if (act == 2) q = q < six ? q : six;
            best = i + j == 0 ? q : (q > best ? q : best);
          }
        storeu(y + (((long)b * (c.oh / 2) + ty) * (c.ow / 2) + tx) * cout + cv, best);
        continue;
      }
      for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) {
          const int oy = oy0 + i, ox = ox0 + j;
          if (oy >= c.oh || ox >= c.ow) continue;
          const long at = (((long)b * c.oh + oy) * c.ow + ox) * cout + cv;
          vf q = o[i][j] + bv;
          if (res) {
            // As the executor's separate add then relu (std::max(v, 0)): act((conv + bias) + res).
            q = q + loadu(res + at);
            if (act >= 1) q = q < zero ? zero : q;
          } else {
            if (act >= 1) q = q > zero ? q : zero;
            if (act == 2) q = q < six ? q : six;
          }
          storeu(y + at, q);
        }
    }
  }
}

template <int NV, int R>
void winogradRun(const Conv& c, const float* x, const float* W, const float* bias, float* y, int act, const float* res, bool pool, const float* Upre) {
  const Tiles g{(c.oh + 1) / 2, (c.ow + 1) / 2};
  // Block size: V and M of one block ≈ 256 KiB (16 × TB × (cin + cout) floats), a multiple of R rows.
  const int TB = std::max(R, 4096 / (c.cin + c.cout) / R * R);
  const long tiles = (long)c.n * g.th * g.tw;
  const int blocks = (int)((tiles + TB - 1) / TB);
  thread_local Buf ubuf;
  const float* U = Upre;
  if (!U) {
    float* u = ubuf.get((size_t)16 * c.cin * c.cout);
    winogradFilterTransform(c.cin, c.cout, W, u);
    U = u;
  }
  parallel(blocks, workers(blocks), [&](int k, int) {
    thread_local Buf vbuf, mbuf;
    float* V = vbuf.get((size_t)16 * TB * c.cin);
    float* M = mbuf.get((size_t)16 * TB * c.cout);
    const long t0 = (long)k * TB;
    winogradBlock<NV, R>(c, g, x, U, bias, y, act, res, pool, t0, (int)std::min<long>(TB, tiles - t0), TB, V, M);
  });
}

/** D[ξ][r][co] (16 × TB × cout) = (A e Aᵀ)[ξ] of dy's 2×2 tile e of tiles t0 + r (zeros outside dy), A = (Aᵀ)ᵀ = [1 0; 1 1; 1 −1; 0 −1]. */
void gradTransform(const Conv& c, const Tiles& g, const float* dy, long t0, int tb, int TB, float* D) {
  const int cout = c.cout;
  const long perImage = (long)g.th * g.tw, step = (long)TB * cout;
  const vf zero = vf{};
  for (int r = 0; r < tb; r++) {
    const long t = t0 + r;
    const int b = (int)(t / perImage), ty = (int)(t % perImage) / g.tw, tx = (int)(t % perImage) % g.tw;
    for (int cv = 0; cv < cout; cv += VW) {
      vf e[2][2], u[4][2];
      for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) {
          const int oy = 2 * ty + i, ox = 2 * tx + j;
          e[i][j] = oy < c.oh && ox < c.ow ? loadu(dy + (((long)b * c.oh + oy) * c.ow + ox) * cout + cv) : zero;
        }
      for (int j = 0; j < 2; j++) {
        u[0][j] = e[0][j];
        u[1][j] = e[0][j] + e[1][j];
        u[2][j] = e[0][j] - e[1][j];
        u[3][j] = zero - e[1][j];
      }
      for (int i = 0; i < 4; i++) {
        float* d = D + ((long)(i * 4) * TB + r) * cout + cv;
        storeu(d, u[i][0]);
        storeu(d + step, u[i][0] + u[i][1]);
        storeu(d + 2 * step, u[i][0] - u[i][1]);
        storeu(d + 3 * step, zero - u[i][1]);
      }
    }
  }
}

/** S (cin × cout) += Vᵀ (cin × rows) · D (rows × cout); cin a multiple of R; the sum over rows from 0 up. */
template <int NV, int R>
void tileGemmT(const float* V, int rows, int cin, const float* D, int cout, float* S) {
  for (int j0 = 0; j0 < cout; j0 += NV * VW)
    for (int ci0 = 0; ci0 < cin; ci0 += R) {
      vf acc[R][NV];
      for (int r = 0; r < R; r++)
        for (int v = 0; v < NV; v++) acc[r][v] = loadu(S + (long)(ci0 + r) * cout + j0 + v * VW);
      for (int k = 0; k < rows; k++) {
        vf u[NV];
        for (int v = 0; v < NV; v++) u[v] = loadu(D + (long)k * cout + j0 + v * VW);
        const float* a = V + (long)k * cin + ci0;
        for (int r = 0; r < R; r++)
          for (int v = 0; v < NV; v++) acc[r][v] += a[r] * u[v];
      }
      for (int r = 0; r < R; r++)
        for (int v = 0; v < NV; v++) storeu(S + (long)(ci0 + r) * cout + j0 + v * VW, acc[r][v]);
    }
}

/**
 * dW of F(2×2, 3×3) by the transposition of the forward algorithm: y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A gives
 * dU[ξ] = Σ_tiles (A e Aᵀ)[ξ] ⊙ (Bᵀ d B)[ξ] (e: dy's 2×2 tile) and dW = Gᵀ dU G. Static split of the tiles over the
 * workers, per-worker partial sums added in worker order: a given thread count gives the same bits.
 */
template <int NV, int R>
void winogradFilterRun(const Conv& c, const float* x, const float* dy, float* dW) {
  const Tiles g{(c.oh + 1) / 2, (c.ow + 1) / 2};
  const int TB = std::max(16, 4096 / (c.cin + c.cout));
  const long tiles = (long)c.n * g.th * g.tw, cc = (long)c.cin * c.cout;
  const int blocks = (int)((tiles + TB - 1) / TB);
  const int T = workers(blocks);
  std::vector<std::vector<float>> part(T, std::vector<float>((size_t)16 * cc, 0.f));
  parallelStatic(blocks, T, [&](int k, int w) {
    thread_local Buf vbuf, dbuf;
    float* V = vbuf.get((size_t)16 * TB * c.cin);
    float* D = dbuf.get((size_t)16 * TB * c.cout);
    const long t0 = (long)k * TB;
    const int tb = (int)std::min<long>(TB, tiles - t0);
    inputTransform(c, g, x, t0, tb, TB, V);
    gradTransform(c, g, dy, t0, tb, TB, D);
    float* S = part[w].data();
    for (int xi = 0; xi < 16; xi++) tileGemmT<NV, R>(V + (long)xi * TB * c.cin, tb, c.cin, D + (long)xi * TB * c.cout, c.cout, S + xi * cc);
  });
  float* S = part[0].data();
  for (int w = 1; w < T; w++)
    for (long i = 0; i < 16 * cc; i++) S[i] += part[w][i];
  for (long q = 0; q < cc; q++) {
    float m[4][4], t[3][4];
    for (int a = 0; a < 4; a++)
      for (int b = 0; b < 4; b++) m[a][b] = S[(a * 4 + b) * cc + q];
    for (int b = 0; b < 4; b++) {
      t[0][b] = m[0][b] + 0.5f * (m[1][b] + m[2][b]);
      t[1][b] = 0.5f * (m[1][b] - m[2][b]);
      t[2][b] = 0.5f * (m[1][b] + m[2][b]) + m[3][b];
    }
    for (int i = 0; i < 3; i++) {
      dW[(i * 3 + 0) * cc + q] = t[i][0] + 0.5f * (t[i][1] + t[i][2]);
      dW[(i * 3 + 1) * cc + q] = 0.5f * (t[i][1] - t[i][2]);
      dW[(i * 3 + 2) * cc + q] = 0.5f * (t[i][1] + t[i][2]) + t[i][3];
    }
  }
}

}  // namespace

bool convWinogradOk(const Conv& c) {
  return !g_noWinograd && c.fh == 3 && c.fw == 3 && c.sh == 1 && c.sw == 1 && c.dh == 1 && c.dw == 1 && c.cin % VW == 0 && c.cout % VW == 0 &&
         c.top >= 0 && c.top <= 2 && c.left >= 0 && c.left <= 2 && c.oh >= 2 && c.ow >= 2;
}

bool convWinogradPoolOk(const Conv& c, const Pool2& p) {
  return convWinogradOk(c) && p.fh == 2 && p.fw == 2 && p.sh == 2 && p.sw == 2 && p.top == 0 && p.left == 0 && p.h == c.oh && p.w == c.ow &&
         p.c == c.cout && c.oh % 2 == 0 && c.ow % 2 == 0 && p.oh == c.oh / 2 && p.ow == c.ow / 2;
}

bool convWinograd(const Conv& c, const float* x, const float* W, const float* bias, float* y, int act, const float* res, const Pool2* p, const float* U) {
  if (!convWinogradOk(c) || (p && !convWinogradPoolOk(c, *p)) || (p && res)) return false;
  const bool pool = p != nullptr;
  // Register tiles: R × NV accumulators plus NV filter vectors and a broadcast within the vector registers
  // (32 zmm with AVX-512: 24 + 4 + 1; 16 ymm / xmm otherwise: 12 + 2 + 1).
  if constexpr (VW >= 16) {
    if (c.cout % (4 * VW) == 0) winogradRun<4, 6>(c, x, W, bias, y, act, res, pool, U);
    else if (c.cout % (2 * VW) == 0) winogradRun<2, 12>(c, x, W, bias, y, act, res, pool, U);
    else winogradRun<1, 14>(c, x, W, bias, y, act, res, pool, U);
  } else {
    if (c.cout % (2 * VW) == 0) winogradRun<2, 6>(c, x, W, bias, y, act, res, pool, U);
    else winogradRun<1, 12>(c, x, W, bias, y, act, res, pool, U);
  }
  return true;
}

bool convFilterWinograd(const Conv& c, const float* x, const float* dy, float* dW) {
  // From 32 channels in and out: with 16 the products are too thin for the transforms' passes (measured in the M3 profile:
  // 16 → 16 at 32×32 no faster than convFilterDirect; 32 → 32 ×1.5, 64 → 64 ×2 faster).
  if (g_noWinogradFilter || !convWinogradOk(c) || c.cin < 32 || c.cout < 32) return false;
  if constexpr (VW >= 16) {
    if (c.cout % (4 * VW) == 0) winogradFilterRun<4, 4>(c, x, dy, dW);
    else if (c.cout % (2 * VW) == 0) winogradFilterRun<2, 8>(c, x, dy, dW);
    else winogradFilterRun<1, 8>(c, x, dy, dW);
  } else {
    if (c.cout % (2 * VW) == 0) winogradFilterRun<2, 4>(c, x, dy, dW);
    else winogradFilterRun<1, 8>(c, x, dy, dW);
  }
  return true;
}

}  // namespace lw
