#!/usr/bin/env python3
"""Generate PyTorch-parity fixtures for the Ignis test suite.

Regenerate with:

    python3 scripts/gen_fixtures.py

This needs Python 3 and PyTorch (a CPU build is enough). It writes

    test/fixtures/core.json         tensor ops, reductions, matmul, indexing, views, casts
    test/fixtures/activations.json  activation functions (torch.nn.functional names)

The JSON files are committed; the TypeScript tests only read them and never need
Python or PyTorch. Output is deterministic (torch.manual_seed(0) and a fixed case order).

File format
-----------
    { "generator": "torch <version>", "cases": [ CASE, ... ] }

    CASE = {
      "name":       unique case name,
      "op":         op name (see OPS below / the report in the PR),
      "inputs":     [TENSOR, ...]            positional tensor inputs
      "attrs":      {...}                    non-tensor arguments, camelCase keys
      "output":     TENSOR                   single-output ops, or
      "outputs":    [TENSOR, ...]            multi-output ops (max/min with dim: [values, indices];
                                              split/chunk: the pieces)
      "gradOutput": TENSOR | null            upstream gradient (same shape as output); null when the
                                              op is not differentiable or when "gradOutputs" is used.
                                              For max/min it applies to the values output.
      "gradOutputs": [TENSOR, ...]           only for split/chunk: one upstream gradient per piece
      "grads":      [TENSOR | null, ...]     d(sum(output * gradOutput))/d(input_i), one per input;
                                              null for non-float inputs / non-differentiable ops
    }

    TENSOR = { "shape": [...], "dtype": "float32"|"float64"|"int32"|"int64"|"bool",
               "data": [flat row-major values] }

Tensors are encoded by scripts/fixture_util.py: floats at full precision (Python repr of the
value; float32 values are the exact float32 number widened to double), non-finite floats as the
strings "nan", "inf", "-inf", booleans as true/false. Every tensor has at most 60 elements.
"""

import json
import math
import os
import sys

import torch
import torch.nn.functional as F

from fixture_util import DTYPE_NAMES, FIXTURE_DIR, ROOT, generator, enc as encode

torch.manual_seed(0)

F32 = torch.float32
F64 = torch.float64
NAME_DTYPES = {v: k for k, v in DTYPE_NAMES.items()}
MAX_ELEMS = 60


def enc(t):
    return encode(t, MAX_ELEMS)


# ----------------------------------------------------------------------------- case builder

class Collector:
    def __init__(self):
        self.cases = []
        self.names = set()

    def add(self, name, op, inputs, attrs, fn, grad=True, multi=False, grad_index=None,
            ones_grad=False):
        """Run fn(*inputs) and record a case.

        grad:       compute gradients for floating inputs.
        multi:      fn returns a tuple/list of tensors -> "outputs".
        grad_index: for multi outputs, index of the only output that receives a gradient
                    (max/min); None means every output receives one ("gradOutputs").
        ones_grad:  use an all-ones upstream gradient instead of random normal.
        """
        assert name not in self.names, "duplicate case name " + name
        self.names.add(name)
        ins = [t.detach().clone() for t in inputs]
        diff = [grad and t.dtype.is_floating_point for t in ins]
        for t, d in zip(ins, diff):
            if d:
                t.requires_grad_(True)
        out = fn(*ins)
        case = {"name": name, "op": op, "inputs": [enc(t) for t in inputs], "attrs": attrs}

        def make_go(o):
            if ones_grad:
                return torch.ones_like(o)
            return torch.randn(o.shape, dtype=o.dtype)

        grads = [None] * len(ins)
        if multi:
            outs = list(out)
            case["outputs"] = [enc(o) for o in outs]
            if grad and any(diff):
                if grad_index is not None:
                    go = make_go(outs[grad_index])
                    case["gradOutput"] = enc(go)
                    gouts, gos = [outs[grad_index]], [go]
                else:
                    gos = [make_go(o) for o in outs]
                    case["gradOutput"] = None
                    case["gradOutputs"] = [enc(g) for g in gos]
                    gouts = outs
                grads = self._grads(ins, diff, gouts, gos)
            else:
                case["gradOutput"] = None
        else:
            case["output"] = enc(out)
            if grad and any(diff) and out.dtype.is_floating_point:
                go = make_go(out)
                case["gradOutput"] = enc(go)
                grads = self._grads(ins, diff, [out], [go])
            else:
                case["gradOutput"] = None
        case["grads"] = [enc(g) for g in grads]
        self.cases.append(case)

    @staticmethod
    def _grads(ins, diff, outs, gos):
        leaves = [t for t, d in zip(ins, diff) if d]
        gs = torch.autograd.grad(outs, leaves, grad_outputs=gos, allow_unused=True)
        res, k = [], 0
        for t, d in zip(ins, diff):
            if d:
                g = gs[k]
                k += 1
                res.append(torch.zeros_like(t) if g is None else g)
            else:
                res.append(None)
        return res

    def write(self, path):
        doc = {"generator": generator(), "cases": self.cases}
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write('{"generator":%s,"cases":[\n' % json.dumps(doc["generator"]))
            for i, c in enumerate(self.cases):
                f.write(json.dumps(c, allow_nan=False, separators=(",", ":")))
                f.write(",\n" if i + 1 < len(self.cases) else "\n")
            f.write("]}\n")
        # sanity: round-trip, no bare NaN/Infinity
        with open(path) as f:
            text = f.read()

        def bad(c):
            raise ValueError("bare non-finite constant %s in %s" % (c, path))

        back = json.loads(text, parse_constant=bad)
        assert back == json.loads(json.dumps(doc, allow_nan=False))
        print("%s: %d cases, %d bytes" % (os.path.relpath(path, ROOT), len(self.cases), len(text)))


