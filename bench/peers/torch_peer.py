#!/usr/bin/env python3
"""PyTorch CPU peer for the Ignis benchmarks.

Usage:
  python3 bench/peers/torch_peer.py <benchmark> [--size key=value ...] [--threads N]
                                    [--reps R] [--warmup W] [--inner I]

Prints one JSON object on stdout:
  {"bench", "torch", "threads", "sizes", "inner", "reps", "median_s", "samples_s"}
where median_s is the median time of ONE op in seconds (each sample times `inner` back-to-back ops
with time.perf_counter and divides by `inner`). The figure (us/op, GB/s, GFLOP/s) is computed by
bench/run.mjs with the same formula it uses for Ignis, so both columns are comparable.
If torch is not importable, prints {"error": "..."} and exits 3.
"""
import argparse
import json
import statistics
import sys
import time

try:
    import torch
except Exception as e:  # pragma: no cover - depends on the machine
    print(json.dumps({"error": f"torch not importable: {e}"}))
    sys.exit(3)


def make_add_dispatch(s):
    n = int(s.get("n", 1))
    a = torch.ones(n, dtype=torch.float32)
    b = torch.ones(n, dtype=torch.float32)
    return lambda: a.add(b)


def make_add(s):
    n = int(s.get("n", 4 * 1024 * 1024))
    a = torch.randn(n, dtype=torch.float32)
    b = torch.randn(n, dtype=torch.float32)
    return lambda: a.add(b)


def make_add_inplace(s):
    n = int(s.get("n", 4 * 1024 * 1024))
    a = torch.randn(n, dtype=torch.float32)
    b = torch.randn(n, dtype=torch.float32) * 1e-6
    return lambda: a.add_(b)


def make_matmul(s):
    m, k, n = int(s.get("m", 1024)), int(s.get("k", 1024)), int(s.get("n", 1024))
    a = torch.randn(m, k, dtype=torch.float32)
    b = torch.randn(k, n, dtype=torch.float32)
    return lambda: a.matmul(b)


def make_softmax_fwd_bwd(s):
    m, n = int(s.get("m", 4096)), int(s.get("n", 1000))
    x = torch.randn(m, n, dtype=torch.float32, requires_grad=True)
    g = torch.randn(m, n, dtype=torch.float32)
    return lambda: torch.autograd.grad(torch.softmax(x, 1), x, g)


BENCHES = {
    "add_dispatch": make_add_dispatch,
    "add": make_add,
    "add_inplace": make_add_inplace,
    "matmul": make_matmul,
    "softmax_fwd_bwd": make_softmax_fwd_bwd,
}



# --- activations (bench/kernels/activations.bench.mjs) ------------------------------------------
# "act": --size op=<ignis kernel name> --size dir=fwd|bwd --size n=<elements>. Forward runs the
# torch.nn.functional op; backward runs the aten backward kernel that autograd calls for it (inputs
# x and g, or the saved output where PyTorch's backward takes the result: sigmoid, tanh, relu), so
# both sides time one kernel that writes a fresh tensor. Ops without an aten backward (swish,
# softsign, tanhshrink are composites in PyTorch) time torch.autograd.grad through the composite.
# "act_copy": y.copy_(x) into a preallocated y of the same size, the bandwidth roofline.
import math as _math

_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946


