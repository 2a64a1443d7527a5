// N-API entry points. Kernels run synchronously on the caller's Float32Arrays (zero-copy: the
// tfjs cpu backend keeps each tensor in one), using the thread pool for the parallel parts.
#include <node_api.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "attention.h"
#include "cpu_features.h"
#include "elementwise.h"
#include "fused.h"
#include "reduce.h"
#include "sgemm.h"
#include "thread_pool.h"

namespace {

#define CN_CALL(env, call)                                  \
  do {                                                      \
    if ((call) != napi_ok) {                                \
      napi_throw_error((env), nullptr, "N-API call failed: " #call); \
      return nullptr;                                       \
    }                                                       \
  } while (0)

napi_value throw_type(napi_env env, const std::string& msg) {
  napi_throw_type_error(env, nullptr, msg.c_str());
  return nullptr;
}

// A typed array's data pointer and length when `v` is a typed array of `expected` type.
template <typename T>
bool get_typed(napi_env env, napi_value v, napi_typedarray_type expected, T** data, size_t* len) {
  bool is_ta = false;
  if (napi_is_typedarray(env, v, &is_ta) != napi_ok || !is_ta) return false;
  napi_typedarray_type type;
  napi_value ab;
  size_t off;
  void* p;
  if (napi_get_typedarray_info(env, v, &type, len, &p, &ab, &off) != napi_ok) return false;
  if (type != expected) return false;
  *data = static_cast<T*>(p);
  return true;
}

bool get_f32(napi_env env, napi_value v, float** data, size_t* len) {
  return get_typed(env, v, napi_float32_array, data, len);
}

bool get_i32(napi_env env, napi_value v, int32_t** data, size_t* len) {
  return get_typed(env, v, napi_int32_array, data, len);
}

int64_t get_int(napi_env env, napi_value v) {
  int64_t x = 0;
  napi_get_value_int64(env, v, &x);
  return x;
}

napi_value make_bool(napi_env env, bool b) {
  napi_value v;
  napi_get_boolean(env, b, &v);
  return v;
}

napi_value make_num(napi_env env, double d) {
  napi_value v;
  napi_create_double(env, d, &v);
  return v;
}

napi_value make_str(napi_env env, const char* s) {
  napi_value v;
  napi_create_string_utf8(env, s, NAPI_AUTO_LENGTH, &v);
  return v;
}

// info() -> { path, avx512, avx2fma, threads, hardwareThreads }
napi_value Info(napi_env env, napi_callback_info) {
  napi_value o;
  CN_CALL(env, napi_create_object(env, &o));
  napi_set_named_property(env, o, "path", make_str(env, cn::path_name(cn::active_path())));
  napi_set_named_property(env, o, "bestPath", make_str(env, cn::path_name(cn::best_path())));
  napi_set_named_property(env, o, "avx512", make_bool(env, cn::cpu_features().avx512f));
  napi_set_named_property(env, o, "avx2fma", make_bool(env, cn::cpu_features().avx2_fma));
  napi_set_named_property(env, o, "threads", make_num(env, cn::pool().threads()));
  napi_set_named_property(env, o, "hardwareThreads", make_num(env, std::thread::hardware_concurrency()));
  return o;
}

// setThreads(n)
napi_value SetThreads(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CN_CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  if (argc < 1) return throw_type(env, "setThreads(n): n missing");
  const int64_t n = get_int(env, argv[0]);
  if (n < 1 || n > 1024) return throw_type(env, "setThreads(n): n must be in [1, 1024]");
  cn::set_threads(static_cast<int>(n));
  return nullptr;
}

// setPath('avx512' | 'avx2' | 'scalar' | 'auto'): a path the CPU lacks falls back to the best below it.
napi_value SetPath(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CN_CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  char buf[16] = {0};
  size_t len = 0;
  if (argc < 1 || napi_get_value_string_utf8(env, argv[0], buf, sizeof buf, &len) != napi_ok) {
    return throw_type(env, "setPath(name): name must be a string");
  }
  const std::string s(buf);
  cn::SimdPath want;
  if (s == "avx512") want = cn::SimdPath::kAvx512;
  else if (s == "avx2") want = cn::SimdPath::kAvx2;
  else if (s == "scalar") want = cn::SimdPath::kScalar;
  else if (s == "auto") want = cn::best_path();
  else return throw_type(env, "setPath: unknown path \"" + s + "\"; valid: avx512, avx2, scalar, auto");
  cn::set_active_path(static_cast<int>(want) <= static_cast<int>(cn::best_path()) ? want : cn::best_path());
  return make_str(env, cn::path_name(cn::active_path()));
}

// matmul(a, b, c, ia, ib, M, K, N, ta, tb, bias|null, act, alpha)
napi_value MatMul(napi_env env, napi_callback_info info) {
  size_t argc = 13;
  napi_value argv[13];
  CN_CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  if (argc != 13) return throw_type(env, "matmul: expected 13 arguments");
  cn::GemmArgs g;
  float *a, *b, *c;
  int32_t *ia, *ib;
  size_t la, lb, lc, lia, lib;
  if (!get_f32(env, argv[0], &a, &la) || !get_f32(env, argv[1], &b, &lb) || !get_f32(env, argv[2], &c, &lc)) {
    return throw_type(env, "matmul: a, b, c must be Float32Arrays");
  }
  if (!get_i32(env, argv[3], &ia, &lia) || !get_i32(env, argv[4], &ib, &lib) || lia != lib) {
    return throw_type(env, "matmul: ia, ib must be Int32Arrays of equal length");
  }
  g.M = get_int(env, argv[5]);
  g.K = get_int(env, argv[6]);
  g.N = get_int(env, argv[7]);
  bool ta = false, tb = false;
  napi_get_value_bool(env, argv[8], &ta);
  napi_get_value_bool(env, argv[9], &tb);
  g.ta = ta;
  g.tb = tb;
  napi_valuetype bias_type;
  napi_typeof(env, argv[10], &bias_type);
  if (bias_type != napi_null && bias_type != napi_undefined) {
    float* bias;
    size_t lbias;
    if (!get_f32(env, argv[10], &bias, &lbias) || static_cast<int64_t>(lbias) != g.N) {
      return throw_type(env, "matmul: bias must be a Float32Array of length N");
    }
    g.bias = bias;
  }
  const int64_t act = get_int(env, argv[11]);
  if (act < 0 || act > 5) return throw_type(env, "matmul: unknown activation code");
  g.act = static_cast<cn::Activation>(act);
  double alpha = 0;
  napi_get_value_double(env, argv[12], &alpha);
  g.alpha = static_cast<float>(alpha);
  if (g.M < 0 || g.K < 0 || g.N < 0) return throw_type(env, "matmul: negative size");
  g.batch = static_cast<int64_t>(lia);
  const int64_t sa = g.M * g.K, sb = g.K * g.N;
  if (static_cast<int64_t>(lc) < g.batch * g.M * g.N) return throw_type(env, "matmul: c too small");
  g.batch_b = sb > 0 ? static_cast<int64_t>(lb) / sb : 0;
  const int64_t batch_a = sa > 0 ? static_cast<int64_t>(la) / sa : 0;
  for (int64_t o = 0; o < g.batch && sa > 0 && sb > 0; o++) {
    if (ia[o] < 0 || ia[o] >= batch_a || ib[o] < 0 || ib[o] >= g.batch_b) {
      return throw_type(env, "matmul: batch index out of range");
    }
  }
  g.a = a;
  g.b = b;
  g.c = c;
  g.ia = ia;
  g.ib = ib;
  if (sb == 0) g.batch_b = 0;
  cn::sgemm(g, cn::active_path());
  return nullptr;
}

// fmaPeak(path, seconds) -> GFLOP/s of one thread (0 for the scalar path)
napi_value FmaPeak(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CN_CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  char buf[16] = {0};
  size_t len = 0;
  napi_get_value_string_utf8(env, argv[0], buf, sizeof buf, &len);
  double seconds = 0.2;
  if (argc > 1) napi_get_value_double(env, argv[1], &seconds);
  const std::string s(buf);
  const cn::SimdPath p = s == "avx512" ? cn::SimdPath::kAvx512 : s == "avx2" ? cn::SimdPath::kAvx2 : cn::SimdPath::kScalar;
  return make_num(env, cn::fma_peak_gflops(p, seconds));
}

std::vector<int64_t> to_i64(const int32_t* p, size_t n) { return std::vector<int64_t>(p, p + n); }

// binary(op, a, aStrides, b, bStrides, out, outShape): strides per output dim, 0 where broadcast.
napi_value Binary(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  CN_CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  if (argc != 7) return throw_type(env, "binary: expected 7 arguments");
  const int64_t op = get_int(env, argv[0]);
  float *a, *b, *o;
  int32_t *sa, *sb, *shape;
  size_t la, lb, lo, lsa, lsb, lshape;
  if (!get_f32(env, argv[1], &a, &la) || !get_f32(env, argv[3], &b, &lb) || !get_f32(env, argv[5], &o, &lo) ||
      !get_i32(env, argv[2], &sa, &lsa) || !get_i32(env, argv[4], &sb, &lsb) || !get_i32(env, argv[6], &shape, &lshape) ||
      lsa != lshape || lsb != lshape || op < 0 || op > 7) {
    return throw_type(env, "binary: bad arguments");
  }
  const auto vs = to_i64(shape, lshape), va = to_i64(sa, lsa), vb = to_i64(sb, lsb);
  int64_t total = 1, maxa = 0, maxb = 0;
  for (size_t d = 0; d < lshape; d++) {
    total *= vs[d];
    if (vs[d] > 0) {
      maxa += (vs[d] - 1) * va[d];
      maxb += (vs[d] - 1) * vb[d];
    }
  }
  if (total > static_cast<int64_t>(lo) || (total > 0 && (maxa >= static_cast<int64_t>(la) || maxb >= static_cast<int64_t>(lb)))) {
    return throw_type(env, "binary: shapes and strides do not fit the arrays");
  }
  cn::binary(static_cast<cn::BinaryOp>(op), a, va.data(), b, vb.data(), o, vs.data(), static_cast<int>(lshape));
  return nullptr;
}

// unary(op, x, out)
napi_value Unary(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CN_CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  const int64_t op = get_int(env, argv[0]);
  float *x, *o;
  size_t lx, lo;
  if (argc != 3 || !get_f32(env, argv[1], &x, &lx) || !get_f32(env, argv[2], &o, &lo) || lo < lx || op < 0 || op > 11) {
    return throw_type(env, "unary: bad arguments");
  }
  cn::unary(static_cast<cn::UnaryOp>(op), x, o, static_cast<int64_t>(lx));
  return nullptr;
}

// reduce(op, x, shape, reduceMask(Int32Array), out)
napi_value Reduce(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CN_CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  const int64_t op = get_int(env, argv[0]);
  float *x, *o;
  int32_t *shape, *mask;
  size_t lx, lo, ls, lm;
  if (argc != 5 || !get_f32(env, argv[1], &x, &lx) || !get_i32(env, argv[2], &shape, &ls) || !get_i32(env, argv[3], &mask, &lm) ||
      !get_f32(env, argv[4], &o, &lo) || ls != lm || op < 0 || op > 3) {
    return throw_type(env, "reduce: bad arguments");
  }
  int64_t total = 1, out_size = 1;
  std::vector<uint8_t> red(ls);
  for (size_t d = 0; d < ls; d++) {
    total *= shape[d];
    red[d] = mask[d] != 0;
    if (!red[d]) out_size *= shape[d];
  }
  if (total != static_cast<int64_t>(lx) || out_size > static_cast<int64_t>(lo)) return throw_type(env, "reduce: shape does not fit");
  const auto vs = to_i64(shape, ls);
  cn::reduce(static_cast<cn::ReduceOp>(op), x, vs.data(), red.data(), static_cast<int>(ls), o);
  return nullptr;
}

// softmax(x, out, rows, n)
napi_value Softmax(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CN_CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  float *x, *o;
  size_t lx, lo;
  if (argc != 4 || !get_f32(env, argv[0], &x, &lx) || !get_f32(env, argv[1], &o, &lo)) return throw_type(env, "softmax: bad arguments");
  const int64_t rows = get_int(env, argv[2]), n = get_int(env, argv[3]);
  if (rows < 0 || n < 0 || rows * n > static_cast<int64_t>(lx) || rows * n > static_cast<int64_t>(lo)) return throw_type(env, "softmax: sizes do not fit");
  cn::softmax(x, o, rows, n);
  return nullptr;
}

// layerNorm(x, gamma, beta, eps, n, h, y, mean, rstd)
napi_value LayerNorm(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value argv[9];
  CN_CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  float *x, *g, *b, *y, *m, *rs;
  size_t lx, lg, lb, ly, lm, lrs;
  if (argc != 9 || !get_f32(env, argv[0], &x, &lx) || !get_f32(env, argv[1], &g, &lg) || !get_f32(env, argv[2], &b, &lb) ||
      !get_f32(env, argv[6], &y, &ly) || !get_f32(env, argv[7], &m, &lm) || !get_f32(env, argv[8], &rs, &lrs)) {
    return throw_type(env, "layerNorm: bad arguments");
  }
  double eps = 0;
  napi_get_value_double(env, argv[3], &eps);
  const int64_t n = get_int(env, argv[4]), h = get_int(env, argv[5]);
  const size_t nh = static_cast<size_t>(n * h);
  if (n < 0 || h < 0 || lx < nh || ly < nh || lg < static_cast<size_t>(h) || lb < static_cast<size_t>(h) || lm < static_cast<size_t>(n) || lrs < static_cast<size_t>(n)) {
    return throw_type(env, "layerNorm: sizes do not fit");
  }
  cn::layernorm_forward(x, g, b, static_cast<float>(eps), n, h, y, m, rs);
  return nullptr;
}

// layerNormGrad(dy, x, gamma, mean, rstd, n, h, dx, dgamma, dbeta)
napi_value LayerNormGrad(napi_env env, napi_callback_info info) {
  size_t argc = 10;
  napi_value argv[10];
  CN_CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  float *dy, *x, *g, *m, *rs, *dx, *dg, *db;
  size_t ldy, lx, lg, lm, lrs, ldx, ldg, ldb;
  if (argc != 10 || !get_f32(env, argv[0], &dy, &ldy) || !get_f32(env, argv[1], &x, &lx) || !get_f32(env, argv[2], &g, &lg) ||
      !get_f32(env, argv[3], &m, &lm) || !get_f32(env, argv[4], &rs, &lrs) || !get_f32(env, argv[7], &dx, &ldx) ||
      !get_f32(env, argv[8], &dg, &ldg) || !get_f32(env, argv[9], &db, &ldb)) {
    return throw_type(env, "layerNormGrad: bad arguments");
  }
  const int64_t n = get_int(env, argv[5]), h = get_int(env, argv[6]);
  const size_t nh = static_cast<size_t>(n * h), hh = static_cast<size_t>(h), nn = static_cast<size_t>(n);
  if (n < 0 || h < 0 || ldy < nh || lx < nh || ldx < nh || lg < hh || ldg < hh || ldb < hh || lm < nn || lrs < nn) {
    return throw_type(env, "layerNormGrad: sizes do not fit");
  }
  cn::layernorm_backward(dy, x, g, m, rs, n, h, dx, dg, db);
  return nullptr;
}

// gelu(x, y) and geluGrad(x, dy, dx)
napi_value Gelu(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CN_CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  float *x, *y;
  size_t lx, ly;
  if (argc != 2 || !get_f32(env, argv[0], &x, &lx) || !get_f32(env, argv[1], &y, &ly) || ly < lx) return throw_type(env, "gelu: bad arguments");
  cn::gelu_forward(x, y, static_cast<int64_t>(lx));
  return nullptr;
}

napi_value GeluGrad(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  CN_CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  float *x, *dy, *dx;
  size_t lx, ldy, ldx;
  if (argc != 3 || !get_f32(env, argv[0], &x, &lx) || !get_f32(env, argv[1], &dy, &ldy) || !get_f32(env, argv[2], &dx, &ldx) ||
      ldy < lx || ldx < lx) {
    return throw_type(env, "geluGrad: bad arguments");
  }
  cn::gelu_backward(x, dy, dx, static_cast<int64_t>(lx));
  return nullptr;
}

// adamw(p, m, v, g, pOut, mOut, vOut, scalars Float32Array[8]: b1, 1-b1, b2, 1-b2, bc2Sqrt, eps, decay, step)
napi_value AdamW(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  CN_CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  float* a[8];
  size_t l[8];
  for (int i = 0; i < 8; i++) {
    if (argc != 8 || !get_f32(env, argv[i], &a[i], &l[i])) return throw_type(env, "adamw: expected 8 Float32Arrays");
  }
  const size_t n = l[0];
  for (int i = 1; i < 7; i++) if (l[i] != n) return throw_type(env, "adamw: arrays differ in length");
  if (l[7] != 8) return throw_type(env, "adamw: scalars must hold 8 values");
  const float* sc = a[7];
  const cn::AdamWScalars s{sc[0], sc[1], sc[2], sc[3], sc[4], sc[5], sc[6], sc[7]};
  cn::adamw_update(a[0], a[1], a[2], a[3], static_cast<int64_t>(n), s, a[4], a[5], a[6]);
  return nullptr;
}

bool is_nullish(napi_env env, napi_value v) {
  napi_valuetype t;
  napi_typeof(env, v, &t);
  return t == napi_null || t == napi_undefined;
}

// An optional Float32Array argument of exactly `want` floats: true when absent (p = null) or fitting.
bool get_opt_f32(napi_env env, napi_value v, float** p, int64_t want) {
  *p = nullptr;
  if (is_nullish(env, v)) return true;
  size_t len;
  return get_f32(env, v, p, &len) && static_cast<int64_t>(len) == want;
}

// Reads the trailing (B, Sq, Sk, H, D, Dv, scale) of the attention calls; false when a size is negative.
bool get_attention_dims(napi_env env, const napi_value* argv, cn::AttentionDims* d) {
  d->B = get_int(env, argv[0]);
  d->Sq = get_int(env, argv[1]);
  d->Sk = get_int(env, argv[2]);
  d->H = get_int(env, argv[3]);
  d->D = get_int(env, argv[4]);
  d->Dv = get_int(env, argv[5]);
  double scale = 1;
  napi_get_value_double(env, argv[6], &scale);
  d->scale = static_cast<float>(scale);
  return d->B >= 0 && d->Sq >= 0 && d->Sk >= 0 && d->H >= 0 && d->D >= 0 && d->Dv >= 0;
}

// attention(q, k, v, bias|null, mult|null, out, B, Sq, Sk, H, D, Dv, scale)
napi_value Attention(napi_env env, napi_callback_info info) {
  size_t argc = 13;
  napi_value argv[13];
  CN_CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  cn::AttentionDims d;
  if (argc != 13 || !get_attention_dims(env, argv + 6, &d)) return throw_type(env, "attention: expected 13 arguments with sizes >= 0");
  float *q, *k, *v, *bias, *mult, *out;
  if (!get_opt_f32(env, argv[0], &q, d.B * d.Sq * d.H * d.D) || q == nullptr || !get_opt_f32(env, argv[1], &k, d.B * d.Sk * d.H * d.D) || k == nullptr ||
      !get_opt_f32(env, argv[2], &v, d.B * d.Sk * d.H * d.Dv) || v == nullptr || !get_opt_f32(env, argv[3], &bias, d.B * d.Sk) ||
      !get_opt_f32(env, argv[4], &mult, d.B * d.H * d.Sq * d.Sk) || !get_opt_f32(env, argv[5], &out, d.B * d.Sq * d.H * d.Dv) || out == nullptr) {
    return throw_type(env, "attention: arrays do not fit q [B,Sq,H,D], k [B,Sk,H,D], v [B,Sk,H,Dv], bias [B,Sk], mult [B,H,Sq,Sk], out [B,Sq,H,Dv]");
  }
  cn::attention_forward(d, q, k, v, bias, mult, out, cn::active_path());
  return nullptr;
}

// attentionGrad(q, k, v, bias|null, mult|null, dout, dq, dk, dv, dbias|null, B, Sq, Sk, H, D, Dv, scale)
napi_value AttentionGrad(napi_env env, napi_callback_info info) {
  size_t argc = 17;
  napi_value argv[17];
  CN_CALL(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  cn::AttentionDims d;
  if (argc != 17 || !get_attention_dims(env, argv + 10, &d)) return throw_type(env, "attentionGrad: expected 17 arguments with sizes >= 0");
  const int64_t nq = d.B * d.Sq * d.H * d.D, nk = d.B * d.Sk * d.H * d.D, nv = d.B * d.Sk * d.H * d.Dv, no = d.B * d.Sq * d.H * d.Dv;
  float *q, *k, *v, *bias, *mult, *dout, *dq, *dk, *dv, *dbias;
  if (!get_opt_f32(env, argv[0], &q, nq) || q == nullptr || !get_opt_f32(env, argv[1], &k, nk) || k == nullptr ||
      !get_opt_f32(env, argv[2], &v, nv) || v == nullptr || !get_opt_f32(env, argv[3], &bias, d.B * d.Sk) ||
      !get_opt_f32(env, argv[4], &mult, d.B * d.H * d.Sq * d.Sk) || !get_opt_f32(env, argv[5], &dout, no) || dout == nullptr ||
      !get_opt_f32(env, argv[6], &dq, nq) || dq == nullptr || !get_opt_f32(env, argv[7], &dk, nk) || dk == nullptr ||
      !get_opt_f32(env, argv[8], &dv, nv) || dv == nullptr || !get_opt_f32(env, argv[9], &dbias, d.B * d.Sk)) {
    return throw_type(env, "attentionGrad: arrays do not fit the sizes");
  }
  cn::attention_backward(d, q, k, v, bias, mult, dout, dq, dk, dv, dbias, cn::active_path());
  return nullptr;
}

napi_value Init(napi_env env, napi_value exports) {
  const napi_property_descriptor props[] = {
      {"info", nullptr, Info, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setThreads", nullptr, SetThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setPath", nullptr, SetPath, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"matmul", nullptr, MatMul, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"fmaPeak", nullptr, FmaPeak, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"binary", nullptr, Binary, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"unary", nullptr, Unary, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"reduce", nullptr, Reduce, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"softmax", nullptr, Softmax, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"layerNorm", nullptr, LayerNorm, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"layerNormGrad", nullptr, LayerNormGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"gelu", nullptr, Gelu, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"geluGrad", nullptr, GeluGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"attention", nullptr, Attention, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"attentionGrad", nullptr, AttentionGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"adamw", nullptr, AdamW, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