def rn(*shape, dtype=F64, scale=1.0):
    return torch.randn(tuple(shape), dtype=dtype) * scale


def pos(*shape, dtype=F64, lo=0.2, hi=3.0):
    return torch.rand(tuple(shape), dtype=dtype) * (hi - lo) + lo


def dt(d):
    return "f32" if d == F32 else "f64"


def all_dims(x, dim):
    return tuple(range(x.dim())) if dim is None else dim


# ----------------------------------------------------------------------------- core

def gen_core():
    C = Collector()

    # --- elementwise binary with broadcasting
    binary = {
        "add": torch.add, "sub": torch.sub, "mul": torch.mul, "div": torch.div,
        "maximum": torch.maximum, "minimum": torch.minimum,
    }
    shapes = [("same", (3, 4), (3, 4)), ("bcast_row", (3, 4), (4,)),
              ("bcast_both", (2, 1, 4), (3, 1)), ("bcast_scalar_tensor", (2, 3), ())]
    for op, fn in binary.items():
        for tag, sa, sb in shapes:
            a, b = rn(*sa), rn(*sb)
            if op == "div":
                b = torch.where(b.abs() < 0.3, b.sign() * 0.3 + (b == 0) * 0.3, b)
            C.add("%s_%s_f64" % (op, tag), op, [a, b], {}, fn)
        a, b = rn(2, 3, dtype=F32), rn(3, dtype=F32)
        if op == "div":
            b = b.abs() + 0.5
        C.add("%s_bcast_f32" % op, op, [a, b], {}, fn)
    for tag, sa, sb in shapes[:3]:
        C.add("pow_%s_f64" % tag, "pow", [pos(*sa), rn(*sb)], {}, torch.pow)
    C.add("pow_bcast_f32", "pow", [pos(2, 3, dtype=F32), rn(3, dtype=F32)], {}, torch.pow)
    C.add("pow_scalar_f64", "pow", [pos(3, 4)], {"scalar": 3.0}, lambda x: torch.pow(x, 3.0))
    C.add("add_scalar", "add", [rn(3, 4)], {"scalar": 2.5}, lambda x: x + 2.5)
    C.add("add_scalar_f32", "add", [rn(3, 4, dtype=F32)], {"scalar": 2.5}, lambda x: x + 2.5)
    C.add("mul_scalar", "mul", [rn(3, 4)], {"scalar": 2.5}, lambda x: x * 2.5)
    C.add("mul_scalar_f32", "mul", [rn(3, 4, dtype=F32)], {"scalar": -1.5}, lambda x: x * -1.5)

    cmp_ops = {"eq": torch.eq, "ne": torch.ne, "lt": torch.lt, "le": torch.le,
               "gt": torch.gt, "ge": torch.ge}
    for op, fn in cmp_ops.items():
        # small integers cast to float so that equality actually happens
        a = torch.randint(-2, 3, (3, 4)).to(F64)
        b = torch.randint(-2, 3, (4,)).to(F64)
        C.add("%s_bcast_f64" % op, op, [a, b], {}, fn, grad=False)
        a = torch.randint(-2, 3, (2, 1, 3)).to(F32)
        b = torch.randint(-2, 3, (4, 1)).to(F32)
        C.add("%s_bcast_f32" % op, op, [a, b], {}, fn, grad=False)
        a = torch.randint(-2, 3, (2, 3), dtype=torch.int64)
        b = torch.randint(-2, 3, (2, 3), dtype=torch.int64)
        C.add("%s_int64" % op, op, [a, b], {}, fn, grad=False)

    # --- unary
    def ubody(n, lo=None, hi=None, dtype=F64):
        if lo is not None:
            return torch.rand(n, dtype=dtype) * (hi - lo) + lo
        return torch.randn(n, dtype=dtype) * 2

    unary = [
        ("neg", torch.neg, None), ("abs", torch.abs, None), ("exp", torch.exp, None),
        ("log", torch.log, (0.1, 5.0)), ("log1p", torch.log1p, (-0.9, 5.0)),
        ("expm1", torch.expm1, None), ("sqrt", torch.sqrt, (0.1, 5.0)),
        ("rsqrt", torch.rsqrt, (0.1, 5.0)), ("sin", torch.sin, None), ("cos", torch.cos, None),
        ("tanh", torch.tanh, None), ("sigmoid", torch.sigmoid, None), ("erf", torch.erf, None),
        ("sign", torch.sign, None), ("floor", torch.floor, None), ("ceil", torch.ceil, None),
        ("round", torch.round, None), ("reciprocal", torch.reciprocal, None),
    ]
    for op, fn, rng in unary:
        for d in (F64, F32):
            lo, hi = rng if rng else (None, None)
            x = ubody(24, lo, hi, d).reshape(2, 3, 4)
            if op == "reciprocal":
                x = torch.where(x.abs() < 0.2, torch.full_like(x, 0.5), x)
            C.add("%s_%s" % (op, dt(d)), op, [x], {}, fn)
    # special values
    C.add("round_half_even", "round",
          [torch.tensor([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, 0.49, -0.51, 1.0, 2.4999, -3.5], dtype=F64)],
          {}, torch.round)
    C.add("round_half_even_f32", "round",
          [torch.tensor([-2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 3.5, 4.5], dtype=F32)], {}, torch.round)
    C.add("sign_zero", "sign", [torch.tensor([-3.0, -0.0, 0.0, 2.0, 1e-300], dtype=F64)], {}, torch.sign)
    C.add("floor_ceil_neg_floor", "floor", [torch.tensor([-1.5, -1.0, -0.2, 0.0, 0.2, 1.0, 1.5], dtype=F64)], {}, torch.floor)
    C.add("floor_ceil_neg_ceil", "ceil", [torch.tensor([-1.5, -1.0, -0.2, 0.0, 0.2, 1.0, 1.5], dtype=F64)], {}, torch.ceil)
    C.add("abs_zero", "abs", [torch.tensor([-2.0, 0.0, 3.0], dtype=F64)], {}, torch.abs)
    for d in (F64, F32):
        x = rn(3, 5, dtype=d)
        C.add("clamp_minmax_%s" % dt(d), "clamp", [x], {"min": -0.5, "max": 0.5},
              lambda t: torch.clamp(t, min=-0.5, max=0.5))
    C.add("clamp_min_only", "clamp", [rn(3, 5)], {"min": -0.5}, lambda t: torch.clamp(t, min=-0.5))
    C.add("clamp_max_only", "clamp", [rn(3, 5)], {"max": 0.25}, lambda t: torch.clamp(t, max=0.25))

    # --- reductions
    def red(fn):
        return lambda x, dim, keepdim: fn(x, dim=all_dims(x, dim), keepdim=keepdim)

    def prod_red(x, dim, keepdim):
        dims = all_dims(x, dim)
        if isinstance(dims, int):
            dims = (dims,)
        dims = sorted([d % x.dim() for d in dims], reverse=True)
        y = x
        for d in dims:
            y = torch.prod(y, dim=d, keepdim=True)
        if not keepdim:
            y = y.reshape([s for i, s in enumerate(x.shape) if i not in dims])
        return y

    red_ops = {
        "sum": red(torch.sum), "mean": red(torch.mean), "prod": prod_red,
        "amax": red(torch.amax), "amin": red(torch.amin), "logsumexp": red(torch.logsumexp),
    }
    red_cfgs = [({"dim": None, "keepdim": False}, "all"), ({"dim": 1, "keepdim": False}, "d1"),
                ({"dim": -1, "keepdim": True}, "dneg1_keep"), ({"dim": [0, 2], "keepdim": False}, "d02")]
    for op, fn in red_ops.items():
        for attrs, tag in red_cfgs:
            if op == "prod":
                x = pos(2, 3, 4, lo=0.5, hi=1.5) * torch.where(torch.rand(2, 3, 4) < 0.3, -1.0, 1.0).to(F64)
            else:
                x = rn(2, 3, 4)
            C.add("%s_%s" % (op, tag), op, [x], dict(attrs),
                  lambda t, a=attrs, f=fn: f(t, a["dim"], a["keepdim"]))
        x = rn(3, 4, dtype=F32) if op != "prod" else pos(3, 4, dtype=F32, lo=0.5, hi=1.5)
        C.add("%s_all_keep_f32" % op, op, [x], {"dim": None, "keepdim": True},
              lambda t, f=fn: f(t, None, True))
    C.add("sum_int64", "sum", [torch.randint(-5, 6, (3, 4))], {"dim": 0, "keepdim": False},
          lambda t: torch.sum(t, dim=0), grad=False)

    for op, f in (("var", torch.var), ("std", torch.std)):
        cfgs = [({"dim": None, "correction": 1, "keepdim": False}, "all_c1"),
                ({"dim": 1, "correction": 0, "keepdim": False}, "d1_c0"),
                ({"dim": -1, "correction": 1, "keepdim": True}, "dneg1_c1_keep"),
                ({"dim": [0, 2], "correction": 0, "keepdim": False}, "d02_c0")]
        for attrs, tag in cfgs:
            C.add("%s_%s" % (op, tag), op, [rn(2, 3, 4)], dict(attrs),
                  lambda t, a=attrs, f=f: f(t, dim=all_dims(t, a["dim"]), correction=a["correction"],
                                            keepdim=a["keepdim"]))
        C.add("%s_d0_c1_f32" % op, op, [rn(4, 3, dtype=F32)], {"dim": 0, "correction": 1, "keepdim": False},
              lambda t, f=f: f(t, dim=0, correction=1))

    norm_cfgs = [({"p": 2, "dim": None, "keepdim": False}, "p2_all"),
                 ({"p": 2, "dim": 1, "keepdim": False}, "p2_d1"),
                 ({"p": 1, "dim": -1, "keepdim": True}, "p1_dneg1_keep"),
                 ({"p": 1, "dim": None, "keepdim": False}, "p1_all")]
    for attrs, tag in norm_cfgs:
        C.add("norm_%s" % tag, "norm", [rn(2, 3, 4)], dict(attrs),
              lambda t, a=attrs: torch.linalg.vector_norm(t, ord=a["p"], dim=a["dim"], keepdim=a["keepdim"]))
    C.add("norm_p2_d0_f32", "norm", [rn(4, 3, dtype=F32)], {"p": 2, "dim": 0, "keepdim": False},
          lambda t: torch.linalg.vector_norm(t, ord=2, dim=0))

    for op, f in (("max", torch.max), ("min", torch.min)):
        for attrs, tag in (({"dim": 1, "keepdim": False}, "d1"), ({"dim": -1, "keepdim": True}, "dneg1_keep")):
            C.add("%s_%s" % (op, tag), op, [rn(2, 3, 4)], dict(attrs),
                  lambda t, a=attrs, f=f: tuple(f(t, dim=a["dim"], keepdim=a["keepdim"])),
                  multi=True, grad_index=0)
        C.add("%s_d0_f32" % op, op, [rn(4, 3, dtype=F32)], {"dim": 0, "keepdim": False},
              lambda t, f=f: tuple(f(t, dim=0)), multi=True, grad_index=0)
    for op, f in (("argmax", torch.argmax), ("argmin", torch.argmin)):
        for attrs, tag in (({"dim": None, "keepdim": False}, "all"), ({"dim": 1, "keepdim": False}, "d1"),
                           ({"dim": -1, "keepdim": True}, "dneg1_keep")):
            C.add("%s_%s" % (op, tag), op, [rn(2, 3, 4)], dict(attrs),
                  lambda t, a=attrs, f=f: f(t, dim=a["dim"], keepdim=a["keepdim"]), grad=False)
        C.add("%s_d0_f32" % op, op, [rn(4, 3, dtype=F32)], {"dim": 0, "keepdim": False},
              lambda t, f=f: f(t, dim=0), grad=False)

    # --- matmul
    mm_cases = [("1d_1d", (4,), (4,)), ("2d_2d", (3, 4), (4, 5)), ("2d_1d", (3, 4), (4,)),
                ("1d_2d", (4,), (4, 5)), ("3d_3d", (2, 3, 4), (2, 4, 5)),
                ("bcast_batch", (2, 1, 3, 4), (3, 4, 2)), ("3d_2d", (2, 3, 4), (4, 2))]
    for tag, sa, sb in mm_cases:
        C.add("matmul_%s" % tag, "matmul", [rn(*sa), rn(*sb)], {}, torch.matmul)
    C.add("matmul_2d_2d_f32", "matmul", [rn(3, 4, dtype=F32), rn(4, 2, dtype=F32)], {}, torch.matmul)
    C.add("mm_f64", "mm", [rn(3, 4), rn(4, 5)], {}, torch.mm)
    C.add("mm_f32", "mm", [rn(2, 5, dtype=F32), rn(5, 3, dtype=F32)], {}, torch.mm)
    C.add("bmm_f64", "bmm", [rn(2, 3, 4), rn(2, 4, 2)], {}, torch.bmm)
    C.add("bmm_f32", "bmm", [rn(2, 2, 3, dtype=F32), rn(2, 3, 4, dtype=F32)], {}, torch.bmm)

    # --- softmax
    for op, f in (("softmax", torch.softmax), ("log_softmax", torch.log_softmax)):
        for dim in (-1, 0, 1):
            C.add("%s_d%s" % (op, str(dim).replace("-", "neg")), op, [rn(2, 3, 4, scale=2)], {"dim": dim},
                  lambda t, d=dim, f=f: f(t, dim=d))
        C.add("%s_dneg1_f32" % op, op, [rn(3, 5, dtype=F32, scale=2)], {"dim": -1},
              lambda t, f=f: f(t, dim=-1))
        C.add("%s_large" % op, op,
              [torch.tensor([[1000.0, 1000.0, -1000.0, 0.0], [-50.0, 30.0, 1e4, 1e4]], dtype=F64)],
              {"dim": -1}, lambda t, f=f: f(t, dim=-1))

    # --- indexing
    cond = torch.rand(3, 4) < 0.5
    C.add("where_same", "where", [cond, rn(3, 4), rn(3, 4)], {}, torch.where)
    C.add("where_bcast", "where", [torch.rand(3, 1) < 0.5, rn(1, 4), rn(3, 4)], {}, torch.where)
    C.add("where_f32", "where", [torch.rand(2, 3) < 0.5, rn(2, 3, dtype=F32), rn(3, dtype=F32)], {}, torch.where)

    C.add("masked_fill_same", "masked_fill", [rn(3, 4), torch.rand(3, 4) < 0.5], {"value": -1.5},
          lambda x, m: x.masked_fill(m, -1.5))
    C.add("masked_fill_bcast", "masked_fill", [rn(3, 4), torch.rand(4) < 0.5], {"value": 0.0},
          lambda x, m: x.masked_fill(m, 0.0))
    C.add("masked_fill_neginf_f32", "masked_fill", [rn(2, 3, dtype=F32), torch.rand(2, 1) < 0.5],
          {"value": "-inf"}, lambda x, m: x.masked_fill(m, float("-inf")), grad=True)

    x = rn(3, 4)
    C.add("gather_d1", "gather", [x, torch.randint(0, 4, (3, 2))], {"dim": 1},
          lambda x, i: torch.gather(x, 1, i))
    C.add("gather_d0", "gather", [rn(3, 4), torch.randint(0, 3, (2, 4))], {"dim": 0},
          lambda x, i: torch.gather(x, 0, i))
    C.add("gather_dneg1_dup_f32", "gather", [rn(2, 3, dtype=F32), torch.tensor([[0, 0, 2, 1], [2, 2, 2, 0]])],
          {"dim": -1}, lambda x, i: torch.gather(x, -1, i))

    def uniq_index(rows, cols_src, n):
        # distinct indices per row (deterministic scatter)
        return torch.stack([torch.randperm(n)[:cols_src] for _ in range(rows)])

    C.add("scatter_d1", "scatter", [rn(3, 5), uniq_index(3, 3, 5), rn(3, 3)], {"dim": 1},
          lambda x, i, s: torch.scatter(x, 1, i, s))
    C.add("scatter_d0", "scatter", [rn(4, 3), uniq_index(3, 2, 4).t().contiguous(), rn(2, 3)], {"dim": 0},
          lambda x, i, s: torch.scatter(x, 0, i, s))
    C.add("scatter_dneg1_f32", "scatter", [rn(2, 4, dtype=F32), uniq_index(2, 2, 4), rn(2, 2, dtype=F32)],
          {"dim": -1}, lambda x, i, s: torch.scatter(x, -1, i, s))
    C.add("scatter_add_d1_dup", "scatter_add", [rn(3, 4), torch.randint(0, 4, (3, 5)), rn(3, 5)], {"dim": 1},
          lambda x, i, s: torch.scatter_add(x, 1, i, s))
    C.add("scatter_add_d0", "scatter_add", [rn(3, 2), torch.randint(0, 3, (4, 2)), rn(4, 2)], {"dim": 0},
          lambda x, i, s: torch.scatter_add(x, 0, i, s))
    C.add("scatter_add_f32", "scatter_add", [rn(2, 3, dtype=F32), torch.randint(0, 3, (2, 4)), rn(2, 4, dtype=F32)],
          {"dim": -1}, lambda x, i, s: torch.scatter_add(x, -1, i, s))

    C.add("one_hot_1d", "one_hot", [torch.tensor([0, 2, 1, 3, 3])], {"numClasses": 4},
          lambda i: F.one_hot(i, 4), grad=False)
    C.add("one_hot_2d", "one_hot", [torch.tensor([[1, 0], [2, 4]])], {"numClasses": 5},
          lambda i: F.one_hot(i, 5), grad=False)
    C.add("one_hot_infer", "one_hot", [torch.tensor([1, 0, 2])], {"numClasses": -1},
          lambda i: F.one_hot(i, -1), grad=False)

    # --- views / shape ops
    C.add("reshape_2d", "reshape", [rn(2, 3, 4)], {"shape": [6, 4]}, lambda t: t.reshape(6, 4))
    C.add("reshape_infer", "reshape", [rn(2, 3, 4)], {"shape": [-1, 2, 3]}, lambda t: t.reshape(-1, 2, 3))
    C.add("reshape_f32", "reshape", [rn(3, 4, dtype=F32)], {"shape": [12]}, lambda t: t.reshape(12))
    C.add("permute_3d", "permute", [rn(2, 3, 4)], {"dims": [2, 0, 1]}, lambda t: t.permute(2, 0, 1))
    C.add("permute_neg", "permute", [rn(2, 3, 4)], {"dims": [-1, -3, -2]}, lambda t: t.permute(-1, -3, -2))
    C.add("transpose_01", "transpose", [rn(2, 3, 4)], {"dim0": 0, "dim1": 1}, lambda t: t.transpose(0, 1))
    C.add("transpose_neg_f32", "transpose", [rn(2, 3, 4, dtype=F32)], {"dim0": -1, "dim1": 0},
          lambda t: t.transpose(-1, 0))
    C.add("squeeze_dim", "squeeze", [rn(2, 1, 3, 1)], {"dim": 1}, lambda t: t.squeeze(1))
    C.add("squeeze_neg", "squeeze", [rn(2, 1, 3, 1)], {"dim": -1}, lambda t: t.squeeze(-1))
    C.add("squeeze_noop", "squeeze", [rn(2, 3)], {"dim": 0}, lambda t: t.squeeze(0))
    C.add("squeeze_all", "squeeze", [rn(1, 2, 1, 3)], {"dim": None}, lambda t: t.squeeze())
    C.add("unsqueeze_0", "unsqueeze", [rn(2, 3)], {"dim": 0}, lambda t: t.unsqueeze(0))
    C.add("unsqueeze_neg", "unsqueeze", [rn(2, 3)], {"dim": -1}, lambda t: t.unsqueeze(-1))
    C.add("unsqueeze_mid_f32", "unsqueeze", [rn(2, 3, dtype=F32)], {"dim": 1}, lambda t: t.unsqueeze(1))
    C.add("expand_row", "expand", [rn(1, 4)], {"shape": [3, 4]}, lambda t: t.expand(3, 4))
    C.add("expand_newdims", "expand", [rn(3, 1)], {"shape": [2, -1, 4]}, lambda t: t.expand(2, -1, 4))
    C.add("expand_f32", "expand", [rn(2, 1, 3, dtype=F32)], {"shape": [2, 4, 3]}, lambda t: t.expand(2, 4, 3))
    C.add("narrow_d1", "narrow", [rn(3, 5)], {"dim": 1, "start": 1, "length": 3}, lambda t: t.narrow(1, 1, 3))
    C.add("narrow_neg", "narrow", [rn(2, 3, 4)], {"dim": -1, "start": 2, "length": 2}, lambda t: t.narrow(-1, 2, 2))
    C.add("select_d0", "select", [rn(3, 4)], {"dim": 0, "index": 1}, lambda t: t.select(0, 1))
    C.add("select_neg", "select", [rn(2, 3, 4)], {"dim": -1, "index": -1}, lambda t: t.select(-1, -1))
    C.add("select_f32", "select", [rn(2, 3, 4, dtype=F32)], {"dim": 1, "index": 2}, lambda t: t.select(1, 2))
    C.add("flatten_all", "flatten", [rn(2, 3, 4)], {"startDim": 0, "endDim": -1}, lambda t: t.flatten(0, -1))
    C.add("flatten_mid", "flatten", [rn(2, 3, 2, 2)], {"startDim": 1, "endDim": 2}, lambda t: t.flatten(1, 2))
    C.add("flatten_from1", "flatten", [rn(2, 3, 4)], {"startDim": 1, "endDim": -1}, lambda t: t.flatten(1))
    C.add("cat_d0", "cat", [rn(2, 3), rn(1, 3), rn(3, 3)], {"dim": 0}, lambda *ts: torch.cat(ts, 0))
    C.add("cat_neg", "cat", [rn(2, 2, 3), rn(2, 2, 1)], {"dim": -1}, lambda *ts: torch.cat(ts, -1))
    C.add("cat_f32", "cat", [rn(2, 3, dtype=F32), rn(2, 2, dtype=F32)], {"dim": 1}, lambda *ts: torch.cat(ts, 1))
    C.add("stack_d0", "stack", [rn(2, 3), rn(2, 3), rn(2, 3)], {"dim": 0}, lambda *ts: torch.stack(ts, 0))
    C.add("stack_neg", "stack", [rn(2, 3), rn(2, 3)], {"dim": -1}, lambda *ts: torch.stack(ts, -1))
    C.add("stack_f32", "stack", [rn(3, dtype=F32), rn(3, dtype=F32)], {"dim": 1}, lambda *ts: torch.stack(ts, 1))
    C.add("split_even", "split", [rn(6, 2)], {"splitSize": 2, "dim": 0},
          lambda t: torch.split(t, 2, 0), multi=True)
    C.add("split_uneven_neg", "split", [rn(2, 5)], {"splitSize": 2, "dim": -1},
          lambda t: torch.split(t, 2, -1), multi=True)
    C.add("split_f32", "split", [rn(3, 4, dtype=F32)], {"splitSize": 3, "dim": 1},
          lambda t: torch.split(t, 3, 1), multi=True)
    C.add("chunk_even", "chunk", [rn(6, 2)], {"chunks": 3, "dim": 0},
          lambda t: torch.chunk(t, 3, 0), multi=True)
    C.add("chunk_uneven_neg", "chunk", [rn(2, 5)], {"chunks": 2, "dim": -1},
          lambda t: torch.chunk(t, 2, -1), multi=True)
    C.add("chunk_fewer_f32", "chunk", [rn(5, 2, dtype=F32)], {"chunks": 4, "dim": 0},
          lambda t: torch.chunk(t, 4, 0), multi=True)  # torch yields 3 chunks of 2,2,1

    # --- dtype conversion
    fx = torch.tensor([-2.7, -1.5, -0.5, -0.0, 0.0, 0.4, 0.5, 1.5, 2.7, 100.9, -100.9, 7.0], dtype=F64)
    for target in ("int32", "int64", "bool", "float32"):
        C.add("to_dtype_f64_%s" % target, "to_dtype", [fx], {"dtype": target},
              lambda t, d=target: t.to(NAME_DTYPES[d]), grad=False)
    C.add("to_dtype_f32_int32", "to_dtype", [fx.to(F32)], {"dtype": "int32"},
          lambda t: t.to(torch.int32), grad=False)
    C.add("to_dtype_f32_float64", "to_dtype", [torch.tensor([0.1, -1e-3, 3.4028234663852886e38, 1e-40], dtype=F32)],
          {"dtype": "float64"}, lambda t: t.to(F64), grad=False)
    ix = torch.tensor([-3, -1, 0, 1, 2, 16777217], dtype=torch.int64)
    for target in ("float32", "float64", "int32", "bool"):
        C.add("to_dtype_int64_%s" % target, "to_dtype", [ix], {"dtype": target},
              lambda t, d=target: t.to(NAME_DTYPES[d]), grad=False)
    bx = torch.tensor([True, False, True])
    for target in ("float32", "int64"):
        C.add("to_dtype_bool_%s" % target, "to_dtype", [bx], {"dtype": target},
              lambda t, d=target: t.to(NAME_DTYPES[d]), grad=False)
    C.add("to_dtype_int32_float64", "to_dtype", [torch.tensor([-5, 0, 7], dtype=torch.int32)], {"dtype": "float64"},
          lambda t: t.to(F64), grad=False)
    return C