def _act_table():
    A = torch.ops.aten
    return {
        # name: (forward(x), backward(g, x, y) or None for a composite)
        "relu": (F.relu, lambda g, x, y: A.threshold_backward(g, y, 0)),
        "relu6": (F.relu6, lambda g, x, y: A.hardtanh_backward(g, x, 0.0, 6.0)),
        "leaky_relu": (lambda x: F.leaky_relu(x, 0.01), lambda g, x, y: A.leaky_relu_backward(g, x, 0.01, False)),
        "elu": (lambda x: F.elu(x, 1.0), lambda g, x, y: A.elu_backward(g, 1.0, 1, 1, False, x)),
        "celu": (lambda x: F.celu(x, 1.0), lambda g, x, y: A.elu_backward(g, 1.0, 1, 1.0, False, x)),
        "selu": (F.selu, lambda g, x, y: A.elu_backward(g, _SELU_ALPHA, _SELU_SCALE, 1, False, x)),
        "gelu": (F.gelu, lambda g, x, y: A.gelu_backward(g, x)),
        "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"), lambda g, x, y: A.gelu_backward(g, x, approximate="tanh")),
        "silu": (F.silu, lambda g, x, y: A.silu_backward(g, x)),
        "swish": (lambda x: x * torch.sigmoid(1.0 * x), None),
        "mish": (F.mish, lambda g, x, y: A.mish_backward(g, x)),
        "sigmoid": (torch.sigmoid, lambda g, x, y: A.sigmoid_backward(g, y)),
        "tanh": (torch.tanh, lambda g, x, y: A.tanh_backward(g, y)),
        "hardtanh": (F.hardtanh, lambda g, x, y: A.hardtanh_backward(g, x, -1.0, 1.0)),
        "hardsigmoid": (F.hardsigmoid, lambda g, x, y: A.hardsigmoid_backward(g, x)),
        "hardswish": (F.hardswish, lambda g, x, y: A.hardswish_backward(g, x)),
        "softplus": (F.softplus, lambda g, x, y: A.softplus_backward(g, x, 1.0, 20.0)),
        "softsign": (F.softsign, None),
        # y for logsigmoid is the buffer log_sigmoid_forward saves for its backward (see _saved)
        "logsigmoid": (F.logsigmoid, lambda g, x, y: A.log_sigmoid_backward(g, x, y)),
        "tanhshrink": (F.tanhshrink, None),
        "softshrink": (lambda x: F.softshrink(x, 0.5), lambda g, x, y: A.softshrink_backward(g, x, 0.5)),
        "hardshrink": (lambda x: F.hardshrink(x, 0.5), lambda g, x, y: A.hardshrink_backward(g, x, 0.5)),
        "threshold": (lambda x: F.threshold(x, 0.1, 0.0), lambda g, x, y: A.threshold_backward(g, x, 0.1)),
    }


def _saved(op, fwd, x):
    """What PyTorch's autograd keeps for the backward: the output, or logsigmoid's buffer."""
    if op == "logsigmoid":
        return torch.ops.aten.log_sigmoid_forward(x)[1]
    return fwd(x)


def make_act(s):
    op, d, n = s["op"], s.get("dir", "fwd"), int(s.get("n", 4 * 1024 * 1024))
    fwd, bwd = _act_table()[op]
    x = torch.randn(n, dtype=torch.float32) * float(s.get("scale", 1))
    g = torch.randn(n, dtype=torch.float32)
    if d == "fwd":
        return lambda: fwd(x)
    if bwd is not None:
        y = _saved(op, fwd, x)
        return lambda: bwd(g, x, y)
    xr = x.clone().requires_grad_(True)
    y = fwd(xr)
    return lambda: torch.autograd.grad(y, xr, g, retain_graph=True)[0]


def make_act_composite(s):
    # bench/kernels/activations.bench.mjs COMPOSITES: forward through F.*, backward through
    # autograd.grad with the upstream gradient (as the Ignis side)
    op, d = s["op"], s.get("dir", "fwd")
    torch.manual_seed(0)
    shape = (64, 64, 1024) if op == "prelu" else (4096, 1024)
    x = torch.randn(*shape, dtype=torch.float32)
    w = torch.full((shape[1],), 0.25)
    fns = {
        "prelu": lambda a: F.prelu(a, w),
        "rrelu": lambda a: F.rrelu(a, training=True),
        "glu": lambda a: F.glu(a, -1),
        "softmax": lambda a: F.softmax(a, -1),
        "log_softmax": lambda a: F.log_softmax(a, -1),
        "softmin": lambda a: F.softmin(a, -1),
    }
    f = fns[op]
    if d == "fwd":
        return lambda: f(x)
    xr = x.clone().requires_grad_(True)
    w.requires_grad_(True)
    y = f(xr)
    g = torch.randn_like(y)
    ins = [xr, w] if op == "prelu" else [xr]
    return lambda: torch.autograd.grad(y, ins, g, retain_graph=True)


def make_act_copy(s):
    x = torch.randn(int(s.get("n", 4 * 1024 * 1024)), dtype=torch.float32)
    y = torch.empty_like(x)
    return lambda: y.copy_(x)


import torch.nn.functional as F  # noqa: E402

BENCHES["act"] = make_act
BENCHES["act_copy"] = make_act_copy
BENCHES["act_composite"] = make_act_composite


