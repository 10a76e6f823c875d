// Argument checks for the N-API glue (binding.cc): typed arrays, numbers, dims arrays → the
// kernels' geometries, size checks. Each helper throws a JS error and returns false on failure.
#pragma once

#include <node_api.h>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>

#include "kernels.h"

namespace lw {
namespace napi {

#define CHECK(call)                                                   \
  do {                                                                \
    if ((call) != napi_ok) {                                          \
      napi_throw_error(env, nullptr, "layerwise-native: " #call);     \
      return nullptr;                                                 \
    }                                                                 \
  } while (0)

/** The first N arguments of a call (missing ones undefined); false with an error thrown when N-API fails. */
template <size_t N>
bool args(napi_env env, napi_callback_info info, napi_value (&a)[N]) {
  size_t argc = N;
  if (napi_get_cb_info(env, info, &argc, a, nullptr, nullptr) == napi_ok) return true;
  napi_throw_error(env, nullptr, "layerwise-native: napi_get_cb_info failed");
  return false;
}

/** A Float32Array argument: data and element count (null / undefined → p = nullptr, n = 0). */
struct F32 {
  float* p = nullptr;
  size_t n = 0;
};

/** Float32Array → data pointer; null for null/undefined; sets *len to its element count. */
inline bool f32(napi_env env, napi_value v, F32* out) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  if (t == napi_null || t == napi_undefined) {
    *out = F32{};
    return true;
  }
  napi_typedarray_type type;
  size_t length;
  void* data;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, v, &type, &length, &data, &ab, &off) != napi_ok || type != napi_float32_array) {
    napi_throw_type_error(env, nullptr, "layerwise-native: expected a Float32Array");
    return false;
  }
  *out = F32{static_cast<float*>(data), length};
  return true;
}

/** a[0], a[1], … into the given F32s in order; false (a TypeError thrown) at the first that is not a Float32Array, null or undefined. */
inline bool f32s(napi_env env, const napi_value* a, std::initializer_list<F32*> out) {
  for (F32* o : out)
    if (!f32(env, *a++, o)) return false;
  return true;
}

inline bool i32(napi_env env, napi_value v, int* out) {
  if (napi_get_value_int32(env, v, out) != napi_ok) {
    napi_throw_type_error(env, nullptr, "layerwise-native: expected a number");
    return false;
  }
  return true;
}

/** An Int32Array of minLen … maxLen elements → its data and length; else a TypeError "layerwise-native: <what>". */
inline bool int32s(napi_env env, napi_value v, size_t minLen, size_t maxLen, const int32_t** out, size_t* len, const char* what) {
  napi_typedarray_type type;
  size_t length;
  void* data;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, v, &type, &length, &data, &ab, &off) != napi_ok || type != napi_int32_array || length < minLen || length > maxLen) {
    napi_throw_type_error(env, nullptr, (std::string("layerwise-native: ") + what).c_str());
    return false;
  }
  *out = static_cast<const int32_t*>(data);
  *len = length;
  return true;
}

/** Ints per geometry: T is an aggregate of ints only (Conv, Pool2). */
template <class T>
inline constexpr size_t kInts = sizeof(T) / sizeof(int);
static_assert(kInts<Conv> == 15 && kInts<Pool2> == 12, "dims layouts");

template <class T, size_t... I>
T fromIntsImpl(const int32_t* d, std::index_sequence<I...>) {
  return T{d[I]...};
}
/** T{d[0], …, d[kInts<T> − 1]}: a geometry from its dims (the layout of native.ts' dimsOf / poolDimsOf). */
template <class T>
T fromInts(const int32_t* d) {
  return fromIntsImpl<T>(d, std::make_index_sequence<kInts<T>>{});
}

/** A dims argument: an Int32Array of exactly kInts<T> elements → the geometry; else a TypeError "layerwise-native: <what>". */
template <class T>
bool dims(napi_env env, napi_value v, T* out, const char* what) {
  const int32_t* d;
  size_t len;
  if (!int32s(env, v, kInts<T>, kInts<T>, &d, &len, what)) return false;
  *out = fromInts<T>(d);
  return true;
}
inline bool convDims(napi_env env, napi_value v, Conv* c) { return dims(env, v, c, "conv dims must be an Int32Array of 15"); }
inline bool poolDims(napi_env env, napi_value v, Pool2* p) { return dims(env, v, p, "pool dims must be an Int32Array of 12"); }

inline bool sizeOk(napi_env env, size_t have, size_t need, const char* what) {
  if (have < need) {
    napi_throw_range_error(env, nullptr, what);
    return false;
  }
  return true;
}
/** An optional array (null passes) of at least `need` elements. */
inline bool sizeOkOpt(napi_env env, const F32& a, size_t need, const char* what) { return !a.p || sizeOk(env, a.n, need, what); }

/** The arrays of a conv call hold x-shaped (n·h·w·cin), w-shaped (K·cout) and y-shaped (M·cout) data; else a RangeError "<fn>: <name> too small". */
inline bool convSizesOk(napi_env env, const Conv& c, const char* fn, const F32& x, const char* xName, const F32& w, const char* wName, const F32& y, const char* yName) {
  const std::string f = std::string(fn) + ": ";
  return sizeOk(env, x.n, (size_t)c.n * c.h * c.w * c.cin, (f + xName + " too small").c_str()) && sizeOk(env, w.n, (size_t)c.K() * c.cout, (f + wName + " too small").c_str()) &&
         sizeOk(env, y.n, (size_t)c.M() * c.cout, (f + yName + " too small").c_str());
}

}  // namespace napi
}  // namespace lw
