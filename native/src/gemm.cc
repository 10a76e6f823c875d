// SGEMM in the BLIS / GotoBLAS scheme (Goto & van de Geijn 2008, "Anatomy of
// high-performance matrix multiplication", ACM TOMS 34(3); Van Zee & van de Geijn 2015,
// "BLIS", ACM TOMS 41(3)): packed blocks, a register tile of MR×NR accumulators; and the
// batched, threaded matmul (BatchMatMul / _FusedMatMul, the executor's dense layers) on it.
#include "kernels.h"

namespace lw {

namespace {

/**
 * C[mr×nr] (+)= A · Bp (kc×NR); edge tiles go through a temporary. A is read by MODE:
 * PACKED (kc×MR, p-major), ROWS in place (element (i, p) at Ap[i·ld + p]: a row-major A) or
 * COLS in place (at Ap[i + p·ld]: a column-major A, e.g. the im2col block of a filter
 * gradient). No packing: small n reuses each A element only n/VW times, so packing it would
 * cost as much as the product.
 * NV: vectors of the tile's width that are computed (2: the full NR; 1: nr ≤ VW, the left
 * half only — n = 16 outputs, or a 16-wide last column block, would otherwise spend half the
 * FMAs on the zero padding of the packed B panel).
 */
enum AMode { PACKED, ROWS, COLS };
template <AMode MODE, int NV>
inline void micro(int kc, const float* __restrict Ap, long ld, const float* __restrict Bp, float* C, long ldc, int mr, int nr, bool acc) {
  vf c0[MR], c1[MR];
  for (int i = 0; i < MR; i++) {
    c0[i] = vf{};
    c1[i] = vf{};
  }
  for (int p = 0; p < kc; p++) {
    const vf b0 = *reinterpret_cast<const vf*>(Bp);
    if constexpr (NV == 2) {
      const vf b1 = *reinterpret_cast<const vf*>(Bp + VW);
      for (int i = 0; i < MR; i++) {
        // The scalar times a vector: a broadcast (vbroadcastss from memory). `vf{} + s` was an add of +0 first
        // (not foldable: −0 + 0 = +0), an extra uop per element that held the tile at ≈ 45 % of the FMA peak.
        const float a = MODE == ROWS ? Ap[i * ld] : Ap[i];
        c0[i] += a * b0;
        c1[i] += a * b1;
      }
    } else {
      for (int i = 0; i < MR; i++) c0[i] += (MODE == ROWS ? Ap[i * ld] : Ap[i]) * b0;
    }
    Ap += MODE == PACKED ? MR : MODE == ROWS ? 1 : ld;
    Bp += NR;
  }
  if (mr == MR && nr == NV * VW) {
    for (int i = 0; i < MR; i++) {
      float* row = C + i * ldc;
      if (acc) {
        storeu(row, loadu(row) + c0[i]);
        if constexpr (NV == 2) storeu(row + VW, loadu(row + VW) + c1[i]);
      } else {
        storeu(row, c0[i]);
        if constexpr (NV == 2) storeu(row + VW, c1[i]);
      }
    }
  } else {
    alignas(64) float tmp[MR * NR];
    for (int i = 0; i < MR; i++) {
      storeu(tmp + i * NR, c0[i]);
      if constexpr (NV == 2) storeu(tmp + i * NR + VW, c1[i]);
    }
    for (int i = 0; i < mr; i++) {
      float* row = C + i * ldc;
      for (int j = 0; j < nr; j++) row[j] = (acc ? row[j] : 0.f) + tmp[i * NR + j];
    }
  }
}

/** micro<MODE, 2>, or micro<MODE, 1> when the tile's columns fit one vector. */
template <AMode MODE>
inline void microN(int kc, const float* Ap, long ld, const float* Bp, float* C, long ldc, int mr, int nr, bool acc) {
  if (nr <= VW) micro<MODE, 1>(kc, Ap, ld, Bp, C, ldc, mr, nr, acc);
  else micro<MODE, 2>(kc, Ap, ld, Bp, C, ldc, mr, nr, acc);
}

void packA(Mat A, int i0, int mc, int p0, int kc, float* out) {
  for (int ip = 0; ip < mc; ip += MR) {
    const int mr = std::min(MR, mc - ip);
    for (int p = 0; p < kc; p++) {
      const float* src = A.d + (long)(i0 + ip) * A.rs + (long)(p0 + p) * A.cs;
      int ii = 0;
      for (; ii < mr; ii++) out[p * MR + ii] = src[ii * A.rs];
      for (; ii < MR; ii++) out[p * MR + ii] = 0.f;
    }
    out += (long)kc * MR;
  }
}

void packB(Mat B, int p0, int kc, int j0, int nc, float* out) {
  for (int jp = 0; jp < nc; jp += NR) {
    const int nr = std::min(NR, nc - jp);
    for (int p = 0; p < kc; p++) {
      const float* src = B.d + (long)(p0 + p) * B.rs + (long)(j0 + jp) * B.cs;
      float* dst = out + p * NR;
      if (B.cs == 1 && nr == NR) {
        std::memcpy(dst, src, NR * 4);
      } else {
        int jj = 0;
        for (; jj < nr; jj++) dst[jj] = src[jj * B.cs];
        for (; jj < NR; jj++) dst[jj] = 0.f;
      }
    }
    out += (long)kc * NR;
  }
}

}  // namespace

/** C[m×n] (row stride ldc) = (acc ? C : 0) + A[m×k]·B[k×n]. Single-threaded; callers parallelise. */
void gemm(int m, int n, int k, Mat A, Mat B, float* C, long ldc, bool acc) {
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    if (!acc)
      for (int i = 0; i < m; i++) std::memset(C + i * ldc, 0, n * 4);
    return;
  }
  thread_local Buf abuf, bbuf;
  float* Ap = abuf.get((size_t)MC * KC);
  float* Bp = bbuf.get((size_t)KC * (NC + NR));
  for (int jc = 0; jc < n; jc += NC) {
    const int nc = std::min(NC, n - jc);
    for (int pc = 0; pc < k; pc += KC) {
      const int kc = std::min(KC, k - pc);
      const bool a2 = acc || pc > 0;
      packB(B, pc, kc, jc, nc, Bp);
      for (int ic = 0; ic < m; ic += MC) {
        const int mc = std::min(MC, m - ic);
        // In place: full MR-row tiles of a row- or column-major A when n is small; edge rows are packed.
        const bool rowsInPlace = A.cs == 1 && nc <= 2 * NR, colsInPlace = !rowsInPlace && A.rs == 1 && nc <= 2 * NR;
        const bool inPlace = rowsInPlace || colsInPlace;
        const int mFull = inPlace ? mc / MR * MR : 0;
        if (mFull < mc) packA(A, ic + mFull, mc - mFull, pc, kc, Ap);
        for (int jr = 0; jr < nc; jr += NR) {
          const float* bp = Bp + (long)(jr / NR) * kc * NR;
          const int nr = std::min(NR, nc - jr);
          for (int ir = 0; ir < mFull; ir += MR) {
            float* c = C + (long)(ic + ir) * ldc + jc + jr;
            if (rowsInPlace) microN<ROWS>(kc, A.d + (long)(ic + ir) * A.rs + pc, A.rs, bp, c, ldc, MR, nr, a2);
            else microN<COLS>(kc, A.d + (ic + ir) + (long)pc * A.cs, A.cs, bp, c, ldc, MR, nr, a2);
          }
          for (int ir = mFull; ir < mc; ir += MR)
            microN<PACKED>(kc, Ap + (long)((ir - mFull) / MR) * kc * MR, 0, bp, C + (long)(ic + ir) * ldc + jc + jr, ldc, std::min(MR, mc - ir), nr, a2);
        }
      }
    }
  }
}

