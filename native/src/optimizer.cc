// Optimizer updates in one pass per variable (Adam, SGD with momentum), instead of tfjs' chain of
// 4 (momentum) or 14 (Adam) element-wise kernels and their intermediate tensors per variable.
// The arithmetic is tfjs' (tfjs-core 4.22 adam_optimizer.ts / momentum_optimizer.ts), operation
// for operation in float32, with contraction off so no multiply-add is fused: the results are
// bit-identical to the stock optimizers on the wasm backend (test/engine/kernels-native.test.ts).
#pragma GCC optimize("fp-contract=off")
#include "kernels.h"

namespace lw {

void adamUpdate(const float* x, const float* m, const float* v, const float* g, float* xo, float* mo, float* vo, long n, const AdamScalars& s) {
  chunked(n, [&](long i0, long i1) {
    for (long i = i0; i < i1; i++) {
      const float gi = g[i];
      const float m1 = m[i] * s.beta1 + gi * s.oneMinusBeta1;
      const float v1 = v[i] * s.beta2 + (gi * gi) * s.oneMinusBeta2;
      const float mh = m1 / s.oneMinusAccBeta1;
      const float vh = v1 / s.oneMinusAccBeta2;
      const float step = mh / (std::sqrt(vh) + s.epsilon);
      mo[i] = m1;
      vo[i] = v1;
      xo[i] = step * s.negLearningRate + x[i];
    }
  });
}

void momentumUpdate(const float* x, const float* acc, const float* g, float* xo, float* acco, long n, float momentum, float negLearningRate) {
  chunked(n, [&](long i0, long i1) {
    for (long i = i0; i < i1; i++) {
      const float a1 = momentum * acc[i] + g[i];
      acco[i] = a1;
      xo[i] = negLearningRate * a1 + x[i];
    }
  });
}

}  // namespace lw
