// Sum / Mean over a contiguous run of axes, accumulated in double, and Tile (the batch-norm
// gradient broadcasts with it).
#include "kernels.h"

namespace lw {

/**
 * out[a, b] = Σ_r x[a, r, b] (× 1/R for a mean), accumulated in double: batch-norm
 * gradients subtract such sums from values of the same size, so float32 accumulation over
 * 10⁴–10⁵ terms (what tfjs-backend-wasm's Sum does) leaves errors the cancellation magnifies.
 */
void reduceMid(const float* x, float* out, long A, long R, long B, bool mean) {
  constexpr long BCH = 512;
  const long bChunks = (B + BCH - 1) / BCH;
  const long tasks = A * bChunks;
  parallel((int)tasks, workers((int)tasks), [&](int t, int) {
    const long a = t / bChunks, b0 = (t % bChunks) * BCH, nb = std::min(BCH, B - b0);
    const float* xa = x + a * R * B + b0;
    if (nb == 1) {
      double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      long r = 0;
      for (; r + 4 <= R; r += 4) {
        s0 += xa[r * B];
        s1 += xa[(r + 1) * B];
        s2 += xa[(r + 2) * B];
        s3 += xa[(r + 3) * B];
      }
      for (; r < R; r++) s0 += xa[r * B];
      const double s = (s0 + s1) + (s2 + s3);
      out[a * B + b0] = (float)(mean ? s / (double)R : s);
      return;
    }
    double acc[BCH];
    for (long b = 0; b < nb; b++) acc[b] = 0;
    for (long r = 0; r < R; r++) {
      const float* row = xa + r * B;
      for (long b = 0; b < nb; b++) acc[b] += row[b];
    }
    for (long b = 0; b < nb; b++) out[a * B + b0 + b] = (float)(mean ? acc[b] / (double)R : acc[b]);
  });
}

/** Tile: out (shape xs[d]·reps[d]) repeats x; fills the first copy of each level, then replicates it with memcpy. */
void tileRec(int d, int rank, const float* x, float* o, const long* xs, const long* reps, const long* xStride, const long* oStride) {
  if (d == rank - 1) {
    for (long r = 0; r < reps[d]; r++) std::memcpy(o + r * xs[d], x, xs[d] * 4);
    return;
  }
  for (long i = 0; i < xs[d]; i++) tileRec(d + 1, rank, x + i * xStride[d], o + i * oStride[d], xs, reps, xStride, oStride);
  const long chunk = xs[d] * oStride[d];
  for (long r = 1; r < reps[d]; r++) std::memcpy(o + r * chunk, o, chunk * 4);
}

}  // namespace lw
