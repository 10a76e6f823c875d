// Batch normalization (Ioffe & Szegedy 2015), NHWC: x viewed as [M, C] (M = N·H·W rows of C
// channels), statistics per channel over the M rows: the training forward (mean, biased
// variance, normalised output), its gradient, and inference with given statistics.
// Rows are cut into fixed chunks of kBnRows (independent of the thread count); each chunk's
// partial sums (double) go to its own slot and are added in chunk order afterwards, so every
// result is bit-identical for any thread count.
#include <cmath>
#include <type_traits>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif
#include <utility>

#include "kernels.h"

namespace lw {

namespace {

constexpr long kBnRows = 1024;

/** f(chunk, r0, r1) for the row chunks [r0, r1) of kBnRows rows (the last one shorter), in parallel. */
template <class F>
void forRowChunks(long M, F&& f) {
  const long chunks = (M + kBnRows - 1) / kBnRows;
  parallel((int)chunks, workers((int)chunks), [&](int t, int) {
    const long r0 = (long)t * kBnRows;
    f((long)t, r0, std::min(M, r0 + kBnRows));
  });
}

/** For each chunk, part[chunk·C + c] = Σ_rows f(row, c) in double; returns Σ over chunks in order into out[c]. */
template <class F>
void bnChunkSums(long M, int C, int nOut, double* out, F&& f) {
  const long chunks = (M + kBnRows - 1) / kBnRows;
  std::vector<double> part((size_t)chunks * nOut * C, 0.0);
  forRowChunks(M, [&](long t, long r0, long r1) { f(r0, r1, part.data() + (size_t)t * nOut * C); });
  for (int i = 0; i < nOut * C; i++) out[i] = 0;
  for (long t = 0; t < chunks; t++)
    for (int i = 0; i < nOut * C; i++) out[i] += part[(size_t)t * nOut * C + i];
}

typedef float vf4 __attribute__((vector_size(16)));
typedef double vd4 __attribute__((vector_size(32)));
inline vd4 load4d(const float* p) {
  vf4 v;
  std::memcpy(&v, p, sizeof v);
  return __builtin_convertvector(v, vd4);
}

/**
 * Two per-channel sums over rows [r0, r1) in double:
 * (acc[c], acc[C + c]) += term(a, b, ref[c]) for a = a[r, c], b = b[r, c] (b may be null: 0),
 * term returning the pair of terms (forward: x − K and its square; backward: dy and dy·(x − μ)).
 * CC > 0 (a multiple of 4, = C): four channels per 256-bit double vector (one register with AVX2;
 * an 8-double vector does not fit one and spilled every step), U rows in flight with their own
 * accumulators (the adds' latency hidden), added in row-slot order at the end; CC = 0: any C,
 * accumulators in memory, rows in order (1.5–3× slower). A chunk's sums depend on CC and the rows
 * only, never on the thread count.
 */
template <int CC, class Term>
void pairSums(const float* a, const float* b, const float* ref, long r0, long r1, int C, double* acc, Term term) {
  if constexpr (CC > 0) {
    constexpr int V = CC / 4;
    constexpr int U = CC <= 8 ? 2 : 1;
    vd4 rv[V], s1[U][V], s2[U][V];
    for (int v = 0; v < V; v++) {
      rv[v] = load4d(ref + 4 * v);
      for (int u = 0; u < U; u++) s1[u][v] = s2[u][v] = vd4{};
    }
    auto row = [&](long r, vd4* t1s, vd4* t2s) {
      for (int v = 0; v < V; v++) {
        const auto [t1, t2] = term(load4d(a + r * CC + 4 * v), b ? load4d(b + r * CC + 4 * v) : vd4{}, rv[v]);
        t1s[v] += t1;
        t2s[v] += t2;
      }
    };
    long r = r0;
    for (; r + U <= r1; r += U)
      for (int u = 0; u < U; u++) row(r + u, s1[u], s2[u]);
    for (; r < r1; r++) row(r, s1[0], s2[0]);
    for (int v = 0; v < V; v++)
      for (int q = 0; q < 4; q++)
        for (int u = 0; u < U; u++) {
          acc[4 * v + q] += s1[u][v][q];
          acc[CC + 4 * v + q] += s2[u][v][q];
        }
  } else {
    for (long r = r0; r < r1; r++)
      for (int c = 0; c < C; c++) {
        const auto [t1, t2] = term((double)a[r * C + c], b ? (double)b[r * C + c] : 0.0, (double)ref[c]);
        acc[c] += t1;
        acc[C + c] += t2;
      }
  }
}

/** The forward's terms: d = x − K and d². */
struct ShiftedTerms {
  template <class T>
  std::pair<T, T> operator()(T x, T, T k) const {
    const T d = x - k;
    return {d, d * d};
  }
};
/** The backward's terms: dy and dy·(x − μ). */
struct GradTerms {
  template <class T>
  std::pair<T, T> operator()(T dy, T x, T mu) const {
    return {dy, dy * (x - mu)};
  }
};

/** f.template operator()<CC>() with CC = C for C ∈ {4, 8, 16, 32, 64, 128, 256}, CC = 0 otherwise. */
template <class F>
void withChannels(int C, F&& f) {
  switch (C) {
    case 4: return f.template operator()<4>();
    case 8: return f.template operator()<8>();
    case 128: return f.template operator()<128>();
    case 256: return f.template operator()<256>();
    case 16: return f.template operator()<16>();
    case 32: return f.template operator()<32>();
    case 64: return f.template operator()<64>();
    default: return f.template operator()<0>();
  }
}

/** y = (x − μ)·(γ·invstd) + β per channel, rows in parallel; gamma/beta may be null (1 / 0). */
void bnApply(const float* x, float* y, long M, int C, const double* mean, const double* invstd, const float* gamma, const float* beta) {
  std::vector<float> mu(C), sc(C), sh(C);
  for (int c = 0; c < C; c++) {
    mu[c] = (float)mean[c];
    sc[c] = (float)((gamma ? gamma[c] : 1.0) * invstd[c]);
    sh[c] = beta ? beta[c] : 0.f;
  }
  forRowChunks(M, [&](long, long r0, long r1) {
    withChannels(C, [&]<int CC>() {
      const int n = CC > 0 ? CC : C;  // a compile-time channel count lets the row loop keep μ, scale, shift in registers
      for (long r = r0; r < r1; r++) {
        const float* xr = x + r * n;
        float* yr = y + r * n;
        for (int c = 0; c < n; c++) yr[c] = (xr[c] - mu[c]) * sc[c] + sh[c];
      }
    });
  });
}

/** ReLU (act 1) or ReLU6 (act 2) of a normalised value z, NaN kept (elementwise.cc's reluForward / relu6Forward). */
template <int ACT, class T>
inline T bnActivate(T z) {
  const T zero = T{} + 0.f, six = T{} + 6.f;
  if constexpr (ACT == 1) return z < zero ? zero : z;
  else return z > zero ? (z < six ? z : six) : (z == z ? zero : z);
}
/** The activation's derivative at z as elementwise.cc's gradients take it: ReLU step(z) (NaN for NaN z), ReLU6 [0 < z < 6]. */
template <int ACT, class T>
inline T bnActMask(T z) {
  const T zero = T{} + 0.f, one = T{} + 1.f, six = T{} + 6.f;
  if constexpr (ACT == 1) return z > zero ? one : (z == z ? zero : z);
  else return (z > zero) & (z < six) ? one : zero;
}

/** a·b + c rounded once (as std::fma), so the vector and scalar paths give the same z bit for bit. */
inline vf8 fma8(vf8 a, vf8 b, vf8 c) {
#if defined(__FMA__) && (defined(__x86_64__) || defined(__i386__))
  return (vf8)_mm256_fmadd_ps((__m256)a, (__m256)b, (__m256)c);
#else
  vf8 r;
  for (int i = 0; i < 8; i++) r[i] = std::fma(a[i], b[i], c[i]);
  return r;
#endif
}

/**
 * The per-channel affine map of the fused path, z = fma(x − μ, s, β) with s = (float)(γ·invstd) from the
 * float μ and invstd the forward writes out: the backward rebuilds the same s from its inputs, so its
 * z (hence its activation mask) is the forward's bit for bit.
 */
inline void fusedAffine(const float* gamma, const float* beta, const float* mean, const float* invstd, int C, float* mu, float* sc, float* sh) {
  for (int c = 0; c < C; c++) {
    mu[c] = mean[c];
    sc[c] = (float)((gamma ? (double)gamma[c] : 1.0) * (double)invstd[c]);
    sh[c] = beta ? beta[c] : 0.f;
  }
}

/**
 * f(row r, channel c0, z) over rows [r0, r1) for the fused path's z = fma(x − μ, s, β): eight channels a
 * vector when C is a multiple of 8 (CC), one at a time otherwise. The forward's output pass and the
 * backward's mask pass both go through here, so both see the same z.
 */
template <int CC, class F>
inline void forZ(const float* x, long r0, long r1, int C, const float* mu, const float* sc, const float* sh, F&& f) {
  if constexpr (CC > 0 && CC % 8 == 0) {
    for (long r = r0; r < r1; r++)
      for (int c = 0; c < CC; c += 8) f(r, c, fma8(load8(x + r * CC + c) - load8(mu + c), load8(sc + c), load8(sh + c)));
  } else {
    for (long r = r0; r < r1; r++)
      for (int c = 0; c < C; c++) f(r, c, std::fma(x[r * C + c] - mu[c], sc[c], sh[c]));
  }
}

/** y = act(fma(x − μ, s, β)) (fusedAffine), rows in parallel. */
template <int ACT>
void bnApplyAct(const float* x, float* y, long M, int C, const float* mu, const float* sc, const float* sh) {
  forRowChunks(M, [&](long, long r0, long r1) {
    withChannels(C, [&]<int CC>() {
      forZ<CC>(x, r0, r1, C, mu, sc, sh, [&](long r, int c, auto z) {
        if constexpr (std::is_same_v<decltype(z), vf8>) store8(y + r * CC + c, bnActivate<ACT>(z));
        else y[r * C + c] = bnActivate<ACT>(z);
      });
    });
  });
}

/** e = dy · act'(z) over rows [r0, r1), z rebuilt from x as the forward made it (fusedAffine). */
template <int ACT>
void bnMaskRows(const float* x, const float* dy, float* e, long r0, long r1, int C, const float* mu, const float* sc, const float* sh) {
  withChannels(C, [&]<int CC>() {
    forZ<CC>(x, r0, r1, C, mu, sc, sh, [&](long r, int c, auto z) {
      if constexpr (std::is_same_v<decltype(z), vf8>) store8(e + r * CC + c, load8(dy + r * CC + c) * bnActMask<ACT>(z));
      else e[r * C + c] = dy[r * C + c] * bnActMask<ACT>(z);
    });
  });
}

}  // namespace

/**
 * Training-mode batch norm: per-channel mean and (biased) variance over the M rows in one
 * pass of shifted sums in double, S₁ = Σ(x − K), S₂ = Σ(x − K)² with K = the first row
 * (Chan, Golub & LeVeque 1983, "Algorithms for computing the sample variance", §3: the shift
 * keeps E[(x − K)²] − E[x − K]² from cancelling unless |x₀ − μ| ≫ σ), μ = K + S₁/M,
 * σ² = S₂/M − (S₁/M)²; then y = (x − μ)·γ/√(σ² + ε) + β. Writes mean, var, invstd =
 * 1/√(σ² + ε) (each C floats). act 1 / 2: y = ReLU / ReLU6 of fma(x − μ, (float)(γ·invstd), β)
 * (fusedAffine: the z the backward rebuilds), in the same output pass.
 */
void bnTrainForward(const float* x, const float* gamma, const float* beta, float* y, float* mean, float* var, float* invstd, long M, int C, double eps, int act) {
  std::vector<double> s(2 * C), mu(C), is(C);
  std::vector<float> K(x, x + C);
  const float* k = K.data();
  bnChunkSums(M, C, 2, s.data(), [&](long r0, long r1, double* acc) {
    withChannels(C, [&]<int CC>() { pairSums<CC>(x, nullptr, k, r0, r1, C, acc, ShiftedTerms{}); });
  });
  for (int c = 0; c < C; c++) {
    const double m1 = s[c] / (double)M;
    const double v = std::max(0.0, s[C + c] / (double)M - m1 * m1);
    mu[c] = (double)K[c] + m1;
    is[c] = 1.0 / std::sqrt(v + eps);
    mean[c] = (float)mu[c];
    var[c] = (float)v;
    invstd[c] = (float)is[c];
  }
  if (act == 0) return bnApply(x, y, M, C, mu.data(), is.data(), gamma, beta);
  std::vector<float> muf(C), sc(C), sh(C);
  fusedAffine(gamma, beta, mean, invstd, C, muf.data(), sc.data(), sh.data());
  if (act == 1) bnApplyAct<1>(x, y, M, C, muf.data(), sc.data(), sh.data());
  else bnApplyAct<2>(x, y, M, C, muf.data(), sc.data(), sh.data());
}

/**
 * One-pass-of-sums batch-norm backward (Ioffe & Szegedy 2015, §3), with x̂ = (x − μ)·invstd:
 *   dβ = Σdy, dγ = Σdy·x̂, dx = γ·invstd/M·(M·dy − Σdy − x̂·Σdy·x̂) + dμ/M + dσ²·2(x − μ)/M
 * (the last two terms: gradients arriving at the mean / variance outputs, usually zero).
 * dmean / dvar may be null. act 1 / 2 (the forward's fused ReLU / ReLU6): dy is first masked by
 * the activation's derivative at z, rebuilt from x, mean, invstd, γ and beta.
 */
void bnTrainBackward(const float* x, const float* dy, const float* gamma, const float* mean, const float* invstd, const float* dmean, const float* dvar,
                     float* dx, float* dgamma, float* dbeta, long M, int C, const float* beta, int act) {
  std::vector<double> s(2 * C);
  std::vector<float> fmu(C), fsc(C), fsh(C);
  if (act) fusedAffine(gamma, beta, mean, invstd, C, fmu.data(), fsc.data(), fsh.data());
  // Fused activation: the masked gradient e = dy·act'(z) goes into dx chunk by chunk (summed while the
  // chunk is in cache) and replaces dy in the dx pass below, which then reads and writes dx in place.
  const float* g = act ? dx : dy;
  bnChunkSums(M, C, 2, s.data(), [&](long r0, long r1, double* acc) {
    if (act == 1) bnMaskRows<1>(x, dy, dx, r0, r1, C, fmu.data(), fsc.data(), fsh.data());
    else if (act == 2) bnMaskRows<2>(x, dy, dx, r0, r1, C, fmu.data(), fsc.data(), fsh.data());
    withChannels(C, [&]<int CC>() { pairSums<CC>(g, x, mean, r0, r1, C, acc, GradTerms{}); });
  });
  std::vector<float> a(C), k(C), b(C), mu(C);
  for (int c = 0; c < C; c++) {
    const double g = gamma ? gamma[c] : 1.0, is = invstd[c], sdy = s[c], sdyxh = s[C + c] * is, Md = (double)M;
    dbeta[c] = (float)sdy;
    dgamma[c] = (float)sdyxh;
    a[c] = (float)(g * is);
    k[c] = (float)(-g * is * is * sdyxh / Md + (dvar ? 2.0 * dvar[c] / Md : 0.0));
    b[c] = (float)(-g * is * sdy / Md + (dmean ? dmean[c] / Md : 0.0));
    mu[c] = mean[c];
  }
  forRowChunks(M, [&](long, long r0, long r1) {
    withChannels(C, [&]<int CC>() {
      const int n = CC > 0 ? CC : C;
      for (long r = r0; r < r1; r++) {
        const float* xr = x + r * n;
        const float* dr = g + r * n;
        float* o = dx + r * n;
        for (int c = 0; c < n; c++) o[c] = a[c] * dr[c] + k[c] * (xr[c] - mu[c]) + b[c];
      }
    });
  });
}

/** Inference batch norm with given statistics: y = (x − mean)·γ/√(var + ε) + β. */
void bnInference(const float* x, const float* mean, const float* var, const float* gamma, const float* beta, float* y, long M, int C, double eps) {
  std::vector<double> mu(C), is(C);
  for (int c = 0; c < C; c++) {
    mu[c] = mean[c];
    is[c] = 1.0 / std::sqrt((double)var[c] + eps);
  }
  bnApply(x, y, M, C, mu.data(), is.data(), gamma, beta);
}

}  // namespace lw
