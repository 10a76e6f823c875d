// N-API glue of the `layerwise-native` addon: argument checks and the exported functions
// (src/engine/kernels/native.ts `NativeAddon` documents each). Plain node_api.h, which is
// ABI-stable, so one build loads in Node and in Electron's utility process. Arrays are
// Float32Array views (of the tfjs wasm heap) for inputs and outputs; geometry comes as an
// Int32Array of dims; every size is checked before a kernel runs.
#include <node_api.h>

#include <cstdint>
#include <string>
#include <utility>

#include "kernels.h"
#include "napi_args.h"

namespace lw {

// infer_binding.cc: the inference executor's entry points.
napi_value InferRun(napi_env env, napi_callback_info info);
napi_value InferVersion(napi_env env, napi_callback_info info);

namespace {

using namespace napi;

// conv2d(x, w, bias|null, y, dims, act)
napi_value Conv2d(napi_env env, napi_callback_info info) {
  napi_value a[6];
  F32 x, w, bias, y;
  Conv c;
  int act;
  if (!args(env, info, a) || !f32s(env, a, {&x, &w, &bias, &y}) || !convDims(env, a[4], &c) || !i32(env, a[5], &act)) return nullptr;
  if (!convSizesOk(env, c, "conv2d", x, "x", w, "w", y, "y") || !sizeOkOpt(env, bias, c.cout, "conv2d: bias too small")) return nullptr;
  convForward(c, x.p, w.p, bias.p, y.p, act);
  return nullptr;
}

// conv2dBackpropInput(dy, w, dx, dims)
napi_value Conv2dBackpropInput(napi_env env, napi_callback_info info) {
  napi_value a[4];
  F32 dy, w, dx;
  Conv c;
  if (!args(env, info, a) || !f32s(env, a, {&dy, &w, &dx}) || !convDims(env, a[3], &c)) return nullptr;
  if (!convSizesOk(env, c, "conv2dBackpropInput", dx, "dx", w, "w", dy, "dy")) return nullptr;
  convBackpropInput(c, dy.p, w.p, dx.p);
  return nullptr;
}

// conv2dBackpropFilter(x, dy, dw, dims)
napi_value Conv2dBackpropFilter(napi_env env, napi_callback_info info) {
  napi_value a[4];
  F32 x, dy, dw;
  Conv c;
  if (!args(env, info, a) || !f32s(env, a, {&x, &dy, &dw}) || !convDims(env, a[3], &c)) return nullptr;
  if (!convSizesOk(env, c, "conv2dBackpropFilter", x, "x", dw, "dw", dy, "dy")) return nullptr;
  convBackpropFilter(c, x.p, dy.p, dw.p);
  return nullptr;
}

/** Depthwise dims: conv dims whose cout is a positive multiple of cin; else a RangeError naming fn. */
bool depthwiseDimsOk(napi_env env, const Conv& c, const char* fn) {
  if (c.cin >= 1 && c.cout >= c.cin && c.cout % c.cin == 0 && c.sh >= 1 && c.sw >= 1 && c.dh >= 1 && c.dw >= 1) return true;
  napi_throw_range_error(env, nullptr, (std::string(fn) + ": cout must be a multiple of cin, strides and dilations >= 1").c_str());
  return false;
}
/** The arrays of a depthwise call: x-shaped (n·h·w·cin), filter (fh·fw·cout) and y-shaped (n·oh·ow·cout). */
bool depthwiseSizesOk(napi_env env, const Conv& c, const char* fn, const F32& x, const char* xName, const F32& w, const char* wName, const F32& y, const char* yName) {
  const std::string f = std::string(fn) + ": ";
  return sizeOk(env, x.n, (size_t)c.n * c.h * c.w * c.cin, (f + xName + " too small").c_str()) && sizeOk(env, w.n, (size_t)c.fh * c.fw * c.cout, (f + wName + " too small").c_str()) &&
         sizeOk(env, y.n, (size_t)c.M() * c.cout, (f + yName + " too small").c_str());
}

// depthwiseConv2d(x, w, y, dims)
napi_value DepthwiseConv2d(napi_env env, napi_callback_info info) {
  napi_value a[4];
  F32 x, w, y;
  Conv c;
  if (!args(env, info, a) || !f32s(env, a, {&x, &w, &y}) || !convDims(env, a[3], &c) || !depthwiseDimsOk(env, c, "depthwiseConv2d")) return nullptr;
  if (!depthwiseSizesOk(env, c, "depthwiseConv2d", x, "x", w, "w", y, "y")) return nullptr;
  depthwiseForward(c, x.p, w.p, y.p);
  return nullptr;
}

// depthwiseVecOk(dims) → whether the register-tiled depthwise forward takes these dims (else the per-tap loop runs)
napi_value DepthwiseVecOk(napi_env env, napi_callback_info info) {
  napi_value a[1];
  Conv c;
  if (!args(env, info, a) || !convDims(env, a[0], &c)) return nullptr;
  napi_value out;
  CHECK(napi_get_boolean(env, depthwiseVecOk(c), &out));
  return out;
}

// depthwiseConv2dBackpropInput(dy, w, dx, dims)
napi_value DepthwiseConv2dBackpropInput(napi_env env, napi_callback_info info) {
  napi_value a[4];
  F32 dy, w, dx;
  Conv c;
  if (!args(env, info, a) || !f32s(env, a, {&dy, &w, &dx}) || !convDims(env, a[3], &c) || !depthwiseDimsOk(env, c, "depthwiseConv2dBackpropInput")) return nullptr;
  if (!depthwiseSizesOk(env, c, "depthwiseConv2dBackpropInput", dx, "dx", w, "w", dy, "dy")) return nullptr;
  depthwiseBackpropInput(c, dy.p, w.p, dx.p);
  return nullptr;
}

// depthwiseConv2dBackpropFilter(x, dy, dw, dims)
napi_value DepthwiseConv2dBackpropFilter(napi_env env, napi_callback_info info) {
  napi_value a[4];
  F32 x, dy, dw;
  Conv c;
  if (!args(env, info, a) || !f32s(env, a, {&x, &dy, &dw}) || !convDims(env, a[3], &c) || !depthwiseDimsOk(env, c, "depthwiseConv2dBackpropFilter")) return nullptr;
  if (!depthwiseSizesOk(env, c, "depthwiseConv2dBackpropFilter", x, "x", dw, "dw", dy, "dy")) return nullptr;
  depthwiseBackpropFilter(c, x.p, dy.p, dw.p);
  return nullptr;
}

// An activation forward f(x, y, n): (x, y), y at least x's size.
template <void (*F)(const float*, float*, long)>
napi_value Activation(napi_env env, napi_callback_info info) {
  napi_value a[2];
  F32 x, y;
  if (!args(env, info, a) || !f32s(env, a, {&x, &y}) || !sizeOk(env, y.n, x.n, "activation: y too small")) return nullptr;
  F(x.p, y.p, (long)x.n);
  return nullptr;
}

// An activation gradient f(dy, x, dx, n): (dy, x, dx), x and dx at least dy's size.
template <void (*F)(const float*, const float*, float*, long)>
napi_value ActivationGrad(napi_env env, napi_callback_info info) {
  napi_value a[3];
  F32 dy, x, dx;
  if (!args(env, info, a) || !f32s(env, a, {&dy, &x, &dx})) return nullptr;
  if (!sizeOk(env, x.n, dy.n, "activation gradient: x too small") || !sizeOk(env, dx.n, dy.n, "activation gradient: dx too small")) return nullptr;
  F(dy.p, x.p, dx.p, (long)dy.n);
  return nullptr;
}

// add(a, b, y): b of a's size, or of size 1 (a scalar added to every element)
napi_value Add(napi_env env, napi_callback_info info) {
  napi_value a[3];
  F32 x, z, y;
  if (!args(env, info, a) || !f32s(env, a, {&x, &z, &y}) || !sizeOk(env, y.n, x.n, "add: y too small")) return nullptr;
  if (z.n == 1) {
    addScalar(x.p, z.p[0], y.p, (long)x.n);
    return nullptr;
  }
  if (!sizeOk(env, z.n, x.n, "add: b too small")) return nullptr;
  addSame(x.p, z.p, y.p, (long)x.n);
  return nullptr;
}

// addBias(a, bias, y): y[r, c] = a[r, c] + bias[c], C = bias's length, a's size a multiple of it
napi_value AddBias(napi_env env, napi_callback_info info) {
  napi_value a[3];
  F32 x, b, y;
  if (!args(env, info, a) || !f32s(env, a, {&x, &b, &y}) || !sizeOk(env, y.n, x.n, "addBias: y too small") || !sizeOk(env, b.n, 1, "addBias: empty bias")) return nullptr;
  if (x.n % b.n != 0) {
    napi_throw_range_error(env, nullptr, "addBias: a's size is not a multiple of the bias length");
    return nullptr;
  }
  addBias(x.p, b.p, y.p, (long)(x.n / b.n), (int)b.n);
  return nullptr;
}

// adamUpdate(x, m, v, g, xo, mo, vo, scalars Float32Array [β₁, 1−β₁, β₂, 1−β₂, 1−β₁ᵗ, 1−β₂ᵗ, ε, −lr])
napi_value AdamUpdate(napi_env env, napi_callback_info info) {
  napi_value a[8];
  F32 x, m, v, g, xo, mo, vo, s;
  if (!args(env, info, a) || !f32s(env, a, {&x, &m, &v, &g, &xo, &mo, &vo, &s}) || !sizeOk(env, s.n, 8, "adamUpdate: scalars must hold 8 floats")) return nullptr;
  for (const F32* t : {&m, &v, &g, &xo, &mo, &vo})
    if (!sizeOk(env, t->n, x.n, "adamUpdate: every array must have x's size")) return nullptr;
  const AdamScalars sc{s.p[0], s.p[1], s.p[2], s.p[3], s.p[4], s.p[5], s.p[6], s.p[7]};
  adamUpdate(x.p, m.p, v.p, g.p, xo.p, mo.p, vo.p, (long)x.n, sc);
  return nullptr;
}

// momentumUpdate(x, acc, g, xo, acco, scalars Float32Array [μ, −lr])
napi_value MomentumUpdate(napi_env env, napi_callback_info info) {
  napi_value a[6];
  F32 x, acc, g, xo, acco, s;
  if (!args(env, info, a) || !f32s(env, a, {&x, &acc, &g, &xo, &acco, &s}) || !sizeOk(env, s.n, 2, "momentumUpdate: scalars must hold 2 floats")) return nullptr;
  for (const F32* t : {&acc, &g, &xo, &acco})
    if (!sizeOk(env, t->n, x.n, "momentumUpdate: every array must have x's size")) return nullptr;
  momentumUpdate(x.p, acc.p, g.p, xo.p, acco.p, (long)x.n, s.p[0], s.p[1]);
  return nullptr;
}

// matmul(a, b, c, bias|null, dims Int32Array [batch, m, n, k, ta, tb, aBatched, bBatched, act])
napi_value MatMul(napi_env env, napi_callback_info info) {
  napi_value a[5];
  F32 A, B, C, bias;
  const int32_t* d;
  size_t len;
  if (!args(env, info, a) || !f32s(env, a, {&A, &B, &C, &bias}) || !int32s(env, a[4], 9, 9, &d, &len, "matmul dims must be an Int32Array of 9")) return nullptr;
  const int batch = d[0], m = d[1], n = d[2], k = d[3];
  const long mk = (long)m * k, kn = (long)k * n;
  if (!sizeOk(env, A.n, d[6] ? batch * mk : mk, "matmul: a too small") || !sizeOk(env, B.n, d[7] ? batch * kn : kn, "matmul: b too small") ||
      !sizeOk(env, C.n, (size_t)batch * m * n, "matmul: c too small") || !sizeOkOpt(env, bias, n, "matmul: bias too small"))
    return nullptr;
  matmul(batch, m, n, k, A.p, d[6] ? mk : 0, d[4] != 0, B.p, d[7] ? kn : 0, d[5] != 0, C.p, bias.p, d[8]);
  return nullptr;
}

// reduce(x, out, A, R, B, mean): out[a, b] = Σ_r x[a, r, b]
napi_value Reduce(napi_env env, napi_callback_info info) {
  napi_value a[6];
  F32 x, out;
  double A, R, B;
  bool mean;
  if (!args(env, info, a) || !f32s(env, a, {&x, &out})) return nullptr;
  CHECK(napi_get_value_double(env, a[2], &A));
  CHECK(napi_get_value_double(env, a[3], &R));
  CHECK(napi_get_value_double(env, a[4], &B));
  CHECK(napi_get_value_bool(env, a[5], &mean));
  if (!sizeOk(env, x.n, (size_t)(A * R * B), "reduce: x too small") || !sizeOk(env, out.n, (size_t)(A * B), "reduce: out too small")) return nullptr;
  reduceMid(x.p, out.p, (long)A, (long)R, (long)B, mean);
  return nullptr;
}

// tile(x, out, xShape Int32Array, reps Int32Array)
napi_value Tile(napi_env env, napi_callback_info info) {
  napi_value a[4];
  F32 x, out;
  if (!args(env, info, a) || !f32s(env, a, {&x, &out})) return nullptr;
  long xs[8], reps[8], xStride[8], oStride[8];
  int rank = 0;
  for (int q = 2; q < 4; q++) {
    const int32_t* d;
    size_t len;
    if (!int32s(env, a[q], 1, 8, &d, &len, "tile shape/reps must be Int32Arrays of rank 1-8")) return nullptr;
    rank = (int)len;
    for (int i = 0; i < rank; i++) (q == 2 ? xs : reps)[i] = d[i];
  }
  size_t total = 1, xt = 1;
  for (int i = rank - 1; i >= 0; i--) {
    xStride[i] = (long)xt;
    oStride[i] = (long)total;
    xt *= xs[i];
    total *= xs[i] * reps[i];
  }
  if (!sizeOk(env, x.n, xt, "tile: x too small") || !sizeOk(env, out.n, total, "tile: out too small")) return nullptr;
  if (total > 0) tileRec(0, rank, x.p, out.p, xs, reps, xStride, oStride);
  return nullptr;
}

// maxPool(x, y, dims)
napi_value MaxPool(napi_env env, napi_callback_info info) {
  napi_value a[3];
  F32 x, y;
  Pool2 p;
  if (!args(env, info, a) || !f32s(env, a, {&x, &y}) || !poolDims(env, a[2], &p)) return nullptr;
  if (!sizeOk(env, x.n, (size_t)p.n * p.h * p.w * p.c, "maxPool: x too small") || !sizeOk(env, y.n, (size_t)p.n * p.oh * p.ow * p.c, "maxPool: y too small")) return nullptr;
  maxPoolForward(p, x.p, y.p);
  return nullptr;
}

// maxPoolGrad(dy, x, dx, dims)
napi_value MaxPoolGrad(napi_env env, napi_callback_info info) {
  napi_value a[4];
  F32 dy, x, dx;
  Pool2 p;
  if (!args(env, info, a) || !f32s(env, a, {&dy, &x, &dx}) || !poolDims(env, a[3], &p)) return nullptr;
  const size_t xs = (size_t)p.n * p.h * p.w * p.c;
  if (!sizeOk(env, dy.n, (size_t)p.n * p.oh * p.ow * p.c, "maxPoolGrad: dy too small") || !sizeOk(env, x.n, xs, "maxPoolGrad: x too small") || !sizeOk(env, dx.n, xs, "maxPoolGrad: dx too small")) return nullptr;
  maxPoolBackward(p, dy.p, x.p, dx.p);
  return nullptr;
}

// batchNormTrain(x, gamma|null, beta|null, y, mean, var, invstd, M, C, eps)
// batchNormTrainAct(…the same…, act): act 0 none, 1 ReLU, 2 ReLU6 applied in the same pass
template <bool WithAct>
napi_value BatchNormTrain(napi_env env, napi_callback_info info) {
  napi_value a[WithAct ? 11 : 10];
  F32 x, g, b, y, mean, var, is;
  double M, C, eps, act = 0;
  if (!args(env, info, a) || !f32s(env, a, {&x, &g, &b, &y, &mean, &var, &is})) return nullptr;
  CHECK(napi_get_value_double(env, a[7], &M));
  CHECK(napi_get_value_double(env, a[8], &C));
  CHECK(napi_get_value_double(env, a[9], &eps));
  if constexpr (WithAct) CHECK(napi_get_value_double(env, a[10], &act));
  if (act != 0 && act != 1 && act != 2) {
    napi_throw_range_error(env, nullptr, "batchNormTrainAct: act must be 0 (none), 1 (relu) or 2 (relu6)");
    return nullptr;
  }
  const size_t n = (size_t)(M * C), c = (size_t)C;
  if (!sizeOk(env, x.n, n, "batchNormTrain: x too small") || !sizeOk(env, y.n, n, "batchNormTrain: y too small") || !sizeOkOpt(env, g, c, "batchNormTrain: gamma too small") ||
      !sizeOkOpt(env, b, c, "batchNormTrain: beta too small") || !sizeOk(env, mean.n, c, "batchNormTrain: mean too small") || !sizeOk(env, var.n, c, "batchNormTrain: var too small") ||
      !sizeOk(env, is.n, c, "batchNormTrain: invstd too small") || !sizeOk(env, (size_t)M, 1, "batchNormTrain: no rows"))
    return nullptr;
  bnTrainForward(x.p, g.p, b.p, y.p, mean.p, var.p, is.p, (long)M, (int)C, eps, (int)act);
  return nullptr;
}

// batchNormTrainGrad(x, dy, gamma|null, mean, invstd, dmean|null, dvar|null, dx, dgamma, dbeta, M, C)
// batchNormTrainGradAct(…the same…, beta|null, act): the gradient of batchNormTrainAct with that act
template <bool WithAct>
napi_value BatchNormTrainGrad(napi_env env, napi_callback_info info) {
  napi_value a[WithAct ? 14 : 12];
  F32 x, dy, g, mean, is, dm, dv, dx, dg, db, b;
  double M, C, act = 0;
  if (!args(env, info, a) || !f32s(env, a, {&x, &dy, &g, &mean, &is, &dm, &dv, &dx, &dg, &db})) return nullptr;
  CHECK(napi_get_value_double(env, a[10], &M));
  CHECK(napi_get_value_double(env, a[11], &C));
  if constexpr (WithAct) {
    if (!f32s(env, a + 12, {&b})) return nullptr;
    CHECK(napi_get_value_double(env, a[13], &act));
  }
  if (act != 0 && act != 1 && act != 2) {
    napi_throw_range_error(env, nullptr, "batchNormTrainGradAct: act must be 0 (none), 1 (relu) or 2 (relu6)");
    return nullptr;
  }
  if (act != 0 && !sizeOkOpt(env, b, (size_t)C, "batchNormTrainGradAct: beta too small")) return nullptr;
  const size_t n = (size_t)(M * C), c = (size_t)C;
  if (!sizeOk(env, x.n, n, "batchNormTrainGrad: x too small") || !sizeOk(env, dy.n, n, "batchNormTrainGrad: dy too small") || !sizeOk(env, dx.n, n, "batchNormTrainGrad: dx too small") ||
      !sizeOkOpt(env, g, c, "batchNormTrainGrad: gamma too small") || !sizeOk(env, mean.n, c, "batchNormTrainGrad: mean too small") ||
      !sizeOk(env, is.n, c, "batchNormTrainGrad: invstd too small") || !sizeOkOpt(env, dm, c, "batchNormTrainGrad: dmean too small") ||
      !sizeOkOpt(env, dv, c, "batchNormTrainGrad: dvar too small") || !sizeOk(env, dg.n, c, "batchNormTrainGrad: dgamma too small") ||
      !sizeOk(env, db.n, c, "batchNormTrainGrad: dbeta too small"))
    return nullptr;
  bnTrainBackward(x.p, dy.p, g.p, mean.p, is.p, dm.p, dv.p, dx.p, dg.p, db.p, (long)M, (int)C, b.p, (int)act);
  return nullptr;
}

// batchNormInference(x, mean, var, gamma|null, beta|null, y, M, C, eps)
napi_value BatchNormInference(napi_env env, napi_callback_info info) {
  napi_value a[9];
  F32 x, mean, var, g, b, y;
  double M, C, eps;
  if (!args(env, info, a) || !f32s(env, a, {&x, &mean, &var, &g, &b, &y})) return nullptr;
  CHECK(napi_get_value_double(env, a[6], &M));
  CHECK(napi_get_value_double(env, a[7], &C));
  CHECK(napi_get_value_double(env, a[8], &eps));
  const size_t n = (size_t)(M * C), c = (size_t)C;
  if (!sizeOk(env, x.n, n, "batchNormInference: x too small") || !sizeOk(env, y.n, n, "batchNormInference: y too small") || !sizeOk(env, mean.n, c, "batchNormInference: mean too small") ||
      !sizeOk(env, var.n, c, "batchNormInference: var too small") || !sizeOkOpt(env, g, c, "batchNormInference: gamma too small") ||
      !sizeOkOpt(env, b, c, "batchNormInference: beta too small"))
    return nullptr;
  bnInference(x.p, mean.p, var.p, g.p, b.p, y.p, (long)M, (int)C, eps);
  return nullptr;
}

// setThreads(n) → n actually used
napi_value SetThreads(napi_env env, napi_callback_info info) {
  napi_value a[1];
  int t;
  if (!args(env, info, a) || !i32(env, a[0], &t)) return nullptr;
  g_threads = std::max(1, std::min(t, 256));
  napi_value r;
  CHECK(napi_create_int32(env, g_threads, &r));
  return r;
}

// threads() → current
napi_value Threads(napi_env env, napi_callback_info) {
  napi_value r;
  CHECK(napi_create_int32(env, g_threads, &r));
  return r;
}

napi_value SimdInfo(napi_env env, napi_callback_info) {
#if defined(__AVX512F__)
  const char* s = "AVX-512 (zmm 14x32 tile)";
#elif defined(__AVX2__)
  const char* s = "AVX2 (6x16 tile)";
#elif defined(__AVX__)
  const char* s = "AVX (6x16 tile)";
#else
  const char* s = "128-bit vectors (6x8 tile)";
#endif
  napi_value r;
  CHECK(napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &r));
  return r;
}

napi_value Init(napi_env env, napi_value exports) {
  const std::pair<const char*, napi_callback> fns[] = {
      {"conv2d", Conv2d},
      {"conv2dBackpropInput", Conv2dBackpropInput},
      {"conv2dBackpropFilter", Conv2dBackpropFilter},
      {"matmul", MatMul},
      {"depthwiseConv2d", DepthwiseConv2d},
      {"depthwiseVecOk", DepthwiseVecOk},
      {"depthwiseConv2dBackpropInput", DepthwiseConv2dBackpropInput},
      {"depthwiseConv2dBackpropFilter", DepthwiseConv2dBackpropFilter},
      {"relu6", Activation<relu6Forward>},
      {"relu6Grad", ActivationGrad<relu6Backward>},
      {"relu", Activation<reluForward>},
      {"reluGrad", ActivationGrad<reluBackward>},
      {"add", Add},
      {"addBias", AddBias},
      {"adamUpdate", AdamUpdate},
      {"momentumUpdate", MomentumUpdate},
      {"reduce", Reduce},
      {"tile", Tile},
      {"maxPool", MaxPool},
      {"maxPoolGrad", MaxPoolGrad},
      {"batchNormTrain", BatchNormTrain<false>},
      {"batchNormTrainGrad", BatchNormTrainGrad<false>},
      {"batchNormTrainAct", BatchNormTrain<true>},
      {"batchNormTrainGradAct", BatchNormTrainGrad<true>},
      {"batchNormInference", BatchNormInference},
      {"inferRun", InferRun},
      {"inferVersion", InferVersion},
      {"setThreads", SetThreads},
      {"threads", Threads},
      {"simd", SimdInfo},
  };
  std::vector<napi_property_descriptor> props;
  for (const auto& [name, fn] : fns) props.push_back({name, nullptr, fn, nullptr, nullptr, nullptr, napi_default, nullptr});
  napi_define_properties(env, exports, props.size(), props.data());
  return exports;
}

}  // namespace
}  // namespace lw

NAPI_MODULE(NODE_GYP_MODULE_NAME, lw::Init)
