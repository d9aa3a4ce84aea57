#!/usr/bin/env python3
"""PyTorch CUDA peer for bench/gpu/cuda.bench.mjs: the same measurements on the same GPU, in the
same run. Prints one JSON object {name: median_ms} on stdout (timed with CUDA events; each sample
is `inner` back-to-back calls). Usage: torch_cuda_peer.py <n_elements> <reps>
"""
import json
import statistics
import sys

import torch
import torch.nn.functional as F

N = int(sys.argv[1]) if len(sys.argv) > 1 else 64 << 20
REPS = int(sys.argv[2]) if len(sys.argv) > 2 else 10
dev = "cuda"
torch.backends.cudnn.allow_tf32 = True
torch.backends.cuda.matmul.allow_tf32 = False


def timed(fn, inner=5, warm=2):
    for _ in range(warm):
        fn()
    torch.cuda.synchronize()
    samples = []
    for _ in range(REPS):
        a, b = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        a.record()
        for _ in range(inner):
            fn()
        b.record()
        b.synchronize()
        samples.append(a.elapsed_time(b) / inner)
    return statistics.median(samples)


ACTS = {
    "relu": lambda x: F.relu(x), "relu6": lambda x: F.relu6(x), "leaky_relu": lambda x: F.leaky_relu(x, 0.01),
    "elu": lambda x: F.elu(x), "celu": lambda x: F.celu(x), "selu": lambda x: F.selu(x),
    "gelu": lambda x: F.gelu(x), "gelu_tanh": lambda x: F.gelu(x, approximate="tanh"), "silu": lambda x: F.silu(x),
    "swish": lambda x: x * torch.sigmoid(x), "mish": lambda x: F.mish(x), "sigmoid": torch.sigmoid,
    "tanh": torch.tanh, "hardtanh": lambda x: F.hardtanh(x), "hardsigmoid": lambda x: F.hardsigmoid(x),
    "hardswish": lambda x: F.hardswish(x), "softplus": lambda x: F.softplus(x), "softsign": lambda x: F.softsign(x),
    "logsigmoid": lambda x: F.logsigmoid(x), "tanhshrink": lambda x: F.tanhshrink(x),
    "softshrink": lambda x: F.softshrink(x), "hardshrink": lambda x: F.hardshrink(x),
    "threshold": lambda x: F.threshold(x, 0.1, 0.0),
}
CONV_SHAPES = {  # name: (N, C, H, W, O, k) - FACTS.md
    "cifar_l1": (256, 3, 32, 32, 32, 3), "r50_3x3_56": (64, 64, 56, 56, 64, 3),
    "r_3x3_14": (32, 256, 14, 14, 256, 3), "r50_1x1_56": (64, 256, 56, 56, 64, 1),
}
CONV_ACTS = ["none", "relu", "gelu", "silu", "mish", "leaky_relu", "elu"]

out = {}
x = torch.randn(N, device=dev)
g = torch.randn(N, device=dev)
out["copy"] = timed(lambda: x.clone())
for name, f in ACTS.items():
    out[f"act_fwd/{name}"] = timed(lambda: f(x))
    xr = x.detach().requires_grad_()
    y = f(xr)
    out[f"act_bwd/{name}"] = timed(lambda: torch.autograd.grad(y, xr, g, retain_graph=True))
    del xr, y
