// Convolutions (and conv + bias + activation) as cuDNN operation graphs (conv_graph.cpp), for conv.cpp.
#pragma once
#include <cudnn.h>

#include <functional>
#include <string>

#include "common.h"

namespace ignis_cuda {

// the activation codes of native/ops/activations.def (as the addon and the CPU kernels number them)
enum ActOp {
#define ACT(name, np, fwd, bwd) A_##name,
#include "../ops/activations.def"
#undef ACT
  A_COUNT
};

// cuDNN 9's out-of-memory codes (CUDNN_STATUS_ALLOC_FAILED is only the host one, 4003)
inline bool cudnn_out_of_memory(cudnnStatus_t s) {
  return s == CUDNN_STATUS_INTERNAL_ERROR_HOST_ALLOCATION_FAILED ||
         s == CUDNN_STATUS_INTERNAL_ERROR_DEVICE_ALLOCATION_FAILED;
}

// What ran when conv2d_graph_fwd returned true: the engine (for the profiler) and its workspace.
struct GraphRun {
  std::string engine;
  int64_t workspace = 0;
};

// y = act(conv(x, w) + b) (b may be NULL, act_op -1 for none) through cuDNN's graph API: a plan per
// shape, activation, parameters, alignment and TF32 setting, built on first use and cached; z
// non-null also receives the pre-activation conv(x, w) + b (a second output of the graph); neither
// bias nor activation: the plain convolution. Returns false when cuDNN has no engine for the graph
// (or for the activation), and the caller then runs `unfused` (the legacy convolution call and
// Ignis's epilogue, writing the same y). The first call per plan times both (`unfused` included)
// and keeps the faster: false from then on when that is the unfused path. `what` names the op in
// errors.
bool conv2d_graph_fwd(int dev, cudnnHandle_t h, const IgnisCudaConv& s, const void* x, const void* w, const void* b,
                      void* y, void* z, int act_op, const double* params, const std::string& what,
                      const std::function<void()>& unfused, GraphRun& ran);

// The backward convolutions through the graph API, the same way (plan per shape, timed once against
// `unfused`, the legacy call writing the same output): kind 1 backward data (dx = x, the output,
// from dy and w), kind 2 backward filter (dw = w, the output, from x and dy), both overwriting it.
bool conv2d_graph_bwd(int dev, cudnnHandle_t h, const IgnisCudaConv& s, int kind, void* x, void* w, void* dy,
                      const std::string& what, const std::function<void()>& unfused, GraphRun& ran);

}  // namespace ignis_cuda
