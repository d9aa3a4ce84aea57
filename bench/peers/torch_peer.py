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


def make_matmul(s):
    m, k, n = int(s.get("m", 1024)), int(s.get("k", 1024)), int(s.get("n", 1024))
    a = torch.randn(m, k, dtype=torch.float32)
    b = torch.randn(k, n, dtype=torch.float32)
    return lambda: a.matmul(b)


BENCHES = {
    "add_dispatch": make_add_dispatch,
    "add": make_add,
    "matmul": make_matmul,
}


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