del x, g
torch.cuda.empty_cache()
with torch.no_grad():
    # TF32 (PyTorch's default for convolutions) and strict fp32, as cuda.bench.mjs's conv/ and conv_fp32/
    for prefix in ("conv", "conv_fp32"):
        torch.backends.cudnn.allow_tf32 = prefix == "conv"
        for sname, (n, c, h, w, o, k) in CONV_SHAPES.items():
            xi = torch.randn(n, c, h, w, device=dev)
            wt = torch.randn(o, c, k, k, device=dev) * 0.1
            bs = torch.randn(o, device=dev)
            for act in CONV_ACTS:
                fa = (lambda t: t) if act == "none" else ACTS[act]
                out[f"{prefix}/{sname}/{act}"] = timed(lambda: fa(F.conv2d(xi, wt, bs, padding=k // 2)))
    torch.backends.cudnn.allow_tf32 = True
    a = torch.randn(4096, 4096, device=dev)
    out["matmul4096/fp32"] = timed(lambda: a @ a)
    torch.backends.cuda.matmul.allow_tf32 = True
    out["matmul4096/tf32"] = timed(lambda: a @ a)
    # back to strict fp32, as cuda.bench.mjs does for Ignis: the rows after this (mm_64, linear_act)
    # compare fp32 with fp32
    torch.backends.cuda.matmul.allow_tf32 = False
xs = torch.randn(4096, device=dev)
out["launch/relu_4k"] = timed(lambda: F.relu(xs), 100)
out["launch/add_4k"] = timed(lambda: xs + xs, 100)
out["launch/sum_4k"] = timed(lambda: xs.sum(), 100)
ms64 = torch.randn(64, 64, device=dev)
out["launch/mm_64"] = timed(lambda: ms64 @ ms64, 100)
xq = torch.randn(2, 8, 8, 8, device=dev, requires_grad=True)
wq = (torch.randn(8, 8, 3, 3, device=dev) * 0.1).requires_grad_()
bq = torch.randn(8, device=dev, requires_grad=True)
with torch.no_grad():
    out["launch/conv_small"] = timed(lambda: F.conv2d(xq, wq, bq, padding=1), 100)


def conv_small_train():
    F.conv2d(xq, wq, bq, padding=1).sum().backward()
    xq.grad = wq.grad = bq.grad = None


out["launch/conv_small_train"] = timed(conv_small_train, 50)
for sname in ("cifar_l1", "r50_3x3_56", "r_3x3_14"):
    n, c, h, w, o, k = CONV_SHAPES[sname]
    xi = torch.randn(n, c, h, w, device=dev, requires_grad=True)
    wt = (torch.randn(o, c, k, k, device=dev) * 0.1).requires_grad_()
    bs = torch.randn(o, device=dev, requires_grad=True)
    gy = torch.randn(n, o, h, w, device=dev)

    def conv_train():
        F.conv2d(xi, wt, bs, padding=k // 2).backward(gy)
        xi.grad = wt.grad = bs.grad = None

    out[f"conv_train/{sname}"] = timed(conv_train)
    del xi, wt, bs, gy
# a linear layer + bias + GELU (an MLP block: x [8192, 1024], weight [1024, 1024], float32): forward
# under no_grad, and forward + backward of x, weight and bias
xl = torch.randn(8192, 1024, device=dev, requires_grad=True)
wl = (torch.randn(1024, 1024, device=dev) * 0.03).requires_grad_()
bl = torch.randn(1024, device=dev, requires_grad=True)
gl = torch.randn(8192, 1024, device=dev)
with torch.no_grad():
    out["linear_act/gelu_8192x1024"] = timed(lambda: F.gelu(F.linear(xl, wl, bl)))


def linear_act_train():
    F.gelu(F.linear(xl, wl, bl)).backward(gl)
    xl.grad = wl.grad = bl.grad = None


out["linear_act_train/gelu_8192x1024"] = timed(linear_act_train)
del xl, wl, bl, gl
xb_ = torch.randn(64, 64, 56, 56, device=dev, requires_grad=True)
wb_ = torch.ones(64, device=dev, requires_grad=True)
bb_ = torch.zeros(64, device=dev, requires_grad=True)
rmb, rvb = torch.zeros(64, device=dev), torch.ones(64, device=dev)
gb_ = torch.randn(64, 64, 56, 56, device=dev)


def bn_train():
    F.batch_norm(xb_, rmb, rvb, wb_, bb_, training=True).backward(gb_)
    xb_.grad = wb_.grad = bb_.grad = None


out["bn_train/r50_56"] = timed(bn_train)
with torch.no_grad():
    out["bn_eval/r50_56"] = timed(lambda: F.batch_norm(xb_, rmb, rvb, wb_, bb_, training=False))
del xb_, gb_
torch.manual_seed(0)
net = torch.nn.Sequential(
    torch.nn.Conv2d(3, 32, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
    torch.nn.Conv2d(32, 64, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
    torch.nn.Conv2d(64, 64, 3), torch.nn.ReLU(), torch.nn.Flatten(),
    torch.nn.Linear(64 * 4 * 4, 64), torch.nn.ReLU(), torch.nn.Linear(64, 10)).to(dev)
xb = torch.randn(256, 3, 32, 32, device=dev)
yb = torch.randint(0, 10, (256,), device=dev)
opt = torch.optim.Adam(net.parameters(), lr=1e-3)
lossf = torch.nn.CrossEntropyLoss()
torch.backends.cuda.matmul.allow_tf32 = False


def train_step():
    loss = lossf(net(xb), yb)
    loss.backward()
    opt.step()
    opt.zero_grad()


# the same 30 warm-up steps as cuda.bench.mjs gives Ignis (whose JavaScript V8 compiles as it runs)
out["seed_cnn_train_b256"] = timed(train_step, warm=30)
lossf(net(xb), yb).backward()
out["optim/adam_seed_cnn"] = timed(opt.step, 20)
print(json.dumps({"torch": torch.__version__, "device": torch.cuda.get_device_name(), "ms": out}))
