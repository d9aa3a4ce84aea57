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
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <initializer_list>
#include <vector>

#include "../core/allocator.h"
#include "../core/error.h"
#include "../core/iter.h"
#include "../cpu/index.h"
#include "../cpu/kernels.h"
#include "../cpu/matmul.h"
#include "../cpu/conv.h"
#include "../cpu/pool.h"
#include "../cpu/batchnorm.h"
#include "../cpu/softmax.h"
#include "../cpu/gated.h"
#include "../cpu/random.h"
#include "../cpu/optim.h"
#include "cuda_loader.h"
#include "nvrtc.h"

namespace ignis {
namespace {

constexpr int kMetaLen = 256;
constexpr int kParams = 200;
// Per JS thread: the main thread and each worker_threads Worker load their own copy of Ignis, with
// their own Node-API env and meta buffer, and may call in at the same time. So the meta pointer and
// the tracked storages below are thread_local; the allocator, the kernels' caches and the CUDA
// library lock what they share.
thread_local double* g_meta = nullptr;

struct Storage {
  void* data;
  size_t nbytes;
  int device;  // 0 = cpu, 1 + n = cuda:n (data is then a device pointer: never dereference it here)
  // a weak reference to the handle (no finalizer): the GC clears it, and the next sweep (below)
  // frees the data if dispose() has not, then the reference and the storage itself
  napi_ref weak = nullptr;
  size_t slot = SIZE_MAX;   // index in g_tracked.list: every storage whose handle may be alive
};

// ---- freeing storages whose JS handle is already garbage ------------------------------------
// Node-API runs finalizers only from the event loop (a SetImmediate after GC), so a synchronous
// loop that never yields (for (...) x.add(1)) would keep every collected tensor's native memory
// until it returns: gigabytes. So no finalizer: each storage keeps a weak reference to its handle,
// which the GC clears at once, and is listed here; when native memory has grown enough since the
// last sweep (and after each of src/gc.ts's collections), the sweep frees the data of the storages
// whose handle is gone, their reference and the storage. A finalizer cost V8 a second-pass callback
// per dead handle in every collection, and Node a deferred call each (dev VM: a forced young
// collection after 300 dead tensors 337 -> 79 us; bench/RESULTS.md, Core section).
// A storage's handle and reference belong to the env (thread) that made it, so the list is per
// thread too; when the env ends (process exit, a Worker's end) a cleanup hook frees what is left.
// Plain data (constant-initialised, trivially destroyed), so every access is one thread-local
// lookup with no first-use guard; the array is freed whenever the list empties.
struct Tracked {
  Storage** list = nullptr;
  size_t size = 0, cap = 0;
  int64_t bytes = 0;
  int64_t device_bytes = 0;                 // the CUDA storages' share of bytes
  int64_t sweep_bytes = int64_t(32) << 20;  // sweep when bytes exceeds this...
  size_t sweep_count = 16384;               // ...or size exceeds this
  bool hooked = false;                      // the env cleanup hook is registered
};
thread_local Tracked g_tracked;
constexpr int64_t kMinSweepBytes = int64_t(32) << 20;
constexpr size_t kMinSweepCount = 16384;

void untrack(napi_env env, Storage* s) {
  Tracked& T = g_tracked;
  if (s->slot != SIZE_MAX) {
    Storage* last = T.list[--T.size];
    T.list[s->slot] = last;
    last->slot = s->slot;
    s->slot = SIZE_MAX;
    if (T.size == 0) {
      std::free(T.list);
      T.list = nullptr;
      T.cap = 0;
    }
  }
}

void free_block(void* p, size_t nbytes, int device) {
  if (device > 0) {
    // a CUDA storage exists only after the backend loaded; its free is stream-ordered, never fails
    if (const IgnisCudaApi* api = cuda_api()) api->free(device - 1, p, nbytes);
  } else {
    cpu_free(p, nbytes);
  }
}

void release_data(napi_env env, Storage* s) {
  if (s->data) {
    free_block(s->data, s->nbytes, s->device);
    int64_t adjusted;
    if (s->device == 0) napi_adjust_external_memory(env, -int64_t(s->nbytes), &adjusted);
    s->data = nullptr;
    if (s->slot != SIZE_MAX) {
      g_tracked.bytes -= int64_t(s->nbytes);
      if (s->device > 0) g_tracked.device_bytes -= int64_t(s->nbytes);
    }
  }
}

// Frees a storage whose handle is gone (or whose env is ending): its data, reference and itself.
void destroy_storage(napi_env env, Storage* s) {
  release_data(env, s);
  untrack(env, s);
  if (s->weak) napi_delete_reference(env, s->weak);
  delete s;
}

void sweep(napi_env env) {
  Tracked& T = g_tracked;
  for (size_t i = 0; i < T.size;) {
    Storage* s = T.list[i];
    napi_value v = nullptr;
    if (napi_get_reference_value(env, s->weak, &v) == napi_ok && v == nullptr) {
      destroy_storage(env, s);  // moves the last entry into slot i
    } else {
      ++i;
    }
  }
  // next sweep after 32 MiB (or 1/8 of what is live) more: cheap, since big tensors are few
  T.sweep_bytes = T.bytes + std::max(kMinSweepBytes, T.bytes / 8);
  T.sweep_count = std::max(kMinSweepCount, 2 * T.size);
}

// The env is ending (process exit, a Worker's end): every storage still listed goes, held or not.
void free_all_storages(void* arg) {
  napi_env env = static_cast<napi_env>(arg);
  Tracked& T = g_tracked;
  while (T.size > 0) destroy_storage(env, T.list[T.size - 1]);
  T.hooked = false;
}

// CUDA allocation through the backend's caching allocator; nullptr + message on failure.
void* cuda_alloc(int device, size_t nbytes, std::string* err, std::string* kind) {
  const IgnisCudaApi& api = cuda_require("alloc");
  void* p = nullptr;
  if (api.malloc(device - 1, nbytes, &p) != 0) {
    *err = api.error_message();
    *kind = api.error_kind();
    return nullptr;
  }
  return p;
}

Napi::Value new_storage(Napi::Env env, size_t nbytes, int device = 0) {
  Tracked& T = g_tracked;
  if (T.bytes + int64_t(nbytes) > T.sweep_bytes || T.size >= T.sweep_count) sweep(env);
  std::string err, kind;
  void* p = device > 0 ? cuda_alloc(device, nbytes, &err, &kind) : cpu_alloc(nbytes);
  if (!p && T.size > 0 && (device == 0 || kind == "MemoryError")) {
    sweep(env);  // garbage may be holding the memory: free it and retry once
    p = device > 0 ? cuda_alloc(device, nbytes, &err, &kind) : cpu_alloc(nbytes);
  }
  if (!p && device > 0) throw Error(kind.empty() ? "MemoryError" : kind, err);
  if (!p)
    throw Error("MemoryError", "cannot allocate " + std::to_string(nbytes) + " bytes on cpu");
  auto* s = new Storage{p, nbytes, device};
  // The storage must be listed before its handle exists: the list is the only way back to it.
  if (T.size == T.cap) {
    size_t cap = T.cap ? 2 * T.cap : 64;
    auto* grown = static_cast<Storage**>(std::realloc(T.list, cap * sizeof(Storage*)));
    if (!grown) {
      free_block(p, nbytes, device);
      delete s;
      throw Error("MemoryError", "cannot list a new tensor storage (out of host memory)");
    }
    T.list = grown;
    T.cap = cap;
  }
  if (!T.hooked) {
    napi_add_env_cleanup_hook(env, free_all_storages, env);
    T.hooked = true;
  }
  // A bare External (V8 keeps no weak handle for it) and one weak reference without a finalizer
  // (the cheap kind of weak handle; see "freeing storages" above).
  Napi::External<Storage> ext;
  try {
    ext = Napi::External<Storage>::New(env, s);
  } catch (...) {
    // no handle (e.g. the Worker is being terminated): free here
    free_block(p, nbytes, device);
    delete s;
    throw;
  }
  if (napi_create_reference(env, ext, 0, &s->weak) != napi_ok) {
    free_block(p, nbytes, device);
    delete s;
    throw Error("MemoryError", "cannot make a weak reference to a tensor handle (" + std::to_string(nbytes) + " bytes)");
  }
  // Host blocks count as V8's external memory, so that V8 collects when they pile up. Device blocks
  // do not: above its limit V8 answers every new block with an incremental-marking step of up to
  // milliseconds, on the GPU most of a training step's host time (src/gc.ts collects for them, and
  // a CUDA allocation that fails collects and retries).
  int64_t adjusted;
  if (device == 0) napi_adjust_external_memory(env, int64_t(nbytes), &adjusted);
  s->slot = T.size;
  T.list[T.size++] = s;
  T.bytes += int64_t(nbytes);
  if (device > 0) T.device_bytes += int64_t(nbytes);
  return ext;
}

// A storage on any device (callers that handle CUDA storages).
Storage* get_storage_any(const Napi::Value& v, const char* what) {
  if (!v.IsExternal()) throw Error("ValueError", std::string(what) + ": expected a tensor storage");
  Storage* s = v.As<Napi::External<Storage>>().Data();
  if (!s || !s->data) throw Error("DisposedError", std::string(what) + ": tensor storage has been disposed");
  return s;
}

std::string device_name(int device) { return device > 0 ? "cuda:" + std::to_string(device - 1) : "cpu"; }

// A CPU storage: entries without a CUDA path refuse device pointers with a typed error.
Storage* get_storage(const Napi::Value& v, const char* what) {
  Storage* s = get_storage_any(v, what);
  if (s->device != 0)
    throw Error("DeviceError", std::string(what) + ": not implemented for " + device_name(s->device) +
                                   " tensors yet; move them to the cpu first (.cpu())");
  return s;
}

// m: the calling thread's meta buffer (g_meta, read once by callers that read many fields)
int64_t meta_int(const double* m, int i, const char* what) {
  double v = m[i];
  if (!std::isfinite(v) || v != std::floor(v) || std::fabs(v) > 9.0e15)
    throw Error("ValueError", std::string(what) + ": bad integer in operand description");
  return int64_t(v);
}
int64_t meta_int(int i, const char* what) { return meta_int(g_meta, i, what); }

DType meta_dtype(const double* m, int i) {
  int64_t c = meta_int(m, i, "dtype");
  if (!dtype_valid(int(c))) throw Error("DTypeError", "unknown dtype code " + std::to_string(c));
  return DType(c);
}
DType meta_dtype(int i) { return meta_dtype(g_meta, i); }

// meta[0] as a floating dtype (the float-only entries: batch norm, softmax, prelu, glu)
DType meta_float_dtype(const char* what) {
  DType dt = meta_dtype(0);
  if (!is_floating(dt)) throw Error("DTypeError", std::string(what) + ": expected float32 or float64, got " + dtype_name(dt));
  return dt;
}

// meta[first], meta[first + 1], ... into the given fields
void meta_ints(int first, std::initializer_list<int64_t*> fields, const char* what) {
  for (int64_t* f : fields) *f = meta_int(first++, what);
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
// Returns the new output storage when operand 0 is of kind "allocate". `device` (when given)
// receives the operands' device (they must agree) and the output is allocated there; without it
// only CPU storages are accepted.
Napi::Value read_iter(const Napi::CallbackInfo& info, int first, int nops, Iter& it, const char* what,
                      int* device = nullptr) {
  const double* m = g_meta;
  int dev = 0;
  if (device) {
    bool seen = false;
    for (int k = 0; k < nops; ++k) {
      if (meta_int(m, 20 + 24 * k + 2, what) != 0) continue;
      Storage* s = get_storage_any(info[size_t(first + k)], what);
      if (seen && s->device != dev)
        throw Error("DeviceError", std::string(what) + ": expected all tensors on the same device, got " +
                                       device_name(dev) + " and " + device_name(s->device));
      dev = s->device;
      seen = true;
    }
    *device = dev;
  }
  int64_t nd = meta_int(m, 0, what);
  if (nd < 0 || nd > kMaxDims) throw Error("ShapeError", std::string(what) + ": at most 16 dims are supported");
  it.ndim = int(nd);
  it.nops = nops;
  for (int d = 0; d < it.ndim; ++d) {
    it.shape[d] = meta_int(m, 1 + d, what);
    if (it.shape[d] < 0) throw Error("ShapeError", std::string(what) + ": negative size");
  }
  Napi::Value result = info.Env().Undefined();
  for (int k = 0; k < nops; ++k) {
    int b = 20 + 24 * k;
    Operand& o = it.op[k];
    o.dtype = meta_dtype(m, b);
    int64_t kind = meta_int(m, b + 2, what);
    int64_t es = int64_t(dtype_size(o.dtype));
    if (kind == 1) {
      o.scalar = true;
      o.value = m[b + 3];
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
      result = new_storage(info.Env(), size_t(n * es), dev);
      s = result.As<Napi::External<Storage>>().Data();
      offset = 0;
      int64_t st = 1;
      for (int d = it.ndim - 1; d >= 0; --d) { estr[d] = st; st *= it.shape[d]; }
    } else {
      s = device ? get_storage_any(info[size_t(first + k)], what) : get_storage(info[size_t(first + k)], what);
      offset = meta_int(m, b + 1, what);
      for (int d = 0; d < it.ndim; ++d) estr[d] = meta_int(m, b + 4 + d, what);
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
// ACT_FAST rows (approx: 'fast' forwards): op codes kActCount + i; kActFastRow[i] is the exact row
// that CUDA runs instead (the approximations are CPU kernels).
enum ActRowCode {
#define ACT(name, np, fwd, bwd) kActRow_##name,
#include "../ops/activations.def"
#undef ACT
};
constexpr int kActFastRow[] = {
#define ACT(name, np, fwd, bwd)
#define ACT_FAST(name, fwd) kActRow_##name,
#include "../ops/activations.def"
#undef ACT_FAST
#undef ACT
};
constexpr int kActFastCount = int(sizeof(kActFastRow) / sizeof(kActFastRow[0]));

#include "cuda_bridge.inc"

// ---- entries ---------------------------------------------------------------------------------

Napi::Value Init(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto arr = info[0].As<Napi::Float64Array>();
  if (arr.ElementLength() < size_t(kMetaLen)) throw Error("ValueError", "meta buffer too small");
  g_meta = arr.Data();
  // keeps the buffer alive for the env's life (Node frees the reference when the env goes)
  napi_ref keep = nullptr;
  napi_create_reference(env, arr, 1, &keep);
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
  // kernels whose backward takes the forward output instead of the input (ACT_OUT rows)
  o.Set("activationsFromOutput", list({
#define ACT(name, np, fwd, bwd)
#define ACT_OUT(name) #name,
#include "../ops/activations.def"
#undef ACT_OUT
#undef ACT
  }));
  // kernels with an `approx: 'fast'` forward (ACT_FAST rows), op codes activations.length + i
  o.Set("activationsFast", list({
#define ACT(name, np, fwd, bwd)
#define ACT_FAST(name, fwd) #name,
#include "../ops/activations.def"
#undef ACT_FAST
#undef ACT
  }));
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

// alloc(nbytes[, device]): uninitialised memory (device code 0 cpu, 1 + n cuda:n)
Napi::Value Alloc(const Napi::CallbackInfo& info) {
  double n = info[0].As<Napi::Number>().DoubleValue();
  int dev = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().Int32Value() : 0;
  if (dev < 0) throw Error("ValueError", "alloc: bad device");
  if (!(n >= 0) || n != std::floor(n) || n > 7.0e13)
    throw Error("MemoryError", "cannot allocate " + std::to_string(n) + " bytes on " + device_name(dev));
  return new_storage(info.Env(), size_t(n), dev);
}

Napi::Value Free(const Napi::CallbackInfo& info) {
  if (!info[0].IsExternal()) return info.Env().Undefined();
  // the data goes now; the storage stays listed until its handle is collected (sweep)
  Storage* s = info[0].As<Napi::External<Storage>>().Data();
  if (s) release_data(info.Env(), s);
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

Napi::Value typed_array(Napi::Env env, Napi::ArrayBuffer ab, int64_t n, DType dt);

// read(storage, elementOffset, count, dtype) -> typed array copy of a contiguous run
Napi::Value Read(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Storage* s = get_storage_any(info[0], "read");
  int64_t off = int64_t(info[1].As<Napi::Number>().DoubleValue());
  int64_t n = int64_t(info[2].As<Napi::Number>().DoubleValue());
  int code = info[3].As<Napi::Number>().Int32Value();
  if (!dtype_valid(code)) throw Error("DTypeError", "read: unknown dtype");
  DType dt = DType(code);
  int64_t es = int64_t(dtype_size(dt));
  if (off < 0 || n < 0 || (off + n) * es > int64_t(s->nbytes)) throw Error("IndexError", "read: range outside storage");
  auto ab = Napi::ArrayBuffer::New(env, size_t(n * es));
  if (n && s->device > 0) {  // waits for the queued work: toArray() / item() are the sync points
    cuda_call("read", [&](const IgnisCudaApi& a) {
      return a.d2h(s->device - 1, ab.Data(), static_cast<char*>(s->data) + off * es, size_t(n * es));
    });
  } else if (n) {
    std::memcpy(ab.Data(), static_cast<char*>(s->data) + off * es, size_t(n * es));
  }
  return typed_array(env, ab, n, dt);
}

Napi::Value typed_array(Napi::Env env, Napi::ArrayBuffer ab, int64_t n, DType dt) {
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
  int dev;
  Napi::Value r = read_iter(info, 1, 2, it, "unary", &dev);
  if (it.op[0].dtype != it.op[1].dtype) throw Error("DTypeError", "unary: output dtype must match input");
  it.coalesce();
  if (dev > 0) {
    IgnisCudaIter c = to_cuda_iter(it);
    cuda_call("unary", [&](const IgnisCudaApi& a) { return a.unary(dev - 1, op, &c, g_meta[kParams], g_meta[kParams + 1]); });
    return r;
  }
  cpu_kernels().unary(op, it, g_meta[kParams], g_meta[kParams + 1]);
  return r;
}

// binary(op, out, a, b)
Napi::Value Binary(const Napi::CallbackInfo& info) {
  int op = op_code(info, 0, kBinaryCount, "binary");
  Iter it;
  int dev;
  Napi::Value r = read_iter(info, 1, 3, it, "binary", &dev);
  if (it.op[1].dtype != it.op[2].dtype) throw Error("DTypeError", "binary: operand dtypes differ");
  it.coalesce();
  if (dev > 0) {
    IgnisCudaIter c = to_cuda_iter(it);
    cuda_call("binary", [&](const IgnisCudaApi& a) { return a.binary(dev - 1, op, &c); });
    return r;
  }
  cpu_kernels().binary(op, it);
  return r;
}

// where(out, cond, a, b)
Napi::Value Where(const Napi::CallbackInfo& info) {
  Iter it;
  int dev;
  Napi::Value r = read_iter(info, 0, 4, it, "where", &dev);
  if (it.op[1].dtype != DType::b8) throw Error("DTypeError", "where: condition must be bool");
  if (it.op[2].dtype != it.op[0].dtype || it.op[3].dtype != it.op[0].dtype) throw Error("DTypeError", "where: dtypes differ");
  it.coalesce();
  if (dev > 0) {
    IgnisCudaIter c = to_cuda_iter(it);
    cuda_call("where", [&](const IgnisCudaApi& a) { return a.where(dev - 1, &c); });
    return r;
  }
  cpu_kernels().where(it);
  return r;
}

// copy(out, in): strided copy with dtype conversion (contiguous(), to(), copy_, fill_)
Napi::Value Copy(const Napi::CallbackInfo& info) {
  Iter it;
  int dev;
  Napi::Value r = read_iter(info, 0, 2, it, "copy", &dev);
  it.coalesce();
  if (dev > 0) {
    IgnisCudaIter c = to_cuda_iter(it);
    cuda_call("copy", [&](const IgnisCudaApi& a) { return a.copy(dev - 1, &c); });
    return r;
  }
  cpu_kernels().copy(it);
  return r;
}

// actFwd(op, out, x) / actBwd(op, out, x, g); params at meta[200..203]. actFwd also takes the
// ACT_FAST codes (kActCount + i).
Napi::Value ActFwd(const Napi::CallbackInfo& info) {
  int op = op_code(info, 0, kActCount + kActFastCount, "activation");
  Iter it;
  int dev;
  Napi::Value r = read_iter(info, 1, 2, it, "activation", &dev);
  if (it.op[0].dtype != it.op[1].dtype) throw Error("DTypeError", "activation: output dtype must match input");
  it.coalesce();
  if (dev > 0) {
    if (op >= kActCount) op = kActFastRow[op - kActCount];
    IgnisCudaIter c = to_cuda_iter(it);
    cuda_call("activation", [&](const IgnisCudaApi& a) { return a.act_fwd(dev - 1, op, &c, g_meta + kParams); });
    return r;
  }
  cpu_kernels().act_fwd(op, it, g_meta + kParams);
  return r;
}

Napi::Value ActBwd(const Napi::CallbackInfo& info) {
  int op = op_code(info, 0, kActCount, "activation backward");
  Iter it;
  int dev;
  Napi::Value r = read_iter(info, 1, 3, it, "activation backward", &dev);
  if (it.op[0].dtype != it.op[1].dtype || it.op[2].dtype != it.op[1].dtype)
    throw Error("DTypeError", "activation backward: dtypes differ");
  it.coalesce();
  if (dev > 0) {
    IgnisCudaIter c = to_cuda_iter(it);
    cuda_call("activation backward", [&](const IgnisCudaApi& a) { return a.act_bwd(dev - 1, op, &c, g_meta + kParams); });
    return r;
  }
  cpu_kernels().act_bwd(op, it, g_meta + kParams);
  return r;
}

// reduce(op, in): meta describes the input (operand 0) with dims [kept..., reduced...];
// meta[200] = number of kept dims, meta[201] = output dtype. Returns a contiguous output storage.
Napi::Value Reduce(const Napi::CallbackInfo& info) {
  int op = op_code(info, 0, kReduceCount, "reduce");
  ReduceArgs r;
  // read the input as operand 0 of a one-operand iterator (its storage is info[1])
  int dev;
  read_iter(info, 1, 1, r.in, "reduce", &dev);
  r.nkeep = int(meta_int(kParams, "reduce"));
  if (r.nkeep < 0 || r.nkeep > r.in.ndim) throw Error("ValueError", "reduce: bad kept-dim count");
  r.out_dtype = meta_dtype(kParams + 1);
  int64_t nout = 1;
  for (int d = 0; d < r.nkeep; ++d) nout *= r.in.shape[d];
  Napi::Value out = new_storage(info.Env(), size_t(nout) * dtype_size(r.out_dtype), dev);
  r.out = static_cast<char*>(out.As<Napi::External<Storage>>().Data()->data);
  if (dev > 0) {
    IgnisCudaIter c = to_cuda_iter(r.in);
    cuda_call("reduce", [&](const IgnisCudaApi& a) { return a.reduce(dev - 1, op, &c, r.nkeep, r.out, int(r.out_dtype)); });
    return out;
  }
  cpu_kernels().reduce(op, r);
  return out;
}

// bmm(a, b): meta[0..3] = B, M, K, N; [4] dtype; a: [5] offset, [6..8] strides; b: [9], [10..12]
Napi::Value Bmm(const Napi::CallbackInfo& info) {
  int64_t B = meta_int(0, "matmul"), M = meta_int(1, "matmul"), K = meta_int(2, "matmul"), N = meta_int(3, "matmul");
  if (B < 0 || M < 0 || K < 0 || N < 0) throw Error("ShapeError", "matmul: negative size");
  DType dt = meta_dtype(4);
  Storage* sa = get_storage_any(info[0], "matmul");
  Storage* sb = get_storage_any(info[1], "matmul");
  if (sa->device != sb->device)
    throw Error("DeviceError", "matmul: expected both operands on the same device, got " + device_name(sa->device) +
                                   " and " + device_name(sb->device));
  MatArg a, b;
  int64_t aoff = meta_int(5, "matmul"), boff = meta_int(9, "matmul");
  for (int i = 0; i < 3; ++i) { a.s[i] = meta_int(6 + i, "matmul"); b.s[i] = meta_int(10 + i, "matmul"); }
  int64_t ashape[3] = {B, M, K}, bshape[3] = {B, K, N};
  check_extent(sa, dt, aoff, 3, ashape, a.s, "matmul");
  check_extent(sb, dt, boff, 3, bshape, b.s, "matmul");
  int64_t es = int64_t(dtype_size(dt));
  a.data = static_cast<char*>(sa->data) + aoff * es;
  b.data = static_cast<char*>(sb->data) + boff * es;
  Napi::Value out = new_storage(info.Env(), size_t(B * M * N * es), sa->device);
  char* c = static_cast<char*>(out.As<Napi::External<Storage>>().Data()->data);
  if (sa->device > 0) {
    cuda_call("matmul", [&](const IgnisCudaApi& api) {
      return api.bmm(sa->device - 1, int(dt), B, M, K, N, a.data, a.s, b.data, b.s, c);
    });
    return out;
  }
  bmm_fwd_cpu(dt, B, M, K, N, a, b, c);
  return out;
}

// gather(out=alloc, in, index): iteration over the index shape; meta[200] = dim,
// [201] = input size along dim, [202] = input stride along dim (elements; operand 1's stride at
// dim is given as 0 by JS), [203] = 1: the indices are known to be in range (CUDA skips its check,
// a device round trip; the CPU checks as it goes, at no cost).
Napi::Value Gather(const Napi::CallbackInfo& info) {
  Iter it;
  int dev;
  Napi::Value r = read_iter(info, 0, 3, it, "gather", &dev);
  int64_t dim = meta_int(kParams, "gather"), size = meta_int(kParams + 1, "gather"), stride = meta_int(kParams + 2, "gather");
  if (dim < 0 || dim >= std::max(it.ndim, 1) || size < 0) throw Error("IndexError", "gather: bad dim");
  if (it.op[2].dtype != DType::i64) throw Error("DTypeError", "gather: index must be int64");
  // The input reaches `size` elements along dim: check that span too.
  Storage* s = get_storage_any(info[1], "gather");
  int64_t es = int64_t(dtype_size(it.op[1].dtype));
  int64_t shp[kMaxDims + 1], str[kMaxDims + 1];
  for (int d = 0; d < it.ndim; ++d) { shp[d] = it.shape[d]; str[d] = it.op[1].strides[d] / es; }
  shp[it.ndim] = size; str[it.ndim] = stride;
  int64_t base = (it.op[1].data - static_cast<char*>(s->data)) / es;
  check_extent(s, it.op[1].dtype, base, it.ndim + 1, shp, str, "gather");
  if (it.op[0].dtype != it.op[1].dtype) throw Error("DTypeError", "gather: output dtype must match input");
  if (dev > 0) {
    IgnisCudaIter c = to_cuda_iter(it);
    const int check = meta_int(kParams + 3, "gather") == 1 ? 0 : 1;
    cuda_call("gather", [&](const IgnisCudaApi& a) { return a.gather(dev - 1, &c, stride * es, size, check); });
    return r;
  }
  gather_fwd_cpu(it, stride * es, size);
  return r;
}

// scatter(self, index, src): in place on self over the index shape; meta[200] = dim,
// [201] = self size along dim, [202] = self stride along dim, [203] = reduce (0 assign, 1 add),
// [204] = 1: the indices are known to be in range (as gather's [203]).
Napi::Value Scatter(const Napi::CallbackInfo& info) {
  Iter it;
  int dev;
  read_iter(info, 0, 3, it, "scatter", &dev);
  int64_t size = meta_int(kParams + 1, "scatter"), stride = meta_int(kParams + 2, "scatter");
  int reduce = int(meta_int(kParams + 3, "scatter"));
  if (it.op[1].dtype != DType::i64) throw Error("DTypeError", "scatter: index must be int64");
  if (it.op[2].dtype != it.op[0].dtype) throw Error("DTypeError", "scatter: src dtype must match self");
  Storage* s = get_storage_any(info[0], "scatter");
  int64_t es = int64_t(dtype_size(it.op[0].dtype));
  int64_t shp[kMaxDims + 1], str[kMaxDims + 1];
  for (int d = 0; d < it.ndim; ++d) { shp[d] = it.shape[d]; str[d] = it.op[0].strides[d] / es; }
  shp[it.ndim] = size; str[it.ndim] = stride;
  int64_t base = (it.op[0].data - static_cast<char*>(s->data)) / es;
  check_extent(s, it.op[0].dtype, base, it.ndim + 1, shp, str, "scatter");
  if (dev > 0) {
    IgnisCudaIter c = to_cuda_iter(it);
    const int check = meta_int(kParams + 4, "scatter") == 1 ? 0 : 1;
    cuda_call("scatter", [&](const IgnisCudaApi& a) { return a.scatter(dev - 1, &c, stride * es, size, reduce, check); });
    return info.Env().Undefined();
  }
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
  // optional 8th argument: the device code (0 cpu, 1 + n cuda:n); same numbers on both
  int dev = info.Length() > 7 && info[7].IsNumber() ? info[7].As<Napi::Number>().Int32Value() : 0;
  if (dev < 0) throw Error("ValueError", "random: bad device");
  if (dev > 0) cuda_require("random");
  Napi::Value out = new_storage(info.Env(), size_t(n) * dtype_size(dt), dev);
  if (dev > 0) {
    void* p = out.As<Napi::External<Storage>>().Data()->data;
    cuda_call("random", [&](const IgnisCudaApi& a) { return a.random(dev - 1, kind, code, p, int64_t(n), seed, offset, p0, p1); });
    return out;
  }
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

// sweepGarbage() -> bytes freed: frees now the data of storages whose JS handle the GC has already
// collected (what new_storage does by itself every 32 MiB or so), for tests that measure memory
// right after a forced GC.
Napi::Value SweepGarbage(const Napi::CallbackInfo& info) {
  const int64_t before = g_tracked.bytes;
  sweep(info.Env());
  return Napi::Number::New(info.Env(), double(before - g_tracked.bytes));
}

// trackedBytes() -> the bytes of this thread's storages not yet freed, garbage not yet swept
// included (src/gc.ts compares it across a collection); trackedBytes(true): the CUDA ones' share.
Napi::Value TrackedBytes(const Napi::CallbackInfo& info) {
  const bool device = info.Length() > 0 && info[0].IsBoolean() && info[0].As<Napi::Boolean>().Value();
  return Napi::Number::New(info.Env(), double(device ? g_tracked.device_bytes : g_tracked.bytes));
}

// setNumThreads(n) / getNumThreads(): the CPU threads of the calling JS thread's ops (OpenMP's
// per-thread setting, which oneDNN follows too), as torch.set_num_threads.
Napi::Value SetNumThreads(const Napi::CallbackInfo& info) {
  const double n = info[0].As<Napi::Number>().DoubleValue();
  if (!(n >= 1 && n <= 4096 && n == std::floor(n)))
    throw Error("ValueError", "setNumThreads: expected a whole number of threads from 1 to 4096, got " + std::to_string(n));
#ifdef _OPENMP
  omp_set_num_threads(int(n));
#endif
  return info.Env().Undefined();
}

Napi::Value GetNumThreads(const Napi::CallbackInfo& info) {
#ifdef _OPENMP
  return Napi::Number::New(info.Env(), omp_get_max_threads());
#else
  return Napi::Number::New(info.Env(), 1);
#endif
}

Napi::Value EmptyCache(const Napi::CallbackInfo& info) {
  sweep(info.Env());  // collected tensors first, so that their blocks are released too (as on CUDA)
  cpu_empty_cache();
  return info.Env().Undefined();
}

// optimStep(kind, handles, desc): one optimizer step over many parameters (native/cpu/optim.h).
// handles: [param, grad, state0, state1, state2] per parameter (null for unused state slots);
// desc (Float64Array): [0] dtype, [1] count, [2 .. 2+kOptimHyper) hyperparameters, then per
// parameter i at 16 + 8i: numel, element offsets of param, grad, state0..2, x0, x1.
Napi::Value OptimStep(const Napi::CallbackInfo& info) {
  const char* what = "optimizer step";
  int kind = op_code(info, 0, kOptimKinds, what);
  if (!info[1].IsArray() || !info[2].IsTypedArray() || info[2].As<Napi::TypedArray>().TypedArrayType() != napi_float64_array)
    throw Error("ValueError", "optimizer step: bad arguments");
  auto handles = info[1].As<Napi::Array>();
  auto descArr = info[2].As<Napi::Float64Array>();
  const double* d = descArr.Data();
  size_t dlen = descArr.ElementLength();
  if (dlen < 16) throw Error("ValueError", "optimizer step: descriptor too short");
  auto as_int = [&](double v) {
    if (!std::isfinite(v) || v != std::floor(v) || std::fabs(v) > 9.0e15) throw Error("ValueError", "optimizer step: bad integer in descriptor");
    return int64_t(v);
  };
  int64_t code = as_int(d[0]);
  if (!dtype_valid(int(code)) || !is_floating(DType(code))) throw Error("DTypeError", "optimizer step: parameters must be float32 or float64");
  OptimArgs a;
  a.kind = OptimKind(kind);
  a.dtype = DType(code);
  int64_t count = as_int(d[1]);
  if (count < 0 || size_t(16 + 8 * count) > dlen || int64_t(handles.Length()) != 5 * count)
    throw Error("ValueError", "optimizer step: descriptor and handle list disagree");
  for (int i = 0; i < kOptimHyper; ++i) a.hyper[i] = d[2 + i];
  // which state slots each kind needs with these options
  bool need[kOptimSlots] = {false, false, false};
  switch (a.kind) {
    case OptimKind::sgd: need[0] = a.hyper[1] != 0; break;
    case OptimKind::adam: need[0] = need[1] = true; need[2] = a.hyper[5] != 0; break;
    case OptimKind::rmsprop: need[0] = true; need[1] = a.hyper[4] > 0; need[2] = a.hyper[5] != 0; break;
    case OptimKind::adagrad: need[0] = true; break;
  }
  int64_t es = int64_t(dtype_size(a.dtype));
  std::vector<OptimItem> items(static_cast<size_t>(count));
  int dev = -1;  // every tensor of one step on one device
  for (int64_t k = 0; k < count; ++k) {
    const double* r = d + 16 + 8 * k;
    OptimItem& it = items[size_t(k)];
    it.n = as_int(r[0]);
    if (it.n < 0) throw Error("ValueError", "optimizer step: negative size");
    char* ptr[2 + kOptimSlots];
    for (int j = 0; j < 2 + kOptimSlots; ++j) {
      Napi::Value hv = handles.Get(uint32_t(5 * k + j));
      if (j >= 2 && !need[j - 2]) { ptr[j] = nullptr; continue; }
      if (hv.IsNull() || hv.IsUndefined())
        throw Error("ValueError", std::string("optimizer step: parameter ") + std::to_string(k) + " is missing " +
                                      (j == 1 ? "its gradient" : "a state tensor"));
      Storage* s = get_storage_any(hv, what);
      if (dev >= 0 && s->device != dev)
        throw Error("DeviceError", std::string("optimizer step: parameter ") + std::to_string(k) + " and its state are on " +
                                       device_name(s->device) + " but others on " + device_name(dev));
      dev = s->device;
      int64_t off = as_int(r[1 + j]);
      if (off < 0 || (off + it.n) * es > int64_t(s->nbytes))
        throw Error("IndexError", std::string("optimizer step: parameter ") + std::to_string(k) + " reaches outside its storage");
      ptr[j] = static_cast<char*>(s->data) + off * es;
    }
    it.p = ptr[0];
    it.g = ptr[1];
    for (int j = 0; j < kOptimSlots; ++j) it.s[j] = ptr[2 + j];
    it.x[0] = r[6];
    it.x[1] = r[7];
  }
  a.items = items.data();
  a.count = count;
  if (dev > 0) {
    std::vector<IgnisCudaOptimItem> ci(items.size());
    for (size_t k = 0; k < items.size(); ++k) {
      ci[k].n = items[k].n;
      ci[k].p = items[k].p;
      ci[k].g = items[k].g;
      for (int j = 0; j < kOptimSlots; ++j) ci[k].s[j] = items[k].s[j];
      ci[k].x[0] = items[k].x[0];
      ci[k].x[1] = items[k].x[1];
    }
    cuda_call(what, [&](const IgnisCudaApi& api) {
      return api.optim_step(dev - 1, kind, int(a.dtype), a.hyper, ci.data(), int64_t(ci.size()));
    });
    return info.Env().Undefined();
  }
  optim_step(a);
  return info.Env().Undefined();
}

// ---- nn: convolution, pooling, batch norm (native/cpu/conv.cpp, pool.cpp, batchnorm.cpp) -------
// Operands are contiguous; meta[0..] holds sizes, element offsets and flags (layouts below and in
// src/kernels.ts: convArgs, poolArgs, bnArgs).
char* nn_ptr(const Napi::Value& v, int off_slot, int64_t count, DType dt, const char* what) {
  Storage* s = get_storage(v, what);
  int64_t off = meta_int(off_slot, what);
  int64_t es = int64_t(dtype_size(dt));
  if (off < 0 || count < 0 || (off + count) * es > int64_t(s->nbytes))
    throw Error("IndexError", std::string(what) + ": operand reaches outside its storage");
  return static_cast<char*>(s->data) + off * es;
}
bool nn_has(const Napi::CallbackInfo& info, size_t i) { return info.Length() > i && !info[i].IsNull() && !info[i].IsUndefined(); }
// A JS array of the given values (an entry's several outputs)
Napi::Array array_of(Napi::Env env, std::initializer_list<Napi::Value> vs) {
  Napi::Array r = Napi::Array::New(env, vs.size());
  uint32_t i = 0;
  for (const Napi::Value& v : vs) r.Set(i++, v);
  return r;
}
char* nn_data(const Napi::Value& st) { return static_cast<char*>(st.As<Napi::External<Storage>>().Data()->data); }
int64_t nn_size(int64_t n, DType dt, const char* what) {
  if (n < 0 || n > (int64_t(1) << 46) / int64_t(dtype_size(dt))) throw Error("MemoryError", std::string(what) + ": tensor too large");
  return n * int64_t(dtype_size(dt));
}

// conv meta: [0] dtype, [1..4] N C H W, [5..7] O kh kw, [8..9] OH OW, [10..11] stride, [12..13]
// dilation, [14..15] pad top/left, [16] groups, [17..19] element offsets of the operands, [20] use
// oneDNN, [21] activation code (-1 none), [22..25] activation params, [26] keep the pre-activation (convFwd)
ConvShape nn_conv_shape(const char* what) {
  ConvShape s;
  s.dt = meta_dtype(0);
  int64_t* f[] = {&s.N, &s.C, &s.H, &s.W, &s.O, &s.kh, &s.kw, &s.OH, &s.OW, &s.sh, &s.sw, &s.dh, &s.dw, &s.pt, &s.pl, &s.G};
  for (int i = 0; i < 16; ++i) *f[i] = meta_int(1 + i, what);
  conv_check(s, what);
  return s;
}

// convFwd(x, w, b|null) -> y storage [N, O, OH, OW]; with meta[26] = 1 (an activation given) ->
// [y, z]: z = conv(x, w) + b, the pre-activation the training backward needs, and y = act(z)
Napi::Value ConvFwd(const Napi::CallbackInfo& info) {
  ConvShape s = nn_conv_shape("conv2d");
  const int64_t wn = s.O * (s.C / s.G) * s.kh * s.kw;
  int dev = -1;
  char* x = nn_ptr_dev(info[0], 17, s.N * s.C * s.H * s.W, s.dt, "conv2d", dev);
  char* w = nn_ptr_dev(info[1], 18, wn, s.dt, "conv2d", dev);
  char* b = nn_has(info, 2) ? nn_ptr_dev(info[2], 19, s.O, s.dt, "conv2d", dev) : nullptr;
  ActSpec act;
  act.op = int(meta_int(21, "conv2d"));
  if (act.op < -1 || act.op >= kActCount) throw Error("ValueError", "conv2d: unknown activation code");
  for (int i = 0; i < 4; ++i) act.p[i] = g_meta[22 + i];
  bool onednn = g_meta[20] != 0;
  const bool keep = g_meta[26] != 0 && act.op >= 0;
  const size_t bytes = size_t(nn_size(s.N * s.O * s.OH * s.OW, s.dt, "conv2d"));
  Napi::Value out = new_storage(info.Env(), bytes, dev);
  Napi::Value z = keep ? new_storage(info.Env(), bytes, dev) : info.Env().Null();
  char* zp = keep ? nn_data(z) : nullptr;
  if (dev > 0) {
    IgnisCudaConv c = cuda_conv(s);
    cuda_call("conv2d", [&](const IgnisCudaApi& a) { return a.conv_fwd(dev - 1, &c, x, w, b, nn_data(out), zp, act.op, act.p); });
  } else if (keep) {
    conv2d_fwd_cpu(s, x, w, b, zp, ActSpec{}, onednn);
    apply_act(s.dt, zp, nn_data(out), s.N * s.O * s.OH * s.OW, act);
  } else {
    conv2d_fwd_cpu(s, x, w, b, nn_data(out), act, onednn);
  }
  if (!keep) return out;
  Napi::Array r = Napi::Array::New(info.Env(), 2);
  r.Set(uint32_t(0), out);
  r.Set(uint32_t(1), z);
  return r;
}

// The [N, C, S] view and the activation of biasAct / biasActBwd. meta: [0] dtype, [1..3] N C S, [4]
// activation code (-1 none, where `none_ok`), [5..8] its params.
struct BiasActArgs {
  DType dt;
  int64_t N, C, S, n;
  ActSpec act;
};
BiasActArgs bias_act_args(const char* what, bool none_ok) {
  BiasActArgs a;
  a.dt = meta_float_dtype(what);
  meta_ints(1, {&a.N, &a.C, &a.S}, what);
  if (a.N < 0 || a.C < 1 || a.S < 0) throw Error("ShapeError", std::string(what) + ": bad sizes");
  if (a.N > (int64_t(1) << 46) / a.C || (a.S && a.N * a.C > (int64_t(1) << 46) / a.S))
    throw Error("MemoryError", std::string(what) + ": tensor too large");
  a.act.op = int(meta_int(4, what));
  if (a.act.op < (none_ok ? -1 : 0) || a.act.op >= kActCount) throw Error("ValueError", std::string(what) + ": unknown activation code");
  for (int i = 0; i < 4; ++i) a.act.p[i] = g_meta[5 + i];
  a.n = a.N * a.C * a.S;
  return a;
}

// biasAct(y, b | null, keep) -> out: the output pass of a layer with a fused bias + activation
// (native/cpu/conv.h bias_act_cpu, cuda/activations.cu). y[n, c, s] += b[c], then the activation:
// in place into y (keep false: returns y), or into a new storage (keep true: y keeps the
// pre-activation the training backward needs). meta as bias_act_args, [9..10] element offsets of y and b.
Napi::Value BiasAct(const Napi::CallbackInfo& info) {
  const char* what = "bias + activation";
  const BiasActArgs a = bias_act_args(what, true);
  int dev = -1;
  char* y = nn_ptr_dev(info[0], 9, a.n, a.dt, what, dev);
  const char* b = nn_has(info, 1) ? nn_ptr_dev(info[1], 10, a.C, a.dt, what, dev) : nullptr;
  const bool keep = info[2].ToBoolean();
  Napi::Value out = keep ? new_storage(info.Env(), size_t(nn_size(a.n, a.dt, what)), dev) : info[0];
  char* dst = keep ? nn_data(out) : y;
  if (dev > 0) {
    cuda_call(what, [&](const IgnisCudaApi& c) { return c.bias_act(dev - 1, int(a.dt), y, b, a.N, a.C, a.S, a.act.op, a.act.p, keep ? dst : nullptr); });
  } else {
    bias_act_cpu(a.dt, a.act, y, b, a.N, a.C, a.S, dst);
  }
  return out;
}

// biasActBwd(z, dy, wantDb) -> [dz, db | null]: the backward of a fused bias + activation in training
// (native/cpu/conv.h bias_act_bwd_cpu, cuda/activations.cu). meta as bias_act_args (z, dy viewed as
// [N, C, S]), [9..10] element offsets of z and dy.
Napi::Value BiasActBwd(const Napi::CallbackInfo& info) {
  const char* what = "bias + activation backward";
  const BiasActArgs a = bias_act_args(what, false);
  const DType dt = a.dt;
  const int64_t N = a.N, C = a.C, S = a.S, n = a.n;
  const ActSpec& act = a.act;
  int dev = -1;
  const char* z = nn_ptr_dev(info[0], 9, n, dt, what, dev);
  const char* dy = nn_ptr_dev(info[1], 10, n, dt, what, dev);
  Napi::Env env = info.Env();
  const bool want_db = info[2].ToBoolean();
  Napi::Value dz = new_storage(env, size_t(nn_size(n, dt, what)), dev);
  Napi::Value db = want_db ? new_storage(env, size_t(nn_size(C, dt, what)), dev) : env.Null();
  char* dbp = want_db ? nn_data(db) : nullptr;
  if (dev > 0) {
    cuda_call(what, [&](const IgnisCudaApi& a) { return a.bias_act_bwd(dev - 1, int(dt), z, dy, nn_data(dz), dbp, N, C, S, act.op, act.p); });
  } else {
    bias_act_bwd_cpu(dt, act, z, dy, N, C, S, nn_data(dz), dbp);
  }
  return array_of(env, {dz, db});
}

// convBwdData(dy, w) -> dx storage [N, C, H, W]
Napi::Value ConvBwdData(const Napi::CallbackInfo& info) {
  ConvShape s = nn_conv_shape("conv2d backward");
  const int64_t wn = s.O * (s.C / s.G) * s.kh * s.kw;
  int dev = -1;
  char* dy = nn_ptr_dev(info[0], 17, s.N * s.O * s.OH * s.OW, s.dt, "conv2d backward", dev);
  char* w = nn_ptr_dev(info[1], 18, wn, s.dt, "conv2d backward", dev);
  bool onednn = g_meta[20] != 0;
  Napi::Value out = new_storage(info.Env(), size_t(nn_size(s.N * s.C * s.H * s.W, s.dt, "conv2d backward")), dev);
  if (dev > 0) {
    IgnisCudaConv c = cuda_conv(s);
    cuda_call("conv2d backward", [&](const IgnisCudaApi& a) { return a.conv_bwd_data(dev - 1, &c, dy, w, nn_data(out)); });
    return out;
  }
  conv2d_bwd_data_cpu(s, dy, w, nn_data(out), onednn);
  return out;
}

// convBwdWeight(x, dy, wantBias) -> [dw, db | null]
Napi::Value ConvBwdWeight(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  ConvShape s = nn_conv_shape("conv2d backward");
  const int64_t wn = s.O * (s.C / s.G) * s.kh * s.kw;
  int dev = -1;
  char* x = nn_ptr_dev(info[0], 17, s.N * s.C * s.H * s.W, s.dt, "conv2d backward", dev);
  char* dy = nn_ptr_dev(info[1], 18, s.N * s.O * s.OH * s.OW, s.dt, "conv2d backward", dev);
  bool want_bias = info[2].ToBoolean().Value();
  bool onednn = g_meta[20] != 0;
  Napi::Value dw = new_storage(env, size_t(nn_size(wn, s.dt, "conv2d backward")), dev);
  Napi::Value db = want_bias ? new_storage(env, size_t(nn_size(s.O, s.dt, "conv2d backward")), dev) : env.Null();
  if (dev > 0) {
    IgnisCudaConv c = cuda_conv(s);
    cuda_call("conv2d backward", [&](const IgnisCudaApi& a) {
      return a.conv_bwd_filter(dev - 1, &c, x, dy, nn_data(dw), want_bias ? nn_data(db) : nullptr);
    });
  } else {
    conv2d_bwd_weight_cpu(s, x, dy, nn_data(dw), want_bias ? nn_data(db) : nullptr, onednn);
  }
  return array_of(env, {dw, db});
}

// pool meta: [0] dtype, [1..4] N C H W, [5..6] OH OW, [7..8] kernel, [9..10] stride, [11..12] pad
// top/left, [13..14] dilation, [15] max, [16] count_include_pad, [17] divisor override (0 none),
// [18] x / dy offset, [19] use oneDNN, [20] adaptive, [21] aux (indices) offset
PoolShape nn_pool_shape(const char* what) {
  PoolShape s;
  s.dt = meta_dtype(0);
  int64_t* f[] = {&s.N, &s.C, &s.H, &s.W, &s.OH, &s.OW, &s.kh, &s.kw, &s.sh, &s.sw, &s.pt, &s.pl, &s.dh, &s.dw};
  for (int i = 0; i < 14; ++i) *f[i] = meta_int(1 + i, what);
  s.max = g_meta[15] != 0;
  s.count_include_pad = g_meta[16] != 0;
  s.divisor = meta_int(17, what);
  pool_check(s, what);
  if (s.divisor < 0) throw Error("ValueError", std::string(what) + ": divisor_override must be positive");
  return s;
}

// poolFwd(x, mode): mode 0 = output only, 1 = PyTorch indices (max), 2 = whatever backward needs.
// -> [y, aux | null, auxKind (0 none, 1 int64 indices, 2 oneDNN workspace), workspace bytes]
Napi::Value PoolFwd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* what = "pool2d";
  PoolShape s = nn_pool_shape(what);
  int mode = info[1].As<Napi::Number>().Int32Value();
  bool adaptive = g_meta[20] != 0, onednn = g_meta[19] != 0;
  const int64_t ny = s.N * s.C * s.OH * s.OW;
  if (get_storage_any(info[0], what)->device > 0) {
    int dev = -1;
    char* xd = nn_ptr_dev(info[0], 18, s.N * s.C * s.H * s.W, s.dt, what, dev);
    Napi::Value y = new_storage(env, size_t(nn_size(ny, s.dt, what)), dev);
    Napi::Value aux = (s.max && mode != 0) ? new_storage(env, size_t(nn_size(ny, DType::i64, what)), dev) : env.Null();
    IgnisCudaPool c = cuda_pool(s);
    c.adaptive = adaptive;
    int64_t* ind = aux.IsNull() ? nullptr : reinterpret_cast<int64_t*>(nn_data(aux));
    cuda_call(what, [&](const IgnisCudaApi& a) { return a.pool_fwd(dev - 1, &c, xd, nn_data(y), ind); });
    return array_of(env, {y, aux, Napi::Number::New(env, ind ? 1 : 0), Napi::Number::New(env, 0)});
  }
  char* x = nn_ptr(info[0], 18, s.N * s.C * s.H * s.W, s.dt, what);
  Napi::Value y = new_storage(env, size_t(nn_size(ny, s.dt, what)));
  Napi::Value aux = env.Null();
  int kind = 0;
  double ws_bytes = 0;
  bool done = false;
  if (!adaptive && onednn && mode != 1) {
    std::function<char*(size_t)> alloc;
    if (mode == 2 && s.max)
      alloc = [&](size_t n) {
        aux = new_storage(env, n == 0 ? 1 : n);
        ws_bytes = double(n);
        return nn_data(aux);
      };
    done = pool2d_fwd_onednn(s, x, nn_data(y), alloc);
    if (done && s.max && mode == 2) kind = 2;
    if (!done) { aux = env.Null(); ws_bytes = 0; }
  }
  if (!done) {
    int64_t* ind = nullptr;
    if (s.max && mode != 0) {
      aux = new_storage(env, size_t(nn_size(ny, DType::i64, what)));
      ind = reinterpret_cast<int64_t*>(nn_data(aux));
      kind = 1;
    }
    if (adaptive) adaptive_pool_fwd_cpu(s, x, nn_data(y), ind);
    else pool2d_fwd_ref(s, x, nn_data(y), ind);
  }
  return array_of(env, {y, aux, Napi::Number::New(env, kind), Napi::Number::New(env, ws_bytes)});
}

// poolBwd(dy, aux | null, auxKind, wsBytes) -> dx storage [N, C, H, W]
Napi::Value PoolBwd(const Napi::CallbackInfo& info) {
  const char* what = "pool2d backward";
  PoolShape s = nn_pool_shape(what);
  bool adaptive = g_meta[20] != 0, onednn = g_meta[19] != 0;
  const int64_t ny = s.N * s.C * s.OH * s.OW;
  int kind = info[2].As<Napi::Number>().Int32Value();
  if (get_storage_any(info[0], what)->device > 0) {
    int dev = -1;
    char* dyd = nn_ptr_dev(info[0], 18, ny, s.dt, what, dev);
    const int64_t* ind = nullptr;
    if (kind == 1) ind = reinterpret_cast<const int64_t*>(nn_ptr_dev(info[1], 21, ny, DType::i64, what, dev));
    else if (s.max) throw Error("ValueError", std::string(what) + ": max pooling backward needs indices");
    Napi::Value dx = new_storage(info.Env(), size_t(nn_size(s.N * s.C * s.H * s.W, s.dt, what)), dev);
    IgnisCudaPool c = cuda_pool(s);
    c.adaptive = adaptive;
    cuda_call(what, [&](const IgnisCudaApi& a) { return a.pool_bwd(dev - 1, &c, dyd, ind, nn_data(dx)); });
    return dx;
  }
  char* dy = nn_ptr(info[0], 18, ny, s.dt, what);
  Napi::Value dx = new_storage(info.Env(), size_t(nn_size(s.N * s.C * s.H * s.W, s.dt, what)));
  if (kind == 2) {
    Storage* ws = get_storage(info[1], what);
    size_t bytes = size_t(info[3].As<Napi::Number>().DoubleValue());
    if (bytes > ws->nbytes) throw Error("ValueError", std::string(what) + ": bad workspace");
    if (!pool2d_bwd_onednn(s, dy, static_cast<char*>(ws->data), bytes, nn_data(dx)))
      throw Error("ValueError", std::string(what) + ": the oneDNN workspace no longer matches this configuration");
    return dx;
  }
  const int64_t* ind = nullptr;
  if (kind == 1) ind = reinterpret_cast<const int64_t*>(nn_ptr(info[1], 21, ny, DType::i64, what));
  else if (s.max) throw Error("ValueError", std::string(what) + ": max pooling backward needs indices");
  if (adaptive) {
    adaptive_pool_bwd_cpu(s, dy, ind, nn_data(dx));
  } else if (s.max || !onednn || !pool2d_bwd_onednn(s, dy, nullptr, 0, nn_data(dx))) {
    pool2d_bwd_ref(s, dy, ind, nn_data(dx));
  }
  return dx;
}

// bn meta: [0] dtype, [1..3] N C S, [4] eps, [5] momentum, [6] training, [7] use oneDNN,
// [8..12] offsets of x, w, b, running_mean, running_var (fwd) / x, dy, w, save_mean, save_var (bwd)
BnShape nn_bn_shape(const char* what) {
  BnShape s;
  s.dt = meta_float_dtype(what);
  meta_ints(1, {&s.N, &s.C, &s.S}, what);
  s.eps = g_meta[4];
  s.momentum = g_meta[5];
  s.training = g_meta[6] != 0;
  if (s.N < 0 || s.C <= 0 || s.S < 0) throw Error("ShapeError", std::string(what) + ": bad sizes");
  return s;
}

// bnFwd(x, w, b, runningMean, runningVar) (any but x may be null) -> [y, saveMean, saveVar]
// One path for both devices: the operands must share one, the outputs are made there, and only the
// kernel call differs.
Napi::Value BnFwd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* what = "batch_norm";
  BnShape s = nn_bn_shape(what);
  const int64_t n = s.N * s.C * s.S;
  int dev = -1;
  char* x = nn_ptr_dev(info[0], 8, n, s.dt, what, dev);
  char* w = nn_has(info, 1) ? nn_ptr_dev(info[1], 9, s.C, s.dt, what, dev) : nullptr;
  char* b = nn_has(info, 2) ? nn_ptr_dev(info[2], 10, s.C, s.dt, what, dev) : nullptr;
  char* rm = nn_has(info, 3) ? nn_ptr_dev(info[3], 11, s.C, s.dt, what, dev) : nullptr;
  char* rv = nn_has(info, 4) ? nn_ptr_dev(info[4], 12, s.C, s.dt, what, dev) : nullptr;
  if (dev > 0) {
    bn_check_cuda(s, what);
    if (!s.training && (!rm || !rv))
      throw Error("ValueError", "batch_norm: running_mean and running_var must be defined in evaluation mode");
  }
  Napi::Value y = new_storage(env, size_t(nn_size(n, s.dt, what)), dev);
  Napi::Value sm = new_storage(env, size_t(nn_size(s.C, s.dt, what)), dev);
  Napi::Value sv = new_storage(env, size_t(nn_size(s.C, s.dt, what)), dev);
  if (dev > 0) {
    IgnisCudaBn c = cuda_bn(s);
    cuda_call(what, [&](const IgnisCudaApi& a) {
      return a.bn_fwd(dev - 1, &c, x, w, b, rm, rv, nn_data(y), nn_data(sm), nn_data(sv));
    });
  } else {
    batchnorm_fwd_cpu(s, x, w, b, rm, rv, nn_data(y), nn_data(sm), nn_data(sv), g_meta[7] != 0);
  }
  return array_of(env, {y, sm, sv});
}

// bnBwd(x, dy, w | null, saveMean, saveVar, wantW, wantB) -> [dx, dw | null, db | null]
Napi::Value BnBwd(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* what = "batch_norm backward";
  BnShape s = nn_bn_shape(what);
  const int64_t n = s.N * s.C * s.S;
  int dev = -1;
  char* x = nn_ptr_dev(info[0], 8, n, s.dt, what, dev);
  char* dy = nn_ptr_dev(info[1], 9, n, s.dt, what, dev);
  char* w = nn_has(info, 2) ? nn_ptr_dev(info[2], 10, s.C, s.dt, what, dev) : nullptr;
  char* sm = nn_ptr_dev(info[3], 11, s.C, s.dt, what, dev);
  char* sv = nn_ptr_dev(info[4], 12, s.C, s.dt, what, dev);
  if (dev > 0) bn_check_cuda(s, what);
  bool want_w = info[5].ToBoolean().Value(), want_b = info[6].ToBoolean().Value();
  Napi::Value dx = new_storage(env, size_t(nn_size(n, s.dt, what)), dev);
  Napi::Value dw = want_w ? new_storage(env, size_t(nn_size(s.C, s.dt, what)), dev) : env.Null();
  Napi::Value db = want_b ? new_storage(env, size_t(nn_size(s.C, s.dt, what)), dev) : env.Null();
  char* dwp = want_w ? nn_data(dw) : nullptr;
  char* dbp = want_b ? nn_data(db) : nullptr;
  if (dev > 0) {
    IgnisCudaBn c = cuda_bn(s);
    cuda_call(what, [&](const IgnisCudaApi& a) { return a.bn_bwd(dev - 1, &c, x, dy, w, sm, sv, nn_data(dx), dwp, dbp); });
  } else {
    batchnorm_bwd_cpu(s, x, dy, w, sm, sv, nn_data(dx), dwp, dbp, g_meta[7] != 0);
  }
  return array_of(env, {dx, dw, db});
}

// ---- softmax / logSoftmax / softmin along one dim (native/cpu/softmax.cpp, cuda/softmax.cu) -----
// meta: [0] dtype, [1..3] outer D inner (the contiguous operands viewed as [outer, D, inner]),
// [4] log (1 = logSoftmax), [5..6] element offsets of x (fwd) / y and g (bwd), [7] neg (1 = of -x:
// softmin)
const char* smx_name(bool backward) {
  const bool log = g_meta[4] != 0, neg = g_meta[7] != 0;
  if (neg) return log ? (backward ? "logSoftmin backward" : "logSoftmin") : (backward ? "softmin backward" : "softmin");
  return log ? (backward ? "logSoftmax backward" : "logSoftmax") : (backward ? "softmax backward" : "softmax");
}

SoftmaxShape smx_shape(const char* what) {
  SoftmaxShape s;
  s.dt = meta_float_dtype(what);
  meta_ints(1, {&s.outer, &s.D, &s.inner}, what);
  s.log = g_meta[4] != 0;
  s.neg = g_meta[7] != 0;
  if (s.outer < 0 || s.D < 0 || s.inner < 0) throw Error("ShapeError", std::string(what) + ": bad sizes");
  // the element count must not overflow before nn_size checks it
  const int64_t lim = int64_t(1) << 46;
  if ((s.D && s.outer > lim / s.D) || (s.inner && s.outer * s.D > lim / s.inner))
    throw Error("MemoryError", std::string(what) + ": tensor too large");
  return s;
}

// softmaxFwd(x) -> y storage, x's shape
Napi::Value SoftmaxFwd(const Napi::CallbackInfo& info) {
  const char* what = smx_name(false);
  SoftmaxShape s = smx_shape(what);
  const int64_t n = s.outer * s.D * s.inner;
  int dev = -1;
  char* x = nn_ptr_dev(info[0], 5, n, s.dt, what, dev);
  Napi::Value y = new_storage(info.Env(), size_t(nn_size(n, s.dt, what)), dev);
  if (dev > 0) {
    IgnisCudaSoftmax c = cuda_softmax(s);
    cuda_call(what, [&](const IgnisCudaApi& a) { return a.softmax_fwd(dev - 1, &c, x, nn_data(y)); });
    return y;
  }
  softmax_fwd_cpu(s, x, nn_data(y));
  return y;
}

// softmaxBwd(y, g) -> gx storage, y's shape (y: the forward's output)
Napi::Value SoftmaxBwd(const Napi::CallbackInfo& info) {
  const char* what = smx_name(true);
  SoftmaxShape s = smx_shape(what);
  const int64_t n = s.outer * s.D * s.inner;
  int dev = -1;
  char* y = nn_ptr_dev(info[0], 5, n, s.dt, what, dev);
  char* g = nn_ptr_dev(info[1], 6, n, s.dt, what, dev);
  Napi::Value gx = new_storage(info.Env(), size_t(nn_size(n, s.dt, what)), dev);
  if (dev > 0) {
    IgnisCudaSoftmax c = cuda_softmax(s);
    cuda_call(what, [&](const IgnisCudaApi& a) { return a.softmax_bwd(dev - 1, &c, y, g, nn_data(gx)); });
    return gx;
  }
  softmax_bwd_cpu(s, y, g, nn_data(gx));
  return gx;
}

// ---- cross entropy with class-index targets (native/cpu/index.h, cuda/index.cu) -----------------
// nllFwd meta: [0] dtype, [1..2] M C (logp [M, C] contiguous), [3] the ignore index, [4..6] element
// offsets of logp, t (int64 [M]), w ([C], optional), [7] the reduction (0 none, 1 sum, 2 mean).
// ceBwd meta: [0] dtype, [1..2] M C, [3] g_step (1: g holds M values, 0: one), [4..8] element offsets
// of logp, t, wi, g, denom (optional), [9] the ignore index.
NllShape nll_shape(const char* what) {
  NllShape s;
  s.dt = meta_float_dtype(what);
  meta_ints(1, {&s.M, &s.C}, what);
  if (s.M < 0 || s.C < 0) throw Error("ShapeError", std::string(what) + ": bad sizes");
  if (s.C && s.M > (int64_t(1) << 46) / s.C) throw Error("MemoryError", std::string(what) + ": tensor too large");
  return s;
}

// nllFwd(logp, t, w | null) -> [loss, wi] storages ([M] each, logp's dtype) for the reduction 'none';
// [loss, wi, denom] (loss and denom one value each: the sum or mean, the sum of the weights) else
Napi::Value NllFwd(const Napi::CallbackInfo& info) {
  const char* what = "crossEntropy";
  NllShape s = nll_shape(what);
  s.ignore = meta_int(3, what);
  s.reduce = int(meta_int(7, what));
  if (s.reduce < 0 || s.reduce > 2) throw Error("ValueError", std::string(what) + ": bad reduction");
  int dev = -1;
  const char* logp = nn_ptr_dev(info[0], 4, s.M * s.C, s.dt, what, dev);
  const auto* t = reinterpret_cast<const int64_t*>(nn_ptr_dev(info[1], 5, s.M, DType::i64, what, dev));
  const char* w = nn_has(info, 2) ? nn_ptr_dev(info[2], 6, s.C, s.dt, what, dev) : nullptr;
  Napi::Env env = info.Env();
  Napi::Value loss = new_storage(env, size_t(nn_size(s.reduce ? 1 : s.M, s.dt, what)), dev);
  Napi::Value wi = new_storage(env, size_t(nn_size(s.M, s.dt, what)), dev);
  Napi::Value denom = s.reduce ? new_storage(env, size_t(nn_size(1, s.dt, what)), dev) : env.Null();
  char* dp = s.reduce ? nn_data(denom) : nullptr;
  if (dev > 0) {
    IgnisCudaNll c = cuda_nll(s);
    cuda_call(what, [&](const IgnisCudaApi& a) { return a.nll_fwd(dev - 1, &c, logp, t, w, nn_data(loss), nn_data(wi), dp); });
  } else {
    nll_fwd_cpu(s, logp, t, w, nn_data(loss), nn_data(wi), dp);
  }
  return s.reduce ? array_of(env, {loss, wi, denom}) : array_of(env, {loss, wi});
}

// ceBwd(logp, t, wi, g, denom | null) -> gx storage ([M, C], logp's dtype)
Napi::Value CeBwd(const Napi::CallbackInfo& info) {
  const char* what = "crossEntropy backward";
  NllShape s = nll_shape(what);
  s.ignore = meta_int(9, what);
  const int64_t g_step = meta_int(3, what);
  if (g_step != 0 && g_step != 1) throw Error("ValueError", std::string(what) + ": bad gradient step");
  int dev = -1;
  const char* logp = nn_ptr_dev(info[0], 4, s.M * s.C, s.dt, what, dev);
  const auto* t = reinterpret_cast<const int64_t*>(nn_ptr_dev(info[1], 5, s.M, DType::i64, what, dev));
  const char* wi = nn_ptr_dev(info[2], 6, s.M, s.dt, what, dev);
  const char* g = nn_ptr_dev(info[3], 7, g_step ? s.M : 1, s.dt, what, dev);
  const char* denom = nn_has(info, 4) ? nn_ptr_dev(info[4], 8, 1, s.dt, what, dev) : nullptr;
  Napi::Value gx = new_storage(info.Env(), size_t(nn_size(s.M * s.C, s.dt, what)), dev);
  if (dev > 0) {
    IgnisCudaNll c = cuda_nll(s);
    cuda_call(what, [&](const IgnisCudaApi& a) { return a.ce_bwd(dev - 1, &c, logp, t, wi, g, g_step, denom, nn_data(gx)); });
  } else {
    ce_bwd_cpu(s, logp, t, wi, g, g_step, denom, nn_data(gx));
  }
  return gx;
}

// ---- PReLU / GLU (native/cpu/gated.h, cuda/gated.cu) -------------------------------------------
// prelu meta: [0] dtype, [1..3] outer C inner (x viewed as [outer, C, inner], C = the slope count),
// [4..6] element offsets of x, w, g. glu meta: [0] dtype, [1..2] outer M (x viewed as [outer, 2, M]),
// [3..4] element offsets of x, g.
IgnisCudaGated cuda_gated(DType dt, int64_t outer, int64_t C, int64_t inner) {
  IgnisCudaGated c;
  c.dtype = int32_t(dt);
  c.unused = 0;
  c.outer = outer;
  c.C = C;
  c.inner = inner;
  return c;
}

PreluShape prelu_shape(const char* what) {
  PreluShape s;
  s.dt = meta_float_dtype(what);
  meta_ints(1, {&s.outer, &s.C, &s.inner}, what);
  if (s.outer < 0 || s.C < 1 || s.inner < 0) throw Error("ShapeError", std::string(what) + ": bad sizes");
  const int64_t lim = int64_t(1) << 46;
  if (s.outer > lim / s.C || (s.inner && s.outer * s.C > lim / s.inner)) throw Error("MemoryError", std::string(what) + ": tensor too large");
  return s;
}

// preluFwd(x, w) -> y storage (x's shape)
Napi::Value PreluFwd(const Napi::CallbackInfo& info) {
  PreluShape s = prelu_shape("prelu");
  const int64_t n = s.outer * s.C * s.inner;
  int dev = -1;
  const char* x = nn_ptr_dev(info[0], 4, n, s.dt, "prelu", dev);
  const char* w = nn_ptr_dev(info[1], 5, s.C, s.dt, "prelu", dev);
  Napi::Value y = new_storage(info.Env(), size_t(nn_size(n, s.dt, "prelu")), dev);
  if (dev > 0) {
    IgnisCudaGated c = cuda_gated(s.dt, s.outer, s.C, s.inner);
    cuda_call("prelu", [&](const IgnisCudaApi& a) { return a.prelu_fwd(dev - 1, &c, x, w, nn_data(y)); });
  } else {
    prelu_fwd_cpu(s, x, w, nn_data(y));
  }
  return y;
}

// preluBwd(x, w, g, wantX, wantW) -> [gx | null, gw | null]
Napi::Value PreluBwd(const Napi::CallbackInfo& info) {
  const char* what = "prelu backward";
  PreluShape s = prelu_shape(what);
  const int64_t n = s.outer * s.C * s.inner;
  int dev = -1;
  const char* x = nn_ptr_dev(info[0], 4, n, s.dt, what, dev);
  const char* w = nn_ptr_dev(info[1], 5, s.C, s.dt, what, dev);
  const char* g = nn_ptr_dev(info[2], 6, n, s.dt, what, dev);
  Napi::Env env = info.Env();
  const bool want_x = info[3].ToBoolean(), want_w = info[4].ToBoolean();
  Napi::Value gx = want_x ? new_storage(env, size_t(nn_size(n, s.dt, what)), dev) : env.Null();
  Napi::Value gw = want_w ? new_storage(env, size_t(nn_size(s.C, s.dt, what)), dev) : env.Null();
  char* gxp = want_x ? nn_data(gx) : nullptr;
  char* gwp = want_w ? nn_data(gw) : nullptr;
  if (dev > 0) {
    IgnisCudaGated c = cuda_gated(s.dt, s.outer, s.C, s.inner);
    cuda_call(what, [&](const IgnisCudaApi& a) { return a.prelu_bwd(dev - 1, &c, x, w, g, gxp, gwp); });
  } else {
    prelu_bwd_cpu(s, x, w, g, gxp, gwp);
  }
  return array_of(env, {gx, gw});
}

GluShape glu_shape(const char* what) {
  GluShape s;
  s.dt = meta_float_dtype(what);
  meta_ints(1, {&s.outer, &s.M}, what);
  if (s.outer < 0 || s.M < 0) throw Error("ShapeError", std::string(what) + ": bad sizes");
  if (s.M && s.outer > (int64_t(1) << 45) / s.M) throw Error("MemoryError", std::string(what) + ": tensor too large");
  return s;
}

// gluFwd(x) -> y storage ([outer, M])
Napi::Value GluFwd(const Napi::CallbackInfo& info) {
  GluShape s = glu_shape("glu");
  int dev = -1;
  const char* x = nn_ptr_dev(info[0], 3, 2 * s.outer * s.M, s.dt, "glu", dev);
  Napi::Value y = new_storage(info.Env(), size_t(nn_size(s.outer * s.M, s.dt, "glu")), dev);
  if (dev > 0) {
    IgnisCudaGated c = cuda_gated(s.dt, s.outer, 1, s.M);
    cuda_call("glu", [&](const IgnisCudaApi& a) { return a.glu_fwd(dev - 1, &c, x, nn_data(y)); });
  } else {
    glu_fwd_cpu(s, x, nn_data(y));
  }
  return y;
}

// gluBwd(x, g) -> gx storage (x's shape)
Napi::Value GluBwd(const Napi::CallbackInfo& info) {
  const char* what = "glu backward";
  GluShape s = glu_shape(what);
  int dev = -1;
  const char* x = nn_ptr_dev(info[0], 3, 2 * s.outer * s.M, s.dt, what, dev);
  const char* g = nn_ptr_dev(info[1], 4, s.outer * s.M, s.dt, what, dev);
  Napi::Value gx = new_storage(info.Env(), size_t(nn_size(2 * s.outer * s.M, s.dt, what)), dev);
  if (dev > 0) {
    IgnisCudaGated c = cuda_gated(s.dt, s.outer, 1, s.M);
    cuda_call(what, [&](const IgnisCudaApi& a) { return a.glu_bwd(dev - 1, &c, x, g, nn_data(gx)); });
  } else {
    glu_bwd_cpu(s, x, g, nn_data(gx));
  }
  return gx;
}

#include "cuda_entries.inc"
#include "rtc_entries.inc"

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
  EXPORT("preluFwd", PreluFwd);
  EXPORT("preluBwd", PreluBwd);
  EXPORT("gluFwd", GluFwd);
  EXPORT("gluBwd", GluBwd);
  EXPORT("reduce", Reduce);
  EXPORT("bmm", Bmm);
  EXPORT("gather", Gather);
  EXPORT("nllFwd", NllFwd);
  EXPORT("ceBwd", CeBwd);
  EXPORT("scatter", Scatter);
  EXPORT("random", Random);
  EXPORT("expr", Expr);
  EXPORT("memoryStats", MemoryStatsJs);
  EXPORT("emptyCache", EmptyCache);
  EXPORT("setNumThreads", SetNumThreads);
  EXPORT("getNumThreads", GetNumThreads);
  EXPORT("sweepGarbage", SweepGarbage);
  EXPORT("trackedBytes", TrackedBytes);
  EXPORT("optimStep", OptimStep);
  EXPORT("convFwd", ConvFwd);
  EXPORT("biasAct", BiasAct);
  EXPORT("biasActBwd", BiasActBwd);
  EXPORT("convBwdData", ConvBwdData);
  EXPORT("convBwdWeight", ConvBwdWeight);
  EXPORT("poolFwd", PoolFwd);
  EXPORT("poolBwd", PoolBwd);
  EXPORT("bnFwd", BnFwd);
  EXPORT("bnBwd", BnBwd);
  EXPORT("softmaxFwd", SoftmaxFwd);
  EXPORT("softmaxBwd", SoftmaxBwd);
  EXPORT("cudaStatus", CudaStatus);
  EXPORT("cudaProps", CudaProps);
  EXPORT("cudaSync", CudaSync);
  EXPORT("cudaMemStats", CudaMemStats);
  EXPORT("cudaMemOp", CudaMemOp);
  EXPORT("cudaConfig", CudaConfig);
  EXPORT("transfer", Transfer);
  EXPORT("storageDevice", StorageDevice);
  EXPORT("readStart", ReadStart);
  EXPORT("readPoll", ReadPoll);
  EXPORT("nvrtcInfo", NvrtcInfo);
  EXPORT("nvrtcCompile", NvrtcCompile);
  EXPORT("rtcExprLoad", RtcExprLoad);
  EXPORT("rtcExpr", RtcExpr);
  EXPORT("rtcStats", RtcStats);
  EXPORT("cudaProfStart", CudaProfStart);
  EXPORT("cudaProfCorrelate", CudaProfCorrelate);
  EXPORT("cudaProfStop", CudaProfStop);
  EXPORT("cudaNvtx", CudaNvtx);
  EXPORT("cudaEventNew", CudaEventNew);
  EXPORT("cudaEventOp", CudaEventOp);
#undef EXPORT
  return exports;
}

}  // namespace
}  // namespace ignis

static Napi::Object InitIgnis(Napi::Env env, Napi::Object exports) { return ignis::Module(env, exports); }
NODE_API_MODULE(ignis_native, InitIgnis)
