#include "nvrtc.h"

#include <dlfcn.h>
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <mutex>

#include "../core/error.h"
#include "sysutil.h"

namespace ignis {
namespace {

using sys::env;
using sys::exists;

// The few NVRTC entry points used, declared here so the addon builds without nvrtc.h.
typedef struct _nvrtcProgram* nvrtcProgram;
typedef int nvrtcResult;  // 0 = NVRTC_SUCCESS
struct Fns {
  const char* (*GetErrorString)(nvrtcResult);
  nvrtcResult (*Version)(int*, int*);
  nvrtcResult (*GetNumSupportedArchs)(int*);
  nvrtcResult (*GetSupportedArchs)(int*);
  nvrtcResult (*CreateProgram)(nvrtcProgram*, const char*, const char*, int, const char* const*, const char* const*);
  nvrtcResult (*DestroyProgram)(nvrtcProgram*);
  nvrtcResult (*CompileProgram)(nvrtcProgram, int, const char* const*);
  nvrtcResult (*GetProgramLogSize)(nvrtcProgram, size_t*);
  nvrtcResult (*GetProgramLog)(nvrtcProgram, char*);
  nvrtcResult (*GetCUBINSize)(nvrtcProgram, size_t*);
  nvrtcResult (*GetCUBIN)(nvrtcProgram, char*);
  nvrtcResult (*GetPTXSize)(nvrtcProgram, size_t*);
  nvrtcResult (*GetPTX)(nvrtcProgram, char*);
};

std::once_flag g_once;
std::mutex g_mu;  // NVRTC programs are independent, but keep compiles one at a time (2-core CI)
Fns g_fn;
bool g_ok = false;
std::string g_reason, g_path, g_version;
std::vector<int> g_archs;


template <class F>
bool sym(void* h, const char* name, F& f) {
  f = reinterpret_cast<F>(dlsym(h, name));
  return f != nullptr;
}

void load() {
  std::string off = env("IGNIS_NVRTC_DISABLE");
  if (!off.empty() && off != "0") {
    g_reason = "NVRTC disabled by the environment (IGNIS_NVRTC_DISABLE=" + off + ")";
    return;
  }
  // CUDA_PATH, the pip wheel (nvidia-cuda-nvrtc: nvidia/cu13/lib under IGNIS_CUDA_DEPS or next to
  // CUDNN_PATH's wheel), LD_LIBRARY_PATH and the system, the wheel folder found at build time,
  // /usr/local/cuda.
  std::vector<std::string> dirs;
  std::string cuda = env("CUDA_PATH"), deps = env("IGNIS_CUDA_DEPS"), cudnn = env("CUDNN_PATH");
  if (!cuda.empty()) { dirs.push_back(cuda + "/lib64"); dirs.push_back(cuda + "/lib"); }
  if (!deps.empty()) dirs.push_back(deps + "/nvidia/cu13/lib");
  if (!cudnn.empty()) dirs.push_back(cudnn + "/../cu13/lib");
  dirs.push_back("");  // the dynamic linker's own search (LD_LIBRARY_PATH, ld.so.cache)
#ifdef IGNIS_NVRTC_HINT
  dirs.push_back(IGNIS_NVRTC_HINT);
#endif
  dirs.push_back("/usr/local/cuda/lib64");
  const char* sonames[] = {"libnvrtc.so.13", "libnvrtc.so.12"};
  std::string over = env("IGNIS_NVRTC_PATH");  // an explicit file wins
  void* h = nullptr;
  std::string tried, last;
  auto attempt = [&](const std::string& p) {
    if (h) return;
    h = dlopen(p.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (h) { g_path = p; return; }
    const char* e = dlerror();
    last = e ? e : "cannot load";
  };
  if (!over.empty()) {
    attempt(over);
    tried = over;
  } else {
    for (const std::string& d : dirs) {
      for (const char* so : sonames) {
        std::string p = d.empty() ? so : d + "/" + so;
        if (!d.empty() && !exists(p)) continue;
        attempt(p);
      }
      tried += (tried.empty() ? "" : ", ") + (d.empty() ? std::string("LD_LIBRARY_PATH and the system") : d);
      if (h) break;
    }
  }
  if (!h) {
    g_reason = "libnvrtc.so.13 not found (looked in " + tried + (last.empty() ? "" : "; last error: " + last) +
               "): install it with `pip install nvidia-cuda-nvrtc` (and set IGNIS_CUDA_DEPS to that --target folder) "
               "or the CUDA 13 toolkit (set CUDA_PATH), or add its lib folder to LD_LIBRARY_PATH";
    return;
  }
  if (g_path.find('/') == std::string::npos) {  // found by the linker: report the real file
    Dl_info di;
    void* v = dlsym(h, "nvrtcVersion");
    if (v && dladdr(v, &di) && di.dli_fname) g_path = di.dli_fname;
  }
  bool ok = sym(h, "nvrtcGetErrorString", g_fn.GetErrorString) && sym(h, "nvrtcVersion", g_fn.Version) &&
            sym(h, "nvrtcGetNumSupportedArchs", g_fn.GetNumSupportedArchs) &&
            sym(h, "nvrtcGetSupportedArchs", g_fn.GetSupportedArchs) && sym(h, "nvrtcCreateProgram", g_fn.CreateProgram) &&
            sym(h, "nvrtcDestroyProgram", g_fn.DestroyProgram) && sym(h, "nvrtcCompileProgram", g_fn.CompileProgram) &&
            sym(h, "nvrtcGetProgramLogSize", g_fn.GetProgramLogSize) && sym(h, "nvrtcGetProgramLog", g_fn.GetProgramLog) &&
            sym(h, "nvrtcGetCUBINSize", g_fn.GetCUBINSize) && sym(h, "nvrtcGetCUBIN", g_fn.GetCUBIN) &&
            sym(h, "nvrtcGetPTXSize", g_fn.GetPTXSize) && sym(h, "nvrtcGetPTX", g_fn.GetPTX);
  if (!ok) {
    g_reason = g_path + " lacks an NVRTC entry point (NVRTC 11.2 or newer is needed)";
    return;
  }
  int maj = 0, min = 0, n = 0;
  if (g_fn.Version(&maj, &min) != 0 || g_fn.GetNumSupportedArchs(&n) != 0 || n <= 0 || n > 256) {
    g_reason = g_path + ": nvrtcVersion / nvrtcGetNumSupportedArchs failed";
    return;
  }
  g_archs.resize(size_t(n));
  if (g_fn.GetSupportedArchs(g_archs.data()) != 0) {
    g_reason = g_path + ": nvrtcGetSupportedArchs failed";
    return;
  }
  std::sort(g_archs.begin(), g_archs.end());
  g_version = std::to_string(maj) + "." + std::to_string(min);
  // NVRTC dlopens libnvrtc-builtins.so.X.Y by name at compile time, which a wheel folder outside
  // the linker's search would not satisfy: load it from libnvrtc's own folder first.
  size_t slash = g_path.rfind('/');
  if (slash != std::string::npos) {
    std::string b = g_path.substr(0, slash) + "/libnvrtc-builtins.so." + g_version;
    if (exists(b) && !dlopen(b.c_str(), RTLD_NOW | RTLD_GLOBAL)) {
      const char* e = dlerror();
      g_reason = b + " cannot be loaded: " + (e ? e : "?");
      return;
    }
  }
  g_ok = true;
}

void init() { std::call_once(g_once, load); }

// RAII for one program; every failing call names what NVRTC said.
struct Program {
  nvrtcProgram p = nullptr;
  ~Program() { if (p) g_fn.DestroyProgram(&p); }
};
void check(nvrtcResult r, const char* call, const std::string& what) {
  if (r != 0) throw Error("DeviceError", what + ": " + call + " failed: " + g_fn.GetErrorString(r));
}

}  // namespace

bool nvrtc_available() { init(); return g_ok; }
const std::string& nvrtc_reason() { init(); return g_reason; }
std::string nvrtc_path() { init(); return g_path; }
std::string nvrtc_version() { init(); return g_version; }
std::vector<int> nvrtc_archs() { init(); return g_archs; }

NvrtcImage nvrtc_compile(const std::string& src, int arch, const std::string& what) {
  init();
  if (!g_ok) throw Error("DeviceError", what + ": compiling for CUDA needs NVRTC, which cannot be used: " + g_reason);
  if (arch < 10 || arch > 10000) throw Error("ValueError", what + ": bad compute capability " + std::to_string(arch));
  NvrtcImage out;
  if (std::binary_search(g_archs.begin(), g_archs.end(), arch)) {
    out.target = "sm_" + std::to_string(arch);
  } else {
    auto it = std::lower_bound(g_archs.begin(), g_archs.end(), arch);  // first known arch above
    if (it == g_archs.begin())
      throw Error("DeviceError", what + ": compute capability " + std::to_string(arch / 10) + "." +
                                     std::to_string(arch % 10) + " is older than NVRTC " + g_version +
                                     " supports (oldest sm_" + std::to_string(g_archs.front()) + ")");
    out.ptx = true;
    out.target = "compute_" + std::to_string(*(it - 1));
  }
  std::lock_guard<std::mutex> lk(g_mu);
  auto t0 = std::chrono::steady_clock::now();
  Program prog;
  check(g_fn.CreateProgram(&prog.p, src.c_str(), "ignis_expr.cu", 0, nullptr, nullptr), "nvrtcCreateProgram", what);
  std::string archopt = "--gpu-architecture=" + out.target;
  const char* opts[] = {archopt.c_str(), "-std=c++17"};
  nvrtcResult rc = g_fn.CompileProgram(prog.p, 2, opts);
  size_t ln = 0;
  if (g_fn.GetProgramLogSize(prog.p, &ln) == 0 && ln > 1) {
    out.log.resize(ln);
    if (g_fn.GetProgramLog(prog.p, &out.log[0]) != 0) out.log.clear();
    while (!out.log.empty() && (out.log.back() == '\0' || out.log.back() == '\n')) out.log.pop_back();
  }
  if (rc != 0)
    throw Error("CompileError", what + ": NVRTC " + g_version + " could not compile the generated kernel for " +
                                    out.target + " (" + g_fn.GetErrorString(rc) + "):\n" + out.log);
  size_t n = 0;
  if (out.ptx) {
    check(g_fn.GetPTXSize(prog.p, &n), "nvrtcGetPTXSize", what);
    out.image.resize(n);
    check(g_fn.GetPTX(prog.p, &out.image[0]), "nvrtcGetPTX", what);
  } else {
    check(g_fn.GetCUBINSize(prog.p, &n), "nvrtcGetCUBINSize", what);
    out.image.resize(n);
    check(g_fn.GetCUBIN(prog.p, &out.image[0]), "nvrtcGetCUBIN", what);
  }
  out.ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

}  // namespace ignis
