// The CUDA backend contract: a C function table that libignis_cuda.so exports through one symbol,
// ignis_cuda_api(). The addon (native/binding/cuda_loader.cpp) dlopens the library on first CUDA use
// and calls only through this table, so the addon never links CUDA, cuDNN or cuBLAS and loads on
// machines without them. Plain C types only: the two sides are built separately.
//
// Conventions: every entry that can fail returns 0 on success and nonzero on failure; then
// error_kind() names the JS error class (DeviceError, MemoryError, ValueError, DTypeError,
// ShapeError) and error_message() says what failed, naming the op, shapes and the CUDA / cuDNN /
// cuBLAS status. Both are thread-local and valid until the next failing call. `dev` is the CUDA
// device ordinal. All work is queued on one stream per device; only the d2h/read entries and
// synchronize() wait.
#pragma once
#include <stddef.h>
#include <stdint.h>

#define IGNIS_CUDA_ABI_VERSION 10  // 10: nll_fwd's reduction; 9: nll_fwd / ce_bwd; 8: events; 7: bias_act's out; 6: set_flags' cudnn_deterministic; 2: IgnisCudaSoftmax.neg; the prelu / glu / bias_act_bwd entries; 3: set_flags' graph fusion, conv_fwd's z; 4: gather / scatter's check; 5: longer kernel record library / algo
#define IGNIS_CUDA_MAX_DIMS 16
#define IGNIS_CUDA_MAX_OPS 4