# ----------------------------------------------------------------------------- activations

EDGE = [0.0, -0.0, 1e-8, -1e-8, 1.0, -1.0, 3.0, -3.0, 6.0, 20.0, -20.0, 50.0, -50.0, 100.0, -100.0,
        1e4, -1e4, 88.0, -88.0, float("inf"), float("-inf"), float("nan")]


def swish(x, beta=1.0):
    return x * torch.sigmoid(beta * x)


# name -> (fn(x, **torch_kwargs), default attrs (camelCase), camel->torch kwarg map,
#          kinks(attrs) -> extra edge points, list of non-default attrs)
ACTS = [
    ("relu", F.relu, {}, {}, lambda a: [], []),
    ("relu6", F.relu6, {}, {}, lambda a: [0.0, 6.0], []),
    ("leaky_relu", F.leaky_relu, {"negativeSlope": 0.01}, {"negativeSlope": "negative_slope"},
     lambda a: [], [{"negativeSlope": 0.2}, {"negativeSlope": 1.5}]),
    ("elu", F.elu, {"alpha": 1.0}, {"alpha": "alpha"}, lambda a: [], [{"alpha": 0.5}, {"alpha": 2.0}]),
    ("celu", F.celu, {"alpha": 1.0}, {"alpha": "alpha"}, lambda a: [], [{"alpha": 0.5}, {"alpha": 2.0}]),
    ("selu", F.selu, {}, {}, lambda a: [], []),
    ("gelu", F.gelu, {"approximate": "none"}, {"approximate": "approximate"}, lambda a: [],
     [{"approximate": "tanh"}]),
    ("silu", F.silu, {}, {}, lambda a: [], []),
    ("mish", F.mish, {}, {}, lambda a: [], []),
    ("sigmoid", torch.sigmoid, {}, {}, lambda a: [], []),
    ("tanh", torch.tanh, {}, {}, lambda a: [], []),
    ("hardtanh", F.hardtanh, {"minVal": -1.0, "maxVal": 1.0}, {"minVal": "min_val", "maxVal": "max_val"},
     lambda a: [a["minVal"], a["maxVal"]], [{"minVal": -2.0, "maxVal": 0.5}]),
    ("hardsigmoid", F.hardsigmoid, {}, {}, lambda a: [-3.0, 3.0], []),
    ("hardswish", F.hardswish, {}, {}, lambda a: [-3.0, 3.0], []),
    ("softplus", F.softplus, {"beta": 1.0, "threshold": 20.0}, {"beta": "beta", "threshold": "threshold"},
     lambda a: [a["threshold"] / a["beta"], -a["threshold"] / a["beta"]],
     [{"beta": 2.0, "threshold": 5.0}, {"beta": 0.5, "threshold": 20.0}]),
    ("softsign", F.softsign, {}, {}, lambda a: [], []),
    ("logsigmoid", F.logsigmoid, {}, {}, lambda a: [], []),
    ("tanhshrink", F.tanhshrink, {}, {}, lambda a: [], []),
    ("softshrink", F.softshrink, {"lambd": 0.5}, {"lambd": "lambd"}, lambda a: [a["lambd"], -a["lambd"]],
     [{"lambd": 1.0}]),
    ("hardshrink", F.hardshrink, {"lambd": 0.5}, {"lambd": "lambd"}, lambda a: [a["lambd"], -a["lambd"]],
     [{"lambd": 1.0}]),
    # F.threshold has no defaults; the "edge" case uses threshold=1.0, value=0.0
    ("threshold", F.threshold, {"threshold": 1.0, "value": 0.0}, {"threshold": "threshold", "value": "value"},
     lambda a: [a["threshold"]], [{"threshold": -0.5, "value": 2.0}]),
    ("swish", swish, {"beta": 1.0}, {"beta": "beta"}, lambda a: [], [{"beta": 1.7}]),
]