/** Batched C[b] = act(op(A[b])·op(B[b]) + bias); a batch stride of 0 broadcasts. */
void matmul(int batch, int m, int n, int k, const float* A, long aStride, bool ta, const float* B, long bStride, bool tb, float* C, const float* bias, int act) {
  const int T = g_threads;
  int sm = 1, sn = 1;
  if (batch < 2 * T) {
    const int want = (2 * T + batch - 1) / batch;
    if (m >= n) sm = std::max(1, std::min(want, (m + MR - 1) / MR));
    else sn = std::max(1, std::min(want, (n + NR - 1) / NR));
  }
  const int cm = ((m + sm - 1) / sm + MR - 1) / MR * MR;
  const int cn = ((n + sn - 1) / sn + NR - 1) / NR * NR;
  const int tasks = batch * sm * sn;
  parallel(tasks, workers(tasks), [&](int t, int) {
    const int b = t / (sm * sn);
    const int i0 = (t % (sm * sn)) / sn * cm;
    const int j0 = (t % sn) * cn;
    if (i0 >= m || j0 >= n) return;
    const int mm = std::min(cm, m - i0), nn = std::min(cn, n - j0);
    const float* a = A + b * aStride;
    const float* bb = B + b * bStride;
    Mat Am = ta ? Mat{a + i0, 1, m} : Mat{a + (long)i0 * k, k, 1};
    Mat Bm = tb ? Mat{bb + (long)j0 * k, 1, k} : Mat{bb + j0, n, 1};
    float* c = C + (long)b * m * n + (long)i0 * n + j0;
    gemm(mm, nn, k, Am, Bm, c, n, false);
    biasAct(c, mm, nn, n, bias ? bias + j0 : nullptr, act);
  });
}

}  // namespace lw