#ifdef __cplusplus
extern "C" {
#endif

// One operand of an elementwise op: data == NULL means a scalar (value). Strides in bytes, 0 on
// broadcast dims. dtype codes as native/core/dtype.h (f32 0, f64 1, i32 2, i64 3, bool 4).
typedef struct IgnisCudaOperand {
  char* data;
  int64_t strides[IGNIS_CUDA_MAX_DIMS];
  int32_t dtype;
  double value;
} IgnisCudaOperand;

typedef struct IgnisCudaIter {
  int32_t ndim;
  int32_t nops;
  int64_t shape[IGNIS_CUDA_MAX_DIMS];
  IgnisCudaOperand op[IGNIS_CUDA_MAX_OPS];
} IgnisCudaIter;

typedef struct IgnisCudaProps {
  char name[256];
  int32_t major, minor;
  int32_t multiProcessorCount;
  int64_t totalMemory;
  int32_t maxThreadsPerBlock;
  int32_t warpSize;
  int64_t l2CacheSize;
  int32_t clockRateKHz;  // 0 when the runtime no longer reports it
} IgnisCudaProps;

typedef struct IgnisCudaMemStats {
  int64_t allocated;      // bytes in live blocks (rounded sizes)
  int64_t reserved;       // bytes obtained from cudaMalloc (live + cached)
  int64_t maxAllocated;   // high-water mark of allocated
  int64_t limit;          // setMemoryLimit value, 0 = none
  int64_t allocCalls;     // allocations served
  int64_t cacheHits;      // ... of which from the cache
  int64_t deviceFree;     // cudaMemGetInfo
  int64_t deviceTotal;
} IgnisCudaMemStats;

// Convolution geometry, NCHW, as native/cpu/conv.h's ConvShape.
typedef struct IgnisCudaConv {
  int32_t dtype;
  int64_t N, C, H, W, O, kh, kw, OH, OW, sh, sw, dh, dw, pt, pl, G;
} IgnisCudaConv;

// 2-d pooling geometry, as native/cpu/pool.h's PoolShape (max: 1 max, 0 average).
typedef struct IgnisCudaPool {
  int32_t dtype, max, count_include_pad, adaptive;  // adaptive: OH/OW given, kernel fields unused
  int64_t N, C, H, W, OH, OW, kh, kw, sh, sw, pt, pl, dh, dw, divisor;
} IgnisCudaPool;

// Batch norm over x viewed as [N, C, S] (native/cpu/batchnorm.h's BnShape).
typedef struct IgnisCudaBn {
  int32_t dtype, training;
  int64_t N, C, S;
  double eps, momentum;
} IgnisCudaBn;

// cross entropy rows: M rows of C classes, the ignore index (native/cpu/index.h NllShape)
typedef struct IgnisCudaNll {
  int dtype;
  int64_t M, C, ignore;
  int32_t reduce;  // nll_fwd: 0 per-row losses, 1 their sum, 2 their weighted mean (cpu/index.h)
} IgnisCudaNll;

// softmax / logSoftmax along D of contiguous operands viewed as [outer, D, inner] (native/cpu/softmax.h).
typedef struct IgnisCudaSoftmax {
  int32_t dtype, log;  // log: 1 = logSoftmax
  int64_t outer, D, inner;
  int32_t neg;  // 1 = of -x (softmin)
} IgnisCudaSoftmax;

// PReLU (x viewed as [outer, C, inner], C slopes) and GLU (x viewed as [outer, 2, inner]; C unused)
// (native/cpu/gated.h).
typedef struct IgnisCudaGated {
  int32_t dtype, unused;
  int64_t outer, C, inner;
} IgnisCudaGated;

// One parameter of a fused optimizer step (native/cpu/optim.h: OptimItem, same meaning).
typedef struct IgnisCudaOptimItem {
  int64_t n;
  char* p;
  const char* g;
  char* s[3];
  double x[2];
} IgnisCudaOptimItem;

// One op's work on the device, as the profiler records it (profile.h): a CUDA event pair around
// everything one entry of this table queued on its stream.
typedef struct IgnisCudaKernelRecord {
  char name[64];          // the entry and its op: "act_fwd<relu>", "conv2d_fwd", "Memcpy HtoD"
  char library[48];       // the cuDNN / cuBLAS call it made ("" when Ignis launched everything)
  char algo[64];          // the algorithm that call ran with ("" when none), "(N calls)" for several
  int32_t dev;
  int32_t stream;         // index of the stream (0: the device's one stream)
  int64_t correlation;    // the profiler's op id set by prof_correlate() before the entry
  double start_us;        // CLOCK_MONOTONIC microseconds (the clock of Node's process.hrtime)
  double duration_us;
  int32_t grid[3], block[3];  // of the last kernel Ignis launched itself (zeros when none)
  int32_t launches;           // kernels Ignis launched itself (library kernels not counted)
  int32_t fused;              // -1 not applicable, 0 ran unfused, 1 ran fused (conv + bias + activation)
  int64_t workspace;          // cuDNN workspace bytes, -1 when none
} IgnisCudaKernelRecord;

typedef struct IgnisCudaApi {
  int32_t abi;          // IGNIS_CUDA_ABI_VERSION
  uint32_t table_size;  // sizeof(IgnisCudaApi) as built: a stale library with another layout is refused
  const char* (*error_kind)(void);
  const char* (*error_message)(void);
  // Checks the runtime, the devices and the cuDNN / cuBLAS versions; 0 when usable.
  int (*init)(void);
  // "cudart 13000, cuDNN 92400 (built 92400), cuBLAS 130101" (valid after init)
  const char* (*versions)(void);
  int (*device_count)(int* n);
  int (*device_props)(int dev, IgnisCudaProps* out);
  int (*synchronize)(int dev);

  // ---- memory: a caching allocator per device (size classes, stream-ordered reuse) --------
  int (*malloc)(int dev, size_t nbytes, void** out);  // MemoryError names the allocator figures
  void (*free)(int dev, void* p, size_t nbytes);      // back to the cache; never fails
  int (*memory_stats)(int dev, IgnisCudaMemStats* out);
  int (*reset_peak)(int dev);
  int (*empty_cache)(int dev);
  int (*set_memory_limit)(int dev, int64_t bytes);  // 0 = no limit
  // host -> device through pinned staging buffers, queued on the stream (returns once `src` may be reused)
  int (*h2d)(int dev, void* dst, const void* src, size_t nbytes);
  // device -> host, waits for the stream
  int (*d2h)(int dev, void* dst, const void* src, size_t nbytes);
  int (*d2d)(int dev, void* dst, const void* src, size_t nbytes);
  // Asynchronous readback: start queues a copy into pinned memory and returns a token; poll
  // returns 1 and copies into dst when done, 0 while pending (the caller yields to its event loop).
  int (*read_start)(int dev, const void* src, size_t nbytes, void** token);
  int (*read_poll)(void* token, void* dst, int* done);
  void (*read_cancel)(void* token);
  void (*manual_seed)(uint64_t seed);
  // flags: allow_tf32_matmul, allow_tf32_conv, cudnn_benchmark (PyTorch's names and defaults) and
  // cudnn_graph_fusion (convolutions, and conv + bias + activation, as cuDNN graphs where an engine
  // takes them),
  // cudnn_deterministic (only convolution algorithms cuDNN marks deterministic)
  void (*set_flags)(int allow_tf32_matmul, int allow_tf32_conv, int cudnn_benchmark, int cudnn_graph_fusion,
                    int cudnn_deterministic);

  // ---- kernels -----------------------------------------------------------------------------
  // ops of native/ops/unary.def / binary.def; operand 0 is the output
  int (*unary)(int dev, int op, const IgnisCudaIter* it, double p0, double p1);
  int (*binary)(int dev, int op, const IgnisCudaIter* it);
  int (*where)(int dev, const IgnisCudaIter* it);
  int (*copy)(int dev, const IgnisCudaIter* it);  // strided, with dtype conversion
  // native/ops/activations.def: fwd op0 = out, op1 = x; bwd op0 = grad_in, op1 = x, op2 = grad_out
  int (*act_fwd)(int dev, int op, const IgnisCudaIter* it, const double* params);
  int (*act_bwd)(int dev, int op, const IgnisCudaIter* it, const double* params);
  // native/ops/reduce.def over the trailing dims of op[0] (the input): dims [0, nkeep) are kept
  int (*reduce)(int dev, int op, const IgnisCudaIter* in, int nkeep, void* out, int out_dtype);
  // C[b] = A[b] @ B[b]; element strides (batch, row, col); C contiguous [B, M, N]. Scratch from the allocator.
  int (*bmm)(int dev, int dtype, int64_t B, int64_t M, int64_t K, int64_t N, const void* a, const int64_t* sa,
             const void* b, const int64_t* sb, void* c);
  // cuDNN convolutions; act_op -1 = none, else an activations.def op fused into the output pass.
  // y = act(conv(x, w) + b); z (NULL, or a buffer like y; act_op >= 0) also keeps the pre-activation
  // conv(x, w) + b (the training forward of a convolution with a fused activation)
  int (*conv_fwd)(int dev, const IgnisCudaConv* s, const void* x, const void* w, const void* b, void* y, void* z,
                  int act_op, const double* act_params);
  int (*conv_bwd_data)(int dev, const IgnisCudaConv* s, const void* dy, const void* w, void* dx);
  int (*conv_bwd_filter)(int dev, const IgnisCudaConv* s, const void* x, const void* dy, void* dw, void* db);
  // y[n, c, s] = act(y[n, c, s] + b[c]) in place (b may be NULL; act_op -1: none): the fused epilogue;
  // with `out` (NULL: in place), y = y + b (the pre-activation, kept) and out = act(y + b)
  int (*bias_act)(int dev, int dtype, void* y, const void* b, int64_t N, int64_t C, int64_t S, int act_op,
                  const double* act_params, void* out);
  // the fused training backward: dz = act'(z) dy over [N, C, S] and db[c] = sum of dz (db may be NULL)
  // (cpu/conv.h bias_act_bwd_cpu; z is the pre-activation, or the output for the ACT_OUT rows)
  int (*bias_act_bwd)(int dev, int dtype, const void* z, const void* dy, void* dz, void* db, int64_t N, int64_t C,
                      int64_t S, int act_op, const double* act_params);
  // One launch for all parameters (native/cpu/optim.h: kind, hyper layout, item meaning).
  int (*optim_step)(int dev, int kind, int dtype, const double* hyper, const IgnisCudaOptimItem* items, int64_t count);
  // gather: op0 = out, op1 = input (stride 0 along dim), op2 = int64 index; scatter: op0 = self
  // (stride 0 along dim), op1 = index, op2 = src (reduce 1 = add). With check, IndexError on a bad
  // index (a device round trip); check 0 only for indices the caller knows to be in [0, dim_size).
  int (*gather)(int dev, const IgnisCudaIter* it, int64_t dim_stride_bytes, int64_t dim_size, int check);
  int (*scatter)(int dev, const IgnisCudaIter* it, int64_t dim_stride_bytes, int64_t dim_size, int reduce, int check);
  // max / average pooling; ind (int64 [N, C, OH, OW], max only, may be NULL) as PyTorch's indices
  int (*pool_fwd)(int dev, const IgnisCudaPool* s, const void* x, void* y, int64_t* ind);
  int (*pool_bwd)(int dev, const IgnisCudaPool* s, const void* dy, const int64_t* ind, void* dx);
  // batch norm (cpu/batchnorm.h semantics; w, b, rm, rv may be NULL; training updates rm / rv)
  int (*bn_fwd)(int dev, const IgnisCudaBn* s, const void* x, const void* w, const void* b, void* rm, void* rv, void* y,
                void* smean, void* svar);
  int (*bn_bwd)(int dev, const IgnisCudaBn* s, const void* x, const void* dy, const void* w, const void* smean,
                const void* svar, void* dx, void* dw, void* db);
  // softmax / logSoftmax (cpu/softmax.h: the twins softmax_fwd_cpu / _bwd_cpu); bwd takes the forward's output y and grad g
  int (*softmax_fwd)(int dev, const IgnisCudaSoftmax* s, const void* x, void* y);
  int (*softmax_bwd)(int dev, const IgnisCudaSoftmax* s, const void* y, const void* g, void* gx);
  // native/cpu/random.h's Philox streams, same (seed, offset) -> same numbers as the CPU.
  int (*random)(int dev, int kind, int dtype, void* out, int64_t n, uint64_t seed, uint64_t offset, double p0, double p1);
  // prelu / glu (cpu/gated.h: the twins prelu_fwd_cpu, ...); prelu_bwd: gx or gw may be NULL (not wanted)
  int (*prelu_fwd)(int dev, const IgnisCudaGated* s, const void* x, const void* w, void* y);
  int (*prelu_bwd)(int dev, const IgnisCudaGated* s, const void* x, const void* w, const void* g, void* gx, void* gw);
  int (*glu_fwd)(int dev, const IgnisCudaGated* s, const void* x, void* y);
  int (*glu_bwd)(int dev, const IgnisCudaGated* s, const void* x, const void* g, void* gx);

  // ---- run-time compiled kernels (expression activations: the addon compiles with NVRTC) -------
  // Loads a cubin or NUL-terminated PTX image on `dev` (cudaLibraryLoadData) and returns the
  // handles of the named kernels (cudaLibraryGetKernel); they stay loaded for the process.
  int (*rtc_load)(int dev, const void* image, size_t nbytes, int nkernels, const char* const* names, void** kernels);
  // Launches a grid-stride kernel over n elements on dev's stream: 256 threads a block, blocks for
  // `per_thread` elements a thread per pass (as the built-in elementwise kernels); args as
  // cudaLaunchKernel's.
  int (*rtc_launch)(int dev, void* kernel, int64_t n, int per_thread, void** args);
  // ---- profiling (src/profiler) and NVTX ------------------------------------------------------
  // Starts recording an event pair around every entry's work (`capacity` pairs per device, reused
  // as a ring); ValueError when already recording. Nothing is recorded (or costs more than one
  // atomic load) outside start / stop.
  int (*prof_start)(int64_t capacity);
  // The profiler op id that the following entries belong to (0: none).
  void (*prof_correlate)(int64_t id);
  // Stops, waits for the recorded work and computes its times; `count` records are ready and
  // `waits` says how often a full ring made the host wait for the device.
  int (*prof_stop)(int64_t* count, int64_t* waits);
  // Copies up to n records (in the order they ran per device), then forgets them all.
  int (*prof_records)(IgnisCudaKernelRecord* out, int64_t n);
  // NVTX ranges and marks (NVTX3; each is a no-op unless a tool such as Nsight is attached).
  void (*nvtx_push)(const char* name);
  void (*nvtx_pop)(void);
  uint64_t (*nvtx_start)(const char* name);
  void (*nvtx_end)(uint64_t id);
  void (*nvtx_mark)(const char* name);

  // ---- events (torch.cuda.Event; src/cuda.ts) ---------------------------------------------------
  // An event of dev (timing 1: elapsed times can be read; 0: cheaper, for waiting only).
  int (*event_create)(int dev, int timing, void** ev);
  // Queues the event on its device's stream: it completes when the work queued before it is done.
  int (*event_record)(void* ev);
  // done = 1 when the work before the last record is done (or the event was never recorded).
  int (*event_query)(void* ev, int* done);
  // Waits for that work (the library lock is not held meanwhile).
  int (*event_synchronize)(void* ev);
  // Milliseconds between two recorded timing events of one device; waits for both.
  int (*event_elapsed)(void* start, void* end, double* ms);
  void (*event_destroy)(void* ev);  // never fails; a pending event is released once it completes

  // ---- cross entropy with class-index targets (cpu/index.h: nll_fwd_cpu / ce_bwd_cpu) ---------
  // logp [M, C] contiguous log-probabilities, t int64 [M]; w [C] may be NULL, denom may be NULL
  int (*nll_fwd)(int dev, const IgnisCudaNll* s, const void* logp, const int64_t* t, const void* w, void* loss,
                 void* wi, void* denom);
  int (*ce_bwd)(int dev, const IgnisCudaNll* s, const void* logp, const int64_t* t, const void* wi, const void* g,
                int64_t g_step, const void* denom, void* gx);
} IgnisCudaApi;

typedef const IgnisCudaApi* (*IgnisCudaApiFn)(void);
const IgnisCudaApi* ignis_cuda_api(void);

#ifdef __cplusplus
}
#endif
