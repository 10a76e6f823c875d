// N-API glue of the inference executor (native/src/infer.cc, plan layout infer.h): inferRun's
// argument checks — every op's kind, dims, slots and weight sizes, the slot buffers — before
// the plan runs, and inferVersion (the plan layout this build reads). Registered by binding.cc.
#include <node_api.h>

#include <cstdint>
#include <string>

#include "infer.h"
#include "napi_args.h"

namespace lw {
namespace {

using namespace napi;

/** Ints per op in inferRun's desc: kind, act, in0, in1, out, flags, alpha (float bits), then the op's dims (conv 15, pool 12, dense k and units, others infer.h). */
constexpr size_t kOpInts = 24;
constexpr size_t kOpHead = 7;
static_assert(kOpHead + kInts<Conv> <= kOpInts, "desc layout");

/** RangeError "inferRun: op <k>: <what>"; returns false. */
bool opError(napi_env env, size_t k, const char* what) {
  napi_throw_range_error(env, nullptr, ("inferRun: op " + std::to_string(k) + ": " + what).c_str());
  return false;
}

/** Op k from its desc ints o: geometry, slots, per-image sizes and needed weight / bias sizes; false (an error thrown) for an unknown kind or bad dims. */
bool inferOp(napi_env env, size_t k, const int32_t* o, InferOp* op, size_t* wNeed, size_t* bNeed) {
  *wNeed = *bNeed = 0;
  op->kind = o[0];
  op->act = o[1];
  op->in0 = o[2];
  op->in1 = o[3];
  op->out = o[4];
  op->fuseNext = (o[5] & 1) != 0;
  std::memcpy(&op->alpha, &o[6], 4);
  const int32_t* d = o + kOpHead;
  for (size_t i = 0; i < kOpInts - kOpHead; i++)
    if (d[i] < 0) return opError(env, k, "negative dims");
  if (op->act < 0 || op->act > 4) return opError(env, k, "unknown activation");
  op->in1Size = 0;
  for (int& v : op->g) v = 0;
  const auto geometry = [&](int count) {
    for (int i = 0; i < count; i++) op->g[i] = d[i];
  };
  switch (op->kind) {
    case kInferConv:
    case kInferDepthwise:
      op->c = fromInts<Conv>(d);
      op->c.n = 1;
      if (op->c.dh < 1 || op->c.dw < 1 || op->c.sh < 1 || op->c.sw < 1 || op->c.fh < 1 || op->c.fw < 1) return opError(env, k, "conv window, strides and dilations must be ≥ 1");
      op->inSize = (long)op->c.h * op->c.w * op->c.cin;
      op->outSize = (long)op->c.oh * op->c.ow * op->c.cout;
      if (op->kind == kInferDepthwise && (op->c.cin < 1 || op->c.cout % op->c.cin != 0)) return opError(env, k, "depthwise output channels must be a multiple of the input channels");
      *wNeed = op->kind == kInferConv ? (size_t)op->c.K() * op->c.cout : (size_t)op->c.fh * op->c.fw * op->c.cout;
      *bNeed = op->c.cout;
      break;
    case kInferMaxPool:
      op->p = fromInts<Pool2>(d);
      op->p.n = 1;
      if (op->p.sh < 1 || op->p.sw < 1) return opError(env, k, "pool strides must be ≥ 1");
      op->inSize = (long)op->p.h * op->p.w * op->p.c;
      op->outSize = (long)op->p.oh * op->p.ow * op->p.c;
      break;
    case kInferDense:
      op->k = d[0];
      op->units = d[1];
      op->inSize = op->k;
      op->outSize = op->units;
      *wNeed = (size_t)op->k * op->units;
      *bNeed = op->units;
      break;
    case kInferAdd:
      geometry(1);
      op->inSize = op->in1Size = op->outSize = d[0];
      break;
    case kInferConcat:
      geometry(4);
      if (d[3] + d[1] > d[2]) return opError(env, k, "concatenation slice outside the output");
      op->inSize = (long)d[0] * d[1];
      op->outSize = (long)d[0] * d[2];
      break;
    case kInferGlobalAvg:
    case kInferGlobalMax:
      geometry(2);
      op->inSize = (long)d[0] * d[1];
      op->outSize = d[1];
      break;
    case kInferPad:
      geometry(7);
      op->inSize = (long)d[0] * d[1] * d[2];
      op->outSize = (long)(d[0] + d[3] + d[4]) * (d[1] + d[5] + d[6]) * d[2];
      break;
    case kInferAffine:
      geometry(2);
      op->inSize = op->outSize = (long)d[0] * d[1];
      *bNeed = d[1];
      break;
    default:
      napi_throw_range_error(env, nullptr, ("inferRun: op " + std::to_string(k) + ": unknown kind").c_str());
      return false;
  }
  if (op->inSize <= 0 || op->outSize <= 0) return opError(env, k, "empty input or output");
  return true;
}

/** A tensor of `size` floats per image in slot s: s exists, holds that much, and the input / output slots hold exactly their tensor (their per-image stride). */
bool slotOk(napi_env env, size_t k, int s, long size, const std::vector<long>& slotSize, bool write) {
  if (s < 0 || (size_t)s >= slotSize.size()) return opError(env, k, "slot out of range");
  if (write && s == 0) return opError(env, k, "writes the input");
  if (s < 2 ? size != slotSize[s] : size > slotSize[s]) return opError(env, k, "tensor does not fit its slot");
  return true;
}

}  // namespace

using namespace napi;

// inferRun(x, y, n, desc Int32Array [per op 24], params [w0, b0|null, w1, …], slotSizes Int32Array, chunk, slots [Float32Array|null per slot] | null, from, to)
napi_value InferRun(napi_env env, napi_callback_info info) {
  napi_value a[10];
  F32 x, y;
  int n, chunk, from, to;
  if (!args(env, info, a) || !f32s(env, a, {&x, &y}) || !i32(env, a[2], &n) || !i32(env, a[6], &chunk) || !i32(env, a[8], &from) || !i32(env, a[9], &to)) return nullptr;
  const int32_t *d, *ss;
  size_t length, nslots;
  const char* descMsg = "inferRun desc must be an Int32Array of 24 per op";
  if (!int32s(env, a[3], 1, SIZE_MAX, &d, &length, descMsg) || !int32s(env, a[5], 2, 65536, &ss, &nslots, "inferRun slot sizes must be an Int32Array of ≥ 2")) return nullptr;
  if (length % kOpInts != 0) {
    napi_throw_type_error(env, nullptr, (std::string("layerwise-native: ") + descMsg).c_str());
    return nullptr;
  }
  std::vector<long> slotSize(ss, ss + nslots);
  const size_t nops = length / kOpInts;
  std::vector<InferOp> ops(nops);
  for (size_t i = 0; i < nops; i++) {
    InferOp& op = ops[i];
    size_t wNeed, bNeed;
    if (!inferOp(env, i, d + i * kOpInts, &op, &wNeed, &bNeed)) return nullptr;
    if (!slotOk(env, i, op.in0, op.inSize, slotSize, false) || !slotOk(env, i, op.out, op.outSize, slotSize, true)) return nullptr;
    if (op.kind == kInferAdd ? !slotOk(env, i, op.in1, op.in1Size, slotSize, false) : op.in1 != -1) {
      if (op.kind != kInferAdd) opError(env, i, "only add reads a second input");
      return nullptr;
    }
    napi_value wv, bv;
    CHECK(napi_get_element(env, a[4], (uint32_t)(2 * i), &wv));
    CHECK(napi_get_element(env, a[4], (uint32_t)(2 * i + 1), &bv));
    F32 w, b;
    if (!f32(env, wv, &w) || !f32(env, bv, &b)) return nullptr;
    op.w = w.p;
    op.b = b.p;
    if (wNeed && !w.p) return opError(env, i, "missing weights"), nullptr;
    if (!sizeOkOpt(env, w, std::max(wNeed, op.kind == kInferAffine ? bNeed : 0), "inferRun: weights too small") || !sizeOkOpt(env, b, bNeed, "inferRun: bias too small")) return nullptr;
  }
  if (n < 1) {
    napi_throw_range_error(env, nullptr, "inferRun: n < 1");
    return nullptr;
  }
  if (from < 0 || to > (int)nops || from > to) {
    napi_throw_range_error(env, nullptr, "inferRun: op range outside the plan");
    return nullptr;
  }
  if (!sizeOk(env, x.n, (size_t)n * slotSize[0], "inferRun: x too small") || !sizeOk(env, y.n, (size_t)n * slotSize[1], "inferRun: y too small")) return nullptr;
  napi_valuetype st;
  CHECK(napi_typeof(env, a[7], &st));
  std::vector<float*> slots;
  if (st != napi_null && st != napi_undefined) {
    slots.assign(nslots, nullptr);
    for (size_t s = 2; s < nslots; s++) {
      napi_value v;
      CHECK(napi_get_element(env, a[7], (uint32_t)s, &v));
      F32 buf;
      if (!f32(env, v, &buf)) return nullptr;
      if (!buf.p || !sizeOk(env, buf.n, (size_t)n * slotSize[s], "inferRun: a slot buffer is too small")) {
        if (!buf.p) napi_throw_type_error(env, nullptr, "inferRun: missing slot buffer");
        return nullptr;
      }
      slots[s] = buf.p;
    }
  }
  // Winograd convs: the filter transform once per call, not once per chunk of images (≈ 7 % of ResNet-20 inference).
  std::vector<std::vector<float>> us(nops);
  for (size_t i = (size_t)from; i < (size_t)to; i++) {
    InferOp& op = ops[i];
    if (op.kind != kInferConv || !convWinogradOk(op.c)) continue;
    us[i].resize((size_t)16 * op.c.cin * op.c.cout);
    winogradFilterTransform(op.c.cin, op.c.cout, op.w, us[i].data());
    op.u = us[i].data();
  }
  inferRun(ops, slotSize, x.p, y.p, n, chunk, slots.empty() ? nullptr : slots.data(), from, to);
  return nullptr;
}

// inferVersion() → the plan layout inferRun reads (2: graph plans over slots)
napi_value InferVersion(napi_env env, napi_callback_info) {
  napi_value r;
  CHECK(napi_create_int32(env, 2, &r));
  return r;
}


}  // namespace lw
