#include "cuda_loader.h"

#include <dlfcn.h>
#include <glob.h>
#include <sys/stat.h>

#include <cstdlib>
#include <mutex>
#include <vector>

#include "../core/error.h"
#include "sysutil.h"

namespace ignis {
namespace {

using sys::env;
using sys::exists;

std::once_flag g_once;
const IgnisCudaApi* g_api = nullptr;
std::string g_reason;



std::string addon_dir() {
  Dl_info info;
  if (dladdr(reinterpret_cast<void*>(&cuda_library_path), &info) && info.dli_fname) {
    std::string f = info.dli_fname;
    size_t slash = f.rfind('/');
    if (slash != std::string::npos) return f.substr(0, slash);
  }
  return ".";
}

// dlopen(soname) from each candidate folder (the ones the user named come first), else as the
// system finds it: an explicit CUDNN_PATH must win over some other cuDNN 9 on the library path.
// Loaded RTLD_GLOBAL so that libignis_cuda.so's DT_NEEDED entries resolve to it.
bool preload(const char* soname, const std::vector<std::string>& dirs, std::string* err) {
  err->clear();
  for (const std::string& d : dirs) {
    if (d.empty()) continue;
    std::string p = d + "/" + soname;
    if (!exists(p)) continue;
    if (dlopen(p.c_str(), RTLD_NOW | RTLD_GLOBAL)) return true;
    const char* e = dlerror();  // (each dlerror() call clears the message)
    *err = p + ": " + (e ? e : "cannot load");
  }
  if (dlopen(soname, RTLD_NOW | RTLD_GLOBAL)) return true;
  const char* e = dlerror();
  if (err->empty()) *err = e ? e : "not found";
  return false;
}

// The nvidia/<sub> folders of the pip wheels in the active virtual environment ($VIRTUAL_ENV), where
// `pip install nvidia-cudnn-cu13 nvidia-cublas` puts them.
std::vector<std::string> venv_dirs(const char* sub) {
  std::vector<std::string> out;
  std::string venv = env("VIRTUAL_ENV");
  if (venv.empty()) return out;
  glob_t g{};
  std::string pat = venv + "/lib/python3*/site-packages/nvidia/" + sub;
  if (glob(pat.c_str(), 0, nullptr, &g) == 0)
    for (size_t i = 0; i < g.gl_pathc; ++i) out.emplace_back(g.gl_pathv[i]);
  globfree(&g);
  return out;
}

void load() {
  std::string off = env("IGNIS_CUDA_DISABLE");
  if (!off.empty() && off != "0") {
    g_reason = "CUDA disabled by the environment (IGNIS_CUDA_DISABLE=" + off + ")";
    return;
  }
  // 1. the driver
  if (!dlopen("libcuda.so.1", RTLD_NOW | RTLD_GLOBAL)) {
    const char* e = dlerror();
    g_reason = std::string("no NVIDIA driver: libcuda.so.1 cannot be loaded (") + (e ? e : "not found") +
               "); install the NVIDIA driver (R580 or newer for CUDA 13) to use CUDA";
    return;
  }
  // 2. the library
  std::string lib = cuda_library_path();
  if (!exists(lib)) {
    g_reason = "this build of ignis has no CUDA backend: " + lib +
               " was not built (rebuild with nvcc, cuDNN 9 and cuBLAS available: see README, 'CUDA')";
    return;
  }
  // 3. cuDNN and cuBLAS: the rpath baked in at build time usually finds them; these folders
  //    cover a moved install (env CUDNN_PATH / CUDA_PATH / IGNIS_CUDA_DEPS, /usr/local/cuda)
  std::string cudnn = env("CUDNN_PATH"), cuda = env("CUDA_PATH"), deps = env("IGNIS_CUDA_DEPS");
  std::vector<std::string> dnn_dirs = {cudnn + "/lib", cudnn + "/lib64", deps.empty() ? "" : deps + "/nvidia/cudnn/lib",
                                       cuda.empty() ? "" : cuda + "/lib64", "/usr/local/cuda/lib64",
                                       "/usr/lib/x86_64-linux-gnu"};
  if (cudnn.empty()) dnn_dirs[0] = dnn_dirs[1] = "";
  // the cuBLAS wheel sits beside the cuDNN wheel (site-packages/nvidia/{cudnn,cu13})
  std::vector<std::string> blas_dirs = {deps.empty() ? "" : deps + "/nvidia/cu13/lib",
                                        cudnn.empty() ? "" : cudnn + "/../cu13/lib", cuda.empty() ? "" : cuda + "/lib64",
                                        "/usr/local/cuda/lib64"};
  for (const std::string& d : venv_dirs("cudnn/lib")) dnn_dirs.insert(dnn_dirs.end() - 3, d);
  for (const std::string& d : venv_dirs("cu13/lib")) blas_dirs.insert(blas_dirs.end() - 1, d);
  void* h = dlopen(lib.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!h) {
    const char* e0 = dlerror();
    std::string first = e0 ? e0 : "";
    std::string err;
    if (!preload("libcudnn.so.9", dnn_dirs, &err)) {
      g_reason = "cuDNN 9 not found (" + err + "): install it (pip install nvidia-cudnn-cu13, or NVIDIA's cuDNN 9 "
                 "package) and set CUDNN_PATH to its folder (the one holding lib/libcudnn.so.9) or add that lib "
                 "folder to LD_LIBRARY_PATH";
      return;
    }
    if (!preload("libcublasLt.so.13", blas_dirs, &err) || !preload("libcublas.so.13", blas_dirs, &err)) {
      g_reason = "cuBLAS 13 not found (" + err + "): install the CUDA 13 toolkit's cuBLAS (or pip install "
                 "nvidia-cublas) and set CUDA_PATH, or add its lib folder to LD_LIBRARY_PATH";
      return;
    }
    h = dlopen(lib.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!h) {
      const char* e = dlerror();
      g_reason = "cannot load " + lib + ": " + (e ? e : first);
      return;
    }
  }
  auto fn = reinterpret_cast<IgnisCudaApiFn>(dlsym(h, "ignis_cuda_api"));
  if (!fn) {
    g_reason = lib + " does not export ignis_cuda_api: a stale or foreign library; rebuild ignis";
    return;
  }
  const IgnisCudaApi* api = fn();
  if (!api || api->abi != IGNIS_CUDA_ABI_VERSION || api->table_size != sizeof(IgnisCudaApi)) {
    g_reason = lib + " speaks ABI " + std::to_string(api ? api->abi : -1) + " (table of " +
               std::to_string(api ? api->table_size : 0) + " bytes) but this addon needs " +
               std::to_string(IGNIS_CUDA_ABI_VERSION) + " (" + std::to_string(sizeof(IgnisCudaApi)) +
               " bytes): a stale library; rebuild ignis";
    return;
  }
  // 4. devices and versions
  if (api->init() != 0) {
    g_reason = api->error_message();
    return;
  }
  g_api = api;
}

}  // namespace

std::string cuda_library_path() {
  std::string over = env("IGNIS_CUDA_LIB");
  return over.empty() ? addon_dir() + "/libignis_cuda.so" : over;
}

const IgnisCudaApi* cuda_api() {
  std::call_once(g_once, load);
  return g_api;
}

const std::string& cuda_unavailable_reason() {
  cuda_api();
  return g_reason;
}

const IgnisCudaApi& cuda_require(const char* what) {
  const IgnisCudaApi* a = cuda_api();
  if (!a) throw Error("DeviceError", std::string(what) + ": CUDA is not available: " + g_reason);
  return *a;
}

void cuda_throw(const IgnisCudaApi& api, const char* what) {
  std::string kind = api.error_kind();
  std::string msg = api.error_message();
  if (kind.empty()) kind = "DeviceError";
  if (msg.find(what) == std::string::npos) msg = std::string(what) + ": " + msg;
  throw Error(kind, msg);
}

}  // namespace ignis
