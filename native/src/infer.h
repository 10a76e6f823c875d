// The inference executor's plan (infer.cc; built by src/engine/infer.ts, checked by binding.cc).
// A plan is a list of ops over buffer slots: slot 0 is the input x, slot 1 the output y, slots
// ≥ 2 scratch buffers that src/engine/infer.ts assigns by tensor lifetime (a slot is reused
// once the last reader of the tensor in it has run). Every tensor is NHWC per image; a slot
// holds its tensor for each image of a chunk back to back (image i at i · the tensor's size).
#pragma once

#include <vector>

#include "kernels.h"

namespace lw {

/** Op kinds (the first int of each op in inferRun's desc). */
enum InferKind : int {
  kInferConv = 0,       // conv2d [+ folded batch norm] [+ bias] [+ act]; dims: Conv
  kInferMaxPool = 1,    // dims: Pool2
  kInferDense = 2,      // dims: k, units
  kInferAdd = 3,        // y = act(a + b); dims: floats per image
  kInferConcat = 4,     // y[p, off … off + cin) = a[p, 0 … cin): one input of a channel concatenation; dims: pixels, cin, ctot, off
  kInferGlobalAvg = 5,  // y[c] = mean over pixels of a[p, c]; dims: pixels, c
  kInferGlobalMax = 6,  // y[c] = max over pixels; dims: pixels, c
  kInferDepthwise = 7,  // depthwise conv (cout = cin · depth multiplier) [+ folded batch norm] [+ bias] [+ act]; dims: Conv
  kInferPad = 8,        // zero padding; dims: h, w, c, top, bottom, left, right
  kInferAffine = 9,     // y = act(a · w[c] + b[c]) per channel (a batch norm not after a conv / dense, or an activation alone); dims: pixels, c
};

/** Activations an op applies to its output (InferOp::act): 0 linear, 1 relu, 2 relu6, 3 elu, 4 leaky relu (slope alpha). */

/** One op of an inference plan; geometry for one image (n is set per call). */
struct InferOp {
  int kind, act;
  int in0, in1, out;  // slots (in1: add's second operand, else −1)
  bool fuseNext;      // a conv whose output only the next op (a max pool) reads: the two may run as one pass
  float alpha;        // leaky relu slope
  Conv c;             // conv, depthwise
  Pool2 p;            // max pool
  int k, units;       // dense
  int g[7];           // the other kinds' dims (see InferKind)
  const float *w, *b; // weights and bias (affine: scale and shift); null when absent
  const float* u = nullptr;  // a Winograd conv's transformed filter (inferRun computes it once per call), else null
  long inSize, in1Size, outSize;  // floats per image of in0, in1, out
};

/**
 * Run ops [from, to) of the plan on n images. slotSize[s]: floats per image a slot holds.
 * slots == nullptr: the one-call executor, parallel over chunks of images (chunk images per
 * task, 0 = chosen from n and the thread count), scratch slots thread-local; slots given: each
 * op over all n images in turn (threaded inside the op), scratch slot s at slots[s] (≥ n · slotSize[s]).
 */
void inferRun(const std::vector<InferOp>& ops, const std::vector<long>& slotSize, const float* x, float* y, int n, int chunk, float* const* slots, int from, int to);

}  // namespace lw
