// Batch normalization (Ioffe & Szegedy 2015), NHWC: x viewed as [M, C] (M = N·H·W rows of C
// channels), statistics per channel over the M rows: the training forward (mean, biased
// variance, normalised output), its gradient, and inference with given statistics.
// Rows are cut into fixed chunks of kBnRows (independent of the thread count); each chunk's
// partial sums (double) go to its own slot and are added in chunk order afterwards, so every
// result is bit-identical for any thread count.
#include <cmath>
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

typedef float vf8 __attribute__((vector_size(32)));
typedef double vd8 __attribute__((vector_size(64)));
inline vd8 load8d(const float* p) {
  vf8 v;
  std::memcpy(&v, p, sizeof v);
  return __builtin_convertvector(v, vd8);
}

/**
 * Two per-channel sums over rows [r0, r1) in double, each channel in row order:
 * (acc[c], acc[C + c]) += term(a, b, ref[c]) for a = a[r, c], b = b[r, c] (b may be null: 0),
 * term returning the pair of terms (forward: x − K and its square; backward: dy and dy·(x − μ)).
 * CC > 0 (a multiple of 8, = C): eight channels per vector with the accumulators in registers
 * across rows; CC = 0: any C, accumulators in memory (the same sums in the same order, 1.5–3× slower).
 */
template <int CC, class Term>
void pairSums(const float* a, const float* b, const float* ref, long r0, long r1, int C, double* acc, Term term) {
  if constexpr (CC > 0) {
    constexpr int V = CC / 8;
    vd8 rv[V], s1[V], s2[V];
    for (int v = 0; v < V; v++) {
      rv[v] = load8d(ref + 8 * v);
      s1[v] = vd8{};
      s2[v] = vd8{};
    }
    for (long r = r0; r < r1; r++)
      for (int v = 0; v < V; v++) {
        const auto [t1, t2] = term(load8d(a + r * CC + 8 * v), b ? load8d(b + r * CC + 8 * v) : vd8{}, rv[v]);
        s1[v] += t1;
        s2[v] += t2;
      }
    for (int v = 0; v < V; v++)
      for (int q = 0; q < 8; q++) {
        acc[8 * v + q] += s1[v][q];
        acc[CC + 8 * v + q] += s2[v][q];
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

/** f.template operator()<CC>() with CC = C for C ∈ {8, 16, 32, 64}, CC = 0 otherwise. */
template <class F>
void withChannels(int C, F&& f) {
  switch (C) {
    case 8: return f.template operator()<8>();
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

}  // namespace

/**
 * Training-mode batch norm: per-channel mean and (biased) variance over the M rows in one
 * pass of shifted sums in double, S₁ = Σ(x − K), S₂ = Σ(x − K)² with K = the first row
 * (Chan, Golub & LeVeque 1983, "Algorithms for computing the sample variance", §3: the shift
 * keeps E[(x − K)²] − E[x − K]² from cancelling unless |x₀ − μ| ≫ σ), μ = K + S₁/M,
 * σ² = S₂/M − (S₁/M)²; then y = (x − μ)·γ/√(σ² + ε) + β. Writes mean, var, invstd =
 * 1/√(σ² + ε) (each C floats).
 */
void bnTrainForward(const float* x, const float* gamma, const float* beta, float* y, float* mean, float* var, float* invstd, long M, int C, double eps) {
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
  bnApply(x, y, M, C, mu.data(), is.data(), gamma, beta);
}

/**
 * One-pass-of-sums batch-norm backward (Ioffe & Szegedy 2015, §3), with x̂ = (x − μ)·invstd:
 *   dβ = Σdy, dγ = Σdy·x̂, dx = γ·invstd/M·(M·dy − Σdy − x̂·Σdy·x̂) + dμ/M + dσ²·2(x − μ)/M
 * (the last two terms: gradients arriving at the mean / variance outputs, usually zero).
 * dmean / dvar may be null.
 */
void bnTrainBackward(const float* x, const float* dy, const float* gamma, const float* mean, const float* invstd, const float* dmean, const float* dvar,
                     float* dx, float* dgamma, float* dbeta, long M, int C) {
  std::vector<double> s(2 * C);
  bnChunkSums(M, C, 2, s.data(), [&](long r0, long r1, double* acc) {
    withChannels(C, [&]<int CC>() { pairSums<CC>(dy, x, mean, r0, r1, C, acc, GradTerms{}); });
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
        const float* dr = dy + r * n;
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