def make_linear_act(s):
    """linear + bias + activation, the way PyTorch eager runs it: F.linear (addmm), then the
    activation's own kernel. --size m,k,n (x [m, k], weight [n, k]), act (an F name), task=fwd (under
    no_grad) | train (forward + torch.autograd.grad of x, weight and bias)."""
    m, k, n = int(s.get("m", 256)), int(s.get("k", 1024)), int(s.get("n", 1024))
    act = getattr(F, s.get("act", "gelu"))
    train = s.get("task", "fwd") == "train"
    x = torch.randn(m, k, requires_grad=train)
    w = (torch.randn(n, k) * 0.03).requires_grad_(train)
    b = torch.randn(n, requires_grad=train)
    if not train:
        def fwd():
            with torch.no_grad():
                return act(F.linear(x, w, b))
        return fwd
    g = torch.randn(m, n)
    return lambda: torch.autograd.grad(act(F.linear(x, w, b)), (x, w, b), g)


BENCHES["linear_act"] = make_linear_act


# --- seed CNN (bench/kernels/train.bench.mjs) ---------------------------------------------------
# "seed_cnn": Conv2d(C,32,3) ReLU MaxPool2d(2) Conv2d(32,64,3) ReLU MaxPool2d(2) Conv2d(64,64,3) ReLU
# Flatten Linear(64*s*s,64) ReLU Linear(64,10).
#   --size task=train|infer --size c=3 --size s=32 --size batch=64
#   --size mode=no_grad|inference_mode   (infer only; default no_grad)
#   --size malloc=default|keep           (keep: glibc mallopt so freed blocks stay in the process,
#                                          no mmap/munmap per large tensor; see DESIGN.md, CPU figures)
# train: one step = forward + CrossEntropyLoss + backward + Adam(lr=1e-3).step() + zero_grad().
def _mallopt_keep():
    import ctypes
    libc = ctypes.CDLL("libc.so.6")
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
    libc.mallopt(M_MMAP_THRESHOLD, 1 << 30)
    libc.mallopt(M_TRIM_THRESHOLD, 1 << 30)


def _seed_cnn(C, S):
    nn = torch.nn
    s3 = ((S - 2) // 2 - 2) // 2 - 2
    return nn.Sequential(
        nn.Conv2d(C, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(64, 64, 3), nn.ReLU(), nn.Flatten(),
        nn.Linear(64 * s3 * s3, 64), nn.ReLU(), nn.Linear(64, 10),
    )


def make_seed_cnn(s):
    if s.get("malloc", "default") == "keep":
        _mallopt_keep()
    task = s.get("task", "train")
    C, S, B = int(s.get("c", 3)), int(s.get("s", 32)), int(s.get("batch", 64))
    torch.manual_seed(0)
    net = _seed_cnn(C, S)
    x = torch.randn(B, C, S, S)
    if task == "train":
        y = torch.randint(0, 10, (B,))
        opt = torch.optim.Adam(net.parameters(), lr=1e-3)
        loss_fn = torch.nn.CrossEntropyLoss()

        def step():
            loss = loss_fn(net(x), y)
            loss.backward()
            opt.step()
            opt.zero_grad()
        return step
    net.eval()
    ctx = torch.inference_mode if s.get("mode", "no_grad") == "inference_mode" else torch.no_grad

    def infer():
        with ctx():
            return net(x)
    return infer


BENCHES["seed_cnn"] = make_seed_cnn


def main():
    p = argparse.ArgumentParser()
    p.add_argument("bench", choices=sorted(BENCHES))
    p.add_argument("--size", action="append", default=[], help="key=value, e.g. n=4194304")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--reps", type=int, default=50)
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--inner", type=int, default=1)
    args = p.parse_args()

    sizes = dict(kv.split("=", 1) for kv in args.size)
    if args.threads:
        torch.set_num_threads(args.threads)

    fn = BENCHES[args.bench](sizes)
    inner = max(1, args.inner)
    for _ in range(max(0, args.warmup)):
        for _ in range(inner):
            fn()
    samples = []
    pc = time.perf_counter
    for _ in range(max(1, args.reps)):
        t0 = pc()
        for _ in range(inner):
            fn()
        samples.append((pc() - t0) / inner)
    print(json.dumps({
        "bench": args.bench,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "sizes": sizes,
        "inner": inner,
        "reps": len(samples),
        "median_s": statistics.median(samples),
        "samples_s": samples,
    }))


if __name__ == "__main__":
    main()

