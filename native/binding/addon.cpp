// Node-API surface of the native library. The JS side (src/native.ts) is the only caller: it
// describes operands in a shared Float64Array ("meta", layout below) and passes storages as
// externals. Every entry validates what it reads — dtype codes, dims, and that every strided
// access stays inside its storage — so a bug or bad input upstream is an exception, not a crash.
//
// meta layout (doubles):
//   [0] ndim, [1..16] shape
//   operand k at 20 + 24k: dtype, element offset, kind (0 tensor, 1 scalar, 2 allocate), scalar
//   value, strides[16] (elements)
//   [200..] per-op parameters
#include <napi.h>

#include <cmath>
#include <cstring>
#include <string>

#include "../core/allocator.h"
#include "../core/error.h"
#include "../core/iter.h"
#include "../cpu/index.h"
#include "../cpu/kernels.h"
#include "../cpu/matmul.h"
#include "../cpu/random.h"

namespace ignis {
namespace {

constexpr int kMetaLen = 256;
constexpr int kParams = 200;
double* g_meta = nullptr;
Napi::Reference<Napi::Float64Array> g_meta_ref;

struct Storage {
  void* data;
  size_t nbytes;
  int device;  // 0 = cpu
};

void finalize_storage(Napi::Env env, Storage* s) {
  if (s->data) {
    cpu_free(s->data, s->nbytes);
    Napi::MemoryManagement::AdjustExternalMemory(env, -int64_t(s->nbytes));
  }
  delete s;
}

Napi::Value new_storage(Napi::Env env, size_t nbytes) {
  void* p = cpu_alloc(nbytes);
  if (!p)
    throw Error("MemoryError", "cannot allocate " + std::to_string(nbytes) + " bytes on cpu");
  auto* s = new Storage{p, nbytes, 0};
  auto ext = Napi::External<Storage>::New(env, s, finalize_storage);
  Napi::MemoryManagement::AdjustExternalMemory(env, int64_t(nbytes));
  return ext;
}

Storage* get_storage(const Napi::Value& v, const char* what) {
  if (!v.IsExternal()) throw Error("ValueError", std::string(what) + ": expected a tensor storage");
  Storage* s = v.As<Napi::External<Storage>>().Data();
  if (!s || !s->data) throw Error("DisposedError", std::string(what) + ": tensor storage has been disposed");
  return s;
}

int64_t meta_int(int i, const char* what) {
  double v = g_meta[i];
  if (!std::isfinite(v) || v != std::floor(v) || std::fabs(v) > 9.0e15)
    throw Error("ValueError", std::string(what) + ": bad integer in operand description");
  return int64_t(v);
}

DType meta_dtype(int i) {
  int64_t c = meta_int(i, "dtype");
  if (!dtype_valid(int(c))) throw Error("DTypeError", "unknown dtype code " + std::to_string(c));
  return DType(c);
}

// Every element the view can touch must lie inside the storage.
void check_extent(const Storage* s, DType dt, int64_t offset, int ndim, const int64_t* shape, const int64_t* strides,
                  const char* what) {
  int64_t lo = offset, hi = offset;
  for (int d = 0; d < ndim; ++d) {
    if (shape[d] == 0) return;  // empty: touches nothing
    int64_t span = (shape[d] - 1) * strides[d];
    if (span < 0) lo += span; else hi += span;
  }
  int64_t es = int64_t(dtype_size(dt));
  if (lo < 0 || (hi + 1) * es > int64_t(s->nbytes))
    throw Error("IndexError", std::string(what) + ": view reaches outside its storage (elements " + std::to_string(lo) +
                                  ".." + std::to_string(hi) + ", storage holds " + std::to_string(int64_t(s->nbytes) / es) + ")");
}

// Reads the iteration description for `nops` operands whose storages are info[first + k].
// Returns the new output storage when operand 0 is of kind "allocate".
Napi::Value read_iter(const Napi::CallbackInfo& info, int first, int nops, Iter& it, const char* what) {
  int64_t nd = meta_int(0, what);
  if (nd < 0 || nd > kMaxDims) throw Error("ShapeError", std::string(what) + ": at most 16 dims are supported");
  it.ndim = int(nd);
  it.nops = nops;
  for (int d = 0; d < it.ndim; ++d) {
    it.shape[d] = meta_int(1 + d, what);
    if (it.shape[d] < 0) throw Error("ShapeError", std::string(what) + ": negative size");
  }
  Napi::Value result = info.Env().Undefined();
  for (int k = 0; k < nops; ++k) {
    int b = 20 + 24 * k;
    Operand& o = it.op[k];
    o.dtype = meta_dtype(b);
    int64_t kind = meta_int(b + 2, what);
    int64_t es = int64_t(dtype_size(o.dtype));
    if (kind == 1) {
      o.scalar = true;
      o.value = g_meta[b + 3];
      materialize_scalar(o);
      continue;
    }
    Storage* s;
    int64_t offset;
    int64_t estr[kMaxDims];
    if (kind == 2) {
      if (k != 0) throw Error("ValueError", std::string(what) + ": only the output can be allocated");
      int64_t n = it.numel();
      if (n > (int64_t(1) << 46) / es) throw Error("MemoryError", std::string(what) + ": output too large");
      result = new_storage(info.Env(), size_t(n * es));
      s = result.As<Napi::External<Storage>>().Data();
      offset = 0;
      int64_t st = 1;
      for (int d = it.ndim - 1; d >= 0; --d) { estr[d] = st; st *= it.shape[d]; }
    } else {
      s = get_storage(info[size_t(first + k)], what);
      offset = meta_int(b + 1, what);
      for (int d = 0; d < it.ndim; ++d) estr[d] = meta_int(b + 4 + d, what);
      check_extent(s, o.dtype, offset, it.ndim, it.shape, estr, what);
    }
    o.data = static_cast<char*>(s->data) + offset * es;
    for (int d = 0; d < it.ndim; ++d) o.strides[d] = estr[d] * es;
  }
  return result;
}

[[noreturn]] void rethrow(Napi::Env env, const char* kind, const char* msg) {
  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("kind", Napi::String::New(env, kind));
  throw e;
}

template <Napi::Value (*F)(const Napi::CallbackInfo&)>
Napi::Value guarded(const Napi::CallbackInfo& info) {
  try {
    return F(info);
  } catch (const Napi::Error&) {
    throw;
  } catch (const Error& e) {
    rethrow(info.Env(), e.kind.c_str(), e.what());
  } catch (const std::bad_alloc&) {
    rethrow(info.Env(), "MemoryError", "out of memory");
  } catch (const std::exception& e) {
    rethrow(info.Env(), "IgnisError", e.what());
  }
}

int op_code(const Napi::CallbackInfo& info, int i, int count, const char* what) {
  int op = info[size_t(i)].As<Napi::Number>().Int32Value();
  if (op < 0 || op >= count) throw Error("ValueError", std::string(what) + ": unknown op code");
  return op;
}

constexpr int kUnaryCount = 0
#define UNARY(name, int_ok, expr) +1
#include "../ops/unary.def"
#undef UNARY
    ;
constexpr int kBinaryCount = 0
#define BINARY(name, expr) +1
#define COMPARE(name, expr) +1
#include "../ops/binary.def"
#undef BINARY
#undef COMPARE
    ;
constexpr int kReduceCount = 0
#define REDUCE(name) +1
#include "../ops/reduce.def"
#undef REDUCE
    ;
constexpr int kExprCount = 0
#define EXPR(name, arity) +1
#include "../ops/expr.def"
#undef EXPR
    ;
constexpr int kActCount = 0
#define ACT(name, np, fwd, bwd) +1
#include "../ops/activations.def"
#undef ACT
    ;

// ---- entries ---------------------------------------------------------------------------------

Napi::Value Init(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto arr = info[0].As<Napi::Float64Array>();
  if (arr.ElementLength() < size_t(kMetaLen)) throw Error("ValueError", "meta buffer too small");
  g_meta = arr.Data();
  g_meta_ref = Napi::Persistent(arr);
  Napi::Object o = Napi::Object::New(env);
  auto list = [&](std::initializer_list<const char*> names) {
    Napi::Array a = Napi::Array::New(env);
    uint32_t i = 0;
    for (const char* n : names) a.Set(i++, Napi::String::New(env, n));
    return a;
  };
  o.Set("unaryOps", list({
#define UNARY(name, int_ok, expr) #name,
#include "../ops/unary.def"
#undef UNARY
  }));
  o.Set("unaryIntOk", list({
#define UNARY(name, int_ok, expr) int_ok ? #name : "",
#include "../ops/unary.def"
#undef UNARY
  }));
  o.Set("binaryOps", list({
#define BINARY(name, expr) #name,
#define COMPARE(name, expr) #name,
#include "../ops/binary.def"
#undef BINARY
#undef COMPARE
  }));
  o.Set("reduceOps", list({
#define REDUCE(name) #name,
#include "../ops/reduce.def"
#undef REDUCE
  }));
  o.Set("activations", list({
#define ACT(name, np, fwd, bwd) #name,
#include "../ops/activations.def"
#undef ACT
  }));
  Napi::Array nparams = Napi::Array::New(env);
  uint32_t i = 0;
#define ACT(name, np, fwd, bwd) nparams.Set(i++, Napi::Number::New(env, np));
#include "../ops/activations.def"
#undef ACT
  o.Set("activationParams", nparams);
  o.Set("exprOps", list({
#define EXPR(name, arity) #name,
#include "../ops/expr.def"
#undef EXPR
  }));
  o.Set("onednn", Napi::Boolean::New(env, have_onednn()));
  o.Set("isa", Napi::String::New(env, cpu_kernels().isa));
#ifdef _OPENMP
  o.Set("threads", Napi::Number::New(env, omp_get_max_threads()));
#else
  o.Set("threads", Napi::Number::New(env, 1));
#endif
  return o;
}

Napi::Value Alloc(const Napi::CallbackInfo& info) {
  double n = info[0].As<Napi::Number>().DoubleValue();
  if (!(n >= 0) || n != std::floor(n) || n > 7.0e13) throw Error("MemoryError", "cannot allocate " + std::to_string(n) + " bytes on cpu");
  return new_storage(info.Env(), size_t(n));
}

Napi::Value Free(const Napi::CallbackInfo& info) {
  if (!info[0].IsExternal()) return info.Env().Undefined();
  Storage* s = info[0].As<Napi::External<Storage>>().Data();
  if (s && s->data) {
    cpu_free(s->data, s->nbytes);
    Napi::MemoryManagement::AdjustExternalMemory(info.Env(), -int64_t(s->nbytes));
    s->data = nullptr;
  }
  return info.Env().Undefined();
}

Napi::Value FromTyped(const Napi::CallbackInfo& info) {
  auto ta = info[0].As<Napi::TypedArray>();
  size_t nbytes = ta.ByteLength();
  Napi::Value st = new_storage(info.Env(), nbytes);
  Storage* s = st.As<Napi::External<Storage>>().Data();
  auto ab = ta.ArrayBuffer();
  if (nbytes) std::memcpy(s->data, static_cast<char*>(ab.Data()) + ta.ByteOffset(), nbytes);
  return st;
}

// read(storage, elementOffset, count, dtype) -> typed array copy of a contiguous run
Napi::Value Read(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Storage* s = get_storage(info[0], "read");
  int64_t off = int64_t(info[1].As<Napi::Number>().DoubleValue());
  int64_t n = int64_t(info[2].As<Napi::Number>().DoubleValue());
  int code = info[3].As<Napi::Number>().Int32Value();
  if (!dtype_valid(code)) throw Error("DTypeError", "read: unknown dtype");
  DType dt = DType(code);
  int64_t es = int64_t(dtype_size(dt));
  if (off < 0 || n < 0 || (off + n) * es > int64_t(s->nbytes)) throw Error("IndexError", "read: range outside storage");
  auto ab = Napi::ArrayBuffer::New(env, size_t(n * es));
  if (n) std::memcpy(ab.Data(), static_cast<char*>(s->data) + off * es, size_t(n * es));
  switch (dt) {
    case DType::f32: return Napi::Float32Array::New(env, size_t(n), ab, 0);
    case DType::f64: return Napi::Float64Array::New(env, size_t(n), ab, 0);
    case DType::i32: return Napi::Int32Array::New(env, size_t(n), ab, 0);
    case DType::i64: {
      napi_value v;
      if (napi_create_typedarray(env, napi_bigint64_array, size_t(n), ab, 0, &v) != napi_ok)
        throw Error("IgnisError", "read: cannot create BigInt64Array");
      return Napi::Value(env, v);
    }
    case DType::b8: return Napi::Uint8Array::New(env, size_t(n), ab, 0);
  }
  return env.Undefined();
}

// unary(op, out, in)
Napi::Value Unary(const Napi::CallbackInfo& info) {
  int op = op_code(info, 0, kUnaryCount, "unary");
  Iter it;
  Napi::Value r = read_iter(info, 1, 2, it, "unary");
  if (it.op[0].dtype != it.op[1].dtype) throw Error("DTypeError", "unary: output dtype must match input");
  it.coalesce();
  cpu_kernels().unary(op, it, g_meta[kParams], g_meta[kParams + 1]);
  return r;
}

// binary(op, out, a, b)
Napi::Value Binary(const Napi::CallbackInfo& info) {
  int op = op_code(info, 0, kBinaryCount, "binary");
  Iter it;
  Napi::Value r = read_iter(info, 1, 3, it, "binary");
  if (it.op[1].dtype != it.op[2].dtype) throw Error("DTypeError", "binary: operand dtypes differ");
  it.coalesce();
  cpu_kernels().binary(op, it);
  return r;
}

// where(out, cond, a, b)
Napi::Value Where(const Napi::CallbackInfo& info) {
  Iter it;
  Napi::Value r = read_iter(info, 0, 4, it, "where");
  if (it.op[1].dtype != DType::b8) throw Error("DTypeError", "where: condition must be bool");
  if (it.op[2].dtype != it.op[0].dtype || it.op[3].dtype != it.op[0].dtype) throw Error("DTypeError", "where: dtypes differ");
  it.coalesce();
  cpu_kernels().where(it);
  return r;
}

// copy(out, in): strided copy with dtype conversion (contiguous(), to(), copy_, fill_)
Napi::Value Copy(const Napi::CallbackInfo& info) {
  Iter it;
  Napi::Value r = read_iter(info, 0, 2, it, "copy");
  it.coalesce();
  cpu_kernels().copy(it);
  return r;
}

// actFwd(op, out, x) / actBwd(op, out, x, g); params at meta[200..203]
Napi::Value ActFwd(const Napi::CallbackInfo& info) {
  int op = op_code(info, 0, kActCount, "activation");
  Iter it;
  Napi::Value r = read_iter(info, 1, 2, it, "activation");
  if (it.op[0].dtype != it.op[1].dtype) throw Error("DTypeError", "activation: output dtype must match input");
  it.coalesce();
  cpu_kernels().act_fwd(op, it, g_meta + kParams);
  return r;
}

Napi::Value ActBwd(const Napi::CallbackInfo& info) {
  int op = op_code(info, 0, kActCount, "activation backward");
  Iter it;
  Napi::Value r = read_iter(info, 1, 3, it, "activation backward");
  if (it.op[0].dtype != it.op[1].dtype || it.op[2].dtype != it.op[1].dtype)
    throw Error("DTypeError", "activation backward: dtypes differ");
  it.coalesce();
  cpu_kernels().act_bwd(op, it, g_meta + kParams);
  return r;
}

// reduce(op, in): meta describes the input (operand 0) with dims [kept..., reduced...];
// meta[200] = number of kept dims, meta[201] = output dtype. Returns a contiguous output storage.
Napi::Value Reduce(const Napi::CallbackInfo& info) {
  int op = op_code(info, 0, kReduceCount, "reduce");
  ReduceArgs r;
  // read the input as operand 0 of a one-operand iterator (its storage is info[1])
  read_iter(info, 1, 1, r.in, "reduce");
  r.nkeep = int(meta_int(kParams, "reduce"));
  if (r.nkeep < 0 || r.nkeep > r.in.ndim) throw Error("ValueError", "reduce: bad kept-dim count");
  r.out_dtype = meta_dtype(kParams + 1);
  int64_t nout = 1;
  for (int d = 0; d < r.nkeep; ++d) nout *= r.in.shape[d];
  Napi::Value out = new_storage(info.Env(), size_t(nout) * dtype_size(r.out_dtype));
  r.out = static_cast<char*>(out.As<Napi::External<Storage>>().Data()->data);
  cpu_kernels().reduce(op, r);
  return out;
}

// bmm(a, b): meta[0..3] = B, M, K, N; [4] dtype; a: [5] offset, [6..8] strides; b: [9], [10..12]
Napi::Value Bmm(const Napi::CallbackInfo& info) {
  int64_t B = meta_int(0, "matmul"), M = meta_int(1, "matmul"), K = meta_int(2, "matmul"), N = meta_int(3, "matmul");
  if (B < 0 || M < 0 || K < 0 || N < 0) throw Error("ShapeError", "matmul: negative size");
  DType dt = meta_dtype(4);
  Storage* sa = get_storage(info[0], "matmul");
  Storage* sb = get_storage(info[1], "matmul");
  MatArg a, b;
  int64_t aoff = meta_int(5, "matmul"), boff = meta_int(9, "matmul");
  for (int i = 0; i < 3; ++i) { a.s[i] = meta_int(6 + i, "matmul"); b.s[i] = meta_int(10 + i, "matmul"); }
  int64_t ashape[3] = {B, M, K}, bshape[3] = {B, K, N};
  check_extent(sa, dt, aoff, 3, ashape, a.s, "matmul");
  check_extent(sb, dt, boff, 3, bshape, b.s, "matmul");
  int64_t es = int64_t(dtype_size(dt));
  a.data = static_cast<char*>(sa->data) + aoff * es;
  b.data = static_cast<char*>(sb->data) + boff * es;
  Napi::Value out = new_storage(info.Env(), size_t(B * M * N * es));
  bmm_fwd_cpu(dt, B, M, K, N, a, b, static_cast<char*>(out.As<Napi::External<Storage>>().Data()->data));
  return out;
}

// gather(out=alloc, in, index): iteration over the index shape; meta[200] = dim,
// [201] = input size along dim, [202] = input stride along dim (elements; operand 1's stride at
// dim is given as 0 by JS).
Napi::Value Gather(const Napi::CallbackInfo& info) {
  Iter it;
  Napi::Value r = read_iter(info, 0, 3, it, "gather");
  int64_t dim = meta_int(kParams, "gather"), size = meta_int(kParams + 1, "gather"), stride = meta_int(kParams + 2, "gather");
  if (dim < 0 || dim >= std::max(it.ndim, 1) || size < 0) throw Error("IndexError", "gather: bad dim");
  if (it.op[2].dtype != DType::i64) throw Error("DTypeError", "gather: index must be int64");
  // The input reaches `size` elements along dim: check that span too.
  Storage* s = get_storage(info[1], "gather");
  int64_t es = int64_t(dtype_size(it.op[1].dtype));
  int64_t shp[kMaxDims + 1], str[kMaxDims + 1];
  for (int d = 0; d < it.ndim; ++d) { shp[d] = it.shape[d]; str[d] = it.op[1].strides[d] / es; }
  shp[it.ndim] = size; str[it.ndim] = stride;
  int64_t base = (it.op[1].data - static_cast<char*>(s->data)) / es;
  check_extent(s, it.op[1].dtype, base, it.ndim + 1, shp, str, "gather");
  if (it.op[0].dtype != it.op[1].dtype) throw Error("DTypeError", "gather: output dtype must match input");
  gather_fwd_cpu(it, stride * es, size);
  return r;
}

// scatter(self, index, src): in place on self over the index shape; meta[200] = dim,
// [201] = self size along dim, [202] = self stride along dim, [203] = reduce (0 assign, 1 add).
Napi::Value Scatter(const Napi::CallbackInfo& info) {
  Iter it;
  read_iter(info, 0, 3, it, "scatter");
  int64_t size = meta_int(kParams + 1, "scatter"), stride = meta_int(kParams + 2, "scatter");
  int reduce = int(meta_int(kParams + 3, "scatter"));
  if (it.op[1].dtype != DType::i64) throw Error("DTypeError", "scatter: index must be int64");
  if (it.op[2].dtype != it.op[0].dtype) throw Error("DTypeError", "scatter: src dtype must match self");
  Storage* s = get_storage(info[0], "scatter");
  int64_t es = int64_t(dtype_size(it.op[0].dtype));
  int64_t shp[kMaxDims + 1], str[kMaxDims + 1];
  for (int d = 0; d < it.ndim; ++d) { shp[d] = it.shape[d]; str[d] = it.op[0].strides[d] / es; }
  shp[it.ndim] = size; str[it.ndim] = stride;
  int64_t base = (it.op[0].data - static_cast<char*>(s->data)) / es;
  check_extent(s, it.op[0].dtype, base, it.ndim + 1, shp, str, "scatter");
  scatter_fwd_cpu(it, stride * es, size, reduce);
  return info.Env().Undefined();
}

// random(kind, dtype, n, seed, offset, p0, p1) -> new contiguous storage
Napi::Value Random(const Napi::CallbackInfo& info) {
  int kind = info[0].As<Napi::Number>().Int32Value();
  int code = info[1].As<Napi::Number>().Int32Value();
  double n = info[2].As<Napi::Number>().DoubleValue();
  if (kind < 0 || kind > 3 || !dtype_valid(code)) throw Error("ValueError", "random: bad arguments");
  if (!(n >= 0) || n != std::floor(n) || n > 7.0e12) throw Error("MemoryError", "random: bad size");
  uint64_t seed = uint64_t(info[3].As<Napi::Number>().DoubleValue());
  uint64_t offset = uint64_t(info[4].As<Napi::Number>().DoubleValue());
  double p0 = info[5].As<Napi::Number>().DoubleValue(), p1 = info[6].As<Napi::Number>().DoubleValue();
  DType dt = DType(code);
  Napi::Value out = new_storage(info.Env(), size_t(n) * dtype_size(dt));
  random_fill_cpu(RandomKind(kind), dt, static_cast<char*>(out.As<Napi::External<Storage>>().Data()->data), int64_t(n),
                  seed, offset, p0, p1);
  return out;
}

// expr(program, out=alloc, x[, g]): program is a Float64Array [nregs, out, ninstr, code...]
Napi::Value Expr(const Napi::CallbackInfo& info) {
  auto prog = info[0].As<Napi::Float64Array>();
  const double* pd = prog.Data();
  size_t len = prog.ElementLength();
  if (len < 3) throw Error("ValueError", "expression: empty program");
  ExprProgram p;
  p.nregs = int(pd[0]);
  p.out = int(pd[1]);
  p.ninstr = int(pd[2]);
  p.code = pd + 3;
  if (p.nregs < 2 || p.nregs > 1024 || p.ninstr < 0 || size_t(3 + 5 * p.ninstr) > len || p.out < 0 || p.out >= p.nregs)
    throw Error("ValueError", "expression: malformed program");
  for (int i = 0; i < p.ninstr; ++i) {
    const double* ins = p.code + 5 * i;
    if (!(ins[0] >= 0 && ins[0] < kExprCount)) throw Error("ValueError", "expression: bad opcode");
    int last = int(ins[0]) == 0 ? 1 : 4;  // CONST has only a destination register (its value is in slot 2)
    for (int k = 1; k <= last; ++k)
      if (!(ins[k] >= 0 && ins[k] < p.nregs)) throw Error("ValueError", "expression: register out of range");
  }
  bool has_g = info.Length() > 3 && !info[3].IsNull() && !info[3].IsUndefined();
  Iter it;
  Napi::Value r = read_iter(info, 1, has_g ? 3 : 2, it, "expression");
  for (int k = 1; k < it.nops; ++k)
    if (it.op[k].dtype != it.op[0].dtype) throw Error("DTypeError", "expression: dtypes differ");
  it.coalesce();
  cpu_kernels().expr(p, it);
  return r;
}

Napi::Value MemoryStatsJs(const Napi::CallbackInfo& info) {
  MemoryStats m = cpu_memory_stats();
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("liveBytes", double(m.live_bytes));
  o.Set("liveCount", double(m.live_count));
  o.Set("cachedBytes", double(m.cached_bytes));
  o.Set("peakBytes", double(m.peak_bytes));
  o.Set("allocCalls", double(m.alloc_calls));
  o.Set("cacheHits", double(m.cache_hits));
  return o;
}

Napi::Value EmptyCache(const Napi::CallbackInfo& info) {
  cpu_empty_cache();
  return info.Env().Undefined();
}

Napi::Object Module(Napi::Env env, Napi::Object exports) {
#define EXPORT(name, fn) exports.Set(name, Napi::Function::New<guarded<fn>>(env, name))
  EXPORT("init", Init);
  EXPORT("alloc", Alloc);
  EXPORT("free", Free);
  EXPORT("fromTyped", FromTyped);
  EXPORT("read", Read);
  EXPORT("unary", Unary);
  EXPORT("binary", Binary);
  EXPORT("where", Where);
  EXPORT("copy", Copy);
  EXPORT("actFwd", ActFwd);
  EXPORT("actBwd", ActBwd);
  EXPORT("reduce", Reduce);
  EXPORT("bmm", Bmm);
  EXPORT("gather", Gather);
  EXPORT("scatter", Scatter);
  EXPORT("random", Random);
  EXPORT("expr", Expr);
  EXPORT("memoryStats", MemoryStatsJs);
  EXPORT("emptyCache", EmptyCache);
#undef EXPORT
  return exports;
}

}  // namespace
}  // namespace ignis

static Napi::Object InitIgnis(Napi::Env env, Napi::Object exports) { return ignis::Module(env, exports); }
NODE_API_MODULE(ignis_native, InitIgnis)
