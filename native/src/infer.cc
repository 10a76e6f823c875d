// Inference executor (src/engine/infer.ts; the plan's layout in infer.h): a whole graph plan —
// conv / depthwise conv [+ folded batch norm + bias + act], max pool, dense, add, channel
// concatenation, global average / max pooling, zero padding, per-channel affine — in one call,
// parallel over chunks of images. Each task runs every op on its chunk (≤ 8 images) on one
// thread, in thread-local slot buffers that stay in L2: one pool dispatch per batch instead of
// one per op, and each max pool reads the conv output it follows while that is in cache (a residual
// add + relu runs in the epilogue of the conv before it: residualFusesWithPrev).
// Per image the arithmetic is that of the per-op kernels (the same kernels, the same
// accumulation order), so the per-op mode (slots given: each op over the whole batch,
// threaded inside the op; for A/B and profiling) gives the same numbers.
#include "infer.h"

#include <cmath>
#include <memory>

namespace lw {

namespace {

/** LAYERWISE_INFER_NO_FUSE=1: the executor without the fused / direct kernels (A/B). */
const bool g_inferNoFuse = [] {
  const char* e = std::getenv("LAYERWISE_INFER_NO_FUSE");
  return e && e[0] == '1';
}();

/**
 * y = act(y) over count floats: 0 linear, 1 relu, 2 relu6, 3 elu (e^v − 1 below 0), 4 leaky relu (slope alpha below 0).
 * One loop per activation, branch-free where it can be, so the compiler vectorises it (a switch per element
 * mispredicted on real data: MobileNet's relu6 epilogues took longer than its convolutions).
 */
void applyAct(float* y, long count, int act, float alpha) {
  switch (act) {
    case 1:
      for (long i = 0; i < count; i++) y[i] = std::max(y[i], 0.f);
      break;
    case 2:
      for (long i = 0; i < count; i++) y[i] = std::min(std::max(y[i], 0.f), 6.f);
      break;
    case 3:
      for (long i = 0; i < count; i++) y[i] = y[i] > 0.f ? y[i] : std::expm1(y[i]);
      break;
    case 4:
      for (long i = 0; i < count; i++) y[i] = y[i] > 0.f ? y[i] : y[i] * alpha;
      break;
    default:
      break;
  }
}

/** Ops other than conv / max pool / dense on m images, serial (a: in0, b2: in1, y: out). */
void elementOp(const InferOp& op, int m, const float* a, const float* b2, float* y) {
  const int* g = op.g;
  switch (op.kind) {
    case kInferAdd: {
      const long cnt = (long)m * g[0];
      for (long i = 0; i < cnt; i++) y[i] = a[i] + b2[i];
      applyAct(y, cnt, op.act, op.alpha);
      break;
    }
    case kInferConcat: {
      const long px = (long)m * g[0];
      for (long p = 0; p < px; p++) std::memcpy(y + p * g[2] + g[3], a + p * g[1], (size_t)g[1] * 4);
      break;
    }
    case kInferGlobalAvg:
    case kInferGlobalMax: {
      const int P = g[0], C = g[1];
      for (int img = 0; img < m; img++) {
        const float* ai = a + (long)img * P * C;
        float* o = y + (long)img * C;
        if (op.kind == kInferGlobalAvg) {
          for (int ch = 0; ch < C; ch++) o[ch] = 0.f;
          for (int p = 0; p < P; p++)
            for (int ch = 0; ch < C; ch++) o[ch] += ai[(long)p * C + ch];
          const float inv = 1.f / (float)P;
          for (int ch = 0; ch < C; ch++) o[ch] *= inv;
          applyAct(o, C, op.act, op.alpha);
        } else {
          for (int ch = 0; ch < C; ch++) o[ch] = ai[ch];
          for (int p = 1; p < P; p++)
            for (int ch = 0; ch < C; ch++) o[ch] = ai[(long)p * C + ch] > o[ch] ? ai[(long)p * C + ch] : o[ch];
          applyAct(o, C, op.act, op.alpha);
        }
      }
      break;
    }
    case kInferPad: {
      const int h = g[0], w = g[1], C = g[2], top = g[3], bottom = g[4], left = g[5], right = g[6];
      const int W2 = w + left + right;
      const long rowIn = (long)w * C, rowOut = (long)W2 * C;
      for (int img = 0; img < m; img++) {
        float* o = y + (long)img * (h + top + bottom) * rowOut;
        const float* ai = a + (long)img * h * rowIn;
        std::memset(o, 0, (size_t)top * rowOut * 4);
        for (int r = 0; r < h; r++) {
          float* orow = o + (long)(top + r) * rowOut;
          std::memset(orow, 0, (size_t)left * C * 4);
          std::memcpy(orow + (long)left * C, ai + r * rowIn, (size_t)rowIn * 4);
          std::memset(orow + (long)(left + w) * C, 0, (size_t)right * C * 4);
        }
        std::memset(o + (long)(top + h) * rowOut, 0, (size_t)bottom * rowOut * 4);
      }
      break;
    }
    case kInferAffine: {
      const long px = (long)m * g[0];
      const int C = g[1];
      for (long p = 0; p < px; p++) {
        const float* ap = a + p * C;
        float* yp = y + p * C;
        if (op.w)
          for (int ch = 0; ch < C; ch++) yp[ch] = ap[ch] * op.w[ch];
        else if (yp != ap)
          std::memcpy(yp, ap, (size_t)C * 4);
        if (op.b)
          for (int ch = 0; ch < C; ch++) yp[ch] += op.b[ch];
      }
      applyAct(y, px * C, op.act, op.alpha);
      break;
    }
    default:
      break;
  }
}

/** Conv / dense kernels take act 0 or 1 (relu) in their epilogue; anything else runs after them. */
inline int kernelAct(int act) { return act == 1 ? 1 : 0; }
/** Conv kernels (convForward and the direct ones) also take relu6 (act 2) in their epilogue. */
inline int convAct(int act) { return act <= 2 ? act : 0; }

/** One op on m images whose in0 / in1 / out start at a / b2 / y; threaded inside the kernel unless t_serial. */
void runOp(const InferOp& op, int m, const float* a, const float* b2, float* y) {
  switch (op.kind) {
    case kInferConv: {
      Conv c = op.c;
      c.n = m;
      // Winograd first where it applies, as convForward (the per-op path) takes it: the same numbers either way.
      if (convWinograd(c, a, op.w, op.b, y, convAct(op.act), nullptr, nullptr, op.u)) {
      } else if (t_serial && !g_inferNoFuse && convVecOk(c, nullptr)) convVecSerial(c, nullptr, a, op.w, op.b, y, convAct(op.act));
      else convForward(c, a, op.w, op.b, y, convAct(op.act));
      if (op.act > 2) applyAct(y, m * op.outSize, op.act, op.alpha);
      break;
    }
    case kInferMaxPool: {
      Pool2 p = op.p;
      p.n = m;
      maxPoolForward(p, a, y);
      applyAct(y, m * op.outSize, op.act, op.alpha);
      break;
    }
    case kInferDense:
      matmul(1, m, op.units, op.k, a, 0, false, op.w, 0, false, y, op.b, kernelAct(op.act));
      if (op.act > 1) applyAct(y, m * op.outSize, op.act, op.alpha);
      break;
    case kInferDepthwise: {
      // depthwise_vec.cc (taps in registers, bias + relu / relu6 in its epilogue) where it applies, else depthwise.cc (then bias + act in one pass).
      Conv c = op.c;
      c.n = m;
      if (!g_inferNoFuse && depthwiseForwardVec(c, a, op.w, op.b, y, convAct(op.act))) {
        if (op.act > 2) applyAct(y, m * op.outSize, op.act, op.alpha);
        break;
      }
      depthwiseForward(c, a, op.w, y);
      const long px = (long)m * c.oh * c.ow;
      if (op.b)
        for (long p = 0; p < px; p++)
          for (int q = 0; q < c.cout; q++) y[p * c.cout + q] += op.b[q];
      applyAct(y, px * c.cout, op.act, op.alpha);
      break;
    }
    default:
      elementOp(op, m, a, b2, y);
  }
}

/** Does op k (a conv) run fused with the max pool after it in the one-call executor? */
bool fusesWithNext(const std::vector<InferOp>& ops, size_t k, int to) {
  if (g_inferNoFuse || (int)k + 1 >= to) return false;
  const InferOp &op = ops[k], &next = ops[k + 1];
  if (op.kind != kInferConv || next.kind != kInferMaxPool || !op.fuseNext || next.in0 != op.out || op.act > 1 || next.act != 0) return false;
  // A conv Winograd takes fuses only with a pool whose windows are its 2×2 tiles (else conv, then the pool op).
  if (convWinogradOk(op.c)) return convWinogradPoolOk(op.c, next.p);
  return convDirect1PoolOk(op.c, next.p) || convVecOk(op.c, &next.p) || convVecPaddedPoolOk(op.c, next.p);
}

/**
 * The residual slot when op k (a linear conv that convVecPadded takes) and the add after it (linear or relu) run as one
 * kernel in the one-call executor, the add in the conv's epilogue (ResNet's "conv+bn → add+relu"): y = act((conv + bias) + res),
 * the same numbers as the two ops, and the conv's map is never written nor read back. −1 when they do not fuse: the conv output
 * has another reader before its slot is overwritten, or the add writes over the conv's input (the planner adds in place
 * into the conv's output instead: every add of resnet20).
 */
int residualFusesWithPrev(const std::vector<InferOp>& ops, size_t k, int to) {
  if (g_inferNoFuse || (int)k + 1 >= to) return -1;
  const InferOp &op = ops[k], &add = ops[k + 1];
  if (op.kind != kInferConv || add.kind != kInferAdd || op.act != 0 || add.act > 1) return -1;
  if ((add.in0 == op.out) == (add.in1 == op.out) || add.out == op.in0 || op.in0 == op.out) return -1;
  // The kernel runConv picks must be convVecPadded's (convDirect and the valid-padding convVecSerial come first).
  // (or Winograd's, which takes the residual in its output transform).
  if (!convWinogradOk(op.c) && (!convVecPaddedOk(op.c) || convVecOk(op.c, nullptr) || op.c.cin == 1)) return -1;
  for (size_t j = k + 2; add.out != op.out && j < ops.size(); j++) {  // (an add in place leaves its own output in the slot)
    if (ops[j].in0 == op.out || ops[j].in1 == op.out) return -1;
    if (ops[j].out == op.out) break;
  }
  return add.in0 == op.out ? add.in1 : add.in0;
}

}  // namespace

void inferRun(const std::vector<InferOp>& ops, const std::vector<long>& slotSize, const float* x, float* y, int n, int chunk, float* const* slots, int from, int to) {
  if (ops.empty() || n < 1 || from >= to) return;
  const long inSize = slotSize[0], outSize = slotSize[1];
  const size_t nslots = slotSize.size();
  if (slots) {
    // Per-op mode: the whole batch through each op in turn.
    auto at = [&](int s) -> float* { return s == 0 ? const_cast<float*>(x) : s == 1 ? y : slots[s]; };
    for (int k = from; k < to; k++) {
      const InferOp& op = ops[k];
      const float* a = at(op.in0);
      const float* b2 = op.in1 >= 0 ? at(op.in1) : nullptr;
      float* o = at(op.out);
      if (op.kind == kInferConv || op.kind == kInferMaxPool || op.kind == kInferDense || op.kind == kInferDepthwise) {
        runOp(op, n, a, b2, o);
      } else {
        parallel(n, workers(n), [&](int img, int) {
          const bool saved = t_serial;
          t_serial = true;
          runOp(op, 1, a + img * op.inSize, b2 ? b2 + img * op.in1Size : nullptr, o + img * op.outSize);
          t_serial = saved;
        });
      }
    }
    return;
  }
  const int T = g_threads;
  const int nb = chunk > 0 ? chunk : std::max(1, std::min(8, (n + 2 * T - 1) / (2 * T)));  // ≥ 2 chunks per thread
  const int tasks = (n + nb - 1) / nb;
  parallel(tasks, workers(tasks), [&](int t, int) {
    // Buf owns its memory and is not copyable: hold them by pointer so growing the list moves no buffer.
    thread_local std::vector<std::unique_ptr<Buf>> bufs;
    while (bufs.size() < nslots) bufs.push_back(std::make_unique<Buf>());
    const bool saved = t_serial;
    t_serial = true;
    const int i0 = t * nb, m = std::min(nb, n - i0);
    std::vector<float*> slot(nslots);
    slot[0] = const_cast<float*>(x) + (long)i0 * inSize;
    slot[1] = y + (long)i0 * outSize;
    for (size_t s = 2; s < nslots; s++) slot[s] = bufs[s]->get((size_t)slotSize[s] * nb);
    for (int k = from; k < to; k++) {
      const InferOp& op = ops[k];
      const float* a = slot[op.in0];
      const float* b2 = op.in1 >= 0 ? slot[op.in1] : nullptr;
      if (fusesWithNext(ops, k, to)) {
        // conv followed by a 2×2 / 2 max pool that alone reads it: one fused pass (the pool op is skipped).
        Conv c = op.c;
        c.n = m;
        Pool2 p = ops[k + 1].p;
        p.n = m;
        float* o = slot[ops[k + 1].out];
        if (convWinograd(c, a, op.w, op.b, o, op.act, nullptr, &p, op.u)) {
        } else if (convDirect1PoolOk(c, p)) convDirect1Pool(c, p, a, op.w, op.b, o, op.act);
        else if (convVecOk(c, &p)) convVecSerial(c, &p, a, op.w, op.b, o, op.act);
        else convVecPaddedPool(c, p, a, op.w, op.b, o, op.act);
        k++;
        continue;
      }
      if (const int res = residualFusesWithPrev(ops, k, to); res >= 0) {
        // conv (+ folded batch norm) then the add of a residual (+ relu): one kernel, the add in the conv's epilogue.
        Conv c = op.c;
        c.n = m;
        if (!convWinograd(c, a, op.w, op.b, slot[ops[k + 1].out], ops[k + 1].act, slot[res], nullptr, op.u))
          convVecPadded(c, a, op.w, op.b, slot[ops[k + 1].out], ops[k + 1].act, slot[res]);
        k++;
        continue;
      }
      runOp(op, m, a, b2, slot[op.out]);
    }
    t_serial = saved;
  });
}

}  // namespace lw