def attrs_tag(attrs):
    parts = []
    for k, v in attrs.items():
        s = str(v).replace("-", "m").replace(".", "p")
        parts.append("%s%s" % (k, s))
    return "_".join(parts)


def gen_activations():
    C = Collector()
    for name, fn, defaults, kmap, kinks, nondefault in ACTS:
        def call(x, attrs, fn=fn, kmap=kmap):
            return fn(x, **{kmap[k]: v for k, v in attrs.items()})

        for d in (F32, F64):
            # (a) random
            x = torch.randn(40, dtype=d) * 3
            try:
                C.add("%s_random_%s" % (name, dt(d)), name, [x], dict(defaults),
                      lambda t, a=defaults: call(t, a))
            except RuntimeError as e:  # dtype not supported
                print("skip %s %s: %s" % (name, d, e), file=sys.stderr)
                C.names.discard("%s_random_%s" % (name, dt(d)))
                continue
            # (b) edge values (+ kinks for default params)
            pts = list(EDGE)
            for k in kinks(defaults):
                if not any(k == p and math.copysign(1, k) == math.copysign(1, p) for p in pts):
                    pts.append(k)
            C.add("%s_edge_%s" % (name, dt(d)), name, [torch.tensor(pts, dtype=d)], dict(defaults),
                  lambda t, a=defaults: call(t, a), ones_grad=True)
            # (c) non-default parameters: random values + the kinks for those params
            for nd in nondefault:
                attrs = dict(defaults)
                attrs.update(nd)
                xs = (torch.randn(30, dtype=d) * 3).tolist() + kinks(attrs) + [0.0, -0.0, 1.0, -1.0]
                C.add("%s_%s_%s" % (name, attrs_tag(nd), dt(d)), name, [torch.tensor(xs, dtype=d)],
                      attrs, lambda t, a=attrs: call(t, a))

    # non-elementwise
    for d in (F32, F64):
        C.add("glu_dneg1_%s" % dt(d), "glu", [rn(3, 6, dtype=d, scale=2)], {"dim": -1}, lambda t: F.glu(t, -1))
        C.add("glu_d0_%s" % dt(d), "glu", [rn(4, 2, 3, dtype=d, scale=2)], {"dim": 0}, lambda t: F.glu(t, 0))
        for op, f in (("softmax", F.softmax), ("log_softmax", F.log_softmax), ("softmin", F.softmin)):
            C.add("%s_dneg1_%s" % (op, dt(d)), op, [rn(3, 5, dtype=d, scale=3)], {"dim": -1},
                  lambda t, f=f: f(t, dim=-1))
            C.add("%s_d1_%s" % (op, dt(d)), op, [rn(2, 3, 4, dtype=d, scale=3)], {"dim": 1},
                  lambda t, f=f: f(t, dim=1))
            big = torch.tensor([[1000.0, 1000.0, -1000.0, 0.0, float("-inf")],
                                [-50.0, 30.0, 1e4, 1e4, float("inf") if op == "softmin" else -1e4]], dtype=d)
            C.add("%s_edge_%s" % (op, dt(d)), op, [big], {"dim": -1}, lambda t, f=f: f(t, dim=-1),
                  ones_grad=True)
        C.add("prelu_w1_%s" % dt(d), "prelu", [rn(2, 3, 4, dtype=d, scale=2), torch.tensor([0.25], dtype=d)], {},
              F.prelu)
        C.add("prelu_wC_%s" % dt(d), "prelu", [rn(2, 3, 4, dtype=d, scale=2), torch.tensor([0.1, -0.3, 1.2], dtype=d)],
              {}, F.prelu)
        # the edge values through prelu (one slope; a slope per channel) and both halves of glu
        e = torch.tensor(EDGE, dtype=d)
        C.add("prelu_edge_w1_%s" % dt(d), "prelu", [e, torch.tensor([0.25], dtype=d)], {}, F.prelu, ones_grad=True)
        ec = torch.stack([e, -e.flip(0)]).unsqueeze(0)  # [1, 2, len(EDGE)]
        C.add("prelu_edge_wC_%s" % dt(d), "prelu", [ec, torch.tensor([0.1, -0.3], dtype=d)], {}, F.prelu,
              ones_grad=True)
        C.add("glu_edge_%s" % dt(d), "glu", [torch.stack([e, e.flip(0)], 1)], {"dim": -1}, lambda t: F.glu(t, -1),
              ones_grad=True)
        C.add("glu_edge_swap_%s" % dt(d), "glu", [torch.stack([e.flip(0), e], 0)], {"dim": 0}, lambda t: F.glu(t, 0),
              ones_grad=True)
    return C


def main():
    core = gen_core()
    core.write(os.path.join(FIXTURE_DIR, "core.json"))
    acts = gen_activations()
    acts.write(os.path.join(FIXTURE_DIR, "activations.json"))


if __name__ == "__main__":
    main()
